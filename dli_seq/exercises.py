"""Section 4.5's three exercises: checks that tell a learner, in Chinese, whether an answer works.

Each exercise asks for a small function that turns one evaluation entry (``lesson.Entry``)
into model input; the matching ``check_*`` runs it on all of ``lesson.EVAL_SET``, generates
greedily with the lesson's streamer and prints what it found:

* :func:`check_flan_one_shot` (exercise 1): one-shot conditioning for Flan-T5. The function
  returns the encoder input (a string) or ``{"encoder_input": ..., "decoder_input": ...}``.
* :func:`check_flan_decoder_only` (exercise 2): drop the encoder. The function returns
  ``{"encoder_input": ..., "decoder_input": ...}`` where the encoder sees (almost) nothing and
  the decoder prefix holds the example and the question.
* :func:`check_phi_one_shot` (exercise 3): a one-shot prompt for the decoder-only Phi-1.5,
  answered up to the first newline.

A check never raises: a stub that returns ``None`` or raises ``NotImplementedError``, a wrong
return type or an exception inside the learner's code are reported in one clear line, and the
check returns ``False``. On the offline stand-ins (trained on exactly the lesson's prompt
formats) a correct answer is required for the entries that have one; on the real hub models a
different answer is reported but does not fail the check, since their wording varies.

:func:`table` renders the evaluation results as an HTML table (and as aligned plain text).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import lesson, models, streaming

MAX_NEW_TOKENS = 64       # enough for every answer of the evaluation set (T5 pieces are short)
MAX_EMPTYISH_TOKENS = 12  # exercise 2: "almost nothing" for the encoder, in tokens
NEWLINE_STOP = ["\n"]


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

def normalise(text: str | None) -> str:
    """Answer comparison ignores case, surrounding blanks, repeated spaces and a final period."""
    text = unicodedata.normalize("NFC", text or "")
    text = re.sub(r"\s+", " ", text).strip().casefold()
    return text.rstrip(".。 ").strip()


def same_answer(got: str | None, expected: str) -> bool:
    """True when ``got`` is the expected answer up to :func:`normalise`."""
    return normalise(got) == normalise(expected)


def is_standin(model) -> bool:
    """True when ``model`` was loaded from one of the shipped offline stand-ins (dli_seq/standins)."""
    where = getattr(model, "name_or_path", "") or getattr(getattr(model, "config", None), "_name_or_path", "")
    if not where:
        return False
    try:
        return Path(where).resolve().parent == models.STANDIN_DIR.resolve()
    except (OSError, ValueError):
        return False


def _short(text, width: int = 60) -> str:
    """repr() of a text, cut to about ``width`` characters (for one-line messages)."""
    text = str(text)
    return repr(text) if len(repr(text)) <= width else repr(text[: width - 6] + "…")


def _error_line(err: BaseException) -> str:
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def _label(index: int, entry: lesson.Entry) -> str:
    return f"[{index + 1}] {entry.premise}"


class _Problem(Exception):
    """A learner's answer cannot be used; the message (Chinese) says why."""


def _call(fn: Callable, entry: lesson.Entry):
    """Call the learner's function on one entry; stubs and errors become a _Problem."""
    try:
        return fn(entry)
    except NotImplementedError:
        raise _Problem("函数还没有实现（抛出了 NotImplementedError）：请先补全标有 # TODO 的地方。") from None
    except Exception as err:  # noqa: BLE001 - the learner's code may raise anything
        raise _Problem(f"函数运行时出错 —— {_error_line(err)}") from None


