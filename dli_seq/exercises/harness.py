"""How every exercise check of 4.1-4.5 runs a learner's code and reports, in Chinese.

* :func:`check` turns a function ``body(outcome, ...)`` into a check: its title comes first, it
  prints one ✓/✗ line per finding and a verdict, returns True or False, and never raises;
* :func:`call_learner` runs the learner's function under a time limit (:func:`deadline`);
  ``NotImplementedError`` (the stubs), any other exception, ``exit()`` and Kernel → Interrupt
  become one :class:`Problem` that says what to change;
* around every learner call the model, tokenizer and torch's global state are snapshotted and
  put back (:mod:`.snapshot`); a change stops the check with a ✗ line that names it.

The time limit: on the main thread of a Unix process (a Jupyter kernel) a ``SIGALRM`` timer
interrupts the learner's code. A bare ``except:`` in the learner's code would swallow that one
exception, so once the limit is reached the timer keeps firing and installs a line tracer that
raises again at the next line of the learner's own code, inside the ``except`` block too.
Elsewhere (Windows, a worker thread) a ``sys.settrace`` hook checks the clock at every Python
call and every line of the learner's code; there a bare ``except:`` can still swallow the limit
(Python turns a trace function off once it raises, and no timer can turn it on again). Neither can stop one long call inside C code (a
huge matrix product): the limit is reached as soon as control returns to Python. A thread with
a deadline was rejected: Python cannot kill a thread, so an endless loop would keep running.
"""

from __future__ import annotations

import functools
import inspect
import operator
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from .. import messages
from . import progress
from .snapshot import ModelKept, StateKept

TIME_LIMIT_S = 20.0  # a learner's function that builds a prompt or picks a token
RETRY_S = 0.05       # after the limit: how often the timer fires again until the learner's code has stopped
PASSED = "✓ 通过："
NOT_YET = "✗ 还没通过："
TRY_AGAIN = "根据上面标 ✗ 的那一行修改，再运行一次这个单元格。"


class Problem(Exception):
    """A learner's answer cannot be used; the message (Chinese) says why and what to change."""


class TimeUp(BaseException):
    """Raised in the learner's code when the time limit is reached (not an ``Exception``, so that
    ``except Exception`` in the learner's code does not swallow it)."""


