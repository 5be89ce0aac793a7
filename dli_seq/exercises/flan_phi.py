"""Exercise checks of section 4.5 (notebook 04-5, Flan-T5 and Phi-1.5): one-shot conditioning for
Flan-T5 (exercise 1, :func:`check_flan_one_shot`), the example moved to the decoder side
(exercise 2, :func:`check_flan_decoder_only`) and a one-shot prompt for Phi-1.5 (exercise 3,
:func:`check_phi_one_shot`).

Exercise 1: on the offline stand-ins (trained on exactly the lesson's prompt formats) the
expected answer is required where the evaluation set has one; on the real hub models a different
answer is reported but does not fail, since their wording varies. Exercise 3 is judged on the
prompt's structure only and shows the answers: the stand-in memorised an answer per question, so
its answers cannot tell a good prompt from a poor one.
"""

from __future__ import annotations

import re
import unicodedata

from .. import inputs, lesson, messages, models, streaming
from .harness import Outcome, Problem, call_learner, check, short

SECTION = "4.5"  # the section of these checks: with a check's name, its id in the progress file

MAX_NEW_TOKENS = 64       # enough for every answer of the evaluation set (T5 pieces are short)
MAX_EMPTYISH_TOKENS = 12  # exercise 2: "almost nothing" for the encoder, in tokens
NEWLINE_STOP = ["\n"]


def normalise(text: str | None) -> str:
    """Answer comparison (4.5) ignores case, surrounding blanks, repeated spaces and a final period."""
    text = unicodedata.normalize("NFC", text or "")
    text = re.sub(r"\s+", " ", text).strip().casefold()
    return text.rstrip(".。 ").strip()


def same_answer(got: str | None, expected: str) -> bool:
    """True when ``got`` is the expected answer up to :func:`normalise` (4.5)."""
    return normalise(got) == normalise(expected)


def _label(index: int, entry: lesson.Entry) -> str:
    return f"[{index + 1}] {entry.premise}"


def _as_inputs(result, *, allow_str: bool) -> tuple[str, str]:
    """(encoder_input, decoder_input) from what the learner returned."""
    if result is None:
        raise Problem("函数返回了 None：补全 # TODO，并用 return 返回结果。")
    if isinstance(result, str):
        if allow_str:
            return result, ""
        raise Problem("这里需要返回字典 {'encoder_input': ..., 'decoder_input': ...}，而不是一个字符串。")
    if not isinstance(result, dict):
        raise Problem(f"返回值的类型是 {type(result).__name__}，应为字符串或字典。")
    unknown = set(result) - {"encoder_input", "decoder_input"}
    if unknown:
        raise Problem(f"字典里有未知的键 {sorted(unknown)}：只能用 'encoder_input' 和 'decoder_input'。")
    encoder_input = result.get("encoder_input") or ""
    decoder_input = result.get("decoder_input") or ""
    if not isinstance(encoder_input, str) or not isinstance(decoder_input, str):
        raise Problem("'encoder_input' 和 'decoder_input' 的值都应该是字符串。")
    return encoder_input, decoder_input


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _missing_parts(text: str, entry: lesson.Entry, parts: tuple[str, ...]) -> list[str]:
    names = {"question": "问题（entry.question）", "shot_question": "示例问题（entry.shot_question）",
             "shot_answer": "示例答案（entry.shot_answer）", "premise": "指令（entry.premise）"}
    squeezed = _squeeze(text)
    return [names[p] for p in parts if _squeeze(getattr(entry, p)) not in squeezed]


def _example_after_question(text: str, entry: lesson.Entry) -> bool:
    """True when the worked example's answer comes after the question in ``text`` (both present)."""
    squeezed = _squeeze(text)
    answer, question = squeezed.find(_squeeze(entry.shot_answer)), squeezed.rfind(_squeeze(entry.question))
    return answer >= 0 and question >= 0 and answer > question


def _check_kind(model, tokenizer, want_encoder_decoder: bool) -> None:
    """A Problem if the model and tokenizer are not a pair (dli_seq.inputs) or not the kind the exercise needs."""
    try:
        inputs.check_pair(model, tokenizer)
    except (TypeError, ValueError) as err:
        raise Problem(str(err)) from None
    if bool(model.config.is_encoder_decoder) != want_encoder_decoder:
        want = "编码器-解码器模型（Flan-T5）" if want_encoder_decoder else "仅解码器模型（Phi-1.5）"
        raise Problem(f"这个练习需要{want}，传入的模型类型不对。")