def _as_inputs(result, *, allow_str: bool) -> tuple[str, str]:
    """(encoder_input, decoder_input) from what the learner returned."""
    if result is None:
        raise _Problem("函数返回了 None：请补全 # TODO，并用 return 返回结果。")
    if isinstance(result, str):
        if allow_str:
            return result, ""
        raise _Problem("这里需要返回字典 {'encoder_input': ..., 'decoder_input': ...}，而不是一个字符串。")
    if not isinstance(result, dict):
        raise _Problem(f"返回值的类型是 {type(result).__name__}，应为字符串或字典。")
    unknown = set(result) - {"encoder_input", "decoder_input"}
    if unknown:
        raise _Problem(f"字典里有未知的键 {sorted(unknown)}：只能用 'encoder_input' 和 'decoder_input'。")
    encoder_input = result.get("encoder_input") or ""
    decoder_input = result.get("decoder_input") or ""
    if not isinstance(encoder_input, str) or not isinstance(decoder_input, str):
        raise _Problem("'encoder_input' 和 'decoder_input' 的值都应该是字符串。")
    return encoder_input, decoder_input


def _missing_parts(text: str, entry: lesson.Entry, parts: tuple[str, ...]) -> list[str]:
    names = {"question": "问题（entry.question）", "shot_question": "示例问题（entry.shot_question）",
             "shot_answer": "示例答案（entry.shot_answer）", "premise": "前提（entry.premise）"}
    squeezed = re.sub(r"\s+", " ", text)
    return [names[p] for p in parts if re.sub(r"\s+", " ", getattr(entry, p)).strip() not in squeezed]


def _check_kind(model, tokenizer, want_encoder_decoder: bool) -> str | None:
    """A Chinese message if the model or tokenizer is not what the exercise needs, else None."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "generation_config"):
        return "第二个参数应该是模型（例如 models.load(...) 返回的第一个值）。"
    if not callable(getattr(tokenizer, "encode", None)):
        return "第三个参数应该是分词器（models.load(...) 返回的第二个值）。"
    if bool(config.is_encoder_decoder) != want_encoder_decoder:
        want = "编码器-解码器模型（Flan-T5）" if want_encoder_decoder else "仅解码器模型（Phi-1.5）"
        return f"这个练习需要{want}，传入的模型类型不对。"
    return None


def _generate(model, tokenizer, encoder_input: str | None, decoder_input: str, stop_strings=None) -> str:
    """Greedy text with the lesson's streamer; errors become a _Problem with a hint."""
    try:
        return streaming.generate_text(model, tokenizer, decoder_input, encoder_input=encoder_input,
                                       max_new_tokens=MAX_NEW_TOKENS, stop_strings=stop_strings)
    except Exception as err:  # noqa: BLE001
        raise _Problem(f"用这个输入生成时出错 —— {_error_line(err)}") from None


@dataclass
class _Outcome:
    passed: bool
    lines: list[str]


def _report(title: str, outcome: _Outcome, success: str, failure: str) -> bool:
    print(title)
    for line in outcome.lines:
        print("  " + line)
    print(success if outcome.passed else failure)
    return outcome.passed


def _run(title: str, fn, model, tokenizer, want_encoder_decoder: bool, per_entry, failure: str,
         success: str) -> bool:
    """Shared frame of the three checks: argument checks, one line per entry, a verdict."""
    if not callable(fn):
        return _report(title, _Outcome(False, [f"✗ 第一个参数应该是你写的函数，却得到 {type(fn).__name__}。"]),
                       success, failure)
    if (problem := _check_kind(model, tokenizer, want_encoder_decoder)) is not None:
        return _report(title, _Outcome(False, [f"✗ {problem}"]), success, failure)
    strict = is_standin(model)
    lines, passed = [], True
    for index, entry in enumerate(lesson.EVAL_SET):
        try:
            ok, line = per_entry(fn, model, tokenizer, entry, strict)
        except _Problem as problem:
            lines.append(f"✗ {_label(index, entry)}: {problem}")
            passed = False
            break  # the same mistake would repeat for every entry
        lines.append(f"{'✓' if ok else '✗'} {_label(index, entry)}: {line}")
        passed = passed and ok
    return _report(title, _Outcome(passed, lines), success, failure)


