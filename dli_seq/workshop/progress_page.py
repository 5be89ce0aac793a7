"""The class progress page: a JupyterHub managed service, for admins only (``make workshop``).

The hub starts it as the service ``progress`` (``python -m dli_seq.workshop.progress_page``,
OAuth on, a role with the scopes ``list:users`` and ``read:users``). On each visit it lists the
hub's users through the hub API, finds each learner's home with :mod:`pwd`, reads
``~/.local/share/dli-seq/progress.jsonl`` with :func:`dli_seq.exercises.progress.read` (as root:
a symbolic link, a non-regular file or a file owned by someone else is refused, at most 5 MB is
read) and shows the class table of :mod:`.progress_table`. ``?format=json`` gives the same as JSON.

Who may look: the signed-in hub user must be an admin, by the ``admin`` field of the user model
the hub returns for the OAuth token and again by the user list fetched with the service's own
token; anyone else gets 403 with one Chinese line. Admins are not rows of the table.

The environment a managed service gets from the hub, all of which this reads:
``JUPYTERHUB_SERVICE_URL`` (where to listen, e.g. ``http://127.0.0.1:10110``),
``JUPYTERHUB_SERVICE_PREFIX`` (``/services/progress/``), ``JUPYTERHUB_API_URL`` and
``JUPYTERHUB_API_TOKEN`` (listing users), and for the OAuth sign-in ``JUPYTERHUB_CLIENT_ID``,
``JUPYTERHUB_OAUTH_CALLBACK_URL``, ``JUPYTERHUB_BASE_URL`` and ``JUPYTERHUB_OAUTH_ACCESS_SCOPES``
(read by :class:`jupyterhub.services.auth.HubOAuth`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import re
import signal
import sys
from datetime import datetime, timezone
from urllib.parse import urlencode, urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.web import Application, HTTPError, RedirectHandler, RequestHandler, authenticated

from ..exercises import lesson_exercises, progress
from .progress_table import class_table, render_html

PAGE_SIZE = 200  # users per hub API request (the hub's largest page by default)
API_TIMEOUT_S = 10.0
NOT_ADMIN = "只有 JupyterHub 管理员才能查看班级练习进度。请用管理员账号登录后再打开这个页面。"


class HubUnavailable(Exception):
    """The hub API did not give the list of users; the message (Chinese) says what happened."""


def is_admin(model: dict | None) -> bool:
    """True for a hub *user* model whose ``admin`` field is true (the progress page's gate)."""
    return bool(model) and model.get("kind", "user") == "user" and model.get("admin") is True


async def list_users(api_url: str, api_token: str) -> list[dict]:
    """Every hub user's model, page by page (the progress page; needs ``list:users`` and ``read:users``)."""
    client, users, offset = AsyncHTTPClient(), [], 0
    headers = {"Authorization": f"token {api_token}", "Accept": "application/jupyterhub-pagination+json"}
    while True:
        url = f"{api_url.rstrip('/')}/users?{urlencode({'offset': offset, 'limit': PAGE_SIZE})}"
        try:
            response = await client.fetch(url, headers=headers, request_timeout=API_TIMEOUT_S)
            data = json.loads(response.body)
        except HTTPClientError as err:
            raise HubUnavailable(f"JupyterHub API 返回 {err.code}：检查服务 progress 的角色是否有 list:users 和 "
                                 f"read:users 权限") from None
        except (OSError, ValueError) as err:
            raise HubUnavailable(f"无法访问 JupyterHub API（{api_url}）：{err}") from None
        page = data["items"] if isinstance(data, dict) else data  # older hubs answer with a plain list
        users += [u for u in page if isinstance(u, dict) and isinstance(u.get("name"), str)]
        following = (data.get("_pagination") or {}).get("next") if isinstance(data, dict) else None
        if not following or not page:
            return users
        offset = int(following["offset"])


def account(name: str):
    """The Unix account of a hub user, for the progress page (LocalProcessSpawner: hub name = Unix name); KeyError if none."""
    return pwd.getpwnam(name)


def read_learners(names: list[str], lookup=account) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """The progress page's data: each learner's verdicts, read from their home as their own file; notes for the rows."""
    records, notes = {}, {}
    for name in names:
        records[name] = []
        try:
            user = lookup(name)
        except KeyError:
            notes[name] = "没有这个名字的系统用户"
            continue
        try:
            records[name] = progress.read(progress.default_path(user.pw_dir), owner_uid=user.pw_uid)
        except progress.Refused as err:
            notes[name] = f"进度文件被拒绝读取：{err}"
        except OSError as err:
            notes[name] = f"进度文件读不了：{err.strerror or err}"
    return records, notes


class ProgressHandler(HubOAuthenticated, RequestHandler):
    """``GET <prefix>``: the class table (HTML, or JSON with ``?format=json``), admins only."""

    def wants_json(self) -> bool:
        """``?format=json``: the table as JSON (tests, scripts)."""
        return self.get_argument("format", "") == "json"

    @authenticated
    async def get(self):
        if not is_admin(self.current_user):
            raise HTTPError(403)
        settings = self.settings
        try:
            users = await settings["list_users"]()
        except HubUnavailable as err:
            raise HTTPError(502, reason="Hub API unavailable", log_message=str(err)) from None
        fresh = next((u for u in users if u["name"] == self.current_user["name"]), None)
        if not is_admin(fresh):  # the OAuth model is cached a while; the hub's list is from now
            raise HTTPError(403)
        learners = sorted(u["name"] for u in users if not u.get("admin"))
        loop = asyncio.get_running_loop()
        records, notes = await loop.run_in_executor(None, read_learners, learners, settings["lookup"])
        table = class_table(records, settings["exercises"], datetime.now(timezone.utc), notes)
        self.set_header("Cache-Control", "no-store")
        if self.wants_json():
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(json.dumps(table, ensure_ascii=False))
        else:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(render_html(table))

    def write_error(self, status_code: int, **kwargs) -> None:
        """Every error as one Chinese line (JSON ``{"error": ...}`` for ``?format=json``)."""
        if status_code == 403:
            line = NOT_ADMIN
        elif status_code == 502:
            error = kwargs.get("exc_info", (None, None))[1]
            line = f"无法从 JupyterHub 取得学员列表：{getattr(error, 'log_message', '') or '请稍后刷新'}。"
        else:
            line = f"进度页出错了（HTTP {status_code}）：刷新一次；还不行请查看 JupyterHub 的日志。"
        if self.wants_json():
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(json.dumps({"error": line}, ensure_ascii=False))
        else:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>班级练习进度</title>'
                        f"</head><body><p>{line}</p></body></html>")


