"""Drive a running classroom the way learners do: sign up on the login page, then use their server.

``Hub`` starts the hub from workshop/jupyterhub_config.py as ``make workshop`` does (plus a test
service holding an API token), ``Learner`` signs up through the login form and runs a notebook in
their own server through the Jupyter server API and a kernel's websocket, as JupyterLab would.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import requests
import websocket

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "workshop" / "jupyterhub_config.py"


class Hub:
    """A classroom hub on 127.0.0.1, started and restarted like ``make workshop`` starts it."""

    def __init__(self, prefix: Path, port: int, env: dict[str, str], log: Path):
        self.prefix, self.port, self.log = prefix, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.token = uuid.uuid4().hex
        self.env = {**os.environ, **env, "DLI_SEQ_WORKSHOP": str(prefix), "DLI_SEQ_HUB_PORT": str(port),
                    "DLI_SEQ_HUB_IP": "127.0.0.1"}
        self.process: subprocess.Popen | None = None
        # The classroom's own config, plus a service whose token lets the test look at the hub's API.
        self.config = prefix / "hub" / "test_config.py"
        self.config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config.write_text(
            f"load_subconfig({str(CONFIG)!r})\n"
            "c.JupyterHub.last_activity_interval = 10\n"
            "c.Spawner.environment['JUPYTERHUB_ACTIVITY_INTERVAL'] = '10'\n"
            f"c.JupyterHub.services.append({{'name': 'loadtest', 'api_token': {self.token!r}}})\n"
            "c.JupyterHub.load_roles.append({'name': 'loadtest', 'services': ['loadtest'],\n"
            "    'scopes': ['admin:users', 'admin:servers', 'tokens', 'read:services']})\n")

    def start(self, timeout: float = 120) -> None:
        """Start the hub process and wait until its API answers."""
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.prefix / "venv" / "bin" / "jupyterhub"), "-f", str(self.config)],
                cwd=self.prefix / "hub", env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.api("GET", "/").ok, "the hub did not answer", timeout,
                   lambda: self.process.poll() is None)

    def stop(self) -> None:
        """Stop the hub (as Ctrl-C would): learners' servers and the proxy keep running."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call the hub's REST API with the test service's token."""
        try:
            return requests.request(method, f"{self.url}/hub/api{path}", timeout=30,
                                    headers={"Authorization": f"token {self.token}"}, **kwargs)
        except requests.ConnectionError as err:
            response = requests.Response()
            response.status_code, response.reason = 599, str(err)
            return response

    def server(self, name: str) -> dict | None:
        """The hub's record of ``name``'s default server (None: not running)."""
        user = self.api("GET", f"/users/{name}").json()
        return (user.get("servers") or {}).get("")


class Learner:
    """One learner: signs up on the login page, then talks to their server with a token."""

    def __init__(self, hub: Hub, name: str, password: str = "a-long-password"):
        self.hub, self.name, self.password = hub, name, password
        self.session = requests.Session()
        self.token: str | None = None

    def sign_in(self, code: str = "") -> requests.Response:
        """Post the login form as a browser would (xsrf cookie first); returns the final response."""
        self.session.get(f"{self.hub.url}/hub/login", timeout=30)
        form = {"username": self.name, "password": self.password, "otp": code,
                "_xsrf": self.session.cookies.get("_xsrf", "")}
        return self.session.post(f"{self.hub.url}/hub/login", data=form, timeout=240, allow_redirects=False)

    def start_server(self) -> requests.Response:
        """Follow the sign-in's redirect to /hub/spawn, as the browser does: that starts the server."""
        return self.session.get(f"{self.hub.url}/hub/spawn", timeout=240, allow_redirects=False)

    def wait_for_server(self, timeout: float = 240) -> None:
        """Wait until the hub says the server is ready; then get an API token for it."""
        wait_until(lambda: (self.hub.server(self.name) or {}).get("ready"), f"{self.name}'s server", timeout)
        reply = self.hub.api("POST", f"/users/{self.name}/tokens", json={"note": "load test", "expires_in": 3600})
        reply.raise_for_status()
        self.token = reply.json()["token"]

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call this learner's Jupyter server API through the proxy, as JupyterLab does."""
        return requests.request(method, f"{self.hub.url}/user/{self.name}/api{path}", timeout=60,
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def run_notebook(self, path: str, cell_timeout: float = 600) -> dict:
        """Open ``path`` (relative to home) in a kernel, run every code cell in order, save it; the notebook."""
        notebook = self.api("GET", f"/contents/{path}").json()["content"]
        session = self.api("POST", "/sessions", json={"path": path, "type": "notebook", "name": "",
                                                      "kernel": {"name": "python3"}}).json()
        kernel = session["kernel"]["id"]
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{self.hub.port}/user/{self.name}/api/kernels/{kernel}/channels",
            header=[f"Authorization: token {self.token}"], timeout=cell_timeout)
        try:
            for count, cell in enumerate((c for c in notebook["cells"] if c["cell_type"] == "code"), 1):
                cell["outputs"] = execute(ws, "".join(cell["source"]) if isinstance(cell["source"], list)
                                          else cell["source"])
                cell["execution_count"] = count
        finally:
            ws.close()
            self.api("DELETE", f"/sessions/{session['id']}")
        reply = self.api("PUT", f"/contents/{path}", json={"type": "notebook", "format": "json",
                                                           "content": notebook})
        reply.raise_for_status()
        return notebook


