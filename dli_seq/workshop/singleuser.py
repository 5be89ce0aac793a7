"""A learner's server: bring their copy of the course up to date, then start JupyterLab.

The hub starts ``python -m dli_seq.workshop.singleuser`` as the learner (never as root), with the
arguments JupyterHub gives ``jupyterhub-singleuser``. It first updates ``~/dli-seq`` from the shared
course folder (``DLI_SEQ_COURSE``) with :func:`dli_seq.workshop.course_copy.sync`, which never
overwrites the learner's own edits, then replaces itself with ``jupyterhub-singleuser``. A failed
update is reported in the server log and the server starts anyway: a learner is never locked out of
their work. Used by ``workshop/jupyterhub_config.py``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

COURSE_FOLDER = "dli-seq"  # in the learner's home


def update_course() -> None:
    """Sync the shared course into ``~/dli-seq`` and print what changed (workshop, at server start)."""
    source = os.environ.get("DLI_SEQ_COURSE")
    if not source:
        print("[dli-seq] DLI_SEQ_COURSE is not set: the course copy is not updated.", file=sys.stderr)
        return
    dest = Path.home() / COURSE_FOLDER
    try:
        from dli_seq.workshop import course_copy

        report = course_copy.sync(source, dest)
    except Exception as err:  # noqa: BLE001 - the learner's server must start anyway
        print(f"[dli-seq] course copy not updated ({type(err).__name__}: {err})", file=sys.stderr)
        return
    print(f"[dli-seq] course copy in {dest}: {report}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Update the course copy, then exec ``jupyterhub-singleuser`` with the same arguments."""
    args = sys.argv[1:] if argv is None else argv
    update_course()
    here = Path(sys.executable).parent
    program = here / "jupyterhub-singleuser"
    program = str(program) if program.exists() else shutil.which("jupyterhub-singleuser")
    if program is None:
        sys.exit("[dli-seq] jupyterhub-singleuser is not installed next to this Python.")
    os.execv(program, [program, *args])


if __name__ == "__main__":
    main()
