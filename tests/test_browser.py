"""The 4.2 stepper in a real browser: JupyterLab from the venv, driven by Debian's headless chromium.

A notebook is written to a temp folder, JupyterLab serves it on 127.0.0.1 with a random token
and isolated config/data/settings folders (no user settings leak in, nothing is left behind),
chromium runs all cells, clicks Step and a candidate, and the text must change. Every request
to a host other than localhost is aborted and reported. The screenshot goes to
build/browser/stepper.png. Without /usr/bin/chromium the test is skipped, except in CI.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
from conftest import wait_for_jupyter
from test_lab_language import menu_label

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "build" / "browser" / "stepper.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

pytestmark = pytest.mark.browser

SETUP_CELL = """\
from pathlib import Path
import dli_seq
from dli_seq.widgets import GenerationStepper

if (Path(dli_seq.__file__).parent / "standins" / "gpt2" / "config.json").is_file():
    from dli_seq.models import load
    model, tokenizer = load("gpt2")  # DLI_SEQ_MODELS=offline: the shipped stand-in
else:  # stand-in not trained yet: a tiny random GPT-2 with the real vocabulary
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer
    vocab = Path(dli_seq.__file__).parent / "standins" / "gpt2_vocab"
    tokenizer = GPT2Tokenizer(str(vocab / "vocab.json"), str(vocab / "merges.txt"))
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=64,
                                       n_layer=2, n_head=4, initializer_range=0.2)).eval()
"""
STEPPER_CELL = 'stepper = GenerationStepper(model, tokenizer, "Hello world,", max_new_tokens=12)\nstepper'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_isolated_jupyter_dirs(tmp: Path) -> dict:
    """Config, data (with a kernelspec for THIS interpreter), settings: all under tmp."""
    dirs = {name: tmp / name for name in ("home", "config", "data", "runtime", "ipython", "settings", "workspaces")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    kernel = dirs["data"] / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (dli-seq test)", "language": "python"}))
    (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(
        {"LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                    "extension_manager": "readonly"},
         "ServerApp": {"terminals_enabled": False}}))
    notification = dirs["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    env.update(JUPYTER_PREFER_ENV_PATH="0", HOME=str(dirs["home"]), JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), IPYTHONDIR=str(dirs["ipython"]),
               JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]), JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
               MPLCONFIGDIR=str(dirs["home"]), DLI_SEQ_MODELS="offline", HF_HUB_OFFLINE="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return env


def _stop(process: subprocess.Popen, url: str, token: str) -> None:
    """Ask the server to shut down (it stops its kernels), then kill whatever it started."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    try:
        urllib.request.urlopen(urllib.request.Request(f"{url}/api/shutdown", method="POST",
                                                      headers={"Authorization": f"token {token}"}), timeout=5)
        process.wait(timeout=15)
    except Exception:  # noqa: BLE001 - fall through to killing
        pass
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    for child in children:  # kernels run in their own session
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def _wait_for_idle_kernel(page, url: str, token: str, timeout: float = 60) -> None:
    """JupyterLab runs no cells before the notebook's kernel is up: wait until the server has it idle.

    Waits with ``page.wait_for_timeout``, not ``time.sleep``: the sync API runs our route handler
    (and so lets the page's requests through) only while a playwright call is waiting.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=5) as reply:
            sessions = json.load(reply)
        if any(s.get("kernel", {}).get("execution_state") == "idle" for s in sessions):
            return
        page.wait_for_timeout(500)
    pytest.fail(f"the notebook's kernel did not start within {timeout:.0f} s")


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a free localhost port, serving one notebook; stopped at the end."""
    root = tmp_path / "notebooks"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SETUP_CELL), nbformat.v4.new_code_cell(STEPPER_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "stepper.ipynb")
    env = _write_isolated_jupyter_dirs(tmp_path / "jupyter")
    token, port = secrets.token_hex(16), _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:  # containers and CI often run as root
        command.append("--allow-root")
    process = subprocess.Popen(
        command,
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_jupyter(process, url, token, tmp_path / "server.log")
        yield url, token
    finally:
        _stop(process, url, token)
        log.close()


@pytest.fixture
def chromium_path():
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI: make browser-deps")
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (make browser-deps, as root)")
    return str(CHROMIUM)


def test_stepper_steps_and_branches_in_jupyterlab(chromium_path, lab):
    from playwright.sync_api import expect, sync_playwright

    url, token = lab
    blocked: list[str] = []
    served = 0

    def only_localhost(route):
        nonlocal served
        host = urlparse(route.request.url).hostname
        if host is None or host in LOCAL_HOSTS:
            served += 1
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            context.route("**/*", only_localhost)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/stepper.ipynb?token={token}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            _wait_for_idle_kernel(page, url, token)
            page.keyboard.press("Control+b")  # fold the file browser away: more room for the widget
            page.locator(".lm-MenuBar-itemLabel", has_text=menu_label("Run")).first.click()  # 运行 (zh_CN default)
            page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

            candidates = page.locator(".dli-stepper-candidate")
            expect(candidates.first).to_be_visible(timeout=75_000)
            text = page.locator(".dli-stepper-text")
            status = page.locator(".dli-stepper-status")
            before = text.inner_text()
            assert "Hello" in before

            titles = "els => els.map(e => e.title)"
            shown_before = candidates.evaluate_all(titles)
            page.locator("button.dli-stepper-step").click()
            expect(status).to_contain_text("第 1 个 token", timeout=20_000)
            after_step = text.inner_text()
            assert after_step != before
            # The candidate buttons are rebuilt for the next token after the status line changes:
            # wait for the new ones, then read and click the same element.
            for _ in range(80):
                if candidates.evaluate_all(titles) != shown_before:
                    break
                page.wait_for_timeout(250)
            _wait_for_idle_kernel(page, url, token)
            third = candidates.nth(2).element_handle()
            chosen_id = third.get_attribute("title")  # "id 1234", the candidate's tooltip
            third.click()
            expect(status).to_contain_text("第 2 个 token", timeout=20_000)
            after_choice = text.inner_text()
            assert after_choice != after_step
            assert chosen_id and chosen_id.split()[-1] in after_choice  # ids are shown as subscripts
            expect(candidates.first).to_be_visible()
            assert page.locator(".jp-OutputArea-output", has_text="Error displaying widget").count() == 0

            page.locator(".dli-stepper").evaluate("e => e.scrollIntoView({block: 'start'})")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        except Exception:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT.with_name("failure.png")))  # what the browser showed
            raise
        finally:
            browser.close()
    assert served > 0  # the guard did see the page's requests
    assert not blocked, f"the page tried to reach other hosts: {blocked}"