def _answer_verdict(got: str, entry: lesson.Entry, strict: bool) -> tuple[bool, str]:
    """Compare with the expected answer, if the entry has one."""
    if entry.answer is None:
        return True, f"{_short(got)}（没有标准答案，只看能否生成）"
    if same_answer(got, entry.answer):
        return True, f"{_short(got)}（与标准答案一致）"
    if strict:
        return False, f"{_short(got)}，期望 {_short(entry.answer)}"
    return True, f"{_short(got)}，标准答案是 {_short(entry.answer)}（真实模型的措辞可能不同，不算错误）"


# ---------------------------------------------------------------------------------------------
# Exercise 1: one-shot conditioning for Flan-T5
# ---------------------------------------------------------------------------------------------

def _flan_one_shot_entry(fn, model, tokenizer, entry, strict):
    encoder_input, decoder_input = _as_inputs(_call(fn, entry), allow_str=True)
    if not encoder_input.strip():
        raise _Problem("编码器输入是空的：练习 1 要通过编码器（也可以加上解码器前缀）给出示例。")
    missing = _missing_parts(encoder_input + "\n" + decoder_input, entry,
                             ("question", "shot_question", "shot_answer"))
    if missing:
        raise _Problem("输入里缺少：" + "、".join(missing) + "。")
    got = _generate(model, tokenizer, encoder_input, decoder_input)
    return _answer_verdict(got, entry, strict)


def check_flan_one_shot(fn, model, tokenizer) -> bool:
    """Exercise 1 (4.5): ``fn(entry)`` gives Flan-T5 one worked example before the question.

    Passes when, for every entry, the input holds the question and the example (question and
    answer), greedy generation works, and (on the stand-in) the answers match where they exist.
    """
    return _run("练习 1 检查：Flan-T5 的单样本（one-shot）条件输入", fn, model, tokenizer, True,
                _flan_one_shot_entry,
                failure="还没通过 ❌：请根据上面标 ✗ 的那一行修改函数。",
                success="通过 ✅：示例确实进入了模型，有标准答案的条目也答对了。")


# ---------------------------------------------------------------------------------------------
# Exercise 2: drop the encoder (decoder-side in-context learning)
# ---------------------------------------------------------------------------------------------

def _flan_decoder_only_entry(fn, model, tokenizer, entry, strict):
    encoder_input, decoder_input = _as_inputs(_call(fn, entry), allow_str=False)
    if not encoder_input.strip():
        raise _Problem("encoder_input 不能是空字符串（流式生成器需要编码器输入）：可以用 '</s>'，"
                       "这样编码器只读到一个结束符。")
    leaked = [name for name, text in (("问题", entry.question), ("示例问题", entry.shot_question),
                                       ("示例答案", entry.shot_answer)) if text.strip() in encoder_input]
    if leaked:
        raise _Problem("编码器输入里不应再有" + "、".join(leaked) + "：这个练习要把它们都交给解码器。")
    n_tokens = len(tokenizer.encode(encoder_input))
    if n_tokens > MAX_EMPTYISH_TOKENS:
        raise _Problem(f"编码器输入有 {n_tokens} 个 token，太多了：最多 {MAX_EMPTYISH_TOKENS} 个"
                       "（例如只留 '</s>' 或前提）。")
    missing = _missing_parts(decoder_input, entry, ("question", "shot_question", "shot_answer"))
    if missing:
        raise _Problem("解码器前缀里缺少：" + "、".join(missing) + "。")
    got = _generate(model, tokenizer, encoder_input, decoder_input)
    return True, f"解码器接着写出 {_short(got)}"


