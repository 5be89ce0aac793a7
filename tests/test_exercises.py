"""Section 4.5's exercise checks: they reject stubs and broken answers clearly, accept the reference solutions.

The reference solutions live in ``notebooks/solutions/04-5_solutions.ipynb``; minimal copies are
written out here so the checks are tested without running a notebook. Rejections are tested on
tiny random models (conftest); acceptance needs the trained stand-ins, which answer the two
graded entries correctly only when the prompt has the format they were trained on.
"""

from __future__ import annotations

import pytest

from dli_seq import exercises, lesson, models

from conftest import _tiny

STANDINS = ("flan-t5-large", "phi-1_5")


# --- reference solutions (minimal copies of the solutions notebook) ---------------------------

def one_shot_solution(entry):
    return f"{entry.premise}: {entry.shot_question}\nAnswer: {entry.shot_answer}\n\n{entry.premise}: {entry.question}"


def decoder_only_solution(entry):
    example = f"{entry.premise}: {entry.shot_question}\nAnswer: {entry.shot_answer}"
    return {"encoder_input": "</s>", "decoder_input": f"{example}\n\n{entry.premise}: {entry.question}\nAnswer:"}


def phi_one_shot_solution(entry):
    return (lesson.answer_prompt(entry.premise, entry.shot_question) + entry.shot_answer + "\n\n"
            + lesson.answer_prompt(entry.premise, entry.question))


# --- broken answers ------------------------------------------------------------------------------

def returns_none(entry):
    return None


def not_implemented(entry):
    raise NotImplementedError


def crashes(entry):
    return entry.no_such_field


def zero_shot_only(entry):  # forgets the worked example
    return lesson.zero_shot(entry.premise, entry.question)


CHECKS = {
    "flan_one_shot": (exercises.check_flan_one_shot, "flan-t5-large"),
    "flan_decoder_only": (exercises.check_flan_decoder_only, "flan-t5-large"),
    "phi_one_shot": (exercises.check_phi_one_shot, "phi-1_5"),
}


@pytest.fixture(scope="module")
def tiny(t5_tokenizer, gpt2_tokenizer):
    """Random-weight models of the right classes (never stand-ins: answers are not graded on them)."""
    return {"flan-t5-large": (_tiny("flan-t5-large", len(t5_tokenizer)), t5_tokenizer),
            "phi-1_5": (_tiny("phi-1_5", len(gpt2_tokenizer)), gpt2_tokenizer)}


def run_check(capsys, check, fn, model, tokenizer):
    passed = check(fn, model, tokenizer)
    out = capsys.readouterr().out
    assert isinstance(passed, bool)
    return passed, out


# --- rejections: never raise, one clear line ----------------------------------------------------

@pytest.mark.parametrize("name", list(CHECKS))
@pytest.mark.parametrize("fn, expected", [
    (returns_none, "返回了 None"),
    (not_implemented, "NotImplementedError"),
    (crashes, "AttributeError"),
    (42, "第一个参数应该是你写的函数"),
], ids=["None", "NotImplementedError", "exception", "not-callable"])
def test_checks_reject_stubs_and_errors_with_a_clear_message(capsys, tiny, name, fn, expected):
    check, model_name = CHECKS[name]
    model, tokenizer = tiny[model_name]
    passed, out = run_check(capsys, check, fn, model, tokenizer)
    assert not passed
    assert expected in out
    assert "还没通过" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("name", list(CHECKS))
def test_checks_reject_the_wrong_kind_of_model(capsys, tiny, name):
    check, model_name = CHECKS[name]
    other = "phi-1_5" if model_name == "flan-t5-large" else "flan-t5-large"
    passed, out = run_check(capsys, check, one_shot_solution, *tiny[other])
    assert not passed and "模型类型不对" in out
    passed, out = run_check(capsys, check, one_shot_solution, "not a model", tiny[model_name][1])
    assert not passed and "第二个参数应该是模型" in out


def test_one_shot_checks_require_the_worked_example(capsys, tiny):
    passed, out = run_check(capsys, exercises.check_flan_one_shot, zero_shot_only, *tiny["flan-t5-large"])
    assert not passed and "示例问题" in out and "示例答案" in out
    prompt = lambda e: lesson.answer_prompt(e.premise, e.question)  # noqa: E731
    passed, out = run_check(capsys, exercises.check_phi_one_shot, prompt, *tiny["phi-1_5"])
    assert not passed and "缺少" in out


def test_phi_check_wants_the_example_before_the_question(capsys, tiny):
    def example_last(entry):
        return (lesson.answer_prompt(entry.premise, entry.question)
                + lesson.answer_prompt(entry.premise, entry.shot_question) + entry.shot_answer)
    passed, out = run_check(capsys, exercises.check_phi_one_shot, example_last, *tiny["phi-1_5"])
    assert not passed and "前面" in out


