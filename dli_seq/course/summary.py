"""How each notebook of a ``make course`` run went (4.1-4.5), and the table printed at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class NotebookResult:
    """How one notebook of the course (4.1-4.5) went: cells run, seconds, and the first error."""

    notebook: Path
    cells_run: int
    seconds: float
    error: str | None = None
    executed: Path | None = None
    html: Path | None = None
    models: list[str] = field(default_factory=list)
    stopped: str | None = None  # "interrupted" (it was running) or "not started" when the run was stopped

    @property
    def ok(self) -> bool:
        """True when the notebook ran to the end without an error."""
        return self.error is None and self.stopped is None

    @property
    def status(self) -> str:
        """The summary's status column: ok, FAILED <why>, INTERRUPTED or NOT STARTED."""
        if self.stopped:
            return self.stopped.upper()
        return "ok" if self.error is None else f"FAILED  {self.error}"


def format_summary(results: list[NotebookResult], total_seconds: float) -> str:
    """The table printed at the end of ``make course``: one row per notebook of 4.1-4.5."""
    rows = [("notebook", "cells run", "seconds", "models", "status")]
    for r in results:
        models = ", ".join(r.models) if r.models else "-"
        rows.append((str(r.notebook), str(r.cells_run), f"{r.seconds:.1f}", models, r.status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for i, (name, cells, secs, models, status) in enumerate(rows):
        lines.append(f"{name:<{widths[0]}}  {cells:>{widths[1]}}  {secs:>{widths[2]}}  {models:<{widths[3]}}  {status}")
        if i == 0:
            lines.append("-" * (sum(widths) + 8 + len("status")))
    failed = sum(r.error is not None and r.stopped is None for r in results)
    stopped = sum(r.stopped is not None for r in results)
    lines.append("")
    lines.append(f"{len(results)} notebook(s), {failed} failed, " + (f"{stopped} stopped, " if stopped else "")
                 + f"total {total_seconds:.1f} s")
    return "\n".join(lines)
