"""Exercise checks for sections 4.1-4.5: they tell a learner, in Chinese, whether an answer works.

Every ``check_*`` function prints one line per finding (✓ or ✗) and a verdict, and returns
``True`` or ``False``. A check never raises and never hangs:

* the learner's code runs under a time limit (:func:`_deadline`): on the main thread of a Unix
  process (a Jupyter kernel) a ``SIGALRM`` timer interrupts it; elsewhere (Windows, a worker
  thread) a ``sys.settrace`` hook checks the clock at every Python call and at every line of the
  learner's own code. Neither can stop one long call inside C code (a huge matrix product): the
  limit is reached as soon as control returns to Python. A thread with a deadline was rejected:
  Python cannot kill a thread, so an endless loop would keep running and holding the model;
* ``NotImplementedError`` (the stubs), any other exception, ``SystemExit`` (``exit()`` in the
  learner's code) and ``KeyboardInterrupt`` (Kernel → Interrupt during a check) become one
  Chinese line that says what to change;
* the model passed to a check is left as it was found (:class:`_ModelSnapshot`): training or
  eval mode of every module, dtype and device of every parameter and buffer (the original
  tensors are kept, so ``model.half()`` is undone without a copy), ``requires_grad``, and the
  weights' values (a copy is kept for models up to :data:`COPY_LIMIT_BYTES`; a larger model
  whose weights were changed in place is reported, with the advice to load it again).

Sections and checks:

* 4.1: :func:`check_alignment` (exercise 1), :func:`check_languages` (exercise 2);
* 4.2: :func:`check_sampling_prediction` (1), :func:`check_pick_next` (2), :func:`check_long_prompt` (3);
* 4.3: :func:`check_cross_attention_shape` (1), :func:`check_causal_mask_quiz` (2),
  :func:`check_swapped_shape` (3);
* 4.4: :func:`check_encoder_decoder_loop` (exercise 1: encoder once, then a cached decoder loop,
  compared with ``generate()``);
* 4.5: :func:`check_flan_one_shot` (1), :func:`check_flan_decoder_only` (2), :func:`check_phi_one_shot` (3).

On the offline stand-ins (trained on exactly the lesson's prompt formats) 4.5 requires the
expected answer where the evaluation set has one; on the real hub models a different answer is
reported but does not fail, since their wording varies. :func:`table` renders 4.5's tables.
"""

from __future__ import annotations

import contextlib
import html
import math
import re
import signal
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from . import lesson, models, streaming

MAX_NEW_TOKENS = 64       # 4.5: enough for every answer of the evaluation set (T5 pieces are short)
MAX_EMPTYISH_TOKENS = 12  # 4.5 exercise 2: "almost nothing" for the encoder, in tokens
NEWLINE_STOP = ["\n"]
TIME_LIMIT_S = 20.0       # a learner's function that builds a prompt or picks a token
LOOP_TIME_LIMIT_S = 120.0  # 4.4: a learner's whole generation loop for one sentence
COPY_LIMIT_BYTES = 256 * 2 ** 20  # keep a copy of the weights (to restore in-place changes) up to this size

PASSED = "✓ 通过："
NOT_YET = "✗ 还没通过："


# ---------------------------------------------------------------------------------------------
# Running the learner's code: time limit, every exception caught, the model left as found
# ---------------------------------------------------------------------------------------------

class _Problem(Exception):
    """A learner's answer cannot be used; the message (Chinese) says why and what to change."""


class _TimeUp(BaseException):
    """Raised inside the learner's code when the time limit is reached (BaseException, so that
    an ``except Exception`` in the learner's code cannot swallow it)."""


def _alarm_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


_LIBRARY_ROOTS = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(__file__).resolve().parent), "<frozen"})


def _learner_file(filename: str) -> bool:
    """True for code outside Python, the installed libraries and this package: a notebook cell."""
    return not filename.startswith(_LIBRARY_ROOTS)


@contextlib.contextmanager
def _deadline(seconds: float):
    """Raise :class:`_TimeUp` in the code run inside this block once ``seconds`` have passed.

    Main thread on Unix: a ``SIGALRM`` interval timer (any earlier handler and timer are put
    back afterwards). Otherwise: a ``sys.settrace`` hook that checks the clock on every Python
    call, and on every line of the learner's own code (not of the libraries, which would slow
    down too much), so an endless ``while True`` loop in a notebook cell is stopped too. The
    earlier trace function (a debugger's) is put back afterwards.
    """
    if _alarm_available():
        def on_alarm(signum, frame):
            raise _TimeUp()
        previous_handler = signal.signal(signal.SIGALRM, on_alarm)
        previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            if previous_timer[0] > 0:
                signal.setitimer(signal.ITIMER_REAL, *previous_timer)
        return
    end = time.monotonic() + seconds

    def line_tracer(frame, event, arg):
        if time.monotonic() > end:
            raise _TimeUp()
        return line_tracer

    def call_tracer(frame, event, arg):
        if time.monotonic() > end:
            raise _TimeUp()
        return line_tracer if _learner_file(frame.f_code.co_filename) else None

    previous_trace = sys.gettrace()
    sys.settrace(call_tracer)
    try:
        yield
    finally:
        sys.settrace(previous_trace)


def _error_line(err: BaseException) -> str:
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def _guarded(fn: Callable, *args, limit: float | None = None, what: str = "你的函数", keep=None, **kwargs):
    """Run the learner's ``fn(*args, **kwargs)``; anything but a return value becomes a _Problem.

    ``keep``: a :class:`_ModelSnapshot` whose mode, dtype and device are put back right after the
    call, so that what the check runs next runs on the model as the learner loaded it.
    """
    limit = TIME_LIMIT_S if limit is None else limit
    try:
        with _deadline(limit):
            return fn(*args, **kwargs)
    except _Problem:
        raise
    except _TimeUp:
        raise _Problem(f"{what}运行了 {limit:g} 秒还没有结束：是不是有死循环？检查循环的结束条件"
                       "（例如最多生成 max_new_tokens 个 token）。") from None
    except NotImplementedError:
        raise _Problem(f"{what}还没有实现（抛出了 NotImplementedError）：先补全标有 # TODO 的地方。") from None
    except SystemExit:
        raise _Problem(f"{what}调用了 exit() 或 sys.exit()：在 notebook 里这会结束运行，删掉这一行，用 return 返回结果。"
                       ) from None
    except KeyboardInterrupt:
        raise _Problem("检查被中断了（Kernel → Interrupt 或 Ctrl-C）：改好以后重新运行这个单元格。") from None
    except BaseException as err:  # noqa: BLE001 - the learner's code may raise anything
        raise _Problem(f"{what}运行时出错 —— {_error_line(err)}") from None
    finally:
        if keep is not None:
            keep.restore()