def make_app(prefix: str, api_url: str, api_token: str, lookup=account, users=None) -> Application:
    """The tornado application of the progress service at ``prefix`` (workshop; tests build it too).

    ``users`` (an async function returning hub user models) replaces the hub API when given.
    """
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    listing = users or (lambda: list_users(api_url, api_token))
    return Application([
        (re.escape(prefix), ProgressHandler),
        (re.escape(prefix + "oauth_callback"), HubOAuthCallbackHandler),
        (re.escape(prefix.rstrip("/")), RedirectHandler, {"url": prefix}),
    ], cookie_secret=os.urandom(32), list_users=listing, lookup=lookup, exercises=lesson_exercises())


def main(argv: list[str] | None = None) -> int:
    """``python -m dli_seq.workshop.progress_page``: serve the page where the hub says (instructors)."""
    parser = argparse.ArgumentParser(
        prog="python -m dli_seq.workshop.progress_page",
        description="The class progress page, run by JupyterHub as the managed service 'progress'. "
                    "Reads JUPYTERHUB_SERVICE_URL, JUPYTERHUB_SERVICE_PREFIX, JUPYTERHUB_API_URL, "
                    "JUPYTERHUB_API_TOKEN and the OAuth variables the hub sets for a managed service.")
    parser.parse_args(argv)
    missing = [name for name in ("JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL")
               if not os.environ.get(name)]
    if missing:
        print(f"progress_page: {', '.join(missing)} not set: JupyterHub sets them for a managed service; "
              "add the service 'progress' to c.JupyterHub.services (with oauth) rather than starting it by hand.",
              file=sys.stderr)
        return 2
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    if not url.port:
        print(f"progress_page: JUPYTERHUB_SERVICE_URL={url.geturl()} has no port: give one, "
              "e.g. http://127.0.0.1:10110.", file=sys.stderr)
        return 2
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/progress/")
    app = make_app(prefix, os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])

    async def serve():
        app.listen(url.port, url.hostname or "127.0.0.1")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):  # the hub stops a service with SIGINT, then SIGTERM;
            loop.add_signal_handler(signum, stop.set)   # SIGINT counts even if inherited as ignored
        print(f"progress_page: serving {prefix} on {url.hostname}:{url.port}", flush=True)
        await stop.wait()

    try:
        asyncio.run(serve())
    except OSError as err:
        print(f"progress_page: cannot listen on {url.hostname}:{url.port}: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
