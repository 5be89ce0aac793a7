# JupyterHub for a dli-seq workshop on one machine: `make workshop` starts the hub with this file.
#
# Everything an instructor may want to change is an environment variable, read at the top:
#
#   DLI_SEQ_HUB_IP          where learners reach the hub           (default 127.0.0.1: this machine only;
#                           0.0.0.0 for a classroom network, behind HTTPS, see README "Running a workshop")
#   DLI_SEQ_HUB_PORT        its port                               (default 8000)
#   DLI_SEQ_SSL_CERT, DLI_SEQ_SSL_KEY   a certificate and key for HTTPS (needed beyond this machine:
#                           passwords and the sign-up code cross the network)
#   DLI_SEQ_SIGNUP_CODE     the code learners type at first sign-in (default: a random one, shown at start)
#   DLI_SEQ_INSTRUCTOR      the instructor's user name, hub admin   (default instructor)
#   DLI_SEQ_IDLE_TIMEOUT    seconds before an idle server is stopped (default 3600) and its memory returned
#   DLI_SEQ_KERNEL_THREADS  CPU threads per learner kernel         (default 1: many kernels share the cores)
#   DLI_SEQ_WORKSHOP        the install folder of `make workshop-install` (default /opt/dli-seq)
#
# The pattern is The Littlest JupyterHub's: one machine, real Unix users, a local process per learner.
# Learners are created on first sign-in (dli_seq/workshop/auth.py), each gets a private home and
# their own copy of the course (dli_seq/workshop/course_copy.py), every kernel loads the lesson
# models from one shared read-only folder, and stopping the hub (Ctrl-C) never stops a learner's
# server: run `make workshop` again and everyone carries on.
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from dli_seq.workshop.auth import SignupCodeAuthenticator

c = get_config()  # noqa: F821 - provided by JupyterHub when it reads this file

HERE = Path(__file__).resolve().parent
PREFIX = Path(os.environ.get("DLI_SEQ_WORKSHOP", "/opt/dli-seq"))
VENV_BIN = PREFIX / "venv" / "bin"
STATE = PREFIX / "hub"  # root only: database, secrets, password hashes
IP = os.environ.get("DLI_SEQ_HUB_IP", "127.0.0.1")
PORT = int(os.environ.get("DLI_SEQ_HUB_PORT", "8000"))
INSTRUCTOR = os.environ.get("DLI_SEQ_INSTRUCTOR", "instructor")
IDLE_TIMEOUT = int(os.environ.get("DLI_SEQ_IDLE_TIMEOUT", "3600"))
THREADS = os.environ.get("DLI_SEQ_KERNEL_THREADS", "1")
SSL = [os.environ.get("DLI_SEQ_SSL_CERT", ""), os.environ.get("DLI_SEQ_SSL_KEY", "")]
SCHEME = "https" if all(SSL) else "http"

STATE.mkdir(mode=0o700, parents=True, exist_ok=True)


def kept_secret(name: str, nbytes: int = 24) -> str:
    """A secret made once and kept in the root-only state folder, so a restarted hub reuses it."""
    path = STATE / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