@dataclass
class _TensorSlot:
    owner: torch.nn.Module
    kind: str            # "_parameters" or "_buffers"
    name: str
    obj: torch.Tensor    # the Parameter (or buffer) object itself
    data: torch.Tensor   # its original data (the same storage: no copy)
    requires_grad: bool


@dataclass
class _ModelSnapshot:
    """Mode, dtype, device, requires_grad and weights of a model, to restore after learner code runs."""

    model: torch.nn.Module
    training: dict = field(default_factory=dict)
    slots: list = field(default_factory=list)
    fingerprint: float = 0.0
    copy: list | None = None
    changes: list = field(default_factory=list)

    @classmethod
    def take(cls, model) -> "_ModelSnapshot | None":
        if not isinstance(model, torch.nn.Module):
            return None
        snap = cls(model)
        for module in model.modules():
            snap.training[module] = module.training
            for kind in ("_parameters", "_buffers"):
                for name, tensor in getattr(module, kind).items():
                    if tensor is not None:
                        snap.slots.append(_TensorSlot(module, kind, name, tensor, tensor.data,
                                                      bool(tensor.requires_grad)))
        snap.fingerprint = snap._fingerprint()
        size = sum(s.data.numel() * s.data.element_size() for s in snap.slots)
        if size <= COPY_LIMIT_BYTES:
            snap.copy = [s.data.detach().clone() for s in snap.slots]
        return snap

    def _fingerprint(self) -> float:
        with torch.no_grad():
            total = 0.0
            for slot in self.slots:
                data = slot.obj.data
                if data.is_floating_point() and data.numel():
                    total += float(data.sum(dtype=torch.float64)) + float(data.abs().sum(dtype=torch.float64))
            return total

    def restore(self) -> None:
        """Put mode, dtype, device and requires_grad back; note in ``changes`` what had changed."""
        if any(module.training != flag for module, flag in self.training.items()):
            self._note("切换了训练/评估模式（例如 model.train()）")
            for module, flag in self.training.items():
                module.training = flag
        for slot in self.slots:
            table = getattr(slot.owner, slot.kind)
            current = table.get(slot.name)
            now = (current if isinstance(current, torch.Tensor) else slot.obj).data
            if current is not slot.obj:  # replaced, e.g. by model.to("meta") or a new Parameter
                table[slot.name] = slot.obj
            if now.dtype != slot.data.dtype:
                self._note(f"改变了数据类型（{str(slot.data.dtype).replace('torch.', '')} → "
                           f"{str(now.dtype).replace('torch.', '')}，例如 model.half()）")
            if now.device != slot.data.device:
                self._note(f"把模型搬到了别的设备（{slot.data.device} → {now.device}）")
            kept = slot.obj.data
            if kept.dtype != slot.data.dtype or kept.device != slot.data.device or kept.data_ptr() != slot.data.data_ptr():
                slot.obj.data = slot.data
            if slot.kind == "_parameters" and slot.obj.requires_grad != slot.requires_grad:
                self._note("改变了参数的 requires_grad")
                slot.obj.requires_grad_(slot.requires_grad)

    def restore_weights(self) -> bool:
        """After :meth:`restore`: True if the weights' values are as found (restored from the copy if needed)."""
        if math.isclose(self._fingerprint(), self.fingerprint, rel_tol=1e-7, abs_tol=1e-9):  # reduction order may vary
            return True
        if self.copy is None:
            self._note("原地修改了权重的数值（模型太大，检查没有保存副本，无法恢复：重新运行加载模型的单元格）")
            return False
        with torch.no_grad():
            for slot, saved in zip(self.slots, self.copy):
                slot.obj.data.copy_(saved)
        self._note("原地修改了权重的数值")
        return True

    def _note(self, change: str) -> None:
        if change not in self.changes:
            self.changes.append(change)


@contextlib.contextmanager
def _model_kept(model, outcome: "_Outcome"):
    """Snapshot ``model``; afterwards restore it and add a ✗ line to ``outcome`` if the learner changed it."""
    snapshot = outcome.snapshot = _ModelSnapshot.take(model)
    try:
        yield snapshot
    finally:
        if snapshot is not None:
            snapshot.restore()
            snapshot.restore_weights()
            if snapshot.changes:
                outcome.fail("你的代码改变了模型：" + "；".join(snapshot.changes) + "。检查已把模型恢复原状"
                             "（能恢复的部分）；练习里的函数只应该读模型，不应该修改它。")


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

@dataclass
class _Outcome:
    lines: list = field(default_factory=list)
    passed: bool = True
    snapshot: _ModelSnapshot | None = None  # the model of the check, to restore after each learner call

    def ok(self, line: str) -> None:
        self.lines.append(f"✓ {line}")

    def fail(self, line: str) -> None:
        self.lines.append(f"✗ {line}")
        self.passed = False

    def info(self, line: str) -> None:
        self.lines.append(f"  {line}")


def _report(title: str, outcome: _Outcome, success: str,
            failure: str = "根据上面标 ✗ 的那一行修改，再运行一次这个单元格。") -> bool:
    print(title)
    for line in outcome.lines:
        print("  " + line)
    print(PASSED + success if outcome.passed else NOT_YET + failure)
    return outcome.passed


def _checked(title: str, success: str, body: Callable[[_Outcome], None], model=None) -> bool:
    """Run ``body(outcome)`` with the model kept as found; a _Problem (or anything else) becomes a ✗ line."""
    outcome = _Outcome()
    try:
        with _model_kept(model, outcome):
            body(outcome)
    except _Problem as problem:
        outcome.fail(str(problem))
    except KeyboardInterrupt:
        outcome.fail("检查被中断了（Kernel → Interrupt 或 Ctrl-C）：重新运行这个单元格。")
    except BaseException as err:  # noqa: BLE001 - a check must never raise
        outcome.fail(f"检查本身出错了 —— {_error_line(err)}。重新运行上面的单元格后再试；还不行就告诉老师。")
    return _report(title, outcome, success)


def _short(text, width: int = 60) -> str:
    """repr() of a text, cut to about ``width`` characters (for one-line messages)."""
    text = str(text)
    return repr(text) if len(repr(text)) <= width else repr(text[: width - 6] + "…")


def _missing_value(name: str) -> str:
    return f"{name} 还是 None：先把你的预测（或答案）填进去，再运行这个单元格。"


