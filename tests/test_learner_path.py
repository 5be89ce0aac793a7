"""The learner's path, in a real browser: `make lab`, open each lesson, Run All Cells, use the widgets.

JupyterLab is started with exactly the options of `make lab` (`make lab-args` prints them: the
repository root as root_dir, no terminals), on a free localhost port with a random token and
isolated config/data/settings folders (tests/test_browser.py has the helpers and the network
guard). Two user settings keep the test honest and the checkout clean: notebook windowing off
(every cell is in the page, so every output and image can be checked) and autosave off (the
executed notebooks are never written back). JupyterLab must show its menus in Chinese (the
language pack and the zh_CN default of `make lab`). Each lesson notebook 04-1 ... 04-5 is opened,
运行 → 运行所有单元格 (Run > Run All Cells) is clicked, and after the kernel is idle the page must show: the same
kernel, still alive (it answers a request, and it is the same process: the server restarts a
dead kernel under its old id); no broken image (naturalWidth 0, or an HTTP status >= 400); no stderr or
error output; no "Error displaying widget"; no uncaught page error. Then the steppers (4.2, 4.4)
are stepped and branched, and the 4.3 mask explorer is emptied and refilled. A screenshot of each
notebook goes to build/browser/<notebook>.png.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import wait_for_jupyter
from test_browser import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, _free_port, _stop, _write_isolated_jupyter_dirs
from test_lab_language import TOP_MENUS, menu_label

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "browser"
LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("04-*.ipynb"))
RUN_ALL_TIMEOUT_S = 150

pytestmark = pytest.mark.browser


def make_lab_args() -> list[str]:
    """The options `make lab` gives JupyterLab, read from the Makefile itself."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "lab-args"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return out.split()


def notebook_url_path(args: list[str], name: str) -> str:
    """Where the lesson ``name`` is under the server's root_dir (taken from the `make lab` options)."""
    root = next((a.split("=", 1)[1] for a in args if a.startswith("--ServerApp.root_dir=")), ".")
    return (ROOT / "notebooks" / name).relative_to((ROOT / root).resolve()).as_posix()


