"""One live widget per notebook cell: re-running a cell closes what its earlier run made (4.2-4.4).

Every ipywidget stays registered in the kernel until it is closed, and its callbacks keep the
Python object behind it alive (for the stepper: a Generation with its KV cache). Without this,
each re-run of a cell that makes a stepper or a mask explorer would add its memory for good.
"""

from __future__ import annotations

import inspect
import weakref
from pathlib import Path

import ipywidgets as W

PACKAGE = str(Path(__file__).resolve().parent)


def close_all(widget: W.Widget) -> None:
    """Close a widget, every widget inside it, and their layout and style objects (4.2-4.4)."""
    for child in getattr(widget, "children", ()):
        close_all(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if isinstance(part, W.Widget):
            part.close()
    widget.close()


def cell_origin() -> tuple[str, str | None]:
    """(which cell, which run of it) is making a widget now (4.2-4.4).

    In JupyterLab the cell is the request's ``cellId`` and the run its message id; elsewhere the
    cell is the line of code outside this package that made the widget, and the run is unknown
    (None: every new widget made there replaces the one before).
    """
    parent = {}
    try:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        parent = kernel.get_parent() if kernel is not None else {}
    except Exception:  # noqa: BLE001 - no IPython, or an old kernel: fall back to the code location
        parent = {}
    cell = (parent.get("metadata") or {}).get("cellId")
    run = (parent.get("header") or {}).get("msg_id")
    if cell is None:
        frame = inspect.currentframe()
        while frame is not None and frame.f_code.co_filename.startswith(PACKAGE):
            frame = frame.f_back
        cell = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"
    return cell, run


class LatestPerCell:
    """Remembers (weakly) what each cell made; a new run of the cell closes the earlier run's objects (4.2-4.4).

    Objects made by the same run of a cell (a loop making several steppers) all stay open.
    """

    def __init__(self):
        self.made: dict[str, tuple[str | None, list[weakref.ref]]] = {}

    def add(self, obj) -> None:
        """Record ``obj`` (anything with ``close()``) for the current cell, closing the earlier run's (4.2-4.4)."""
        cell, run = cell_origin()
        earlier_run, refs = self.made.get(cell, (None, []))
        if run is None or run != earlier_run:
            for ref in refs:
                old = ref()
                if old is not None and old is not obj:
                    old.close()
            refs = []
        self.made[cell] = (run, [*(r for r in refs if r() is not None), weakref.ref(obj)])
