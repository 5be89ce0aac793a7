"""The classroom's sign-in (dli_seq/workshop/auth.py): no account without the code, never a system account."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

from dli_seq.workshop import auth


@pytest.fixture
def authenticator(tmp_path):
    a = auth.SignupCodeAuthenticator(signup_code="board-code", instructor_code="secret-teacher-code",
                                     password_file=str(tmp_path / "hub" / "passwords.json"),
                                     admin_users={"teacher"})
    return a


def sign_in(a, name, password, code=""):
    return asyncio.run(a.authenticate(None, {"username": name, "password": password, "otp": code}))


def test_password_hashes_are_salted_and_checked():
    first, second = auth.hash_password("correct horse"), auth.hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert auth.password_matches("correct horse", first) and auth.password_matches("correct horse", second)
    assert not auth.password_matches("correct hors", first)
    assert not auth.password_matches("anything", "not-a-hash")


def test_first_sign_in_needs_the_code_then_only_the_password(authenticator, tmp_path):
    assert sign_in(authenticator, "dliauthalice", "a-long-password") is None  # no code: no account
    assert sign_in(authenticator, "dliauthalice", "a-long-password", "wrong") is None
    assert sign_in(authenticator, "dliauthalice", "a-long-password", "board-code") == "dliauthalice"
    assert sign_in(authenticator, "dliauthalice", "a-long-password") == "dliauthalice"  # later: the password alone
    assert sign_in(authenticator, "dliauthalice", "another-password", "board-code") is None  # the code is no key
    path = tmp_path / "hub" / "passwords.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "a-long-password" not in path.read_text()


@pytest.mark.parametrize("name, password, code, why", [
    ("root", "a-long-password", "board-code", "name not allowed"),
    ("games", "a-long-password", "board-code", "not created by the classroom"),
    ("Bob Smith", "a-long-password", "board-code", "name not allowed"),
    ("../etc", "a-long-password", "board-code", "name not allowed"),
    ("carol", "short", "board-code", "password shorter"),
    ("teacher", "a-long-password", "board-code", "wrong code"),  # the admin needs the instructor code
])
def test_refused_first_sign_ins(authenticator, name, password, code, why):
    assert why in authenticator.why_not_new(name, password, code)
    assert sign_in(authenticator, name, password, code) is None


def test_the_instructor_signs_up_with_the_instructor_code(authenticator):
    assert authenticator.why_not_new("teacher", "a-long-password", "secret-teacher-code") is None


def test_no_code_configured_means_no_new_accounts(tmp_path):
    a = auth.SignupCodeAuthenticator(password_file=str(tmp_path / "p.json"))
    assert a.why_not_new("dliauthalice", "a-long-password", "") == "no code is configured"


def test_the_login_page_asks_for_the_code(authenticator):
    assert authenticator.request_otp and "注册码" in authenticator.otp_prompt


@pytest.mark.skipif(os.geteuid() != 0, reason="creates a Unix user")
def test_a_new_account_is_a_unix_user_with_a_private_home():
    import pwd
    import subprocess
    from types import SimpleNamespace

    a = auth.SignupCodeAuthenticator(add_user_cmd=["useradd", "--create-home"])
    name = "dliauthtest"
    subprocess.run(["userdel", "--remove", name], capture_output=True)
    try:
        a.add_system_user(SimpleNamespace(name=name))
        home = pwd.getpwnam(name).pw_dir
        assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
        assert auth.in_learners_group(name)
    finally:
        subprocess.run(["userdel", "--remove", name], capture_output=True)
