"""Each learner's own copy of the course, brought up to date without ever overwriting their edits.

Run as the learner at each server start (``dli_seq.workshop.singleuser``): ``sync(source, dest)`` copies
the shared course folder (``notebooks/``, ``imgs/``: the repository's paths, so ``../imgs/`` links work)
into ``~/dli-seq`` by nbgitpuller's "automatic merging" rules, without git. ``dest`` keeps a manifest,
``.dli-seq-course.json``, with the sha256 of the version of each file last delivered there.

* new in the course, absent here: copied. Unchanged here, changed in the course: updated.
* changed here: the learner's version stays. If the course changed it too, its new version is put
  beside it as ``<name> (课程更新)<ext>`` (nbgitpuller only keeps the learner's; we hand the correction
  over rather than withhold it, and the learner compares).
* deleted here: restored, as nbgitpuller does (delete a notebook and restart to start it over).
* a learner's file with the name of a new course file: renamed ``<name>__<YYYYmmddHHMMSS><ext>``
  (nbgitpuller's name), then the course file is copied. A file where the course has a folder: the same.
* the learner's other files are never touched; files the course drops stay (git would delete them).

Writes are a temporary file then ``os.replace``, through folders opened with ``O_NOFOLLOW``: a symbolic
link inside ``dest`` is the learner's, kept, never written through. A new ``dest`` is private (0700).
Two syncs at once take turns on an ``flock``. A sync with nothing new changes nothing; an interrupted
one is finished by the next. A lost manifest only makes every differing file count as the learner's.
CLI for instructors: ``python -m dli_seq.workshop.course_copy SOURCE DEST`` (English, like ``doctor``).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import stat
import sys
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

MANIFEST = ".dli-seq-course.json"
LOCK = ".dli-seq-course.lock"
BESIDE = " (课程更新)"  # "04-2_gpt_decoder_generation (课程更新).ipynb": the course's new version
FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
OTHER = "other"  # neither a file, a folder nor a link (a device, a socket): never a sha256


class CourseCopyError(Exception):
    """A course copy that cannot be made, said in one line with what to do (workshop, server start)."""


@dataclass
class Report:
    """What one :func:`sync` did, by path relative to ``dest`` (workshop: server log and CLI)."""

    copied: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # learner's edit kept over a course change
    beside: list[str] = field(default_factory=list)  # that change, put beside the learner's file
    renamed: list[str] = field(default_factory=list)  # "old -> new": a learner's file moved aside
    skipped: list[str] = field(default_factory=list)  # behind a symbolic link: not written through
    failed: list[str] = field(default_factory=list)  # "path: reason"

    def lines(self) -> list[str]:
        """One line per path, e.g. ``  updated   notebooks/04-2_...ipynb`` (the CLI's listing)."""
        return [f"  {f.name:<9} {path}" for f in fields(self) for path in getattr(self, f.name)]

    def __str__(self) -> str:
        """Counts on one line, e.g. ``2 updated, 1 kept, 1 beside`` (the server log's line)."""
        counts = [f"{len(getattr(self, f.name))} {f.name}" for f in fields(self) if getattr(self, f.name)]
        return ", ".join(counts) or "up to date"


def read_course(source: str | os.PathLike) -> dict[str, bytes]:
    """Every file of the course folder by relative path, read at once so a sync sees one version
    (hidden names and ``__pycache__`` left out) (workshop, ``make workshop``'s course folder)."""
    root = Path(source)
    if not root.is_dir():
        raise CourseCopyError(f"course folder {root} not found: run `make workshop`, or give the folder "
                              "that holds notebooks/ and imgs/")
    course = {}
    try:
        for folder, subfolders, names in os.walk(root, onerror=raise_it):
            subfolders[:] = [d for d in subfolders if not d.startswith(".") and d != "__pycache__"]
            for name in names:
                path = Path(folder, name)
                if not name.startswith(".") and path.is_file():
                    course[path.relative_to(root).as_posix()] = path.read_bytes()
    except OSError as err:
        raise CourseCopyError(f"cannot read the course folder {root} ({err.strerror}: {err.filename}): "
                              "make it readable for everyone, then start again") from err
    if not course:
        raise CourseCopyError(f"course folder {root} holds no files: run `make workshop` to fill it")
    return course


def raise_it(err: OSError) -> None:
    """``os.walk``'s error hook: an unreadable course folder is an error, not a silent gap (workshop)."""
    raise err


def sync(source: str | os.PathLike, dest: str | os.PathLike, wait: float = 30.0) -> Report:
    """Bring ``dest`` up to date with the course in ``source`` without overwriting the learner's edits
    (workshop: each learner's server start). Waits up to ``wait`` seconds for a sync already running."""
    course = read_course(source)
    dest = Path(dest)
    try:
        dest.mkdir(mode=0o700, exist_ok=True)
        top = os.open(dest, FOLDER)
    except OSError as err:
        raise CourseCopyError(f"cannot use {dest} for the course copy ({err.strerror}): give a folder of the "
                              "learner's own (not a file or a symbolic link) in an existing folder") from err
    try:
        with locked(top, wait):
            return merge(top, course)
    except OSError as err:  # the lock or the manifest: a file's own trouble is in Report.failed
        raise CourseCopyError(f"cannot update the course copy in {dest} ({err.strerror or err}: "
                              f"{err.filename}): move that file aside, then start again") from err
    finally:
        os.close(top)


@contextmanager
def locked(top: int, wait: float):
    """Hold ``dest``'s lock file (``flock``) while syncing; a second sync waits its turn (workshop)."""
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=top)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CourseCopyError(f"another update of this course copy was still running after "
                                          f"{wait:g} s: start the server again in a minute") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def merge(top: int, course: dict[str, bytes]) -> Report:
    """Apply the merge rules (module docstring) to the folder open as ``top``, lock held (workshop)."""
    old = read_manifest(top)
    files, besides, report = {}, dict(old["beside"]), Report()
    for rel, data in sorted(course.items()):
        *parts, name = rel.split("/")
        sha, base = hashlib.sha256(data).hexdigest(), old["files"].get(rel)
        try:
            fd = open_folder(top, parts, report)
            if fd is None:
                report.skipped.append(rel)
                files.update({rel: base} if base else {})
                continue
            try:
                here = state(fd, name)
                if here == sha:
                    pass
                elif here is None or here == base:
                    write(fd, name, data)
                    (report.updated if here else report.restored if base else report.copied).append(rel)
                elif base is None:
                    report.renamed.append(f"{rel} -> {'/'.join([*parts, aside(fd, name)])}")
                    write(fd, name, data)
                    report.copied.append(rel)
                elif sha != base:
                    report.kept.append(rel)
                    stem, ext = os.path.splitext(name)
                    beside = f"{stem}{BESIDE}{ext}"
                    brel, there = "/".join([*parts, beside]), state(fd, beside)
                    if there not in (None, sha, besides.get(brel)):
                        report.renamed.append(f"{brel} -> {'/'.join([*parts, aside(fd, beside)])}")
                    if there != sha:
                        write(fd, beside, data)
                    besides[brel] = sha
                    report.beside.append(brel)
            finally:
                os.close(fd)
            files[rel] = sha
        except OSError as err:
            report.failed.append(f"{rel}: {err.strerror or err}")
            files.update({rel: base} if base else {})
    new = {"files": files, "beside": besides}
    if new != old:
        text = json.dumps(new, indent=1, sort_keys=True, ensure_ascii=False)
        write(top, MANIFEST, text.encode(), mode=0o600)
    return report


