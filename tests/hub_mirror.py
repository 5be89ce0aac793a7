"""A loopback Hugging Face hub mirror for the tests (HF_ENDPOINT=http://127.0.0.1:PORT).

It speaks the part of the hub's HTTP API that huggingface_hub uses to download a model:

* ``GET /api/models/<id>[/revision/<rev>]`` (model info; with ``?blobs=true`` each file's size, git
  blob id and, for ``*.safetensors``, LFS size and sha256) and ``GET /api/models/<id>/tree/<rev>``;
* ``HEAD``/``GET /<id>/resolve/<rev>/<file>`` with ``ETag``, ``X-Repo-Commit``, ``X-Linked-Etag``,
  ``X-Linked-Size`` and ``Content-Length``; a ``Range: bytes=N-`` request gets ``206`` with ``Content-Range``.

Faults a test can switch on (class attributes of the handler ``mirror()`` returns):
``corrupt`` (files served with one byte changed, while the listing keeps the true hash),
``cut_once`` (files whose next full GET stops three quarters through and drops the connection),
``hold`` (files whose full GET stops three quarters through and waits for ``release`` to be set),
``status`` (answer every request with this HTTP status). ``requests`` records (verb, path, Range).
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

CUT = 0.75  # a cut or held download stops after this fraction (past huggingface_hub's 10 MiB write chunk)


def git_blob_id(data: bytes) -> str:
    """The git object id of a file's content, as the hub lists it for files not stored in LFS."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_lfs(name: str) -> bool:
    return name.endswith(".safetensors")


class MirrorHandler(BaseHTTPRequestHandler):
    """One fake hub: ``repos`` maps a hub id (``gpt2``, ``microsoft/phi-1_5``) to a folder of its files."""

    repos: dict[str, Path] = {}
    sha = "1" * 40
    status = 200
    corrupt: set = set()
    cut_once: set = set()
    hold: set = set()
    release: threading.Event = None
    requests: list = []

    def log_message(self, *args):
        pass

    def _files(self, hub_id: str) -> dict[str, Path]:
        return {p.name: p for p in sorted(self.repos[hub_id].iterdir()) if p.is_file()}

    def _entry(self, name: str, path: Path, tree: bool) -> dict:
        data = path.read_bytes()
        key = "path" if tree else "rfilename"
        entry = {key: name, "size": len(data), ("oid" if tree else "blobId"): git_blob_id(data)}
        if is_lfs(name):
            entry["lfs"] = {("oid" if tree else "sha256"): hashlib.sha256(data).hexdigest(), "size": len(data),
                            "pointerSize": 134}
        return {"type": "file", **entry} if tree else entry

    def _send(self, code: int, body: bytes, headers: dict, head: bool) -> None:
        self.send_response(code)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _api(self, rest: str, head: bool) -> bool:
        for hub_id in self.repos:
            if rest == hub_id or rest.startswith(hub_id + "/revision/"):
                siblings = [self._entry(n, p, False) for n, p in self._files(hub_id).items()]
                body = {"id": hub_id, "sha": self.sha, "siblings": siblings}
            elif rest.startswith(hub_id + "/tree/"):
                body = [self._entry(n, p, True) for n, p in self._files(hub_id).items()]
            else:
                continue
            self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"}, head)
            return True
        return False

    def _resolve(self, path: str, head: bool) -> bool:
        for hub_id in self.repos:
            if not path.startswith(f"/{hub_id}/resolve/"):
                continue
            name = path.rsplit("/", 1)[-1]
            files = self._files(hub_id)
            if name not in files:
                return False
            data = files[name].read_bytes()
            etag = hashlib.sha256(data).hexdigest() if is_lfs(name) else git_blob_id(data)
            headers = {"ETag": f'"{etag}"', "X-Repo-Commit": self.sha, "Accept-Ranges": "bytes"}
            if is_lfs(name):
                headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
            if name in self.corrupt:
                data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
            start = int(self.headers.get("Range", "bytes=0-").split("=")[1].split("-")[0] or 0)
            if start:
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            if head or start or name not in self.cut_once | self.hold:
                self._send(206 if start else 200, data[start:], headers, head)
                return True
            self.send_response(200)  # a full GET that stops part-way: Content-Length promises all of it
            for key, value in {"Content-Length": str(len(data)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data[:int(len(data) * CUT)])
            if name in self.hold:
                self.release.wait(60)
            self.cut_once.discard(name)
            self.close_connection = True
            return True
        return False

    def _route(self, head: bool) -> None:
        type(self).requests.append((self.command, self.path, self.headers.get("Range")))
        if self.status != 200:
            return self._send(self.status, b"", {}, head)
        path = self.path.split("?")[0]
        if path.startswith("/api/models/") and self._api(path.removeprefix("/api/models/"), head):
            return None
        if self._resolve(path, head):
            return None
        return self._send(404, b"", {}, head)

    def do_HEAD(self):
        self._route(head=True)

    def do_GET(self):
        self._route(head=False)


def mirror(repos: dict[str, Path], **faults) -> type[MirrorHandler]:
    """A handler class serving ``repos`` (hub id -> folder), with fresh fault sets and request log."""
    attributes = {"repos": dict(repos), "requests": [], "corrupt": set(), "cut_once": set(), "hold": set(),
                  "release": threading.Event()}
    attributes.update({key: set(value) if key in ("corrupt", "cut_once", "hold") else value
                       for key, value in faults.items()})
    return type("Mirror", (MirrorHandler,), attributes)