# ---------------------------------------------------------------------------------------------
# 4.1 Exercise 1: chunk alignment of a Japanese sentence
# ---------------------------------------------------------------------------------------------

ALIGNMENT_JAPANESE = "彼は昨日新しい本を買いませんでした"
ALIGNMENT_ENGLISH = "He did not buy a new book yesterday"


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.casefold()))


def check_alignment(chunks, english_order) -> bool:
    """Exercise 1 (4.1): ``chunks`` = [(Japanese chunk, English, role), ...] in Japanese order,
    ``english_order`` = the English parts in English order, for 「彼は昨日新しい本を買いませんでした。」.

    Passes when the chunks join to the Japanese sentence, the English order uses every English
    part exactly once (spelt the same way) and reads *He did not buy a new book yesterday*;
    then prints the source positions and the number of crossings.
    """
    def body(outcome: _Outcome) -> None:
        if not chunks or not english_order:
            raise _Problem("my_chunks 或 my_english_order 还是空的：按注释里的格式填写，再运行。")
        if not isinstance(chunks, (list, tuple)) or not isinstance(english_order, (list, tuple)):
            raise _Problem("my_chunks 和 my_english_order 都应该是列表（用 [ ] 括起来）。")
        for i, chunk in enumerate(chunks):
            if not (isinstance(chunk, (tuple, list)) and len(chunk) == 3 and all(isinstance(x, str) for x in chunk)):
                raise _Problem(f"my_chunks 的第 {i + 1} 项应该是 (日语块, 英语, 角色) 三个字符串，现在是 {_short(chunk)}。")
        if not all(isinstance(word, str) for word in english_order):
            raise _Problem("my_english_order 里的每一项都应该是字符串（英语部分）。")
        joined = "".join(c[0] for c in chunks).replace(" ", "").rstrip("。")
        if joined != ALIGNMENT_JAPANESE:
            if sorted(joined) == sorted(ALIGNMENT_JAPANESE):
                raise _Problem("日语块的顺序不对：my_chunks 要按日语原句的顺序排列（彼は 在最前，買いませんでした 在最后）。")
            raise _Problem(f"日语块连起来是「{joined}」，应该正好是原句「{ALIGNMENT_JAPANESE}」：检查有没有漏字或多字。")
        outcome.ok("日语块按原句顺序排列，连起来正好是原句。")
        parts = [c[1] for c in chunks]
        for word in english_order:
            if word not in parts:
                raise _Problem(f"my_english_order 里的 {word!r} 在 my_chunks 的英语部分里找不到：两边要写得一模一样"
                               f"（my_chunks 里有 {parts}）。")
        for part in parts:
            if english_order.count(part) != 1:
                how = "没有出现在" if part not in english_order else "出现了不止一次，在"
                raise _Problem(f"英语部分 {part!r} {how} my_english_order 里：每个块要用到，而且只用一次。")
        if _words(" ".join(english_order)) != _words(ALIGNMENT_ENGLISH):
            raise _Problem(f"按 my_english_order 连起来是 {' '.join(english_order)!r}，应该读作 {ALIGNMENT_ENGLISH!r}："
                           "英语顺序是主语、动词（含否定）、宾语、时间。")
        outcome.ok(f"英语顺序读作 {' '.join(english_order)!r}。")
        where = {part: i for i, part in enumerate(parts)}
        positions = [where[word] for word in english_order]
        crossings = sum(1 for i in range(len(positions)) for j in range(i + 1, len(positions))
                        if positions[i] > positions[j])
        outcome.info(f"英语顺序中各块在日语里的位置：{positions}，交叉数：{crossings}")
    return _checked("练习 1 检查：意义块对齐", "对齐正确。否定和过去时都在日语的最后一块里，英语却在第 2 个位置就要写出来。",
                    body)


# ---------------------------------------------------------------------------------------------
# 4.1 Exercise 2: one more language in the token-count table
# ---------------------------------------------------------------------------------------------

LESSON_LANGUAGES = ("English", "French", "German", "Japanese", "Chinese")


def check_languages(same_meaning, gpt2_tokenizer, t5_tokenizer) -> bool:
    """Exercise 2 (4.1): ``same_meaning`` has at least one sentence beyond the lesson's five.

    Prints characters, GPT-2 tokens, T5 tokens and T5 ``<unk>`` tokens for the new entries,
    so the learner can answer the exercise's question from numbers of the tokenizers loaded.
    """
    def body(outcome: _Outcome) -> None:
        if not isinstance(same_meaning, dict):
            raise _Problem("same_meaning 应该是字典 {语言: 句子}。")
        new = {k: v for k, v in same_meaning.items() if k not in LESSON_LANGUAGES}
        if not new:
            raise _Problem("same_meaning 里还没有新的一项：加一种语言，例如 "
                           "same_meaning[\"Korean\"] = \"나는 매일 아침 커피를 마십니다.\"，再运行这个单元格。")
        for language, text in new.items():
            if not isinstance(text, str) or not text.strip():
                raise _Problem(f"{language!r} 对应的句子是空的：写一句意思相同的话。")
            n_gpt2 = len(_guarded(gpt2_tokenizer, text).input_ids)
            t5_ids = _guarded(t5_tokenizer, text, add_special_tokens=False).input_ids
            n_unk = t5_ids.count(t5_tokenizer.unk_token_id)
            outcome.ok(f"{language}：{len(text)} 个字符，GPT-2 {n_gpt2} 个 token，T5 {len(t5_ids)} 个 token"
                       f"（其中 <unk> {n_unk} 个）")
            if n_unk:
                outcome.info("T5 的词表里没有这些字符：<unk> 越多，它越“看不见”这句话。")
    return _checked("练习 2 检查：加入另一种语言", "现在回答练习里的问题：token 数的差别对速度和可处理的文本长度有什么影响？",
                    body)


# ---------------------------------------------------------------------------------------------
# 4.2 Exercise 1: predict what temperature=0.5 with top_k=3 does
# ---------------------------------------------------------------------------------------------

def _next_distributions(model, tokenizer, prompt: str, *settings: dict):
    """(tokens left, top probability) of the next-token distribution under each settings dict (one forward)."""
    prompt_ids = tokenizer(prompt, return_tensors="pt").input_ids.to(model.device)
    with torch.inference_mode():
        logits = model(prompt_ids).logits[:, -1].float()
    result = []
    for options in settings:
        scores = streaming.make_processors(**options)(prompt_ids, logits.clone())[0]
        result.append((int(torch.isfinite(scores).sum()), float(torch.softmax(scores, dim=-1).max())))
    return result


