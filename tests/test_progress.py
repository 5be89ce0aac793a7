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


# --- the class table (pure) ----------------------------------------------------------------------------------

def verdicts(*items, start=datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)) -> list[dict]:
    """(exercise id, passed, minutes after 9:00) -> records as progress.read gives them."""
    return [{"exercise": e, "passed": p, "time": start + timedelta(minutes=m), "title": "", "learner": ""}
            for e, p, m in items]


def test_the_table_marks_passed_tried_and_untried_and_counts_each_column():
    from dli_seq.workshop.progress_table import FAILED, NOT_TRIED, PASSED, class_table

    listed = exercises.lesson_exercises()
    a, b, c = (e.id for e in listed[:3])
    records = {
        "bo": verdicts((a, False, 0), (a, True, 5), (b, False, 10)),
        "ana": verdicts((b, True, 1), ("9.9/check_gone", False, 0)),  # an id no longer listed: left out
        "cy": [],
    }
    now = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
    table = class_table(records, listed, now, notes={"dee": "没有这个名字的系统用户"})
    assert [r["learner"] for r in table["rows"]] == ["ana", "bo", "cy", "dee"]
    cells = {r["learner"]: r["cells"][:3] for r in table["rows"]}
    assert cells == {"ana": [NOT_TRIED, PASSED, NOT_TRIED], "bo": [PASSED, FAILED, NOT_TRIED],
                     "cy": [NOT_TRIED] * 3, "dee": [NOT_TRIED] * 3}
    assert all(len(r["cells"]) == len(listed) for r in table["rows"])
    counts = [(col["passed"], col["not_passed"], col["not_tried"]) for col in table["columns"][:3]]
    assert counts == [(1, 0, 3), (1, 1, 2), (0, 0, 4)]
    assert [r["passed"] for r in table["rows"]] == [1, 1, 0, 0]
    assert table["rows"][3]["note"] == "没有这个名字的系统用户"
    assert [s["learner"] for s in table["stuck"]] == ["bo"] and table["stuck"][0]["exercise"] == b
    assert table["stuck"][0]["seconds"] == 50 * 60 and table["stuck"][0]["attempts"] == 1
    json.dumps(table)  # the JSON variant is this dict