def read_manifest(top: int) -> dict[str, dict[str, str]]:
    """``{"files": {path: sha256}, "beside": {path: sha256}}`` from ``dest``; empty when absent or
    unreadable, which makes every differing file the learner's (workshop)."""
    try:
        with os.fdopen(os.open(MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=top), "rb") as f:
            data = json.loads(f.read())
        manifest = {key: dict(data[key]) for key in ("files", "beside")}
        if all(isinstance(v, str) for part in manifest.values() for v in [*part, *part.values()]):
            return manifest
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return {"files": {}, "beside": {}}


def open_folder(top: int, parts: list[str], report: Report) -> int | None:
    """A descriptor for the folder ``parts`` under ``top``, made as needed; ``None`` where a symbolic
    link stands in the way (it is the learner's). A file in the way is renamed aside (workshop)."""
    fd = os.dup(top)
    try:
        for i, part in enumerate(parts):
            here = state(fd, part)
            if here == "link":
                os.close(fd)
                return None
            if here not in (None, "folder"):
                moved = "/".join([*parts[:i], aside(fd, part)])
                report.renamed.append(f"{'/'.join(parts[:i + 1])} -> {moved}")
                here = None
            if here is None:
                os.mkdir(part, 0o755, dir_fd=fd)
            fd, parent = os.open(part, FOLDER, dir_fd=fd), fd
            os.close(parent)
        return fd
    except BaseException:
        os.close(fd)
        raise


def state(fd: int, name: str) -> str | None:
    """What is at ``name`` in folder ``fd``, links not followed: ``None``, a regular file's sha256,
    ``"folder"``, ``"link"`` or ``OTHER`` (workshop: what the merge compares with the manifest)."""
    try:
        mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        return "folder" if stat.S_ISDIR(mode) else "link" if stat.S_ISLNK(mode) else OTHER
    with os.fdopen(os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write(fd: int, name: str, data: bytes, mode: int = 0o644) -> None:
    """Write ``name`` in folder ``fd`` atomically: a temporary file, fsync, ``os.replace`` (workshop)."""
    temp = f".{name}.{os.getpid()}.tmp"
    out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=fd)
    try:
        with os.fdopen(out, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, name, src_dir_fd=fd, dst_dir_fd=fd)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp, dir_fd=fd)
        raise


def aside(fd: int, name: str) -> str:
    """Rename the learner's ``name`` to ``<stem>__<YYYYmmddHHMMSS><ext>`` (``-2``, ``-3`` if taken),
    as nbgitpuller does, and return the new name (workshop)."""
    stem, ext = os.path.splitext(name)
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    for n in range(1, 10_000):
        new = f"{stem}__{stamp}{f'-{n}' if n > 1 else ''}{ext}"
        if state(fd, new) is None:
            os.rename(name, new, src_dir_fd=fd, dst_dir_fd=fd)
            return new
    raise FileExistsError(f"no free name beside {name}")


def main(argv: list[str] | None = None) -> int:
    """``python -m dli_seq.workshop.course_copy SOURCE DEST``: sync once and print the report (workshop)."""
    parser = argparse.ArgumentParser(prog="python -m dli_seq.workshop.course_copy",
                                     description="Copy or update a learner's copy of the course; "
                                                 "the learner's edits are never overwritten.")
    parser.add_argument("source", help="the course folder (notebooks/ and imgs/), e.g. /opt/dli-seq/course")
    parser.add_argument("dest", help="the learner's copy, e.g. ~/dli-seq")
    args = parser.parse_args(argv)
    try:
        report = sync(args.source, args.dest)
    except CourseCopyError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"course copy {args.dest}: {report}")
    for line in report.lines():
        print(line)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