def check_sampling_prediction(tokens_left, top_prob_larger, model, tokenizer, prompt: str = "Hello world,") -> bool:
    """Exercise 1 (4.2): the learner predicts, for ``temperature=0.5, top_k=3`` after ``prompt``,
    how many tokens are left and whether the top probability is larger than unchanged.

    The true values are computed on the model passed in, with the lesson's logits processors.
    """
    def body(outcome: _Outcome) -> None:
        if tokens_left is None or top_prob_larger is None:
            raise _Problem(_missing_value("my_tokens_left 或 my_top_prob_larger"))
        if isinstance(tokens_left, bool) or not isinstance(tokens_left, int):
            raise _Problem(f"my_tokens_left 应该是一个整数，现在是 {_short(tokens_left)}。")
        if not isinstance(top_prob_larger, bool):
            raise _Problem("my_top_prob_larger 应该是 True 或 False。")
        (left, best), (_, best_before) = _next_distributions(model, tokenizer, prompt,
                                                             dict(temperature=0.5, top_k=3), {})
        outcome.info(f"实际：剩下 {left} 个 token；最可能的 token 概率 {best_before:.3f} → {best:.3f}")
        if tokens_left == left:
            outcome.ok(f"剩下 {left} 个 token：温度不删除 token，top_k=3 只留下 3 个。")
        else:
            outcome.fail(f"你预测剩下 {tokens_left} 个，实际是 {left} 个：温度只缩放分数、不删除 token；"
                         "top_k=3 把其余 token 的分数设成 -inf。")
        if top_prob_larger == (best > best_before):
            outcome.ok("最可能的 token 的概率变大了：温度 0.5 让分布更尖，截到前 3 个再归一化又集中一次。")
        else:
            outcome.fail("最可能的 token 的概率其实变大了：温度小于 1 让分布更尖，去掉长尾后重新归一化，"
                         "剩下的概率又集中到前几个 token 上。")
    return _checked("练习 1 检查：temperature=0.5 加 top_k=3", "预测正确。", body, model)


# ---------------------------------------------------------------------------------------------
# 4.2 Exercise 2: top-k sampling in the manual loop
# ---------------------------------------------------------------------------------------------

_VOCAB = 1000
_TOP_IDS = [917, 403, 58, 761, 230]   # the five best ids: none of them below 5, unlike positions 0..k-1
_TOP_LOGITS = [3.0, 2.0, 1.0, 0.5, 0.0]


def _test_logits() -> torch.Tensor:
    logits = torch.full((_VOCAB,), -3.0) + 0.3 * torch.randn(_VOCAB, generator=torch.Generator().manual_seed(7))
    logits[_TOP_IDS] = torch.tensor(_TOP_LOGITS)
    return logits


def _draws(pick_next, k: int, n: int, seed: int) -> list[int]:
    rng = torch.Generator().manual_seed(seed)
    logits = _test_logits()
    out = []
    for _ in range(n):
        token = pick_next(logits.clone(), k=k, generator=rng)
        if isinstance(token, torch.Tensor) and token.numel() == 1:
            token = token.item()
        if isinstance(token, bool) or not isinstance(token, int):
            raise _Problem(f"pick_next 应该返回一个整数 token id（用 int(...)），现在返回的是 {type(token).__name__}。")
        out.append(token)
    return out


def check_pick_next(pick_next) -> bool:
    """Exercise 2 (4.2): ``pick_next(last_logits, k=5, generator=None)`` samples among the k best.

    Checked on made-up scores over 1000 ids whose five best ids are known: every draw must be
    one of the k best vocabulary ids (not a position 0..k-1), draws must vary, follow the
    softmax over the k best scores, honour ``k`` and the ``generator`` (same seed, same draws).
    """
    n_draws = 1000

    def body(outcome: _Outcome) -> None:
        if not callable(pick_next):
            raise _Problem("第一个参数应该是你写的函数 pick_next。")
        draws = _guarded(_draws, pick_next, 5, n_draws, 0, what="pick_next ")
        top = set(_TOP_IDS)
        if all(0 <= t < 5 for t in draws) and not top & set(draws):
            raise _Problem("返回的是 top-k 里的位置（0…k-1），不是词表里的 token id：用 torch.topk 得到的 "
                           ".indices 把抽到的位置换回 token id。")
        outside = sorted(set(draws) - top)
        if outside:
            raise _Problem(f"抽到了不在前 k 个里的 token（例如 {outside[0]}）：只在 torch.topk 选出的 k 个分数上做 "
                           "softmax，再从这 k 个里抽。")
        if len(set(draws)) == 1:
            raise _Problem("每次都返回同一个 token：这还是贪心选择。用 torch.multinomial 按概率抽一个。")
        outcome.ok("抽到的都是分数最高的 5 个 token 之一，而且不总是同一个。")
        weights = torch.softmax(torch.tensor(_TOP_LOGITS), dim=-1)
        expected = {t: float(w) for t, w in zip(_TOP_IDS, weights)}
        distance = 0.5 * sum(abs(draws.count(t) / n_draws - p) for t, p in expected.items())
        if distance > 0.08:
            seen = ", ".join(f"{draws.count(t) / n_draws:.2f}" for t in _TOP_IDS)
            want = ", ".join(f"{p:.2f}" for p in expected.values())
            raise _Problem(f"抽样频率 [{seen}] 和 softmax 概率 [{want}] 差得太多：按 softmax(前 k 个分数) 的概率抽，"
                           "而不是每个候选机会均等。")
        outcome.ok("抽样频率符合前 k 个分数的 softmax 概率。")
        if _guarded(_draws, pick_next, 5, 50, 1, what="pick_next ") != _guarded(
                _draws, pick_next, 5, 50, 1, what="pick_next "):
            raise _Problem("同一个种子两次抽样的结果不同：把 generator 传给 torch.multinomial(..., generator=generator)。")
        outcome.ok("同一个随机种子给出同样的结果（用上了 generator）。")
        if set(_guarded(_draws, pick_next, 1, 20, 2, what="pick_next ")) != {_TOP_IDS[0]}:
            raise _Problem("k=1 时应该总是选分数最高的 token：用参数 k，不要把 5 写死。")
        if not set(_guarded(_draws, pick_next, 3, 200, 3, what="pick_next ")) <= set(_TOP_IDS[:3]):
            raise _Problem("k=3 时抽到了前 3 名以外的 token：用参数 k，不要把 5 写死。")
        outcome.ok("参数 k 起作用：k=1 就是贪心，k=3 只在前 3 名里抽。")
    return _checked("练习 2 检查：top-k 采样", "pick_next 是正确的 top-k 采样。", body)