def test_stuck_longest_comes_first_and_names_each_learners_oldest_failure():
    from dli_seq.workshop.progress_table import class_table, duration_text

    listed = exercises.lesson_exercises()
    a, b, c = (e.id for e in listed[:3])
    records = {
        "late": verdicts((c, False, 50), (c, False, 55)),
        "early": verdicts((a, False, 10), (b, False, 0), (b, False, 30), (a, True, 40)),  # a is solved
        "two": verdicts((c, False, 20), (a, False, 5)),
        "done": verdicts((a, False, 0), (a, True, 1)),
    }
    now = datetime(2026, 12, 3, 11, 0, tzinfo=timezone.utc)
    stuck = class_table(records, listed, now)["stuck"]
    assert [(s["learner"], s["exercise"], s["seconds"] // 60, s["attempts"], s["other_exercises"]) for s in stuck] == [
        ("early", b, 120, 2, 0), ("two", a, 115, 1, 1), ("late", c, 70, 2, 0)]
    assert [duration_text(s) for s in (20, 60, 3600, 3660, 90000, 86400 * 3)] == [
        "不到 1 分钟", "1 分钟", "1 小时", "1 小时 1 分钟", "1 天 1 小时", "3 天"]


def test_the_page_is_self_contained_chinese_html_that_refreshes_and_escapes_names():
    from dli_seq.workshop.progress_table import class_table, render_html

    listed = exercises.lesson_exercises()
    page = render_html(class_table({"<script>alert(1)</script>": verdicts((listed[0].id, False, 0))}, listed))
    assert '<html lang="zh-CN">' in page and "班级练习进度" in page and "卡得最久" in page
    assert re.search(r'<meta http-equiv="refresh" content="(\d+)">', page)
    assert int(re.search(r'content="(\d+)"', page)[1]) <= 60
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from elsewhere
    assert all(e.title in page for e in listed)


# --- the service ------------------------------------------------------------------------------------------------

class Hub:
    """A fake hub API (users, two pages) and the progress service, both on 127.0.0.1 in one thread."""

    TOKEN = "service-token"

    def __init__(self, users, lookup):
        import tornado.web

        from dli_seq.workshop import progress_page

        outer = self

        class Users(tornado.web.RequestHandler):
            def get(self):
                if self.request.headers.get("Authorization") != f"token {outer.token}":
                    raise tornado.web.HTTPError(403)
                offset, limit = int(self.get_argument("offset", 0)), 2  # small pages: pagination is used
                page = users[offset:offset + limit]
                following = {"offset": offset + limit} if offset + limit < len(users) else None
                self.finish({"items": page, "_pagination": {"offset": offset, "total": len(users), "next": following}})

        self.token = self.TOKEN
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()

        async def start():
            hub = tornado.web.Application([(r"/hub/api/users", Users)])
            self.hub_server = hub.listen(0, "127.0.0.1")
            hub_port = next(iter(self.hub_server._sockets.values())).getsockname()[1]
            api_url = f"http://127.0.0.1:{hub_port}/hub/api"
            app = progress_page.make_app("/services/progress/", api_url, self.TOKEN, lookup=lookup)
            self.server = app.listen(0, "127.0.0.1")
            self.port = next(iter(self.server._sockets.values())).getsockname()[1]
            self.ready.set()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(start())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self.ready.wait(30)

    def get(self, path="/services/progress/"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as reply:
                return reply.status, reply.read().decode("utf-8")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8")

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def service(tmp_path, monkeypatch):
    from dli_seq.workshop import progress_page

    listed = exercises.lesson_exercises()
    homes = {name: tmp_path / name for name in ("ana", "bo", "cy", "teacher")}
    for home in homes.values():
        home.mkdir()
    for name, items in {"ana": [(listed[0].id, True, 0)], "bo": [(listed[1].id, False, 0)]}.items():
        path = progress.default_path(homes[name])
        path.parent.mkdir(parents=True)
        path.write_text("".join(json.dumps({**r, "time": r["time"].isoformat()}) + "\n" for r in verdicts(*items)))
    (progress.default_path(homes["cy"]).parent).mkdir(parents=True)
    progress.default_path(homes["cy"]).symlink_to("/etc/passwd")  # refused, noted on cy's row

    def lookup(name):
        if name not in homes:
            raise KeyError(name)
        return SimpleNamespace(pw_dir=str(homes[name]), pw_uid=os.getuid())

    users = [{"kind": "user", "name": n, "admin": False} for n in ("ana", "bo", "cy", "ghost")]
    users += [{"kind": "user", "name": "teacher", "admin": True}, {"kind": "user", "name": "demoted", "admin": False}]
    signed_in = {}
    monkeypatch.setattr(progress_page.ProgressHandler, "get_current_user", lambda self: signed_in.get("model"))
    hub = Hub(users, lookup)
    hub.signed_in = signed_in
    yield hub
    hub.stop()


def test_an_admin_gets_the_table_as_html_and_json(service):
    service.signed_in["model"] = {"kind": "user", "name": "teacher", "admin": True}
    status, page = service.get()
    assert status == 200 and "班级练习进度" in page
    for name in ("ana", "bo", "cy", "ghost"):
        assert f">{name}<" in page
    assert ">teacher<" not in page and ">demoted<" in page  # admins (by the hub's list) are not rows
    status, body = service.get("/services/progress/?format=json")
    table = json.loads(body)
    rows = {r["learner"]: r for r in table["rows"]}
    assert status == 200 and sorted(rows) == ["ana", "bo", "cy", "demoted", "ghost"]
    assert rows["ana"]["cells"][0] == "✓" and rows["bo"]["cells"][1] == "✗" and set(rows["cy"]["cells"]) == {"·"}
    assert "被拒绝" in rows["cy"]["note"] and "系统用户" in rows["ghost"]["note"]
    assert [c["id"] for c in table["columns"]] == [e.id for e in exercises.lesson_exercises()]
    assert [s["learner"] for s in table["stuck"]] == ["bo"]


def test_anyone_but_an_admin_gets_403_with_one_chinese_line(service):
    from dli_seq.workshop.progress_page import NOT_ADMIN

    for model in ({"kind": "user", "name": "ana", "admin": False}, {"kind": "user", "name": "bo"},
                  {"kind": "service", "name": "teacher", "admin": True},
                  {"kind": "user", "name": "demoted", "admin": True}):  # admin in a cached model, not any more
        service.signed_in["model"] = model
        status, page = service.get()
        assert status == 403 and NOT_ADMIN in page and "ana" not in page.replace(NOT_ADMIN, "")
        status, body = service.get("/services/progress/?format=json")
        assert status == 403 and json.loads(body) == {"error": NOT_ADMIN}


def test_a_hub_that_refuses_the_service_token_gives_502_in_chinese(service):
    service.signed_in["model"] = {"kind": "user", "name": "teacher", "admin": True}
    service.token = "another token"
    status, body = service.get("/services/progress/?format=json")
    assert status == 502 and "list:users" in json.loads(body)["error"]


def test_started_by_hand_it_says_in_one_line_what_is_missing(monkeypatch, capsys):
    from dli_seq.workshop import progress_page

    for name in [k for k in os.environ if k.startswith("JUPYTERHUB_")]:
        monkeypatch.delenv(name)
    assert progress_page.main([]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "JUPYTERHUB_SERVICE_URL" in err
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1")
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "secret")
    assert progress_page.main([]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no port" in err


def test_it_runs_as_a_managed_service_runs_it(tmp_path):
    """The command and environment JupyterHub gives a managed service with OAuth: a visitor with no
    cookie is sent to the hub's OAuth authorize page; SIGINT stops it at once."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    env.update(JUPYTERHUB_SERVICE_NAME="progress", JUPYTERHUB_SERVICE_URL=f"http://127.0.0.1:{port}",
               JUPYTERHUB_SERVICE_PREFIX="/services/progress/", JUPYTERHUB_API_TOKEN="secret",
               JUPYTERHUB_API_URL="http://127.0.0.1:1/hub/api", JUPYTERHUB_BASE_URL="/",
               JUPYTERHUB_CLIENT_ID="service-progress",
               JUPYTERHUB_OAUTH_CALLBACK_URL="/services/progress/oauth_callback",
               JUPYTERHUB_OAUTH_ACCESS_SCOPES=json.dumps(["access:services!service=progress"]))
    ignore_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)  # as from a hub started in the background
    process = subprocess.Popen([sys.executable, "-m", "dli_seq.workshop.progress_page"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ignore_sigint)
    try:
        assert "serving /services/progress/" in process.stdout.readline()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(f"http://127.0.0.1:{port}/services/progress/", timeout=30)
        assert answer.value.code == 302
        location = answer.value.headers["Location"]
        assert location.startswith("/hub/api/oauth2/authorize?") and "client_id=service-progress" in location
        process.send_signal(signal.SIGINT)  # how the hub stops a managed service first (SIGTERM 30 s later)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
