"""Exercise verdicts in the learner's progress file, and the admin-only class table that reads them.

The recorder (dli_seq.exercises.progress) must never break a check and never write where it should
not; the reader runs as root in the hub's service, so a learner's symbolic link, FIFO or someone
else's file must be refused. The checks record through the harness (a real check, wrong then right;
a real kernel), the column list is collected from the checks and follows the notebooks, the table
is a pure function, and the service answers admins with the table and everyone else with 403.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import pkgutil
import re
import signal
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from dli_seq import exercises
from dli_seq.exercises import harness, progress
from dli_seq.exercises.encoders_decoders import CAUSAL_MASK_QUIZ

ROOT = Path(__file__).resolve().parents[1]
RIGHT = next(key for key, (right, _) in CAUSAL_MASK_QUIZ.items() if right)
WRONG = next(key for key, (right, _) in CAUSAL_MASK_QUIZ.items() if not right)


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "er" / "progress.jsonl"
    monkeypatch.setenv(progress.ENV, str(path))
    monkeypatch.setattr(progress, "WARNED", [])
    return path


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- recording ---------------------------------------------------------------------------------------

def test_record_then_read_gives_the_same_verdicts(progress_file):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert progress.record("4.2/check_pick_next", False, title="练习 2 检查：top-k 采样")
    assert progress.record("4.2/check_pick_next", True, title="练习 2 检查：top-k 采样")
    raw = lines_of(progress_file)
    assert [(r["exercise"], r["passed"], r["learner"], r["title"]) for r in raw] == [
        ("4.2/check_pick_next", False, getpass.getuser(), "练习 2 检查：top-k 采样"),
        ("4.2/check_pick_next", True, getpass.getuser(), "练习 2 检查：top-k 采样")]
    assert all(r["time"].endswith("+00:00") for r in raw)  # ISO 8601, UTC
    back = progress.read(progress_file)
    assert [(r["exercise"], r["passed"]) for r in back] == [(r["exercise"], r["passed"]) for r in raw]
    assert all(before <= r["time"] <= datetime.now(timezone.utc) for r in back)


def test_new_file_is_0600_and_new_folders_0700_whatever_the_umask(progress_file):
    old = os.umask(0o002)
    try:
        progress.record("4.1/check_alignment", True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(progress_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(progress_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(progress_file.parent.parent.stat().st_mode) == 0o700


def test_default_path_is_in_the_home_and_recording_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(progress.ENV)
    assert progress.progress_path() == tmp_path / ".local" / "share" / "dli-seq" / "progress.jsonl"
    assert progress.record("4.4/check_encoder_decoder_loop", True)
    assert len(progress.read(progress.progress_path())) == 1
    for folder in (".local", ".local/share", ".local/share/dli-seq"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700
    for off in ("off", "OFF", " off "):
        monkeypatch.setenv(progress.ENV, off)
        assert progress.progress_path() is None
        assert progress.record("4.4/check_encoder_decoder_loop", True) is False
    assert len(progress.read(progress.default_path(tmp_path))) == 1


@pytest.mark.parametrize("spoil", ["parent is a file", "path is a folder", "path is a fifo", "disk full"])
def test_a_progress_file_that_cannot_be_written_never_breaks_the_check(progress_file, monkeypatch, capsys, spoil):
    progress_file.parent.parent.mkdir(parents=True)
    if spoil == "parent is a file":
        progress_file.parent.write_text("not a folder")
    elif spoil == "path is a folder":
        progress_file.mkdir(parents=True)
    elif spoil == "path is a fifo":
        progress_file.parent.mkdir()
        os.mkfifo(progress_file)  # opening it for writing must not wait for a reader
    else:
        def full(fd, data):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(progress.os, "write", full)
    waited = []

    def hung(signum, frame):  # a FIFO opened for writing would wait for a reader for ever
        waited.append(signum)
        raise TimeoutError("recording waited")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, 10, 1)
    try:
        assert exercises.check_causal_mask_quiz(RIGHT) is True
        assert exercises.check_causal_mask_quiz(WRONG) is False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not waited
    captured = capsys.readouterr()
    assert "✓ 通过：" in captured.out and "Traceback" not in captured.out + captured.err
    warnings = [line for line in captured.err.splitlines() if "没能记录" in line]
    assert len(warnings) == 1 and str(progress_file) in warnings[0]  # once per file and kernel


# --- reading, as root would ----------------------------------------------------------------------------

def test_malformed_lines_are_skipped(tmp_path):
    good = {"learner": "ana", "exercise": "4.1/check_alignment", "title": "t", "passed": True,
            "time": "2026-12-03T09:00:00+00:00"}
    path = tmp_path / "progress.jsonl"
    path.write_bytes(b"\n".join([
        json.dumps(good).encode(), b"{not json", b"[1, 2]", b'"text"',
        json.dumps({**good, "passed": "yes"}).encode(), json.dumps({**good, "exercise": 7}).encode(),
        json.dumps({**good, "time": "yesterday"}).encode(), json.dumps({k: v for k, v in good.items() if k != "time"}).encode(),
        b"\xff\xfe binary", json.dumps({**good, "time": "2026-12-03T10:00:00Z", "passed": False}).encode(),
        json.dumps({**good, "title": ["x"]}).encode(), json.dumps(good)[:30].encode()]))  # last: cut short
    back = progress.read(path)
    assert [(r["passed"], r["time"].hour, r["title"]) for r in back] == [(True, 9, "t"), (False, 10, "t"), (True, 9, "")]
    assert progress.read(tmp_path / "missing.jsonl") == []


def test_a_long_file_is_read_from_its_end_up_to_the_limit(tmp_path):
    path = tmp_path / "progress.jsonl"
    entry = {"exercise": "4.1/check_alignment", "passed": False, "time": "2026-12-03T09:00:00+00:00"}
    lines = [json.dumps({**entry, "passed": i == 999, "title": str(i)}) for i in range(1000)]
    path.write_text("\n".join(lines) + "\n")
    back = progress.read(path, owner_uid=os.getuid(), limit=2000)
    assert 0 < len(back) < 1000 and back[-1]["title"] == "999" and back[-1]["passed"]
    assert [int(r["title"]) for r in back] == list(range(1000 - len(back), 1000))  # no cut line read


def test_links_fifos_folders_and_other_owners_files_are_refused(tmp_path):
    mine = tmp_path / "mine.jsonl"
    mine.write_text(json.dumps({"exercise": "4.1/check_alignment", "passed": True,
                                "time": "2026-12-03T09:00:00+00:00"}) + "\n")
    assert len(progress.read(mine, owner_uid=os.getuid())) == 1
    link = tmp_path / "link.jsonl"
    link.symlink_to("/etc/shadow" if Path("/etc/shadow").exists() else "/etc/passwd")
    own_link = tmp_path / "own_link.jsonl"
    own_link.symlink_to(mine)
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    for path in (link, own_link, fifo, folder):
        with pytest.raises(progress.Refused):
            progress.read(path, owner_uid=os.getuid())
    with pytest.raises(progress.Refused):
        progress.read(link)  # even without owner_uid, a final symbolic link is not followed
    with pytest.raises(progress.Refused, match="另一个用户"):
        progress.read(mine, owner_uid=os.getuid() + 1)


@pytest.mark.skipif(os.getuid() != 0, reason="chown to another user needs root")
def test_a_file_owned_by_another_learner_is_refused_even_through_a_linked_folder(tmp_path):
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    other = tmp_path / "other" / "progress.jsonl"
    other.parent.mkdir()
    other.write_text(json.dumps({"exercise": "4.1/check_alignment", "passed": True,
                                 "time": "2026-12-03T09:00:00+00:00"}) + "\n")
    os.chown(other, nobody, -1)
    assert len(progress.read(other, owner_uid=nobody)) == 1
    learner = tmp_path / "learner"
    learner.symlink_to(other.parent)  # the learner's folder is a link to someone else's
    with pytest.raises(progress.Refused, match="另一个用户"):
        progress.read(learner / "progress.jsonl", owner_uid=os.getuid())


# --- the harness records --------------------------------------------------------------------------------

def test_a_real_check_records_wrong_then_right(progress_file, capsys):
    from test_exercises import pick_next_solution

    def pick_next(last_logits, k=5, generator=None):
        raise NotImplementedError

    assert exercises.check_causal_mask_quiz(WRONG) is False
    assert exercises.check_causal_mask_quiz(RIGHT) is True
    assert exercises.check_pick_next(pick_next) is False
    assert exercises.check_pick_next(pick_next_solution) is True
    assert exercises.check_causal_mask_quiz() is False  # called the wrong way: a ✗ too
    out = capsys.readouterr().out
    assert out.count("✓ 通过：") == 2
    quiz, pick = exercises.check_causal_mask_quiz.exercise, exercises.check_pick_next.exercise
    assert [(r["exercise"], r["passed"], r["title"]) for r in lines_of(progress_file)] == [
        (quiz.id, False, quiz.title), (quiz.id, True, quiz.title),
        (pick.id, False, pick.title), (pick.id, True, pick.title), (quiz.id, False, quiz.title)]
    assert quiz.id == "4.3/check_causal_mask_quiz" and quiz.title in out


def test_a_check_in_a_real_kernel_records_in_the_file_its_environment_names(tmp_path):
    """nbval runs with DLI_SEQ_PROGRESS=off; this is the recording through a Jupyter kernel."""
    from jupyter_client.manager import start_new_kernel

    path = tmp_path / "kernel" / "progress.jsonl"
    env = {**os.environ, progress.ENV: str(path), "OMP_NUM_THREADS": "1"}
    manager, client = start_new_kernel(kernel_name="python3", env=env, startup_timeout=120)
    try:
        code = f"from dli_seq import exercises\nexercises.check_causal_mask_quiz({WRONG!r})\n" \
               f"exercises.check_causal_mask_quiz({RIGHT!r})"
        reply = client.execute_interactive(code, timeout=180, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert [(r["exercise"], r["passed"]) for r in lines_of(path)] == [
        ("4.3/check_causal_mask_quiz", False), ("4.3/check_causal_mask_quiz", True)]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- the list of exercises ---------------------------------------------------------------------------------

def checks_in_modules() -> dict[str, object]:
    """Every function marked by @check in every module of dli_seq.exercises, found by walking them."""
    found = {}
    for info in pkgutil.iter_modules(exercises.__path__):
        module = __import__(f"dli_seq.exercises.{info.name}", fromlist=["_"])
        for value in vars(module).values():
            if callable(value) and isinstance(getattr(value, "exercise", None), progress.Exercise):
                found[value.exercise.id] = value
    return found


def test_the_exercise_list_has_every_check_in_the_order_of_the_notebooks():
    listed = exercises.lesson_exercises()
    assert len(listed) == len({e.id for e in listed}) == len(checks_in_modules()) > 0
    assert {e.id for e in listed} == set(checks_in_modules())
    in_notebooks = []
    for notebook in sorted((ROOT / "notebooks").glob("04-*.ipynb")):
        section = "4." + re.match(r"04-(\d)", notebook.name)[1]
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        for name in dict.fromkeys(re.findall(r"\b(check_\w+)\(", code)):
            in_notebooks.append(f"{section}/{name}")
    assert [e.id for e in listed] == in_notebooks
    for e in listed:
        assert e.title.startswith(f"练习 {e.number} 检查")


def test_a_check_without_a_section_or_a_numbered_title_is_refused_at_import():
    namespace = {"check": harness.check, "__name__": "somewhere"}
    with pytest.raises(TypeError, match="SECTION"):
        exec("@check('练习 1 检查：x', success='ok')\ndef check_x(outcome):\n    pass\n", namespace)
    namespace["SECTION"] = "4.9"
    with pytest.raises(TypeError, match="练习 N 检查"):
        exec("@check('没有编号', success='ok')\ndef check_y(outcome):\n    pass\n", namespace)