def _api(url: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{url}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        body = reply.read()
    return json.loads(body) if body else None


def _session(url: str, token: str, name: str) -> dict | None:
    for session in _api(url, token, "/api/sessions"):
        if session.get("path", "").endswith(name):
            return session
    return None


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI: make browser-deps")
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (make browser-deps, as root)")
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def make_lab(tmp_path_factory):
    """JupyterLab as `make lab` starts it (same root and options), on a free port with a token."""
    tmp = tmp_path_factory.mktemp("learner_path")
    env = _write_isolated_jupyter_dirs(tmp / "jupyter")
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
    for plugin, values in {("notebook-extension", "tracker"): {"windowingMode": "none"},
                           ("docmanager-extension", "plugin"): {"autosave": False}}.items():
        file = settings / "@jupyterlab" / plugin[0] / f"{plugin[1]}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    token, port = secrets.token_hex(16), _free_port()
    url = f"http://127.0.0.1:{port}"
    args = make_lab_args()
    command = [sys.executable, "-m", "jupyterlab", *args, f"--port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}"]
    if os.geteuid() == 0:  # as `make lab` does for root
        command.append("--allow-root")
    log_path = tmp / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_for_jupyter(process, url, token, log_path)
        yield url, token, args, process.pid
    finally:
        _stop(process, url, token)
        log.close()


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class LessonPage:
    """One lesson notebook open in JupyterLab, with everything the page did wrong recorded."""

    def __init__(self, browser, url: str, token: str, name: str, path: str, server_pid: int):
        self.url, self.token, self.name, self.path, self.server_pid = url, token, name, path, server_pid
        self.blocked, self.bad_responses, self.page_errors = [], [], []
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.context.route("**/*", self._only_localhost)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.page.on("pageerror", lambda err: self.page_errors.append(str(err)))
        self.page.on("response", self._on_response)

    def _only_localhost(self, route):
        host = urlparse(route.request.url).hostname
        if host is None or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _on_response(self, response):
        if response.status >= 400 and response.request.resource_type == "image":
            self.bad_responses.append(f"{response.status} {response.url}")

    def wait(self, condition, what: str, timeout: float) -> None:
        """Poll ``condition()`` with page.wait_for_timeout (so the route handler keeps running)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.screenshot("failure-" + Path(self.name).stem)
                pytest.fail(f"{self.name}: {what} within {timeout:.0f} s")
            self.page.wait_for_timeout(500)

    def kernel(self) -> dict | None:
        session = _session(self.url, self.token, self.name)
        return session and session.get("kernel")

    def kernel_pid(self, kernel_id: str) -> int | None:
        """The process running kernel ``kernel_id`` (a kernel the server restarted keeps its id, not its pid)."""
        import psutil

        for child in psutil.Process(self.server_pid).children(recursive=True):
            try:
                if any(f"kernel-{kernel_id}.json" in arg for arg in child.cmdline()) and child.is_running() \
                        and child.status() != psutil.STATUS_ZOMBIE:
                    return child.pid
            except psutil.Error:
                continue
        return None

    def kernel_answers(self, kernel_id: str, timeout: float = 30) -> bool:
        """Send the kernel ``40 + 2`` over the server's websocket; True if it replies ok in time.

        A kernel told to shut down stops its event loop a moment after the cell ends, and the
        server restarts it a few seconds later: this probe cannot be answered in between.
        """
        import uuid

        import websocket  # websocket-client, a jupyter_server dependency

        ws_url = self.url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels?token={self.token}"
        msg_id = uuid.uuid4().hex
        request = {"header": {"msg_id": msg_id, "username": "learner-path-test", "session": uuid.uuid4().hex,
                              "msg_type": "execute_request", "version": "5.3"},
                   "parent_header": {}, "metadata": {}, "channel": "shell",
                   "content": {"code": "40 + 2", "silent": False, "store_history": False, "user_expressions": {},
                               "allow_stdin": False, "stop_on_error": True}}
        deadline = time.monotonic() + timeout
        try:
            ws = websocket.create_connection(ws_url, timeout=timeout)
        except Exception:  # noqa: BLE001 - no connection: no answer
            return False
        try:
            ws.send(json.dumps(request))
            while time.monotonic() < deadline:
                reply = json.loads(ws.recv())
                if reply.get("parent_header", {}).get("msg_id") == msg_id and reply.get("msg_type") == "execute_reply":
                    return reply.get("content", {}).get("status") == "ok"
        except Exception:  # noqa: BLE001 - timeout or closed socket: no answer
            return False
        finally:
            ws.close()
        return False

    def menu_bar(self) -> list[str]:
        """The main menu titles as the page shows them."""
        return self.page.locator(".lm-MenuBar-itemLabel").evaluate_all("els => els.map(e => e.innerText.trim())")

    def prompts(self) -> list[str]:
        return self.page.locator(".jp-CodeCell .jp-InputPrompt").evaluate_all("els => els.map(e => e.innerText)")

    def open(self) -> None:
        self.page.goto(f"{self.url}/lab/tree/{self.path}?reset&token={self.token}")
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for()
        self.wait(lambda: (self.kernel() or {}).get("execution_state") == "idle", "the kernel did not start", 60)

    def run_all(self) -> None:
        self.page.keyboard.press("Control+b")  # fold the file browser away, as a learner would for room
        self.page.locator(".lm-MenuBar-itemLabel", has_text=menu_label("Run")).first.click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

        def finished() -> bool:
            prompts = self.prompts()
            busy = any("*" in p for p in prompts) or any(p.strip() in ("[ ]:", "") for p in prompts)
            return not busy and (self.kernel() or {}).get("execution_state") == "idle"
        self.wait(finished, "Run All Cells did not finish", RUN_ALL_TIMEOUT_S)
        self.page.wait_for_timeout(3000)  # a kernel told to shut down goes a moment after its cell ends
        self.wait(finished, "the kernel did not come back to idle", 60)

    def problems(self) -> dict[str, list[str]]:
        """Everything a learner would see go wrong on this page, by kind (empty lists: all well)."""
        page = self.page
        texts = "els => els.map(e => e.innerText.slice(0, 300))"
        return {
            "broken images": page.locator(".jp-Notebook img").evaluate_all(
                "els => els.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 120))")
            + self.bad_responses,
            "stderr outputs": page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            .evaluate_all(texts),
            "error outputs": page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
            .evaluate_all(texts),
            "widget errors": page.locator(".jp-OutputArea-output", has_text="Error displaying widget")
            .evaluate_all(texts),
            "dialogs": page.locator(".jp-Dialog").evaluate_all(texts),
            "page errors": list(self.page_errors),
            "blocked requests": list(self.blocked),
        }

    def screenshot(self, stem: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{stem}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        session = _session(self.url, self.token, self.name)
        if session:  # free the kernel's CPU and memory before the next notebook
            _api(self.url, self.token, f"/api/sessions/{session['id']}", method="DELETE")
        self.context.close()


def _drive_stepper(lesson: LessonPage) -> None:
    """4.2, 4.4: Step once, then click the third candidate; the text and the status line must follow."""
    from playwright.sync_api import expect

    page = lesson.page
    stepper = page.locator(".dli-stepper").first
    stepper.scroll_into_view_if_needed()
    text, status = stepper.locator(".dli-stepper-text"), stepper.locator(".dli-stepper-status")
    candidates = stepper.locator(".dli-stepper-candidate")
    expect(candidates.first).to_be_visible()
    before = text.inner_text()
    done = int(re.search(r"新 token：(\d+)/", stepper.locator(".dli-stepper-info").inner_text()).group(1))
    titles = "els => els.map(e => e.title)"
    shown_before = candidates.evaluate_all(titles)
    stepper.locator("button.dli-stepper-step").click()
    expect(status).to_contain_text(f"第 {done + 1} 个 token", timeout=30_000)
    lesson.wait(lambda: text.inner_text() != before, "the text did not change after Step", 30)
    after_step = text.inner_text()
    assert after_step != before
    lesson.wait(lambda: candidates.evaluate_all(titles) != shown_before, "the candidates did not update", 30)
    lesson.wait(lambda: (lesson.kernel() or {}).get("execution_state") == "idle", "the kernel stayed busy", 30)
    third = candidates.nth(2).element_handle()
    chosen_id = third.get_attribute("title")  # "id 1234", the candidate's tooltip
    third.click()
    expect(status).to_contain_text(f"第 {done + 2} 个 token", timeout=30_000)
    lesson.wait(lambda: text.inner_text() != after_step, "the text did not change after the choice", 30)
    after_choice = text.inner_text()
    assert after_choice != after_step and chosen_id and chosen_id.split()[-1] in after_choice
    stepper.evaluate("e => e.scrollIntoView({block: 'start'})")
    lesson.screenshot(Path(lesson.name).stem + "-stepper")


def _drive_mask_explorer(lesson: LessonPage) -> None:
    """4.3: empty the target (an error, and no stale figure), then type a new one (a new figure)."""
    from playwright.sync_api import expect

    explorer = lesson.page.locator(".dli-mask-explorer").first
    explorer.scroll_into_view_if_needed()
    target = explorer.locator("input").nth(1)
    message, figure = explorer.locator(".dli-mask-message"), explorer.locator(".dli-mask-figure img")
    expect(figure).to_have_count(1)
    target.fill("")
    expect(message).to_contain_text("不能为空", timeout=30_000)
    expect(figure).to_have_count(0, timeout=30_000)
    target.fill("Bonjour le monde")
    expect(figure).to_have_count(1, timeout=30_000)
    expect(message).to_have_text("", timeout=30_000)
    explorer.evaluate("e => e.scrollIntoView({block: 'start'})")
    lesson.screenshot(Path(lesson.name).stem + "-mask-explorer")


@pytest.mark.parametrize("name", LESSONS)
def test_run_all_cells_then_use_the_widgets(browser, make_lab, name):
    url, token, args, server_pid = make_lab
    lesson = LessonPage(browser, url, token, name, notebook_url_path(args, name), server_pid)
    try:
        lesson.open()
        chinese = [menu_label(m) for m in TOP_MENUS]
        assert set(chinese) <= set(lesson.menu_bar()), (
            f"{name}: the menu bar should be in Chinese (make lab's default locale zh_CN): {lesson.menu_bar()}")
        kernel_id = lesson.kernel()["id"]
        pid = lesson.kernel_pid(kernel_id)
        assert pid, f"{name}: no process found for kernel {kernel_id}"
        lesson.run_all()
        answers = lesson.kernel_answers(kernel_id)
        # The server reports the test's own execute request as "busy" for a moment after it is answered.
        deadline = time.monotonic() + 15
        while (kernel := lesson.kernel() or {}).get("execution_state") == "busy" and time.monotonic() < deadline:
            time.sleep(0.2)
        problems = {"kernel": [what for what, wrong in (
            ("the notebook's session is gone", not kernel),
            ("the kernel does not answer an execute request", not answers),
            ("Run All replaced the kernel (new id)", kernel and kernel["id"] != kernel_id),
            ("Run All ended the kernel (the server restarted it: new process)",
             kernel and lesson.kernel_pid(kernel_id) != pid),
            (f"kernel is {kernel.get('execution_state')}", kernel and kernel.get("execution_state") != "idle"),
        ) if wrong]}
        problems.update(lesson.problems())
        first_figure = lesson.page.locator(".jp-Notebook .jp-RenderedMarkdown img, .jp-OutputArea img").first
        if first_figure.count():
            first_figure.evaluate("e => e.scrollIntoView({block: 'center'})")
        lesson.screenshot(Path(name).stem)
        assert not any(problems.values()), f"{name} after Run All: " + json.dumps(
            {k: v for k, v in problems.items() if v}, ensure_ascii=False, indent=1)

        if lesson.page.locator(".dli-stepper").count():
            _drive_stepper(lesson)
        if lesson.page.locator(".dli-mask-explorer").count():
            _drive_mask_explorer(lesson)
        after = lesson.problems()
        assert not any(after.values()), f"{name} after using the widgets: " + json.dumps(
            {k: v for k, v in after.items() if v}, ensure_ascii=False, indent=1)
        assert lesson.kernel()["id"] == kernel_id and lesson.kernel_pid(kernel_id) == pid
    finally:
        lesson.close()


def test_every_lesson_is_covered():
    assert LESSONS == ["04-1_machine_translation.ipynb", "04-2_gpt_decoder_generation.ipynb",
                       "04-3_encoders_decoders.ipynb", "04-4_t5_translation.ipynb", "04-5_flan_t5_and_phi.ipynb"]


def test_make_lab_serves_the_repo_root_on_localhost_without_terminals():
    args = make_lab_args()
    assert "--ServerApp.root_dir=." in args and "--ServerApp.ip=127.0.0.1" in args
    assert "--ServerApp.terminals_enabled=False" in args
    assert any(a.startswith("--LabApp.default_url=/lab/tree/notebooks/04-1") for a in args)
    assert notebook_url_path(args, LESSONS[1]) == f"notebooks/{LESSONS[1]}"
    on = subprocess.run(["make", "-s", "--no-print-directory", "lab-args", "TERMINALS=1"], cwd=ROOT,
                        capture_output=True, text=True, check=True).stdout.split()
    assert "--ServerApp.terminals_enabled=True" in on
