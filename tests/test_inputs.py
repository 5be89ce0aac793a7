"""dli_seq.inputs: every limit and argument check once, the same answer from every entry point."""

from __future__ import annotations

import logging

import pytest
import torch

from dli_seq import decoding, fastpath, inputs
from dli_seq.streaming import Generation, generate_text, get_token_generator, stream_steps


def prompt_of(tok, n: int) -> str:
    """A prompt that tokenizes to exactly n tokens with this tokenizer (GPT-2: " a" is one token)."""
    text = "a" + " a" * (n - 1)
    assert len(tok.encode(text)) == n
    return text


def accepts(make) -> bool:
    try:
        make()
        return True
    except ValueError as err:
        assert "上下文长度" in str(err) or "上限" in str(err), err
        return False


@pytest.mark.parametrize("back", [0, 1, 5])
def test_every_entry_point_accepts_the_same_budget(tiny_models, back):
    """greedy_generate, naive_generate, Generation (eager and fast) and the stepper agree at the limit
    and one past it."""
    from dli_seq.widgets import READY, GenerationStepper

    model, tok = tiny_models["gpt2"]
    limit = inputs.decoder_limit(model)  # 96 positions
    n = limit - 10 - back
    text = prompt_of(tok, n)
    ids = tok.encode(text)
    for max_new in (inputs.budget_left(model, n) - 1, inputs.budget_left(model, n), inputs.budget_left(model, n) + 1):
        answers = {
            "greedy": accepts(lambda: decoding.prefill(model, ids, max_new_tokens=max_new)),
            "naive": accepts(lambda: inputs.prepare(model, ids, None, max_new_tokens=max_new)),
            "generation": accepts(lambda: Generation(model, tok, text, max_new_tokens=max_new)),
            "fast": accepts(lambda: Generation(model, tok, text, max_new_tokens=max_new, fast=True)),
        }
        stepper = GenerationStepper(model, tok, text, max_new_tokens=1)
        answers["stepper box"] = max_new <= stepper.max_new.max
        stepper.max_new.max = 4096  # what if the box allowed it: does Reset take it?
        stepper.max_new.value = max_new
        stepper.reset()
        answers["stepper reset"] = READY in stepper.status.value
        stepper.close()
        assert len(set(answers.values())) == 1, (n, max_new, answers)
        assert answers["greedy"] == (max_new <= limit - n + 1)


def test_the_budget_counts_positions_fed_not_tokens_chosen(tiny_models):
    """At the budget's edge generation runs to the end: the last new token is chosen, never fed."""
    model, tok = tiny_models["gpt2"]
    limit = inputs.decoder_limit(model)
    text = prompt_of(tok, limit - 4)
    steps = list(stream_steps(model, tok, text, max_new_tokens=5, eos=False))
    assert len(steps) == 5
    assert len(decoding.greedy_generate(model, tok.encode(text), max_new_tokens=5)) <= 5
    with pytest.raises(ValueError, match="最多 5"):
        Generation(model, tok, text, max_new_tokens=6)


def test_t5_budget_counts_the_start_token(tiny_models):
    model, tok = tiny_models["t5-base"]
    assert inputs.decoder_length(model, [5, 6]) == 3
    assert inputs.budget_left(model, 3) == inputs.MAX_DECODER_POSITIONS - 2


def test_fast_path_honours_max_input_tokens(tiny_models):
    """A long T5 source with max_input_tokens is accepted by the fast path too (it was refused)."""
    model, tok = tiny_models["t5-base"]
    source = " ".join(["Hello World!"] * 400)
    n = len(tok.encode(source))
    assert n > inputs.encoder_limit(model, tok)
    with pytest.raises(ValueError, match="max_input_tokens"):
        Generation(model, tok, encoder_input=source, max_new_tokens=2, fast=True)
    eager = Generation(model, tok, encoder_input=source, max_new_tokens=2, max_input_tokens=n)
    fast = Generation(model, tok, encoder_input=source, max_new_tokens=2, max_input_tokens=n, fast=True)
    assert [eager.next().token_id for _ in range(2)] == [fast.next().token_id for _ in range(2)]
    with pytest.raises(ValueError, match="max_input_tokens"):
        Generation(model, tok, encoder_input=source, max_new_tokens=2, max_input_tokens=n - 1, fast=True)