# --- Where the hub listens ------------------------------------------------------------------
# The proxy (configurable-http-proxy) is what learners' browsers talk to. It runs on its own, not
# as a child of the hub, so restarting the hub never cuts a learner's connection to their kernel.
HUB_PORT = PORT + 81
PROXY = [str(PREFIX / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"),
         "--ip", IP, "--port", str(PORT), "--api-ip", "127.0.0.1", "--api-port", str(PORT + 1),
         "--default-target", f"http://127.0.0.1:{HUB_PORT}", "--error-target", f"http://127.0.0.1:{HUB_PORT}/hub/error"]
if SCHEME == "https":
    PROXY += ["--ssl-cert", SSL[0], "--ssl-key", SSL[1]]


def proxy_running(pid_file: Path) -> bool:
    """Whether the proxy started earlier (pid in ``pid_file``) still runs with today's options."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return False
    if [a.decode() for a in cmdline[1:] if a] == PROXY:
        return True
    os.kill(pid, signal.SIGTERM)  # the address or port changed: replace it
    return False


def start_proxy_once(token: str) -> None:
    """Start the proxy in its own session unless it already runs; its log is ``hub/proxy.log``."""
    pid_file = STATE / "proxy.pid"
    if proxy_running(pid_file):
        return
    with open(STATE / "proxy.log", "ab") as log:
        proxy = subprocess.Popen(["node", *PROXY], env={**os.environ, "CONFIGPROXY_AUTH_TOKEN": token},
                                 stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file.write_text(str(proxy.pid))


c.JupyterHub.bind_url = f"{SCHEME}://{IP}:{PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"  # the hub's own API: never outside this machine
c.JupyterHub.hub_port = HUB_PORT
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 1}"
c.ConfigurableHTTPProxy.auth_token = kept_secret("proxy-token")
c.ConfigurableHTTPProxy.should_start = False
start_proxy_once(c.ConfigurableHTTPProxy.auth_token)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "cookie-secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# Stopping the hub leaves every learner's server running; the next start takes them over
# (nothing lost when the instructor restarts the hub during a session). `make workshop-stop` ends all.
c.JupyterHub.cleanup_servers = False

# --- Sign-in --------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = SignupCodeAuthenticator
c.SignupCodeAuthenticator.signup_code = os.environ.get("DLI_SEQ_SIGNUP_CODE") or kept_secret("signup-code", 4)
c.SignupCodeAuthenticator.instructor_code = kept_secret("instructor-code", 9)
c.SignupCodeAuthenticator.password_file = str(STATE / "passwords.json")
c.SignupCodeAuthenticator.create_system_users = True  # a learner's first sign-in creates their Unix user
c.SignupCodeAuthenticator.add_user_cmd = ["useradd", "--create-home", "--shell", "/bin/bash",
                                          "--comment", "dli-seq classroom"]
c.Authenticator.admin_users = {INSTRUCTOR}
c.Authenticator.allow_all = True  # whoever passes the sign-up code (first time) or password may sign in
c.JupyterHub.template_paths = [str(HERE / "templates")]  # the sign-in page in Chinese

# --- Each learner's server ------------------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV_BIN / "python"), "-m", "dli_seq.workshop.singleuser"]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab/tree/dli-seq/notebooks/04-1_machine_translation.ipynb"
c.Spawner.args = ["--ServerApp.terminals_enabled=False", "--LabApp.news_url=None",
                  "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
c.Spawner.environment = {
    "DLI_SEQ_COURSE": str(PREFIX / "course"),  # copied into ~/dli-seq at each start (edits kept)
    "DLI_SEQ_MODELS": os.environ.get("DLI_SEQ_MODELS", "auto"),  # offline: the stand-ins, as on a laptop
    "OMP_NUM_THREADS": THREADS,
    "MKL_NUM_THREADS": THREADS,
}
MODELS = PREFIX / "models"  # the shared lesson models, filled once by `make workshop-models`
if MODELS.is_dir() and any(MODELS.iterdir()):
    c.Spawner.environment["DLI_SEQ_MODEL_DIR"] = str(MODELS)
c.Spawner.start_timeout = 180  # many learners signing in at once on a small machine
c.Spawner.http_timeout = 180

# --- Services: the idle culler and the instructor's progress page ---------------------------
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [str(VENV_BIN / "python"), "-m", "jupyterhub_idle_culler",
                    f"--timeout={IDLE_TIMEOUT}", f"--cull-every={max(10, min(300, IDLE_TIMEOUT // 4))}"],
    },
    {
        "name": "progress",  # /services/progress/: learners x exercises, admin only
        "url": f"http://127.0.0.1:{PORT + 82}",
        "command": [str(VENV_BIN / "python"), "-m", "dli_seq.workshop.progress_page"],
        "oauth_no_confirm": True,
        "display": True,
    },
]
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    {"name": "progress-page", "services": ["progress"], "scopes": ["list:users", "read:users"]},
    # Learners may reach the progress page only to be told, in Chinese, that it is the instructor's
    # (the page itself admits admins only); otherwise they would meet the hub's English 403.
    {"name": "user", "scopes": ["self", "access:services!service=progress"]},
]

if SCHEME == "http" and IP not in ("127.0.0.1", "localhost"):
    print("  WARNING: the hub listens beyond this machine without HTTPS: set DLI_SEQ_SSL_CERT and DLI_SEQ_SSL_KEY.",
          file=sys.stderr)
print(f"""
  dli-seq classroom: {SCHEME}://{IP}:{PORT}
  Learners sign up with the code   {c.SignupCodeAuthenticator.signup_code}
  The instructor signs in as {INSTRUCTOR!r} the first time with the code   {c.SignupCodeAuthenticator.instructor_code}
  (then with the password chosen at that sign-in). Idle servers stop after {IDLE_TIMEOUT} s.
""", file=sys.stderr)
