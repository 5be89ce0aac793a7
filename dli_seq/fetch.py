"""``python -m dli_seq fetch``: the four lesson models, downloaded once into one shared read-only folder.

For a classroom server (instructors, before the workshop): every learner's kernel then loads the
real models (about 7 GB) from the same folder instead of downloading its own copy. ``fetch`` writes
``DIR/<hub id with / as -->`` (``DIR/gpt2``, ``DIR/t5-base``, ``DIR/google--flan-t5-large``,
``DIR/microsoft--phi-1_5``), the layout ``models.load`` reads when ``DLI_SEQ_MODEL_DIR=DIR``.
Only the files the kit needs come down: config, generation config, tokenizer and ``*.safetensors``
files at the top of the repository (``models.DOWNLOAD_PATTERNS``), never pickled, TF, Flax or ONNX weights.

* Verified: each file's hash must equal the one the hub lists for it (``HfApi.model_info`` with
  ``files_metadata=True``: the LFS sha256 for weights, the git blob id for small files), and each
  folder must pass ``model_files.check_folder``. A file on disk that does not match is reported and
  downloaded again; a download that does not match twice is removed and the command fails.
* Resumable: a file grows in ``DIR/.partial/`` until it is complete and verified. After Ctrl-C or a
  dropped connection the same command continues it where it stopped (an HTTP Range request), through
  huggingface_hub's own downloader (``http_get``: progress bars, retries, ``HF_HUB_DOWNLOAD_TIMEOUT``);
  ``hf_hub_download`` itself deletes a partly downloaded file when it is interrupted.
* Quick re-run: a verified file's size and modification time are recorded in ``DIR/.verified.json``;
  on a re-run a file that still matches the record and the hub's hash is neither hashed nor downloaded.
* Shared read-only: at the end folders are 0755 and files 0644 (every user reads, only the owner writes).

``HF_ENDPOINT`` (a mirror) is honoured. When the hub cannot be reached (within ``models.HUB_TIMEOUT_S``)
or ``HF_HUB_OFFLINE`` is set, nothing is written, the message says the lesson keeps using the
offline stand-ins, and the exit status is 1.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .messages import one_line
from .model_files import check_folder
from .models import DOWNLOAD_PATTERNS, REGISTRY, hub_check, hub_endpoint, lesson_model

ROOT_DEFAULT = Path("/opt/dli-seq/models")  # when run as root: a system folder for every user
USER_DEFAULT = Path("~/.cache/dli-seq/models")  # otherwise: in the home folder of the user who runs it
RECORD = ".verified.json"
PARTIAL = ".partial"
CHUNK = 8 * 1024 * 1024


class FetchError(Exception):
    """A model that could not be fetched; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class HubFile:
    """One file the kit needs from a model repository, with the hash the hub lists for it."""

    name: str
    size: int
    digest: str
    kind: str  # "sha256" (LFS content hash) or "git" (git blob id)


@dataclass
class Row:
    """One line of the summary table: where a model went, its size on disk and whether it checked out."""

    hub_id: str
    folder: Path
    size: int = 0
    downloaded: int = 0
    problem: str | None = None


def default_dir() -> Path:
    """Where ``fetch`` writes without ``--dir``: ``$DLI_SEQ_MODEL_DIR``, else /opt/dli-seq/models as root,
    else ~/.cache/dli-seq/models (workshop set-up)."""
    if os.environ.get("DLI_SEQ_MODEL_DIR"):
        return Path(os.environ["DLI_SEQ_MODEL_DIR"]).expanduser()
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return ROOT_DEFAULT if is_root else USER_DEFAULT.expanduser()


def file_digest(path: Path, kind: str) -> str:
    """The hash the hub lists for a file's content: sha256, or the git blob id (sha1 of a header + content)."""
    digest = hashlib.sha256() if kind == "sha256" else hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hub_files(hub_id: str) -> tuple[str, list[HubFile]]:
    """(commit, the files to fetch with their hashes) as the hub (``HF_ENDPOINT``) lists them (workshop set-up)."""
    from huggingface_hub import HfApi, constants

    info = HfApi(endpoint=hub_endpoint()).model_info(hub_id, files_metadata=True,
                                                     timeout=constants.HF_HUB_ETAG_TIMEOUT)
    files = []
    for sibling in info.siblings or []:
        name = sibling.rfilename
        if "/" in name or not any(fnmatch.fnmatch(name, pattern) for pattern in DOWNLOAD_PATTERNS):
            continue
        if sibling.lfs is not None:
            files.append(HubFile(name, sibling.lfs.size, sibling.lfs.sha256, "sha256"))
        elif sibling.blob_id and sibling.size is not None:
            files.append(HubFile(name, sibling.size, sibling.blob_id, "git"))
        else:
            raise FetchError(f"{hub_endpoint()} lists no hash for {hub_id}/{name}: it cannot be verified")
    if not any(f.name.endswith(".safetensors") for f in files):
        raise FetchError(f"{hub_endpoint()} lists no safetensors weights for {hub_id}")
    return info.sha, files