def execute(ws: websocket.WebSocket, code: str) -> list[dict]:
    """Run one cell over the kernel's websocket; its outputs in notebook format (errors included)."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({"channel": "shell", "header": {
        "msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": uuid.uuid4().hex,
        "version": "5.3", "date": ""}, "parent_header": {}, "metadata": {},
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    outputs: list[dict] = []
    while True:
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id or msg.get("channel") != "iopub":
            continue
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return outputs
        if kind == "stream":
            if outputs and outputs[-1]["output_type"] == "stream" and outputs[-1]["name"] == content["name"]:
                outputs[-1]["text"] += content["text"]
            else:
                outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
        elif kind in ("execute_result", "display_data"):
            outputs.append({"output_type": kind, "data": content["data"], "metadata": content.get("metadata", {}),
                            **({"execution_count": content["execution_count"]} if kind == "execute_result" else {})})
        elif kind == "error":
            outputs.append({"output_type": "error", "ename": content["ename"], "evalue": content["evalue"],
                            "traceback": content["traceback"]})
        elif kind == "clear_output":
            outputs.clear()


def sanitizers() -> list[tuple[re.Pattern, str]]:
    """The regex/replace pairs of tests/nbval_sanitize.cfg, the same rules ``make test`` compares with."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def comparable(cell: dict, rules: list[tuple[re.Pattern, str]]) -> list[str]:
    """A cell's text outputs after sanitizing: what must match the stored notebook."""
    texts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            text = out["text"] if isinstance(out["text"], str) else "".join(out["text"])
        elif out["output_type"] == "error":
            text = f"ERROR {out['ename']}: {out['evalue']}"
        else:
            plain = out.get("data", {}).get("text/plain", "")
            text = plain if isinstance(plain, str) else "".join(plain)
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        texts.append(text)
    return texts


def differences(stored: dict, fresh: dict) -> list[str]:
    """Cells whose fresh outputs differ from the stored ones (cells tagged nbval-ignore-output aside)."""
    rules, found = sanitizers(), []
    code = [c for c in stored["cells"] if c["cell_type"] == "code"]
    new = [c for c in fresh["cells"] if c["cell_type"] == "code"]
    for index, (old, now) in enumerate(zip(code, new)):
        if "nbval-ignore-output" in old.get("metadata", {}).get("tags", []):
            continue
        if comparable(old, rules) != comparable(now, rules):
            found.append(f"code cell {index}: stored {comparable(old, rules)!r:.300} != {comparable(now, rules)!r:.300}")
    return found


def memory_by_user(uids: set[int]) -> dict[int, int]:
    """Resident memory (bytes) of all processes of each uid, from /proc."""
    totals = dict.fromkeys(uids, 0)
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        uid = int(fields.get("Uid", "-1 ").split()[0])
        if uid in totals and "VmRSS" in fields:
            totals[uid] += int(fields["VmRSS"].split()[0]) * 1024
    return totals


def wait_until(condition, what: str, timeout: float, still_hopeful=lambda: True, every: float = 1.0):
    """Poll ``condition`` until it is true; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (requests.RequestException, ValueError, KeyError):
            value = None
        if value:
            return value
        if not still_hopeful():
            raise AssertionError(f"{what}: gave up (the process ended)")
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")
