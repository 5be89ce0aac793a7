"""Short messages for learners and instructors: an exception as one line, what a stand-in is (used everywhere)."""

from __future__ import annotations

# What a stand-in is, in one phrase: the notice printed on loading (models.standin_notice) and the
# top line of each course page (dli_seq.course) say it in the same words.
STANDIN_NOTE = "随包附带的离线替身模型（stand-in）：演示处复现真实模型记录下的输出，其余输出是这个小模型自己的"


def one_line(err: BaseException, limit: int = 200) -> str:
    """``"TypeName: message"`` on one line, at most ``limit`` characters (4.1-4.5: checks, loading, course)."""
    text = " ".join(str(err).split()) or type(err).__name__
    text = f"{type(err).__name__}: {text}"
    return text if len(text) <= limit else text[:limit - 1] + "…"