def alarm_available() -> bool:
    """True where :func:`deadline` can use a ``SIGALRM`` timer (Unix, main thread; 4.1-4.5 checks)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])
LIBRARY_ROOTS = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, PACKAGE_ROOT, "<frozen"})


def learner_file(filename: str) -> bool:
    """True for code outside Python, the installed libraries and this package: a notebook cell (4.1-4.5)."""
    return not filename.startswith(LIBRARY_ROOTS)


class deadline:  # noqa: N801 - used as ``with deadline(seconds):``
    """Raise :class:`TimeUp` in the code run inside this block once ``seconds`` have passed (4.2-4.5).

    An earlier ``SIGALRM`` handler and timer (an outer deadline) are put back afterwards, with
    the time that is left of them, not their full original time; an earlier trace function (a
    debugger's) too.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = 0.0
        self.outer_end: float | None = None
        self.outer_interval = 0.0
        self.previous_handler = None
        self.previous_trace = None
        self.alarm = False
        self.marked: list = []  # learner frames given a line tracer after the limit

    def line_tracer(self, frame, event, arg):
        if event == "line" and time.monotonic() > self.end:
            raise TimeUp()
        return self.line_tracer

    def call_tracer(self, frame, event, arg):
        if not learner_file(frame.f_code.co_filename):
            return None
        if time.monotonic() > self.end:
            raise TimeUp()
        return self.line_tracer

    def on_alarm(self, signum, frame):
        now = time.monotonic()
        if self.outer_end is not None and now >= self.outer_end:  # the outer deadline came first
            self.outer_end = None
            if now < self.end:
                signal.setitimer(signal.ITIMER_REAL, self.end - now, RETRY_S)
            if callable(self.previous_handler):
                self.previous_handler(signum, frame)
        if now < self.end:
            return
        if frame is not None and frame.f_code is deadline.__exit__.__code__:
            return  # the block is ending already: let it switch the timer off
        stack = []
        while frame is not None and frame.f_code.co_filename != __file__:  # up to call_learner
            stack.append(frame)
            frame = frame.f_back
        if not stack:
            return  # the learner's code has returned already; the block ends on its own
        sys.settrace(self.call_tracer)  # a raise inside a trace function turns tracing off: turn it on again
        for frame in stack:
            if learner_file(frame.f_code.co_filename):
                frame.f_trace = self.line_tracer  # so that a bare ``except:`` in the learner's code raises again
                self.marked.append(frame)
        raise TimeUp()

    def __enter__(self):
        self.end = time.monotonic() + self.seconds
        self.previous_trace = sys.gettrace()
        self.alarm = alarm_available()
        if not self.alarm:
            sys.settrace(self.call_tracer)
            return self
        self.previous_handler = signal.signal(signal.SIGALRM, self.on_alarm)
        outer_left, self.outer_interval = signal.getitimer(signal.ITIMER_REAL)
        self.outer_end = time.monotonic() + outer_left if outer_left > 0 else None
        signal.setitimer(signal.ITIMER_REAL, min(self.seconds, outer_left) if outer_left > 0 else self.seconds, RETRY_S)
        return self

    def __exit__(self, *exc):
        if self.alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
        sys.settrace(self.previous_trace)
        for frame in self.marked:
            frame.f_trace = None
        self.marked.clear()
        if self.alarm:
            signal.signal(signal.SIGALRM, self.previous_handler)
            if self.outer_end is not None:
                signal.setitimer(signal.ITIMER_REAL, max(self.outer_end - time.monotonic(), 1e-6), self.outer_interval)
        return False


# ---------------------------------------------------------------------------------------------
# Outcomes and the check frame
# ---------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """The ✓/✗ lines of one check, its verdict, and what it keeps of the learner's model."""

    lines: list = field(default_factory=list)
    passed: bool = True
    model: object = None
    tokenizers: list = field(default_factory=list)
    model_kept: ModelKept | None = None
    changes: list = field(default_factory=list)

    def ok(self, line: str) -> None:
        """A ✓ line."""
        self.lines.append(f"✓ {line}")

    def fail(self, line: str) -> None:
        """A ✗ line; the check does not pass."""
        self.lines.append(f"✗ {line}")
        self.passed = False

    def info(self, line: str) -> None:
        """A line without a mark (numbers to look at)."""
        self.lines.append(f"  {line}")


RUNNING: list[Outcome] = []  # the check in progress (the last one), for call_learner


def changed_model_message(changes: list[str]) -> str:
    """One Chinese line naming what the learner's code changed (4.2-4.5 checks)."""
    return ("你的代码改变了模型或 torch 的设置：" + "；".join(changes) + "。检查已把能恢复的部分恢复原状；"
            "练习里的函数只应该读模型，不应该修改它。")


def call_learner(fn: Callable, *args, limit: float | None = None, what: str = "你的函数", **kwargs):
    """Run the learner's ``fn(*args, **kwargs)`` (4.1-4.5); anything but a return value becomes a Problem.

    The model, tokenizer and torch's state are put back right after the call; if the learner's
    code changed them, the check stops here with a line that names the change (so that a left-over
    hook or a replaced ``lm_head`` is not blamed on the learner's loop).
    """
    limit = TIME_LIMIT_S if limit is None else limit
    outcome = RUNNING[-1] if RUNNING else None
    state = StateKept.take(outcome.model if outcome else None, outcome.tokenizers if outcome else ())
    try:
        with deadline(limit):
            return fn(*args, **kwargs)
    except Problem:
        raise
    except TimeUp:
        raise Problem(f"{what}运行了 {limit:g} 秒还没有结束：是不是有死循环？检查循环的结束条件"
                      "（例如最多生成 max_new_tokens 个 token）。") from None
    except NotImplementedError:
        raise Problem(f"{what}还没有实现（抛出了 NotImplementedError）：先补全标有 # TODO 的地方。") from None
    except SystemExit:
        raise Problem(f"{what}调用了 exit() 或 sys.exit()：在 notebook 里这会结束运行，删掉这一行，用 return 返回结果。"
                      ) from None
    except KeyboardInterrupt:
        raise Problem("检查被中断了（内核 → 中断内核）：改好以后重新运行这个单元格。") from None
    except BaseException as err:  # noqa: BLE001 - the learner's code may raise anything
        raise Problem(f"{what}运行时出错 —— {messages.one_line(err)}") from None
    finally:
        changes, _ = state.restore()
        if outcome is not None and outcome.model_kept is not None:
            changes += outcome.model_kept.restore()
        if changes and outcome is not None:
            outcome.changes += [c for c in changes if c not in outcome.changes]
            raise Problem(changed_model_message(changes))


def report(title: str, outcome: Outcome, success: str, failure: str = TRY_AGAIN) -> bool:
    """Print the title, the lines and the verdict; return whether the check passed (4.1-4.5)."""
    print(title)
    for line in outcome.lines:
        print("  " + line)
    print(PASSED + success if outcome.passed else NOT_YET + failure)
    return outcome.passed


EXERCISES: dict[str, progress.Exercise] = {}  # every check made by @check, by id: the class table's columns
TITLE_NUMBER = re.compile(r"^练习 (\d+) 检查")


def exercise_of(body: Callable, title: str) -> progress.Exercise:
    """The exercise a check belongs to (4.1-4.5): the section from its module's ``SECTION``, the
    number from its title (``"练习 2 检查：..."``), the id ``"<section>/<check name>"``."""
    section, number = body.__globals__.get("SECTION"), TITLE_NUMBER.match(title)
    if not isinstance(section, str) or not re.fullmatch(r"\d+(\.\d+)*", section) or number is None:
        raise TypeError(f"@check on {body.__module__}.{body.__name__}: its module needs SECTION = '4.x' and "
                        f"its title must start with '练习 N 检查' (got SECTION={section!r}, title={title!r})")
    return progress.Exercise(f"{section}/{body.__name__}", section, int(number[1]), title)


def check(title: str, success: str):
    """Decorator: ``body(outcome, *args)`` becomes the check ``fn(*args) -> bool`` titled ``title`` (4.1-4.5).

    The argument named ``model`` is snapshotted (and put back at the end, weights included), the
    arguments whose names end in ``tokenizer`` are watched; a :class:`Problem` or anything else
    raised becomes a ✗ line; ``success`` is printed when every line is a ✓. The verdict is then
    recorded in the learner's progress file (:func:`.progress.record`, under the check's
    ``exercise.id``), and the check is listed in :data:`EXERCISES` for the workshop's class table.
    """
    def decorate(body: Callable) -> Callable:
        signature = inspect.signature(body)
        public = signature.replace(parameters=list(signature.parameters.values())[1:], return_annotation=bool)
        exercise = exercise_of(body, title)

        def judge(args, kwargs) -> Outcome:
            outcome = Outcome()
            try:
                bound = public.bind(*args, **kwargs)
            except TypeError as err:
                outcome.fail(f"调用方式不对 —— {messages.one_line(err)}。按单元格里的写法调用：{body.__name__}{public}。")
                return outcome
            outcome.model = bound.arguments.get("model")
            outcome.tokenizers = [v for k, v in bound.arguments.items() if k.endswith("tokenizer")]
            RUNNING.append(outcome)
            try:
                outcome.model_kept = ModelKept.take(outcome.model)
                body(outcome, *bound.args, **bound.kwargs)
            except Problem as problem:
                outcome.fail(str(problem))
            except KeyboardInterrupt:
                outcome.fail("检查被中断了（内核 → 中断内核）：重新运行这个单元格。")
            except BaseException as err:  # noqa: BLE001 - a check must never raise
                outcome.fail(f"检查本身出错了 —— {messages.one_line(err)}。重新运行上面的单元格后再试；还不行就告诉老师。")
            finally:
                RUNNING.remove(outcome)
                if outcome.model_kept is not None:
                    late = outcome.model_kept.restore() + outcome.model_kept.restore_weights()
                    late = [c for c in late if c not in outcome.changes]
                    if late:
                        outcome.fail(changed_model_message(late))
            return outcome

        @functools.wraps(body)
        def run(*args, **kwargs) -> bool:
            passed = report(title, judge(args, kwargs), success)
            progress.record(exercise.id, passed, title=title)
            return passed

        run.__signature__ = public
        run.exercise = exercise
        EXERCISES[exercise.id] = exercise
        return run
    return decorate


# ---------------------------------------------------------------------------------------------
# Reading the learner's values
# ---------------------------------------------------------------------------------------------

def short(text, width: int = 60) -> str:
    """repr() of a text, cut to about ``width`` characters (one-line messages of 4.1-4.5)."""
    text = str(text)
    return repr(text) if len(repr(text)) <= width else repr(text[: width - 6] + "…")


def missing_value(name: str) -> str:
    """The line for a prediction still left as None (4.2, 4.3)."""
    return f"{name} 还是 None：先把你的预测（或答案）填进去，再运行这个单元格。"


def as_int(value) -> int | None:
    """``value`` as an int if it is one: Python, numpy or one-element integer tensor (not bool); else None (4.2-4.4)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
            return None
        return int(value.item())
    if getattr(value, "dtype", None) is not None and getattr(value, "ndim", 0) == 0 and hasattr(value, "item"):
        value = value.item() if getattr(value.dtype, "kind", "i") in "iu" else value  # numpy scalar
    try:
        return operator.index(value)
    except TypeError:
        return None


def as_int_list(values) -> list[int] | None:
    """A flat list of ints from a list/tuple, 1-d tensor or numpy array of integers; else None (4.4)."""
    if isinstance(values, torch.Tensor) or hasattr(values, "tolist") and hasattr(values, "ndim"):
        if getattr(values, "ndim", 1) != 1:
            return None
        values = list(values)
    if not isinstance(values, (list, tuple)):
        return None
    ints = [as_int(v) for v in values]
    return None if any(v is None for v in ints) else ints