def check_flan_decoder_only(fn, model, tokenizer) -> bool:
    """Exercise 2 (4.5): ``fn(entry)`` moves the example and the question to the decoder side.

    Passes when the encoder input is (almost) empty and free of the question and example, the
    decoder prefix holds all three, and generation runs. The answers are shown, not graded: this
    exercise is about observing what a decoder trained behind an encoder does on its own.
    """
    return _run("练习 2 检查：去掉编码器，只让解码器做上下文学习", fn, model, tokenizer, True,
                _flan_decoder_only_entry,
                failure="还没通过 ❌：请根据上面标 ✗ 的那一行修改函数。",
                success="通过 ✅：编码器几乎什么都没看到，示例和问题都在解码器前缀里。"
                        "看看上面的续写，它们和练习 1 的答案比怎么样？")


# ---------------------------------------------------------------------------------------------
# Exercise 3: one-shot prompting for the decoder-only Phi-1.5
# ---------------------------------------------------------------------------------------------

def _phi_one_shot_entry(fn, model, tokenizer, entry, strict):
    prompt = _call(fn, entry)
    if prompt is None:
        raise _Problem("函数返回了 None：请补全 # TODO，并用 return 返回提示词字符串。")
    if not isinstance(prompt, str):
        raise _Problem(f"返回值的类型是 {type(prompt).__name__}，应为提示词字符串。")
    if not prompt.strip():
        raise _Problem("提示词是空的。")
    missing = _missing_parts(prompt, entry, ("question", "shot_question", "shot_answer"))
    if missing:
        raise _Problem("提示词里缺少：" + "、".join(missing) + "。")
    if prompt.rfind(entry.shot_answer.strip()) > prompt.rfind(entry.question.strip()):
        raise _Problem("示例（问题和答案）应该放在要回答的问题前面。")
    got = _generate(model, tokenizer, None, prompt, stop_strings=NEWLINE_STOP)
    return _answer_verdict(got.strip(), entry, strict)


def check_phi_one_shot(fn, model, tokenizer) -> bool:
    """Exercise 3 (4.5): ``fn(entry)`` is a one-shot prompt for Phi-1.5, answered up to a newline.

    Passes when every prompt holds the example before the question, greedy generation (stopped
    at the first newline) works, and (on the stand-in) the answers match where they exist.
    """
    return _run("练习 3 检查：Phi-1.5 的单样本提示词（遇到换行就停止）", fn, model, tokenizer, False,
                _phi_one_shot_entry,
                failure="还没通过 ❌：请根据上面标 ✗ 的那一行修改函数。",
                success="通过 ✅：示例放在问题前面，有标准答案的条目也答对了。")


# ---------------------------------------------------------------------------------------------
# The evaluation table
# ---------------------------------------------------------------------------------------------

class Table:
    """Rows of text shown as an HTML table in JupyterLab and as aligned text elsewhere (4.5)."""

    def __init__(self, headers: list[str], rows: list[list[str | None]], width: int = 36):
        self.headers = [str(h) for h in headers]
        self.rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
        self.width = width

    def _repr_html_(self) -> str:
        def cell(tag: str, text: str) -> str:
            body = html.escape(text).replace("\n", "<br>")
            return f"<{tag} style=\"text-align:left; vertical-align:top\">{body}</{tag}>"
        head = "".join(cell("th", h) for h in self.headers)
        body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        def fit(text: str) -> str:
            text = text.replace("\n", "⏎")
            return text if _display_width(text) <= self.width else _cut(text, self.width - 1) + "…"
        grid = [[fit(c) for c in self.headers]] + [[fit(c) for c in row] for row in self.rows]
        widths = [max(_display_width(row[i]) for row in grid) for i in range(len(self.headers))]
        lines = [" | ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip() for row in grid]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return "\n".join(lines)


def _display_width(text: str) -> int:
    """Columns a text takes in a terminal: CJK characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    out, used = "", 0
    for ch in text:
        used += _display_width(ch)
        if used > width:
            break
        out += ch
    return out


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def table(headers: list[str], rows: list[list[str | None]], width: int = 36) -> Table:
    """An evaluation table (4.5): ``display(table(["提示词", "零样本", ...], rows))``."""
    return Table(headers, rows, width)