def generate_answer(model, tokenizer, encoder_input: str | None, decoder_input: str, stop_strings=None) -> str:
    """Greedy text with the lesson's streamer (4.5); errors become a Problem with a hint."""
    try:
        return streaming.generate_text(model, tokenizer, decoder_input, encoder_input=encoder_input,
                                       max_new_tokens=MAX_NEW_TOKENS, stop_strings=stop_strings)
    except Exception as err:  # noqa: BLE001
        raise Problem(f"用这个输入生成时出错 —— {messages.one_line(err)}") from None


def _answer_verdict(got: str, entry: lesson.Entry, strict: bool, empty_hint: str) -> tuple[bool, str]:
    """Compare with the expected answer, if the entry has one; an empty answer never passes."""
    if not got.strip():
        return False, f"模型什么也没有写出来（{short(got)}）：{empty_hint}"
    if entry.answer is None:
        return True, f"{short(got)}（这一条没有标准答案：写出了内容即可）"
    if same_answer(got, entry.answer):
        return True, f"{short(got)}（与标准答案一致）"
    if strict:
        return False, f"{short(got)}，期望 {short(entry.answer)}"
    return True, f"{short(got)}，标准答案是 {short(entry.answer)}（真实模型的措辞可能不同，不算错误）"


def grade_entries(outcome: Outcome, fn, model, tokenizer, want_encoder_decoder: bool, per_entry) -> None:
    """Shared frame of the three 4.5 checks: argument checks, then one line per evaluation entry."""
    if not callable(fn):
        raise Problem(f"第一个参数应该是你写的函数，却得到 {type(fn).__name__}。")
    _check_kind(model, tokenizer, want_encoder_decoder)
    strict = models.is_standin(model)
    for index, entry in enumerate(lesson.EVAL_SET):
        try:
            ok, line = per_entry(lambda e: call_learner(fn, e), model, tokenizer, entry, strict)
        except Problem as problem:
            raise Problem(f"{_label(index, entry)}: {problem}") from None  # the same mistake would repeat
        (outcome.ok if ok else outcome.fail)(f"{_label(index, entry)}: {line}")


# ---------------------------------------------------------------------------------------------
# Exercise 1: one-shot conditioning for Flan-T5
# ---------------------------------------------------------------------------------------------

def _parts_in(text: str, entry: lesson.Entry, parts: tuple[str, ...]) -> list[str]:
    """Names of the entry's ``parts`` (question, example) that ``text`` holds."""
    names = {"question": "问题", "shot_question": "示例问题", "shot_answer": "示例答案"}
    squeezed = _squeeze(text)
    return [names[p] for p in parts if squeezed and _squeeze(getattr(entry, p)) in squeezed]


def _flan_one_shot_entry(fn, model, tokenizer, entry, strict):
    encoder_input, decoder_input = _as_inputs(fn(entry), allow_str=True)
    if not encoder_input.strip():
        raise Problem("编码器输入是空的：练习 1 要通过编码器给出示例和问题。")
    in_decoder = _parts_in(decoder_input, entry, ("shot_question", "shot_answer", "question"))
    if in_decoder:
        raise Problem("解码器前缀里有" + "、".join(in_decoder) + "：练习 1 的示例和问题都交给编码器。Flan-T5 的解码器"
                      "训练时前缀里只有答案本身，前缀里出现一段示例，它往往马上写出 </s>，输出就是空的"
                      "（练习 2 专门试这种做法）。解码器前缀留空，或者只写答案的开头。")
    missing = _missing_parts(encoder_input, entry, ("question", "shot_question", "shot_answer"))
    if missing:
        raise Problem("编码器输入里缺少：" + "、".join(missing) + "。")
    if _example_after_question(encoder_input, entry):
        raise Problem("示例（示例问题和答案）放在了要回答的问题后面：把示例移到问题前面，问题放在最后。")
    got = generate_answer(model, tokenizer, encoder_input, decoder_input)
    if decoder_input and not got.strip():
        return False, (f"模型在解码器前缀 {short(decoder_input)} 后面什么也没有写出来：去掉解码器前缀"
                       "（直接返回编码器输入的字符串）再试。")
    return _answer_verdict(decoder_input + got, entry, strict,
                           "对照 lesson.one_shot(...) 检查编码器输入的格式：示例问题后另起一行写 'Answer: ' 和示例答案，"
                           "示例和问题之间空一行。")