# ---------------------------------------------------------------------------------------------
# 4.2 Exercise 3: a long prompt, the cache after prefill and per step
# ---------------------------------------------------------------------------------------------

MIN_LONG_PROMPT_TOKENS = 100


def check_long_prompt(long_prompt, cache_after_prefill, growth_per_step, model, tokenizer) -> bool:
    """Exercise 3 (4.2): a prompt of at least 100 tokens, and the learner's prediction of the
    cache length after prefill and its growth per decode step, checked with ``decoding.prefill``.
    """
    from . import decoding

    def body(outcome: _Outcome) -> None:
        if not isinstance(long_prompt, str) or not long_prompt.strip():
            raise _Problem("long_prompt 应该是一段英文文字（字符串）。")
        if cache_after_prefill is None or growth_per_step is None:
            raise _Problem(_missing_value("my_cache_after_prefill 或 my_growth_per_step"))
        ids = tokenizer(long_prompt).input_ids
        if len(ids) < MIN_LONG_PROMPT_TOKENS:
            raise _Problem(f"long_prompt 只有 {len(ids)} 个 token：换一段至少 {MIN_LONG_PROMPT_TOKENS} 个 token"
                           "（大约 80 个英文单词以上）的文字。")
        limit = decoding.context_size(model)
        if limit is not None and len(ids) + 1 > limit:
            raise _Problem(f"long_prompt 有 {len(ids)} 个 token，超过了模型能读的 {limit} 个位置：缩短一些。")
        outcome.ok(f"提示词有 {len(ids)} 个 token。")
        state = decoding.prefill(model, ids)
        after = state.cache_length
        decoding.decode_step(state, int(state.logits.argmax()))
        growth = state.cache_length - after
        if cache_after_prefill == after:
            outcome.ok(f"prefill 之后缓存里有 {after} 个位置：提示词的每个 token 一个。")
        else:
            outcome.fail(f"你预测 prefill 之后缓存里有 {cache_after_prefill} 个位置，实际是 {after} 个："
                         "prefill 一次读入整个提示词，每个 token 的键和值都进缓存。")
        if growth_per_step == growth:
            outcome.ok(f"之后每步只多 {growth} 个位置。")
        else:
            outcome.fail(f"你预测每步增加 {growth_per_step} 个位置，实际是 {growth} 个：解码阶段每步只送入一个新 token。")
    return _checked("练习 3 检查：长提示词与 KV 缓存", "预测正确。再看看计时图：第一个点为什么高？", body, model)


# ---------------------------------------------------------------------------------------------
# 4.3 Exercises 1 and 3: the shape of cross-attention, and of the swapped product
# ---------------------------------------------------------------------------------------------

def _cross_shape(model, tokenizer, source: str, prefix: str) -> tuple[int, ...]:
    """Measured (batch, heads, n, m) of layer 0's cross-attention weights (eager attention, put back after)."""
    from . import decoding

    encoder_ids = tokenizer(source, return_tensors="pt").input_ids.to(model.device)
    prefix_ids = tokenizer(prefix, add_special_tokens=False).input_ids
    decoder_ids = torch.tensor([[decoding.decoder_start_id(model)] + prefix_ids], device=model.device)
    implementation = model.config._attn_implementation
    if implementation != "eager":
        model.set_attn_implementation("eager")
    try:
        with torch.inference_mode():
            out = model(input_ids=encoder_ids, decoder_input_ids=decoder_ids, output_attentions=True)
    finally:
        if implementation != "eager":
            model.set_attn_implementation(implementation)
    return tuple(out.cross_attentions[0].shape)


def _shape_of(prediction, name: str) -> tuple[int, ...]:
    if prediction is None:
        raise _Problem(_missing_value(name))
    if isinstance(prediction, torch.Size):
        prediction = tuple(prediction)
    if not (isinstance(prediction, (tuple, list)) and len(prediction) == 4
            and all(isinstance(x, int) and not isinstance(x, bool) for x in prediction)):
        raise _Problem(f"{name} 应该是 4 个整数组成的元组 (batch, heads, 行数, 列数)，现在是 {_short(prediction)}。")
    return tuple(prediction)


def _shape_hints(got, want, rows: tuple[str, str], cols: tuple[str, str]) -> str:
    """Chinese hint for a predicted (batch, heads, rows, cols) that differs from ``want``.

    ``rows``/``cols`` are (symbol, what it counts), e.g. ("n", "解码器位置").
    """
    batch, heads, r, c = want
    if got == (batch, heads, c, r):
        return f"行和列反了：行是查询（{rows[1]}，{rows[0]} 个），列是键（{cols[1]}，{cols[0]} 个）。"
    if got[0] != batch:
        return f"batch 是 {batch}：一次只送入了一句话。"
    if got[1] != heads:
        return f"heads 是 {heads}：看 config.num_heads，每个头各有一个注意力矩阵。"
    hints = []
    for value, true, (symbol, _) in ((got[2], r, rows), (got[3], c, cols)):
        if value == true:
            continue
        if value == true - 1 and symbol == "m":
            hints.append("m 少了 1：分词器在源句末尾自动加了 </s>，它也是一个 token。")
        elif value == true - 1:
            hints.append("n 少了 1：解码器从起始 token <pad> 开始，它也占一个位置。")
        else:
            hints.append(f"{symbol} 应该是 {true}，不是 {value}：用 tokenizer.tokenize(...) 数一数 token。")
    return "".join(hints)


def check_cross_attention_shape(prediction, model, tokenizer, source: str, prefix: str) -> bool:
    """Exercise 1 (4.3): the learner's predicted (batch, heads, n, m) of the cross-attention
    weights for ``source`` and decoder prefix ``prefix``, against the model's own output.
    """
    def body(outcome: _Outcome) -> None:
        got = _shape_of(prediction, "my_prediction")
        measured = _cross_shape(model, tokenizer, source, prefix)
        if got == measured:
            outcome.ok(f"预测 {got} 与模型输出的交叉注意力形状一致。")
            return
        outcome.fail(f"你预测 {got}，模型给出的是 {measured}。"
                     + _shape_hints(got, measured, ("n", "解码器位置"), ("m", "源句 token")))
    return _checked("练习 1 检查：交叉注意力的形状", "n 数的是解码器位置（含 <pad>），m 数的是源句 token（含 </s>）。",
                    body, model)


