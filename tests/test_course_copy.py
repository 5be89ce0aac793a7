"""Each learner's copy of the course: nbgitpuller's merge rules, symbolic links, idempotence, the lock."""

from __future__ import annotations

import fcntl
import os
import re
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dli_seq.workshop import course_copy
from dli_seq.workshop.course_copy import BESIDE, LOCK, MANIFEST, CourseCopyError, sync

NB = "notebooks/04-2_gpt_decoder_generation.ipynb"
SOLUTION = "notebooks/solutions/04-2_solutions.ipynb"
IMG = "imgs/text_to_text_format.png"
COURSE = {NB: b'{"cells": []}', SOLUTION: b'{"solution": 1}', IMG: b"\x89PNG\x00\x01"}
ASIDE = re.compile(r"__\d{14}(-\d+)?")  # the timestamp nbgitpuller puts in a renamed file's name


def put(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def tree(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (links not followed), the manifest and lock left out."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if name not in (MANIFEST, LOCK) and path.is_file() and not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


@pytest.fixture
def course(tmp_path):
    source = tmp_path / "course"
    put(source, COURSE)
    return source


def test_first_sync_copies_the_course_into_a_private_folder(course, tmp_path):
    home = tmp_path / "home"
    report = sync(course, home)
    assert tree(home) == COURSE
    assert sorted(report.copied) == sorted(COURSE) and str(report) == "3 copied"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / MANIFEST).stat().st_mode) == 0o600


def test_a_file_the_learner_did_not_change_is_updated(course, tmp_path):
    home = tmp_path / "home"
    sync(course, home)
    (course / NB).write_bytes(b'{"cells": ["fixed"]}')
    report = sync(course, home)
    assert report.updated == [NB] and (home / NB).read_bytes() == b'{"cells": ["fixed"]}'


def test_the_learners_edit_is_kept_and_the_course_update_put_beside_it(course, tmp_path):
    home = tmp_path / "home"
    sync(course, home)
    (home / NB).write_bytes(b"my homework")
    assert str(sync(course, home)) == "up to date"  # the course did not change: nothing to say
    (course / NB).write_bytes(b"course v2")
    report = sync(course, home)
    beside = NB.replace(".ipynb", f"{BESIDE}.ipynb")
    assert (home / NB).read_bytes() == b"my homework"
    assert (home / beside).read_bytes() == b"course v2"
    assert report.kept == [NB] and report.beside == [beside] and not report.updated
    (course / NB).write_bytes(b"course v3")  # the beside copy is ours and untouched: replaced
    assert sync(course, home).renamed == [] and (home / beside).read_bytes() == b"course v3"
    (home / beside).write_bytes(b"my notes in the update")  # now it is the learner's: moved aside
    (course / NB).write_bytes(b"course v4")
    report = sync(course, home)
    assert len(report.renamed) == 1 and (home / beside).read_bytes() == b"course v4"
    assert b"my notes in the update" in tree(home).values() and (home / NB).read_bytes() == b"my homework"


def test_a_deleted_file_is_restored(course, tmp_path):
    home = tmp_path / "home"
    sync(course, home)
    (home / NB).write_bytes(b"a mess")
    (home / NB).unlink()
    report = sync(course, home)
    assert report.restored == [NB] and (home / NB).read_bytes() == COURSE[NB]


def test_a_learners_file_named_like_a_new_course_file_is_renamed_not_lost(course, tmp_path):
    home = tmp_path / "home"
    sync(course, home)
    put(home, {"notebooks/Untitled1.ipynb": b"mine"})
    put(course, {"notebooks/Untitled1.ipynb": b"the instructor's"})
    report = sync(course, home)
    moved = [rel for rel in tree(home) if ASIDE.search(rel)]
    assert moved and re.fullmatch(r"notebooks/Untitled1__\d{14}\.ipynb", moved[0])
    assert (home / moved[0]).read_bytes() == b"mine"
    assert (home / "notebooks/Untitled1.ipynb").read_bytes() == b"the instructor's"
    assert report.renamed == [f"notebooks/Untitled1.ipynb -> {moved[0]}"]


