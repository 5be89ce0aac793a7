"""Stopping ``make course`` cleanly (4.1-4.5 run headless): Ctrl-C and SIGTERM end every worker and kernel.

The runner's workers ignore Ctrl-C (:func:`ignore_interrupts`), so a Ctrl-C in the terminal reaches
the runner only, as :class:`Stopped`. The runner then ends its workers and their kernels (:func:`end_tree`):
each notebook's worker and the kernel it started (kernels run in a session of their own, so the
terminal's Ctrl-C never reaches them). A second Ctrl-C while that happens exits at once
(:func:`exit_now`), still ending every process it can find.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

GRACE_S = 3.0  # a process asked to stop (SIGTERM) has this long before it is killed
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # the shell's 128 + signal number


class Stopped(Exception):
    """The course run was asked to stop (Ctrl-C or SIGTERM); ``signum`` says which (4.1-4.5 runs)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C, 143 after SIGTERM, as a shell reports them."""
        return EXIT_CODES.get(self.signum, 128 + self.signum)


def ignore_interrupts() -> None:
    """A worker's start: Ctrl-C is the runner's to handle, SIGTERM ends the worker at once (4.1-4.5 runs)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def raise_stopped(signum, frame) -> None:
    """Signal handler of the runner: turn Ctrl-C / SIGTERM into :class:`Stopped` (4.1-4.5 runs).

    From then on a second Ctrl-C or SIGTERM exits at once (:func:`exit_now`).
    """
    signal.signal(signal.SIGINT, exit_now)
    signal.signal(signal.SIGTERM, exit_now)
    raise Stopped(signum)


@contextlib.contextmanager
def interrupts_ignored():
    """Inside the block Ctrl-C is ignored, and so it is in every process started there (4.1-4.5 runs).

    The runner starts its workers here: a Ctrl-C while one is still starting up must not print
    a traceback from it, the runner alone handles it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:  # a SIGTERM inside the block may have set exit_now for Ctrl-C meanwhile: keep that one
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def stop_on_signals():
    """Inside the block, Ctrl-C and SIGTERM raise :class:`Stopped`; the old handlers come back after.

    Outside the main thread (where Python cannot set handlers) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, raise_stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _parents() -> dict[int, int] | None:
    """pid -> parent pid for every live process, read from /proc (None where there is no /proc)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").is_file():
        return None
    parents: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if fields[0] != "Z":  # a zombie has ended already
            parents[int(entry.name)] = int(fields[1])
    return parents


def process_tree(root: int | None = None) -> list[int]:
    """Every live descendant of ``root`` (default: this process), parents before children (4.1-4.5 runs).

    Read from /proc; without /proc, this process's multiprocessing children only.
    """
    root = os.getpid() if root is None else root
    parents = _parents()
    if parents is None:
        return [child.pid for child in multiprocessing.active_children()] if root == os.getpid() else []
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop(0)
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def worker_tree() -> list[int]:
    """The runner's workers and everything they started (their kernels), parents first (4.1-4.5 runs).

    Only multiprocessing's workers: its resource tracker ends by itself when the runner does.
    """
    pids: list[int] = []
    for worker in multiprocessing.active_children():
        if worker.pid is not None:
            pids += [worker.pid] + process_tree(worker.pid)
    return pids


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and has not ended (a zombie has ended) (4.1-4.5 runs)."""
    parents = _parents()
    if parents is not None:
        return pid in parents
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid: int, sig: int) -> None:
    """``sig`` to ``pid``, and to its whole process group when it leads one of its own (a kernel)."""
    try:
        if os.getpgid(pid) == pid and pid != os.getpgrp():
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def connection_file(pid: int) -> Path | None:
    """The connection file a Jupyter kernel was started with (``-f kernel-....json``), read from /proc, or None."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    for flag, value in zip(args, args[1:]):
        if flag == b"-f" and value.endswith(b".json") and Path(os.fsdecode(value)).name.startswith("kernel-"):
            return Path(os.fsdecode(value))
    return None


def end_tree(pids: list[int] | None = None, grace: float = GRACE_S) -> list[int]:
    """End ``pids`` (default: :func:`worker_tree`): SIGTERM, then SIGKILL after ``grace`` s (4.1-4.5 runs).

    Kernels are ended with their process group (what they started themselves), and their
    connection files removed. Returns the pids still running afterwards (normally none).
    """
    pids = worker_tree() if pids is None else pids
    leftovers = [path for path in map(connection_file, pids) if path is not None]
    for pid in pids:  # workers first: a worker never sees its kernel die (and prints no traceback about it)
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(is_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        if is_running(pid):
            _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 1.0
    while any(is_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for path in leftovers:  # a kernel ended this way leaves its connection file: remove it as a shutdown would
        path.unlink(missing_ok=True)
    return [pid for pid in pids if is_running(pid)]


def exit_now(signum, frame) -> None:
    """Signal handler for a second Ctrl-C: kill every process of the run and exit at once (4.1-4.5 runs)."""
    pids = worker_tree()
    files = [path for path in map(connection_file, pids) if path is not None]  # read before the kill
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    for path in files:  # as a kernel shutdown would
        path.unlink(missing_ok=True)
    os._exit(EXIT_CODES.get(signum, 128 + signum))