def check_swapped_shape(prediction, model, tokenizer, source: str, prefix: str) -> bool:
    """Exercise 3 (4.3): the shape of softmax(QK^T) when queries come from the encoder and keys
    from the decoder: (batch, heads, m, n), with n and m measured on the model."""
    def body(outcome: _Outcome) -> None:
        got = _shape_of(prediction, "my_swapped_shape")
        batch, heads, n, m = _cross_shape(model, tokenizer, source, prefix)
        want = (batch, heads, m, n)
        if got == want:
            outcome.ok(f"{got}：每个源 token（m 个）一行，对 n 个解码器位置做 softmax。")
            return
        if got == (batch, heads, n, m) and n != m:
            outcome.fail(f"{got} 是原来的形状。对调以后查询来自编码器（m 个）、键来自解码器（n 个），行和列都换了。")
            return
        outcome.fail(f"你预测 {got}，应该是 {want}。"
                     + _shape_hints(got, want, ("m", "源句 token"), ("n", "解码器位置")))
    return _checked("练习 3 检查：对调 Q 和 K 的来源", "这个矩阵给每个源 token 一行，对生成下一个 token 没有用。",
                    body, model)


CAUSAL_MASK_QUIZ = {
    "A": (True, "对：没有掩码，位置 t 直接看得到要预测的第 t+1 个 token，模型学会“抄答案”；生成时后面的 token "
                "还不存在，没有可抄的东西。"),
    "B": (False, "不对：有没有掩码，注意力矩阵都是 n × n，形状不变；掩码只决定哪些格子被置为 0。"),
    "C": (False, "不对：交叉注意力看的是原文，原文一开始就全部已知；解码器自注意力看的是目标序列本身，"
                 "不遮住后面的位置就会泄露答案。"),
    "D": (False, "不对：多出来的“上下文”正是要预测的答案。训练损失会很低，但学到的东西在生成时用不上。"),
}


def check_causal_mask_quiz(choice) -> bool:
    """Exercise 2 (4.3): a multiple-choice question on removing the decoder's causal mask."""
    def body(outcome: _Outcome) -> None:
        if choice is None:
            raise _Problem(_missing_value("my_choice"))
        key = str(choice).strip().upper()
        if key not in CAUSAL_MASK_QUIZ:
            raise _Problem(f"my_choice 应该是 \"A\"、\"B\"、\"C\" 或 \"D\" 之一，现在是 {_short(choice)}。")
        right, why = CAUSAL_MASK_QUIZ[key]
        (outcome.ok if right else outcome.fail)(f"{key}：{why}")
    return _checked("练习 2 检查：去掉解码器的因果掩码会怎样", "这也是 4.2 节“一条序列提供所有下一个 token 样本”的前提。", body)


# ---------------------------------------------------------------------------------------------
# 4.4 Exercise 1: the encoder-decoder loop, written by the learner
# ---------------------------------------------------------------------------------------------

T5_TASK_PREFIX = "translate English to French: "
LOOP_SENTENCES = ("Hello World! How's it going?", "What's your name?", "I drink coffee every morning.")
_LIBRARY_LOOPS = {"transformers/generation/": "model.generate()", "dli_seq/decoding.py": "dli_seq.decoding",
                  "dli_seq/streaming.py": "dli_seq.streaming", "dli_seq/fastpath.py": "dli_seq.fastpath"}