def test_a_file_where_the_course_has_a_folder_is_renamed(course, tmp_path):
    home = tmp_path / "home"
    put(home, {"notebooks/solutions": b"a file, not a folder"})
    sync(course, home)
    assert (home / SOLUTION).read_bytes() == COURSE[SOLUTION]
    assert b"a file, not a folder" in tree(home).values()


def test_learners_files_and_files_the_course_drops_stay(course, tmp_path):
    home = tmp_path / "home"
    sync(course, home)
    put(home, {"notebooks/mine.ipynb": b"mine", "notes.txt": b"notes"})
    (course / IMG).unlink()
    report = sync(course, home)
    assert (home / IMG).read_bytes() == COURSE[IMG]
    assert (home / "notebooks/mine.ipynb").read_bytes() == b"mine" and (home / "notes.txt").exists()
    assert str(report) == "up to date"
    (course / IMG).write_bytes(b"a new figure")  # back in the course: it is the learner's file now
    report = sync(course, home)
    assert len(report.renamed) == 1 and COURSE[IMG] in tree(home).values()


def test_a_symbolic_link_in_the_copy_is_never_written_through(course, tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_bytes(b"not the course's")
    sync(course, home)
    for path in (home / "notebooks" / "solutions").iterdir():
        path.unlink()
    (home / "notebooks" / "solutions").rmdir()
    (home / "notebooks" / "solutions").symlink_to(elsewhere)  # a folder replaced by a link
    (home / NB).unlink()
    (home / NB).symlink_to(elsewhere / "keep.txt")  # a file replaced by a link
    (course / NB).write_bytes(b"course v2")
    (course / SOLUTION).write_bytes(b"solution v2")
    report = sync(course, home)
    assert sorted(os.listdir(elsewhere)) == ["keep.txt"]
    assert (elsewhere / "keep.txt").read_bytes() == b"not the course's"
    assert report.skipped == [SOLUTION] and report.kept == [NB]
    assert (home / NB).is_symlink() and (home / "notebooks" / "solutions").is_symlink()


def test_a_new_course_file_where_the_learner_has_a_link_moves_the_link_aside(course, tmp_path):
    home, target = tmp_path / "home", tmp_path / "target.txt"
    target.write_bytes(b"target")
    (home / "notebooks").mkdir(parents=True)
    (home / NB).symlink_to(target)
    sync(course, home)
    assert target.read_bytes() == b"target" and (home / NB).read_bytes() == COURSE[NB]
    assert any(p.is_symlink() and ASIDE.search(p.name) for p in (home / "notebooks").iterdir())


def test_a_copy_that_is_a_link_or_a_file_is_refused_in_one_line(course, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "file").write_bytes(b"x")
    for dest in ("link", "file", "missing/parent/home"):
        with pytest.raises(CourseCopyError, match="cannot use .* for the course copy") as caught:
            sync(course, tmp_path / dest)
        assert "\n" not in str(caught.value)
    assert os.listdir(tmp_path / "real") == []


def test_a_lock_or_manifest_replaced_by_a_link_is_not_followed(course, tmp_path):
    home, target = tmp_path / "home", tmp_path / "target"
    target.write_bytes(b"target")
    home.mkdir()
    (home / LOCK).symlink_to(target)
    with pytest.raises(CourseCopyError, match=f"cannot update the course copy .*{LOCK}.*move that file"):
        sync(course, home)
    (home / LOCK).unlink()
    (home / MANIFEST).symlink_to(target)  # read as no manifest; replaced, never written through
    assert sorted(sync(course, home).copied) == sorted(COURSE)
    assert not (home / MANIFEST).is_symlink() and target.read_bytes() == b"target"


def test_a_second_sync_changes_nothing(course, tmp_path):
    home = tmp_path / "home"
    sync(course, home)
    put(home, {NB: b"edited", "mine.txt": b"mine"})
    (course / SOLUTION).write_bytes(b"v2")
    sync(course, home)
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in home.rglob("*")}
    report = sync(course, home)
    assert str(report) == "up to date" and report.lines() == []
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in home.rglob("*")} == before