def test_a_stop_string_may_begin_in_the_prompt(tiny_models):
    """Prompt "Hello", stop "lo wo", new " world": the stop straddles prompt and new text and ends it."""
    model, tok = tiny_models["gpt2"]
    world = tok.encode(" world")
    assert len(world) == 1
    steps = list(stream_steps(model, tok, "Hello", max_new_tokens=5, stop_strings=["lo wo"],
                              force=lambda i: world[0]))
    assert len(steps) == 1 and steps[-1].finish_reason == "stop_string"
    assert "".join(s.text for s in steps) == ""
    # a stop string wholly inside the prompt does not stop anything
    steps = list(stream_steps(model, tok, "Hello", max_new_tokens=3, stop_strings=["ell"], force=lambda i: world[0]))
    assert len(steps) == 3 and steps[-1].finish_reason == "max_new_tokens"


def test_eos_token_id_is_checked(tiny_models):
    model, tok = tiny_models["gpt2"]
    ids = tok.encode("Hello")
    with pytest.raises(TypeError, match="eos_token_id"):
        decoding.greedy_generate(model, ids, max_new_tokens=3, eos_token_id="x")
    with pytest.raises(TypeError, match="eos_token_id"):
        decoding.naive_generate(model, ids, max_new_tokens=3, eos_token_id=[1, "x"])
    first = decoding.greedy_generate(model, ids, max_new_tokens=3)[0]
    for eos in (first, torch.tensor(first), torch.tensor([first]), [first], (first,)):
        assert decoding.greedy_generate(model, ids, max_new_tokens=3, eos_token_id=eos) == [first]
        assert fastpath.greedy_generate(model, ids, max_new_tokens=3, eos_token_id=eos) == [first]


def test_force_must_be_a_function(tiny_models):
    model, tok = tiny_models["gpt2"]
    with pytest.raises(TypeError, match="force 应是一个函数"):
        stream_steps(model, tok, "Hello", max_new_tokens=3, force=5)


def test_swapped_model_and_tokenizer_are_refused_at_once(tiny_models):
    model, tok = tiny_models["gpt2"]
    with pytest.raises(TypeError, match="顺序反了"):
        get_token_generator(tok, model)
    with pytest.raises(TypeError, match="顺序反了"):
        Generation(tok, model, "Hello")
    with pytest.raises(TypeError, match="model 应是"):
        get_token_generator("gpt2", tok)
    with pytest.raises(ValueError, match="max_tokens"):
        get_token_generator(model, tok, max_tokens=0)


def test_an_over_long_prompt_gets_only_the_chinese_error(tiny_models, capsys, caplog):
    """No transformers "Token indices sequence length ..." warning before our message."""
    model, tok = tiny_models["t5-base"]
    caplog.set_level(logging.WARNING)
    source = " ".join(["Hello World!"] * 400)
    with pytest.raises(ValueError, match="编码器输入"):
        generate_text(model, tok, encoder_input=source, max_new_tokens=2)
    gpt2, gtok = tiny_models["gpt2"]
    with pytest.raises(ValueError, match="上下文长度"):
        generate_text(gpt2, gtok, "word " * 3000, max_new_tokens=2)
    out = capsys.readouterr()
    assert "Token indices" not in out.out + out.err + caplog.text


@pytest.mark.parametrize("value", [0, -1, True, 2.0, "3"])
def test_positive_int_is_one_rule(value):
    with pytest.raises(ValueError, match="n_things 应是正整数"):
        inputs.positive_int(value, "n_things")