class _CallCounter:
    """Forward hooks on the encoder and decoder: how often each ran, how many decoder tokens per
    call, and whether a library generation loop (generate(), dli_seq.decoding) did the work."""

    def __init__(self, model):
        self.model, self.encoder_calls, self.decoder_lengths, self.library = model, 0, [], None
        self.handles = []

    def _on_encoder(self, module, args, kwargs):
        self.encoder_calls += 1

    def _on_decoder(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None and kwargs.get("inputs_embeds") is not None:
            ids = kwargs["inputs_embeds"]
        self.decoder_lengths.append(int(ids.shape[1]) if ids is not None and ids.dim() > 1 else 0)
        frame = sys._getframe(1)
        while frame is not None and self.library is None:
            where = frame.f_code.co_filename.replace("\\", "/")
            for part, name in _LIBRARY_LOOPS.items():
                if part in where:
                    self.library = name
            frame = frame.f_back

    def __enter__(self):
        self.handles = [self.model.get_encoder().register_forward_pre_hook(self._on_encoder, with_kwargs=True),
                        self.model.get_decoder().register_forward_pre_hook(self._on_decoder, with_kwargs=True)]
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def _as_id_list(result) -> list[int]:
    if result is None:
        raise _Problem("函数返回了 None：用 return 返回生成的 token id 列表。")
    if isinstance(result, str):
        raise _Problem("返回的是文字；这里要返回生成的 token id 列表（文字可以自己用 tokenizer.decode 看）。")
    if isinstance(result, torch.Tensor):
        if result.dim() == 2 and result.shape[0] == 1:
            result = result[0]
        if result.dim() != 1:
            raise _Problem(f"返回的张量形状是 {tuple(result.shape)}，应该是一维的 token id 列表。")
        result = result.tolist()
    if not isinstance(result, (list, tuple)) or not all(
            isinstance(t, int) and not isinstance(t, bool) or isinstance(t, torch.Tensor) and t.numel() == 1
            for t in result):
        raise _Problem(f"返回值应该是 token id（整数）的列表，现在是 {_short(result)}。")
    return [int(t) for t in result]


def _reference_ids(model, encoder_ids, max_new_tokens: int) -> list[int]:
    with torch.inference_mode():
        out = model.generate(input_ids=encoder_ids, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
    return out[0].tolist()[1:]  # without the start token


def check_encoder_decoder_loop(fn, model, tokenizer, sentences=LOOP_SENTENCES, max_new_tokens: int = 40,
                               prefix: str = T5_TASK_PREFIX) -> bool:
    """Exercise 1 (4.4): ``fn(model, tokenizer, text, max_new_tokens)`` translates ``text`` greedily
    with its own loop and returns the new token ids (``</s>`` included, the start token not).

    Passes when, for each sentence, the encoder ran exactly once, the decoder got ONE token per
    call after the first (the KV cache did the rest), no library loop (``generate()``,
    ``dli_seq.decoding``) ran, and the ids equal ``model.generate(..., do_sample=False)``.
    """
    def body(outcome: _Outcome) -> None:
        if not callable(fn):
            raise _Problem("第一个参数应该是你写的函数。")
        config = getattr(model, "config", None)
        if config is None or not getattr(config, "is_encoder_decoder", False):
            raise _Problem("第二个参数应该是编码器-解码器模型（例如 t5_model）。")
        from . import decoding
        start, eos = decoding.decoder_start_id(model), tokenizer.eos_token_id
        for sentence in sentences:
            text = prefix + sentence
            with _CallCounter(model) as calls:
                result = _guarded(fn, model, tokenizer, text, max_new_tokens, limit=LOOP_TIME_LIMIT_S, what="你的循环",
                                  keep=outcome.snapshot)
            if calls.library:
                raise _Problem(f"你的函数用了库里现成的生成循环（{calls.library}）：这个练习要你自己写循环，"
                               "直接调用 model.get_encoder() 和 model(...)。")
            ids = _as_id_list(result)
            if ids[:1] == [start]:
                ids = ids[1:]
            if calls.encoder_calls != 1:
                raise _Problem(f"编码器运行了 {calls.encoder_calls} 次：它只需要在循环开始之前运行一次，"
                               "之后把它的输出（encoder_outputs）交给每一步的解码器。")
            if not calls.decoder_lengths:
                raise _Problem("解码器一次也没有运行：每一步都要调用 model(...)（或 model.decoder）算出下一个 token 的分数。")
            later = [n for n in calls.decoder_lengths[1:] if n != 1]
            if later:
                raise _Problem(f"第 2 步以后解码器一次收到了 {later[0]} 个 token：没有用上 KV 缓存。每一步只送入"
                               "新的那一个 token，并把上一步返回的 cache 传回去。")
            encoder_ids = tokenizer(text, return_tensors="pt").input_ids.to(model.device)
            reference = _reference_ids(model, encoder_ids, max_new_tokens)
            if ids == reference:
                outcome.ok(f"{sentence!r} → {tokenizer.decode(ids, skip_special_tokens=True)!r}"
                           f"（{len(ids)} 个 token，编码器 1 次，解码器 {len(calls.decoder_lengths)} 次，与 generate() 相同）")
                continue
            if len(ids) > max_new_tokens:
                raise _Problem(f"生成了 {len(ids)} 个 token，超过了 max_new_tokens={max_new_tokens}。")
            if ids[: len(reference)] == reference and reference and reference[-1] == eos:
                raise _Problem("生成 </s> 以后还在继续：遇到 tokenizer.eos_token_id 就停下（</s> 本身留在结果里）。")
            if ids == reference[:-1] and reference[-1] == eos:
                raise _Problem("结果里少了最后的 </s>：把它也放进列表，再停下。")
            first = next((i for i, (a, b) in enumerate(zip(ids, reference)) if a != b), min(len(ids), len(reference)))
            if first == 0:
                raise _Problem("第一个 token 就和 generate() 不同：解码器要从 decoder_start_token_id（T5 是 <pad>，id 0）"
                               "开始，每步选 logits 最大的 token（贪心）。")
            raise _Problem(f"前 {first} 个 token 相同，第 {first + 1} 个不同（{tokenizer.decode(ids[first:first + 1])!r}，"
                           f"generate() 给出 {tokenizer.decode(reference[first:first + 1])!r}）：每步用最后一个位置的 logits，"
                           "并把选中的 token 接在后面。")
    return _checked("练习 1 检查：自己写编码器-解码器的生成循环",
                    "编码器只运行一次，解码器每步一个 token，结果和 generate() 完全相同。", body, model)


# ---------------------------------------------------------------------------------------------
# 4.5: shared pieces of the three checks
# ---------------------------------------------------------------------------------------------

def normalise(text: str | None) -> str:
    """Answer comparison (4.5) ignores case, surrounding blanks, repeated spaces and a final period."""
    text = unicodedata.normalize("NFC", text or "")
    text = re.sub(r"\s+", " ", text).strip().casefold()
    return text.rstrip(".。 ").strip()


def same_answer(got: str | None, expected: str) -> bool:
    """True when ``got`` is the expected answer up to :func:`normalise` (4.5)."""
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


def _label(index: int, entry: lesson.Entry) -> str:
    return f"[{index + 1}] {entry.premise}"


def _as_inputs(result, *, allow_str: bool) -> tuple[str, str]:
    """(encoder_input, decoder_input) from what the learner returned."""
    if result is None:
        raise _Problem("函数返回了 None：补全 # TODO，并用 return 返回结果。")
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


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _missing_parts(text: str, entry: lesson.Entry, parts: tuple[str, ...]) -> list[str]:
    names = {"question": "问题（entry.question）", "shot_question": "示例问题（entry.shot_question）",
             "shot_answer": "示例答案（entry.shot_answer）", "premise": "前提（entry.premise）"}
    squeezed = _squeeze(text)
    return [names[p] for p in parts if _squeeze(getattr(entry, p)) not in squeezed]


def _example_after_question(text: str, entry: lesson.Entry) -> bool:
    """True when the worked example's answer comes after the question in ``text`` (both present)."""
    squeezed = _squeeze(text)
    answer, question = squeezed.find(_squeeze(entry.shot_answer)), squeezed.rfind(_squeeze(entry.question))
    return answer >= 0 and question >= 0 and answer > question


def _check_kind(model, tokenizer, want_encoder_decoder: bool) -> None:
    """A _Problem if the model or tokenizer is not what the exercise needs."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "generation_config"):
        raise _Problem("第二个参数应该是模型（例如 models.load(...) 返回的第一个值）。")
    if not callable(getattr(tokenizer, "encode", None)):
        raise _Problem("第三个参数应该是分词器（models.load(...) 返回的第二个值）。")
    if bool(config.is_encoder_decoder) != want_encoder_decoder:
        want = "编码器-解码器模型（Flan-T5）" if want_encoder_decoder else "仅解码器模型（Phi-1.5）"
        raise _Problem(f"这个练习需要{want}，传入的模型类型不对。")


def _generate(model, tokenizer, encoder_input: str | None, decoder_input: str, stop_strings=None) -> str:
    """Greedy text with the lesson's streamer; errors become a _Problem with a hint."""
    try:
        return streaming.generate_text(model, tokenizer, decoder_input, encoder_input=encoder_input,
                                       max_new_tokens=MAX_NEW_TOKENS, stop_strings=stop_strings)
    except Exception as err:  # noqa: BLE001
        raise _Problem(f"用这个输入生成时出错 —— {_error_line(err)}") from None


def _answer_verdict(got: str, entry: lesson.Entry, strict: bool, empty_hint: str) -> tuple[bool, str]:
    """Compare with the expected answer, if the entry has one; an empty answer never passes."""
    if not got.strip():
        return False, f"模型什么也没有写出来（{_short(got)}）：{empty_hint}"
    if entry.answer is None:
        return True, f"{_short(got)}（这一条没有标准答案：写出了内容即可）"
    if same_answer(got, entry.answer):
        return True, f"{_short(got)}（与标准答案一致）"
    if strict:
        return False, f"{_short(got)}，期望 {_short(entry.answer)}"
    return True, f"{_short(got)}，标准答案是 {_short(entry.answer)}（真实模型的措辞可能不同，不算错误）"


def _run(title: str, fn, model, tokenizer, want_encoder_decoder: bool, per_entry, success: str) -> bool:
    """Shared frame of the three 4.5 checks: argument checks, one line per entry, a verdict."""
    def body(outcome: _Outcome) -> None:
        if not callable(fn):
            raise _Problem(f"第一个参数应该是你写的函数，却得到 {type(fn).__name__}。")
        _check_kind(model, tokenizer, want_encoder_decoder)
        strict = is_standin(model)
        for index, entry in enumerate(lesson.EVAL_SET):
            try:
                ok, line = per_entry(lambda e: _guarded(fn, e, keep=outcome.snapshot), model, tokenizer, entry, strict)
            except _Problem as problem:
                raise _Problem(f"{_label(index, entry)}: {problem}") from None  # the same mistake would repeat
            (outcome.ok if ok else outcome.fail)(f"{_label(index, entry)}: {line}")
    return _checked(title, success, body, model)


# ---------------------------------------------------------------------------------------------
# 4.5 Exercise 1: one-shot conditioning for Flan-T5
# ---------------------------------------------------------------------------------------------

def _flan_one_shot_entry(fn, model, tokenizer, entry, strict):
    encoder_input, decoder_input = _as_inputs(fn(entry), allow_str=True)
    if not encoder_input.strip():
        raise _Problem("编码器输入是空的：练习 1 要通过编码器（也可以加上解码器前缀）给出示例。")
    missing = _missing_parts(encoder_input + "\n" + decoder_input, entry, ("question", "shot_question", "shot_answer"))
    if missing:
        raise _Problem("输入里缺少：" + "、".join(missing) + "。")
    if any(_example_after_question(text, entry) for text in (encoder_input, decoder_input)):
        raise _Problem("示例（示例问题和答案）放在了要回答的问题后面：把示例移到问题前面，问题放在最后。")
    got = _generate(model, tokenizer, encoder_input, decoder_input)
    return _answer_verdict(got, entry, strict, "检查示例和问题的格式，问题要放在最后。")


def check_flan_one_shot(fn, model, tokenizer) -> bool:
    """Exercise 1 (4.5): ``fn(entry)`` gives Flan-T5 one worked example before the question.

    Passes when, for every entry, the input holds the question and the example (question and
    answer), the example comes first, greedy generation writes something, and (on the
    stand-in) the answers match where they exist.
    """
    return _run("练习 1 检查：Flan-T5 的单样本（one-shot）条件输入", fn, model, tokenizer, True,
                _flan_one_shot_entry, "示例在问题前面进入了模型，有标准答案的条目也答对了。")


# ---------------------------------------------------------------------------------------------
# 4.5 Exercise 2: drop the encoder (decoder-side in-context learning)
# ---------------------------------------------------------------------------------------------

def _flan_decoder_only_entry(fn, model, tokenizer, entry, strict):
    encoder_input, decoder_input = _as_inputs(fn(entry), allow_str=False)
    if not encoder_input.strip():
        raise _Problem("encoder_input 不能是空字符串（流式生成器需要编码器输入）：可以用 '</s>'，"
                       "这样编码器只读到一个结束 token。")
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
    if _example_after_question(decoder_input, entry):
        raise _Problem("解码器前缀里示例放在了问题后面：先写示例问题和答案，最后写要回答的问题。")
    got = _generate(model, tokenizer, encoder_input, decoder_input)
    return True, f"解码器接着写出 {_short(got)}"


def check_flan_decoder_only(fn, model, tokenizer) -> bool:
    """Exercise 2 (4.5): ``fn(entry)`` moves the example and the question to the decoder side.

    Passes when the encoder input is (almost) empty and free of the question and example, the
    decoder prefix holds the example and then the question, and generation runs. The answers
    are shown, not graded: the exercise is to observe a decoder fed an input it was not trained on.
    """
    return _run("练习 2 检查：去掉编码器，只让解码器做上下文学习", fn, model, tokenizer, True,
                _flan_decoder_only_entry,
                "编码器几乎什么都没看到，示例和问题都在解码器前缀里。看看上面的续写，它们和练习 1 的答案比怎么样？")


# ---------------------------------------------------------------------------------------------
# 4.5 Exercise 3: one-shot prompting for the decoder-only Phi-1.5
# ---------------------------------------------------------------------------------------------

def _phi_one_shot_entry(fn, model, tokenizer, entry, strict):
    prompt = fn(entry)
    if prompt is None:
        raise _Problem("函数返回了 None：补全 # TODO，并用 return 返回提示词字符串。")
    if not isinstance(prompt, str):
        raise _Problem(f"返回值的类型是 {type(prompt).__name__}，应为提示词字符串。")
    if not prompt.strip():
        raise _Problem("提示词是空的。")
    missing = _missing_parts(prompt, entry, ("question", "shot_question", "shot_answer"))
    if missing:
        raise _Problem("提示词里缺少：" + "、".join(missing) + "。")
    if _example_after_question(prompt, entry):
        raise _Problem("示例（问题和答案）应该放在要回答的问题前面。")
    if not prompt.rstrip().endswith("Answer:"):
        raise _Problem(f"提示词的结尾是 {_short(prompt[-20:])}：最后要以 'Answer: ' 结尾，模型才知道接下来该写答案"
                       "（否则它往往先写一个换行，而生成在第一个换行处就停了）。")
    got = _generate(model, tokenizer, None, prompt, stop_strings=NEWLINE_STOP)
    return _answer_verdict(got.strip(), entry, strict, "提示词最后应该是 'Answer: '，模型从这里接着写答案。")


def check_phi_one_shot(fn, model, tokenizer) -> bool:
    """Exercise 3 (4.5): ``fn(entry)`` is a one-shot prompt for Phi-1.5, answered up to a newline.

    Passes when every prompt holds the example before the question and ends with ``Answer:``,
    greedy generation (stopped at the first newline) writes something, and (on the stand-in)
    the answers match where they exist.
    """
    return _run("练习 3 检查：Phi-1.5 的单样本提示词（遇到换行就停止）", fn, model, tokenizer, False,
                _phi_one_shot_entry, "示例放在问题前面，有标准答案的条目也答对了。")


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