def _download(hub_id: str, revision: str, want: HubFile, partial: Path) -> None:
    """Download ``want`` into ``partial``, continuing what an earlier run left there."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    url = hf_hub_url(hub_id, want.name, revision=revision, endpoint=hub_endpoint())
    location = get_hf_file_metadata(url).location  # the hub redirects large files to where their bytes are
    partial.parent.mkdir(parents=True, exist_ok=True)
    if partial.is_file() and partial.stat().st_size > want.size:
        partial.unlink()
    with partial.open("ab") as handle:
        http_get(location, handle, resume_size=handle.tell(), headers=build_hf_headers(),
                 expected_size=want.size, displayed_filename=f"{hub_id}/{want.name}")


class Fetcher:
    """Fetch lesson models into one folder, keeping the record of verified files (workshop set-up)."""

    def __init__(self, root: Path):
        self.root = root
        self.record_path = root / RECORD
        try:
            record = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        self.record = record if isinstance(record, dict) else {}  # no record: every file is hashed

    def _stamp(self, key: str, path: Path, want: HubFile) -> None:
        stat = path.stat()
        self.record[key] = [stat.st_size, stat.st_mtime_ns, want.digest]
        temporary = self.record_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.record, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.record_path)

    def _is_verified(self, key: str, path: Path, want: HubFile) -> bool:
        stat = path.stat()
        if stat.st_size != want.size:
            return False
        return (self.record.get(key) == [stat.st_size, stat.st_mtime_ns, want.digest]
                or file_digest(path, want.kind) == want.digest)

    def fetch(self, hub_id: str) -> Row:
        """Bring one model's folder up to date with the hub; a FetchError says what went wrong."""
        spec = lesson_model(hub_id)
        row = Row(spec.hub_id, self.root / spec.hub_id.replace("/", "--"))
        revision, wanted = hub_files(spec.hub_id)
        row.folder.mkdir(parents=True, exist_ok=True)
        for want in wanted:
            key, dest = f"{row.folder.name}/{want.name}", row.folder / want.name
            if dest.is_file() and self._is_verified(key, dest, want):
                self._stamp(key, dest, want)
                continue
            if dest.exists():
                print(f"{key}: does not match the hub's {want.kind} hash; downloading it again")
                dest.unlink()
            os.replace(self._download_verified(spec.hub_id, revision, want, key), dest)
            row.downloaded += want.size
            self._stamp(key, dest, want)
        row.size = sum((row.folder / want.name).stat().st_size for want in wanted)
        row.problem = check_folder(row.folder, spec)
        state = "downloaded" if row.downloaded else "already present, nothing downloaded"
        unusable = f"; but the folder is not usable: {row.problem}" if row.problem else ""
        print(f"{spec.hub_id}: {len(wanted)} files {state}; hashes match the hub{unusable}")
        return row

    def _download_verified(self, hub_id: str, revision: str, want: HubFile, key: str) -> Path:
        """Download ``want`` (continuing a partial file) until its hash is the hub's; a second mismatch is an error."""
        partial = self.root / PARTIAL / f"{key}.{want.digest}"
        for last in (False, True):
            _download(hub_id, revision, want, partial)
            got = file_digest(partial, want.kind)
            if got == want.digest:
                return partial
            partial.unlink()
            if not last:
                print(f"{key}: the download does not match the hub's {want.kind} hash; downloading it once more")
        raise FetchError(f"{key} as downloaded has {want.kind} {got}, but {hub_endpoint()} lists {want.digest} "
                         "(twice): the file was removed. Run fetch again later, or use another HF_ENDPOINT")

    def share(self) -> str | None:
        """Make the folder read-only for everyone but its owner: folders 0755, files 0644; None or a warning."""
        for top, _, _ in os.walk(self.root / PARTIAL, topdown=False):
            with contextlib.suppress(OSError):
                Path(top).rmdir()  # only empty folders go: nothing is left half-downloaded there
        failed = None
        for top, _, files in os.walk(self.root):
            for path, mode in [(Path(top), 0o755)] + [(Path(top) / f, 0o644) for f in files]:
                try:
                    if not path.is_symlink():
                        path.chmod(mode)
                except OSError as err:
                    failed = failed or f"could not set the permissions of {path} ({one_line(err)})"
        closed = [f"{p} ({stat.S_IMODE(p.stat().st_mode):04o})" for p in reversed(self.root.parents)
                  if not p.stat().st_mode & stat.S_IXOTH]
        if closed and not failed:  # e.g. a home folder at 0700: other users cannot reach what is inside
            failed = (f"other users cannot open {', '.join(closed)}, so learners cannot reach {self.root}: "
                      "open it (chmod o+x) or choose a folder such as /opt/dli-seq/models with --dir")
        return failed


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