@pytest.mark.parametrize("answer, expected", [
    (lambda e: one_shot_solution(e), "而不是一个字符串"),
    (lambda e: {"encoder_input": "", "decoder_input": one_shot_solution(e)}, "'</s>'"),
    (lambda e: {"encoder_input": e.question, "decoder_input": one_shot_solution(e)}, "编码器输入里不应再有问题"),
    (lambda e: {"encoder_input": "one two three four five six seven eight nine ten eleven twelve thirteen",
                "decoder_input": one_shot_solution(e)}, "太多了"),
    (lambda e: {"encoder_input": "</s>", "decoder_input": lesson.zero_shot(e.premise, e.question)}, "解码器前缀里缺少"),
    (lambda e: {"encoder_input": "</s>", "decoder": "x"}, "未知的键"),
], ids=["string", "empty-encoder", "question-in-encoder", "long-encoder", "no-example", "bad-key"])
def test_decoder_only_check_explains_each_mistake(capsys, tiny, answer, expected):
    passed, out = run_check(capsys, exercises.check_flan_decoder_only, answer, *tiny["flan-t5-large"])
    assert not passed and expected in out


def test_random_models_are_not_graded_on_answers(capsys, tiny):
    """Off the stand-ins (e.g. the real hub model), a different answer is reported but does not fail."""
    model, tokenizer = tiny["flan-t5-large"]
    assert not exercises.is_standin(model)
    passed, out = run_check(capsys, exercises.check_flan_one_shot, one_shot_solution, model, tokenizer)
    assert passed and "不算错误" in out
    passed, out = run_check(capsys, exercises.check_flan_decoder_only, decoder_only_solution, model, tokenizer)
    assert passed and out.count("✓") == len(lesson.EVAL_SET)


# --- acceptance on the shipped stand-ins ---------------------------------------------------------

@pytest.fixture(scope="module")
def standins():
    missing = [n for n in STANDINS if not (models.STANDIN_DIR / n / "config.json").is_file()]
    if missing:
        pytest.skip(f"stand-ins not trained yet: {missing}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLI_SEQ_MODELS", "offline")
        return {n: models.load(n, device="cpu", quiet=True) for n in STANDINS}


@pytest.mark.parametrize("name, fn", [
    ("flan_one_shot", one_shot_solution),
    ("flan_decoder_only", decoder_only_solution),
    ("phi_one_shot", phi_one_shot_solution),
])
def test_reference_solutions_pass_on_the_standins(capsys, standins, name, fn):
    check, model_name = CHECKS[name]
    model, tokenizer = standins[model_name]
    assert exercises.is_standin(model)
    passed, out = run_check(capsys, check, fn, model, tokenizer)
    assert passed, out
    assert "通过 ✅" in out and "✗" not in out


def test_library_prompt_builders_are_valid_answers(capsys, standins):
    def flan(e):
        return lesson.one_shot(e.premise, e.question, e.shot_question, e.shot_answer)

    def phi(e):
        return lesson.one_shot_answer_prompt(e.premise, e.question, e.shot_question, e.shot_answer)
    assert run_check(capsys, exercises.check_flan_one_shot, flan, *standins["flan-t5-large"])[0]
    assert run_check(capsys, exercises.check_phi_one_shot, phi, *standins["phi-1_5"])[0]
    assert flan(lesson.EVAL_SET[0]) == one_shot_solution(lesson.EVAL_SET[0])
    assert phi(lesson.EVAL_SET[0]) == phi_one_shot_solution(lesson.EVAL_SET[0])


# --- helpers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("got, expected, same", [
    ("El libro está en la mesa.", "El libro está en la mesa.", True),
    ("  el libro  está en la mesa ", "El libro está en la mesa.", True),
    ("12", "12.", True),
    ("144", "12.", False),
    (None, "12.", False),
])
def test_answer_comparison_ignores_case_spaces_and_final_period(got, expected, same):
    assert exercises.same_answer(got, expected) is same


def test_table_renders_html_and_aligned_text():
    t = exercises.table(["#", "提示词", "输出"], [[1, "<b>x</b>", None], [2, "a\nb", "中文" * 30]], width=12)
    html = t._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "a<br>b" in html and html.count("<tr>") == 3
    lines = repr(t).splitlines()
    assert len(lines) == 4 and lines[1].startswith("--")
    second_bar = [exercises._display_width(line[: line.index(" | ", 2)]) for line in (lines[0], lines[3])]
    assert second_bar[0] == second_bar[1], "CJK text counts two columns, so columns line up"
    assert lines[2] == "1 | <b>x</b> |", "an empty last cell leaves no trailing blanks"
    assert "…" in lines[3] and "a⏎b" in lines[3]