def test_a_sync_waits_for_one_already_running(course, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with open(home / LOCK, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another sync is in progress
        done = []
        worker = threading.Thread(target=lambda: done.append(sync(course, home, wait=30)))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and tree(home) == {}
        with pytest.raises(CourseCopyError, match="still running after 0.2 s"):
            sync(course, home, wait=0.2)
    worker.join(30)
    assert done and tree(home) == COURSE


def test_syncs_started_together_deliver_once(course, tmp_path):
    """A double-clicked start: several processes at once; one copies, the others find it up to date."""
    home = tmp_path / "home"
    command = [sys.executable, "-m", "dli_seq.workshop.course_copy", str(course), str(home)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate(timeout=60)[0].splitlines()[0] for run in runs]
    assert [run.returncode for run in runs] == [0] * 4
    assert sorted(line.split(": ")[-1] for line in outputs) == ["3 copied"] + ["up to date"] * 3
    assert tree(home) == COURSE and not [p for p in home.rglob("*.tmp")]


def test_bad_course_folders_get_one_line_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert course_copy.main([str(tmp_path / "nowhere"), str(tmp_path / "home")]) == 1
    assert course_copy.main([str(tmp_path / "empty"), str(tmp_path / "home")]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["error", "error"]
    assert "not found" in lines[0] and "holds no files" in lines[1]


def test_the_cli_prints_the_report(course, tmp_path, capsys):
    assert course_copy.main([str(course), str(tmp_path / "home")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(": 3 copied") and sorted(line.split()[1] for line in out[1:]) == sorted(COURSE)


# The property: whatever a learner and an instructor do, in any order, a sync loses none of the
# learner's bytes (each is in place or in a renamed file), every course file is in the copy, and a
# file holding course content holds the current version. Learner content starts with b"L", course
# content with b"U", so the two never coincide.
UPSTREAM = [NB, SOLUTION, IMG, "notebooks/Untitled1.ipynb"]  # the last one is not in the first version
LEARNER = UPSTREAM + [NB.replace(".ipynb", f"{BESIDE}.ipynb")]
STEPS = st.one_of(
    st.tuples(st.just("learner writes"), st.sampled_from(LEARNER), st.binary(max_size=2)),
    st.tuples(st.just("learner deletes"), st.sampled_from(LEARNER), st.just(b"")),
    st.tuples(st.just("course writes"), st.sampled_from(UPSTREAM), st.binary(max_size=2)),
    st.tuples(st.just("course deletes"), st.sampled_from(UPSTREAM), st.just(b"")),
    st.tuples(st.just("sync"), st.just(""), st.just(b"")),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEPS, max_size=14))
@example([("learner writes", LEARNER[-1], b""), ("learner writes", NB, b""), ("course writes", NB, b"")])
@example([("learner writes", UPSTREAM[-1], b""), ("course writes", UPSTREAM[-1], b"")])
@example([("course deletes", IMG, b""), ("sync", "", b""), ("learner writes", IMG, b"1"),
          ("course writes", IMG, b"1")])
def test_no_learner_byte_is_ever_lost(steps):
    with tempfile.TemporaryDirectory() as tmp:
        course, home = Path(tmp, "course"), Path(tmp, "home")
        put(course, {rel: b"U0" + rel.encode() for rel in UPSTREAM[:3]})
        sync(course, home)
        for action, rel, data in [*steps, ("sync", "", b"")]:
            if action == "learner writes":
                put(home, {rel: b"L" + data})
            elif action == "learner deletes":
                (home / rel).unlink(missing_ok=True)
            elif action == "course writes":
                put(course, {rel: b"U" + data})
            elif action == "course deletes" and len(tree(course)) > 1:
                (course / rel).unlink(missing_ok=True)
            elif action == "sync":
                mine = sorted(v for v in tree(home).values() if v.startswith(b"L"))
                sync(course, home)
                after = tree(home)
                assert all(mine.count(v) <= list(after.values()).count(v) for v in mine)
                for path, data in tree(course).items():
                    assert path in after and (after[path].startswith(b"L") or after[path] == data)