OFFLINE = """fetch: the hub at {endpoint} cannot be used now: {reason}
Nothing was downloaded. The lesson still runs: without the real models, dli_seq loads the offline
stand-ins that ship with it (a one-line notice says so), as it does now.
To give this machine the real models: run `python -m dli_seq fetch --dir models` on a machine with
network (or set HF_ENDPOINT to a mirror, e.g. https://hf-mirror.com), copy the models folder here
and set DLI_SEQ_MODEL_DIR to it."""


def fetch(directory: str | Path | None = None, names: list[str] | None = None) -> int:
    """``python -m dli_seq fetch``: download, verify and share the lesson models; the exit status (workshop set-up)."""
    root = (Path(directory).expanduser() if directory else default_dir()).absolute()
    hub_ids = list(dict.fromkeys(lesson_model(name).hub_id for name in names or REGISTRY))
    try:
        return _fetch_all(root, hub_ids)
    except KeyboardInterrupt:
        print("\nfetch: interrupted. Run the same command again to continue: finished files are kept, and "
              "the file being downloaded continues where it stopped.")
        return 130


def _fetch_all(root: Path, hub_ids: list[str]) -> int:
    """Check the hub, fetch each model, share the folder, print the summary; the exit status."""
    reason = hub_check(hub_ids[0])
    if reason is not None:
        print(OFFLINE.format(endpoint=hub_endpoint(), reason=reason))
        return 1
    try:
        created = [p for p in (root, *root.parents) if not p.exists()]
        root.mkdir(parents=True, exist_ok=True)
        for folder in created:
            folder.chmod(0o755)  # whatever the umask: learners must be able to pass through
        if not os.access(root, os.W_OK | os.X_OK):
            raise PermissionError("not writable by this user")
    except OSError as err:
        print(f"fetch: cannot write to {root} ({one_line(err)}): run it as the folder's owner (or root), "
              "or choose another folder with --dir")
        return 1
    print(f"fetch: {len(hub_ids)} model(s) from {hub_endpoint()} into {root}")
    fetcher, rows = Fetcher(root), []
    try:
        for hub_id in hub_ids:
            try:
                rows.append(fetcher.fetch(hub_id))
            except Exception as err:  # noqa: BLE001 - network, HTTP, disk and hash errors alike: one line each
                why = str(err) if isinstance(err, FetchError) else one_line(err)  # ours are one line already
                row = Row(hub_id, root / hub_id.replace("/", "--"), problem=why)
                row.size = sum(p.stat().st_size for p in row.folder.glob("*") if p.is_file())
                print(f"{hub_id}: FAILED: {row.problem}")
                rows.append(row)
    finally:
        warning = fetcher.share()  # also after Ctrl-C: what is there is readable by all, changeable by none
    print(f"\n{'model':<22} {'size on disk':>12}  verified")
    for row in rows:
        print(f"{row.hub_id:<22} {_size(row.size):>12}  {'yes' if row.problem is None else 'NO (see above)'}")
    if warning:
        print(f"warning: {warning}")
    if any(row.problem for row in rows):
        print("fetch: some models are not ready (see above); run the same command again once the cause is fixed.")
        return 1
    if not any(row.downloaded for row in rows):
        print("Nothing to download: every file was already present and verified.")
    print(f"\nEvery learner's environment needs this line (folders 0755, files 0644: all can read, none can "
          f"change them):\nDLI_SEQ_MODEL_DIR={root}")
    return 0
