"""Every exercise check's verdict, one JSON line in the learner's home (4.1-4.5; the workshop's class table).

:func:`record` is called by :func:`.harness.check` after the verdict is printed; it appends
``{"learner", "exercise", "title", "passed", "time"}`` to the learner's progress file and never
raises into the check. The file is ``$DLI_SEQ_PROGRESS`` if set (``off`` turns recording off),
else ``~/.local/share/dli-seq/progress.jsonl``: created 0600, its new folders 0700, never inside
the notebook. :func:`read` reads such a file back, skipping malformed lines; the class table
(:mod:`dli_seq.workshop.progress_page`, a service running as root) reads learners' files with
``owner_uid`` given, so that a symbolic link, a FIFO or a file of someone else is refused.

This module uses the standard library only: the hub's service imports it too.
"""

from __future__ import annotations

import errno
import getpass
import json
import os
import stat
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ENV = "DLI_SEQ_PROGRESS"
OFF = "off"
RELATIVE_PATH = Path(".local") / "share" / "dli-seq" / "progress.jsonl"  # under the learner's home
MAX_READ_BYTES = 5 * 1024 * 1024  # a file grown past this is read from its last 5 MB
MAX_LINE_CHARS = 2000              # a longer line is not ours: skipped
WARNED: list[str] = []             # paths already warned about in this process (one warning each)


class Refused(OSError):
    """A progress file :func:`read` will not open (a link, not a regular file, someone else's)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise check as the class table lists it (4.1-4.5): ``id`` is ``"<section>/<check name>"``."""

    id: str
    section: str
    number: int
    title: str

    def order(self) -> tuple:
        """Lesson order: by section (numerically), then by the exercise's number in its notebook."""
        return tuple(int(part) for part in self.section.split(".")) + (self.number,)


def default_path(home: str | os.PathLike | None = None) -> Path:
    """``<home>/.local/share/dli-seq/progress.jsonl``: this user's (4.1-4.5 checks), or a learner's (class table)."""
    return Path(home if home is not None else Path.home()) / RELATIVE_PATH


def progress_path() -> Path | None:
    """Where the checks of 4.1-4.5 record: ``$DLI_SEQ_PROGRESS``, else the default; None when it is ``off``."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() == OFF:
        return None
    return Path(value).expanduser() if value else default_path()


def make_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents, mode 0700, for the progress file (4.1-4.5; existing ones are left)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for new in reversed(missing):
        try:
            os.mkdir(new, 0o700)
        except FileExistsError:
            continue
        os.chmod(new, 0o700)  # the umask may have taken bits away; 0700 exactly


def record(exercise_id: str, passed: bool, title: str = "") -> bool:
    """Append one verdict to the learner's progress file (every check of 4.1-4.5 calls this).

    Returns True when the line was written. Never raises: a full disk, a read-only home or a
    file that cannot be opened skips the line, with one Chinese note per file and kernel.
    """
    path = None
    try:
        path = progress_path()
        if path is None:
            return False
        line = json.dumps({"learner": getpass.getuser(), "exercise": str(exercise_id), "title": str(title),
                           "passed": bool(passed),
                           "time": datetime.now(timezone.utc).isoformat(timespec="seconds")},
                          ensure_ascii=False) + "\n"
        make_folders(path.parent)
        flags = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))  # a FIFO there fails, never blocks
        fd = os.open(path, flags, 0o600)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise Refused("不是普通文件")
            os.fchmod(fd, 0o600)
            os.write(fd, line.encode("utf-8"))  # one write of one short line: appended whole
        finally:
            os.close(fd)
        return True
    except Exception as err:  # noqa: BLE001 - recording must never break the learner's check
        warn_once(path, err)
        return False


def warn_once(path, err: BaseException) -> None:
    """One Chinese line on stderr the first time a progress file cannot be written in this kernel (4.1-4.5)."""
    key = str(path) if path is not None else "进度文件"
    if key in WARNED:
        return
    WARNED.append(key)
    reason = getattr(err, "strerror", None) or type(err).__name__
    print(f"（提示：这次检查的结果没能记录到 {key}（{reason}），检查本身不受影响；"
          f"老师的班级进度表上暂时看不到它。）", file=sys.stderr)


def open_for_reading(path: Path, owner_uid: int | None) -> int:
    """``path`` opened for :func:`read` (class table) without following a final symbolic link; else :class:`Refused`."""
    if owner_uid is not None:
        before = os.lstat(path)  # never open a device or FIFO: opening one can block or have effects
        if not stat.S_ISREG(before.st_mode):
            raise Refused(f"{path}: 不是普通文件（可能是符号链接）")
    flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
            raise Refused(f"{path}: 是符号链接") from None
        raise
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "不是普通文件"
    elif owner_uid is not None and info.st_uid != owner_uid:
        problem = f"属于另一个用户（uid {info.st_uid}，应为 {owner_uid}）"
    elif owner_uid is not None and (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
        problem = "读取时被换掉了"
    if problem:
        os.close(fd)
        raise Refused(f"{path}: {problem}")
    return fd


def read(path: str | os.PathLike, owner_uid: int | None = None, limit: int = MAX_READ_BYTES) -> list[dict]:
    """The verdicts in a progress file, oldest first (the class table; tests). A missing file is ``[]``.

    Malformed lines are skipped. With ``owner_uid`` (the service reading a learner's file as
    root) the file must be a regular file owned by that uid and not a symbolic link, else
    :class:`Refused`; at most ``limit`` bytes are read (the end of a longer file).
    """
    path = Path(path)
    try:
        fd = open_for_reading(path, owner_uid)
    except FileNotFoundError:
        return []
    try:
        size = os.fstat(fd).st_size
        start = max(0, size - limit)
        data = os.pread(fd, min(size, limit), start)
    finally:
        os.close(fd)
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first line was cut by the limit
    records = []
    for raw in lines:
        entry = parse_line(raw)
        if entry is not None:
            records.append(entry)
    return records


def parse_line(raw: bytes) -> dict | None:
    """One verdict from one line of a progress file (class table), or None: bad JSON, missing or wrong fields."""
    if not raw.strip() or len(raw) > MAX_LINE_CHARS * 4:
        return None
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(entry, dict):
        return None
    exercise, passed, when = entry.get("exercise"), entry.get("passed"), entry.get("time")
    if not isinstance(exercise, str) or not exercise or not isinstance(passed, bool) or not isinstance(when, str):
        return None
    try:
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    title, learner = entry.get("title", ""), entry.get("learner", "")
    return {"learner": learner if isinstance(learner, str) else "", "exercise": exercise,
            "title": title if isinstance(title, str) else "", "passed": passed, "time": moment}
