"""Short messages for learners and instructors: an exception as one readable line (used everywhere)."""

from __future__ import annotations


def one_line(err: BaseException, limit: int = 200) -> str:
    """``"TypeName: message"`` on one line, at most ``limit`` characters (4.1-4.5: checks, loading, course)."""
    text = " ".join(str(err).split()) or type(err).__name__
    text = f"{type(err).__name__}: {text}"
    return text if len(text) <= limit else text[:limit - 1] + "…"
