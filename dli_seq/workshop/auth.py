"""Sign-in for the classroom: first sign-in with the instructor's sign-up code, then a password.

A learner opens the hub, picks a user name and a password and types the sign-up code the
instructor wrote on the board. That first sign-in creates the account: a real Unix user with a
private home (0700), so no learner can read another's files. Later sign-ins need only the
password. The instructor's own account (the hub admin) needs the instructor code instead, which
only the terminal that started the hub shows. Without a code nobody can create an account: the
hub is never "any password works".

Passwords are stored as scrypt hashes (Python's hashlib) in one JSON file only root can read.
Used by ``workshop/jupyterhub_config.py`` (``make workshop``).
"""

from __future__ import annotations

import base64
import grp
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import subprocess
import threading
from pathlib import Path

from jupyterhub.auth import LocalAuthenticator
from traitlets import Integer, Unicode, default

NAME_RULE = re.compile(r"^[a-z][a-z0-9_-]{1,30}$")
LEARNERS_GROUP = "dli-seq-learners"
# Names that must never become a learner, even if no such Unix user exists on this machine yet.
RESERVED = {"admin", "administrator", "root", "nobody", "jupyter", "jupyterhub", "hub", "daemon", "sys", "bin",
            "www-data", "postgres", "ubuntu", "debian", "user", "guest", "test", "operator"}
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A storable scrypt hash: ``scrypt$<salt>$<digest>``, both base64 (workshop sign-in)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` gives the hash ``stored`` (constant-time compare; workshop sign-in)."""
    try:
        kind, salt, _ = stored.split("$")
        expected = hash_password(password, base64.b64decode(salt))
    except (ValueError, TypeError):
        return False
    return kind == "scrypt" and hmac.compare_digest(expected, stored)


class PasswordStore:
    """The classroom's accounts: user name -> password hash, in one root-only JSON file (workshop sign-in)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.lock = threading.Lock()

    def load(self) -> dict[str, str]:
        """All accounts; an absent file is an empty classroom."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def get(self, name: str) -> str | None:
        """The stored hash for ``name``, or None."""
        return self.load().get(name)

    def set(self, name: str, stored: str) -> None:
        """Store one account; written to a temporary file first, readable by root only."""
        with self.lock:
            accounts = self.load()
            accounts[name] = stored
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(accounts, out, indent=1, sort_keys=True)
            os.replace(tmp, self.path)


def unix_user_exists(name: str) -> bool:
    """Whether ``name`` is already an account on this machine."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def in_learners_group(name: str) -> bool:
    """Whether the Unix user ``name`` was created by the classroom (member of its group)."""
    try:
        return name in grp.getgrnam(LEARNERS_GROUP).gr_mem
    except KeyError:
        return False


class SignupCodeAuthenticator(LocalAuthenticator):
    """First sign-in creates the account with the sign-up code; later ones check the password (workshop)."""

    signup_code = Unicode(help="The code learners type at their first sign-in (the instructor writes it up).").tag(
        config=True)
    instructor_code = Unicode(help="The code for the admin accounts' first sign-in (shown only in the terminal).").tag(
        config=True)
    password_file = Unicode(help="Where the password hashes are kept (root-only).").tag(config=True)
    min_password_length = Integer(8, help="Shortest password accepted at first sign-in.").tag(config=True)

    # The login page asks for the code in JupyterHub's own extra field ("otp").
    @default("request_otp")
    def _request_otp(self):
        return True

    @default("otp_prompt")
    def _otp_prompt(self):
        return "注册码（只在第一次登录时需要）"

    def store(self) -> PasswordStore:
        """The password file as a :class:`PasswordStore`."""
        return PasswordStore(self.password_file)

    async def authenticate(self, handler, data):
        """A user name if the password (or, at first sign-in, the code) is right; None otherwise."""
        name = self.normalize_username((data.get("username") or "").strip())
        password = data.get("password") or ""
        stored = self.store().get(name)
        if stored is not None:
            if password_matches(password, stored):
                return name
            self.log.warning("Wrong password for %s", name)
            return None
        problem = self.why_not_new(name, password, (data.get("otp") or "").strip())
        if problem:
            self.log.warning("Refused first sign-in as %r: %s", name, problem)
            return None
        self.store().set(name, hash_password(password))
        self.log.info("New account %s", name)
        return name

    def why_not_new(self, name: str, password: str, code: str) -> str | None:
        """Why ``name`` cannot be created with this password and code (None: it can)."""
        expected = self.instructor_code if name in self.admin_users else self.signup_code
        if not expected:
            return "no code is configured"
        if not hmac.compare_digest(code.encode(), expected.encode()):
            return "wrong code"
        if not NAME_RULE.match(name) or name in RESERVED:
            return "name not allowed"
        if unix_user_exists(name) and not (name in self.admin_users and in_learners_group(name)):
            # The hub creates the admin accounts when it starts; any other existing account (root, a
            # service, someone's own login) must never become a classroom account.
            return "a Unix account with this name exists and was not created by the classroom"
        if len(password) < self.min_password_length:
            return f"password shorter than {self.min_password_length}"
        return None

    def add_system_user(self, user):
        """Create the Unix user (``add_user_cmd``), put it in the learners' group, make its home private."""
        if subprocess.run(["getent", "group", LEARNERS_GROUP], capture_output=True).returncode != 0:
            subprocess.run(["groupadd", "--system", LEARNERS_GROUP], check=True)
        super().add_system_user(user)
        subprocess.run(["usermod", "--append", "--groups", LEARNERS_GROUP, user.name], check=True)
        home = Path(pwd.getpwnam(user.name).pw_dir)
        home.chmod(0o700)