@check("练习 1 检查：Flan-T5 的单样本（one-shot）条件输入",
       success="示例在问题前面进入了模型，有标准答案的条目也答对了。")
def check_flan_one_shot(outcome: Outcome, fn, model, tokenizer) -> None:
    """Exercise 1 (4.5): ``fn(entry)`` gives Flan-T5 one worked example before the question.

    ``fn`` returns the encoder input, or ``{"encoder_input": ..., "decoder_input": ...}`` whose
    decoder prefix is empty or the start of the answer (the example in the decoder prefix is
    exercise 2; here it is refused with the reason). Passes when, for every entry, the encoder
    input holds the example (question and answer) and then the question, greedy generation
    writes something, and (on the stand-in) the answers (decoder prefix included) match where
    they exist.
    """
    grade_entries(outcome, fn, model, tokenizer, True, _flan_one_shot_entry)


# ---------------------------------------------------------------------------------------------
# Exercise 2: drop the encoder (decoder-side in-context learning)
# ---------------------------------------------------------------------------------------------

def _flan_decoder_only_entry(fn, model, tokenizer, entry, strict):
    encoder_input, decoder_input = _as_inputs(fn(entry), allow_str=False)
    if not encoder_input.strip():
        raise Problem("encoder_input 不能是空字符串（流式生成器需要编码器输入）：可以用 '</s>'，"
                      "这样编码器只读到一个结束 token。")
    leaked = [name for name, text in (("问题", entry.question), ("示例问题", entry.shot_question),
                                       ("示例答案", entry.shot_answer)) if text.strip() in encoder_input]
    if leaked:
        raise Problem("编码器输入里不应再有" + "、".join(leaked) + "：这个练习要把它们都交给解码器。")
    n_tokens = len(tokenizer.encode(encoder_input))
    if n_tokens > MAX_EMPTYISH_TOKENS:
        raise Problem(f"编码器输入有 {n_tokens} 个 token，太多了：最多 {MAX_EMPTYISH_TOKENS} 个"
                      "（例如只留 '</s>' 或指令）。")
    missing = _missing_parts(decoder_input, entry, ("question", "shot_question", "shot_answer"))
    if missing:
        raise Problem("解码器前缀里缺少：" + "、".join(missing) + "。")
    if _example_after_question(decoder_input, entry):
        raise Problem("解码器前缀里示例放在了问题后面：先写示例问题和答案，最后写要回答的问题。")
    got = generate_answer(model, tokenizer, encoder_input, decoder_input)
    return True, f"解码器接着写出 {short(got)}"


@check("练习 2 检查：去掉编码器，只让解码器做上下文学习",
       success="编码器几乎什么都没看到，示例和问题都在解码器前缀里。看看上面的续写，它们和练习 1 的答案比怎么样？")
def check_flan_decoder_only(outcome: Outcome, fn, model, tokenizer) -> None:
    """Exercise 2 (4.5): ``fn(entry)`` moves the example and the question to the decoder side.

    Passes when the encoder input is (almost) empty and free of the question and example, the
    decoder prefix holds the example and then the question, and generation runs. The answers
    are shown, not graded: the exercise is to observe a decoder fed an input it was not trained on.
    """
    grade_entries(outcome, fn, model, tokenizer, True, _flan_decoder_only_entry)


# ---------------------------------------------------------------------------------------------
# Exercise 3: one-shot prompting for the decoder-only Phi-1.5
# ---------------------------------------------------------------------------------------------

ANSWER_CUE = re.compile(r"(?:^|\s)(answer|a)\s*:\s*$", re.IGNORECASE)  # "Answer: " or "A:" at the end
TRAINED_CUE = "answer"  # the stand-in learnt the lesson's format only: "...\n\nAnswer: "


def _span(text: str, part: str, start: int = 0, last: bool = False) -> tuple[int, int] | None:
    """(start, end) of ``part`` in ``text`` from ``start`` on, blanks matched loosely; the last one if ``last``."""
    pattern = re.compile(r"\s+".join(re.escape(word) for word in part.split()))
    found = list(pattern.finditer(text, start))
    if not found:
        return None
    match = found[-1] if last else found[0]
    return match.start(), match.end()


def _cue(text: str) -> str | None:
    """The answer cue ``text`` ends with ("answer", "a"), lower-case, or None."""
    match = ANSWER_CUE.search(text)
    return match.group(1).casefold() if match else None


def phi_prompt_cue(prompt: str, entry: lesson.Entry) -> str:
    """The answer cue of a one-shot prompt whose structure is right, else a Problem (4.5 exercise 3).

    Right means: the example question, its answer cue and answer; a line break; the question;
    the same answer cue at the very end (e.g. ``"Answer: "`` or ``"A:"``).
    """
    missing = _missing_parts(prompt, entry, ("question", "shot_question", "shot_answer"))
    if missing:
        raise Problem("提示词里缺少：" + "、".join(missing) + "。")
    question = _span(prompt, entry.question, last=True)
    shot_question = _span(prompt, entry.shot_question)
    shot_answer = _span(prompt, entry.shot_answer, start=shot_question[1])
    if _example_after_question(prompt, entry) or shot_answer is None or shot_answer[1] > question[0]:
        raise Problem("示例（问题和答案）应该放在要回答的问题前面：先写示例问题，再写它的答案，最后写要回答的问题。")
    if "\n" not in prompt[shot_answer[1]:question[0]]:
        raise Problem("示例答案和后面的问题之间没有换行：模型照着示例学“答案写到换行为止”，没有换行，它不知道答案在哪里"
                      "结束，在换行处停止也就截不对。在示例答案后面换行（最好空一行），再写问题。")
    final_cue = _cue(prompt[question[1]:])
    if final_cue is None:
        raise Problem(f"提示词的结尾是 {short(prompt[-20:])}：问题后面要以答案提示结尾，例如 'Answer: ' 或 'A:'，"
                      "模型才知道接下来该写答案（否则它往往先写一个换行，而生成在第一个换行处就停了）。")
    example_cue = _cue(prompt[shot_question[1]:shot_answer[0]])
    if example_cue != final_cue:
        raise Problem(f"示例答案前面要有和结尾一样的答案提示（'{final_cue.capitalize()}:'）：模型照着示例的格式，"
                      "看到同样的提示才会接着写答案。")
    return final_cue


def _phi_one_shot_entry(fn, model, tokenizer, entry, strict):
    prompt = fn(entry)
    if prompt is None:
        raise Problem("函数返回了 None：补全 # TODO，并用 return 返回提示词字符串。")
    if not isinstance(prompt, str):
        raise Problem(f"返回值的类型是 {type(prompt).__name__}，应为提示词字符串。")
    if not prompt.strip():
        raise Problem("提示词是空的。")
    cue = phi_prompt_cue(prompt, entry)
    got = generate_answer(model, tokenizer, None, prompt, stop_strings=NEWLINE_STOP).strip()
    if not got and strict and cue != TRAINED_CUE:
        return True, "替身没有写出内容：它只学过 'Answer: ' 这种答案提示（结构是对的，不算错误）"
    if not got:
        return False, "模型什么也没有写出来：它在问题后面先写了一个换行。检查提示词最后的答案提示，例如 'Answer: '。"
    if entry.answer is None:
        return True, f"{short(got)}（这一条没有标准答案：写出了内容即可）"
    if same_answer(got, entry.answer):
        return True, f"{short(got)}（与标准答案一致）"
    return True, f"{short(got)}，标准答案是 {short(entry.answer)}（答案只作参考，见下面的说明）"


@check("练习 3 检查：Phi-1.5 的单样本提示词（遇到换行就停止）",
       success="提示词的结构对了：示例、换行、问题，最后是答案提示。")
def check_phi_one_shot(outcome: Outcome, fn, model, tokenizer) -> None:
    """Exercise 3 (4.5): ``fn(entry)`` is a one-shot prompt for Phi-1.5, answered up to a newline.

    Judged on the prompt's structure (:func:`phi_prompt_cue`): the example with its answer cue
    and answer, a line break, the question, the same cue at the end. Greedy generation (stopped
    at the first newline) must write something; its answers are shown, not graded: the stand-in
    memorised an answer per question, so a right answer says nothing about the prompt.
    """
    grade_entries(outcome, fn, model, tokenizer, False, _phi_one_shot_entry)
    why = ("替身背下了每道题的答案，答对了也说明不了提示词好不好" if models.is_standin(model)
           else "真实模型的措辞可能不同")
    outcome.info(f"这个检查看的是提示词的结构（示例、换行、问题、答案提示）；答案只作参考：{why}。")
