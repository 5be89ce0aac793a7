"""kv_cache_timing's bound and progress, and stepper.set_model's tokenizer check (section 4.2; issue 11)."""

from __future__ import annotations

import pytest

from dli_seq.widgets import GenerationStepper, kv_cache_timing


def test_kv_cache_timing_bounds_the_quadratic_naive_loop(tiny_models, capsys):
    """max_new_tokens=250 used to run 118 s with no progress: now refused up front, with the way out."""
    model, tok = tiny_models["t5-base"]  # no context limit: only the work bound stops it
    with pytest.raises(ValueError, match="max_positions=None") as err:
        kv_cache_timing(model, tok, encoder_input="Hello", max_new_tokens=250, plot=False)
    assert "max_new_tokens" in str(err.value)
    with pytest.raises(ValueError, match="repeats"):  # repeats multiply the work
        kv_cache_timing(model, tok, encoder_input="Hello", max_new_tokens=60, repeats=20, plot=False)


def test_kv_cache_timing_shows_progress_when_asked_or_when_long(tiny_models, capsys):
    model, tok = tiny_models["gpt2"]
    kv_cache_timing(model, tok, "Hello world", max_new_tokens=4, plot=False)
    assert "kv_cache_timing" not in capsys.readouterr().err  # small runs (the lesson's) stay quiet
    result = kv_cache_timing(model, tok, "Hello world", max_new_tokens=4, plot=False, progress=True)
    assert "kv_cache_timing" in capsys.readouterr().err and len(result.naive_ms) == 4
    result = kv_cache_timing(model, tok, "Hello world", max_new_tokens=3, plot=False, max_positions=None)
    assert len(result.cached_ms) == 3


def test_set_model_checks_the_tokenizer(tiny_models):
    gpt2, gpt2_tok = tiny_models["gpt2"]
    t5, t5_tok = tiny_models["t5-base"]
    phi, _ = tiny_models["phi-1_5"]
    stepper = GenerationStepper(gpt2, gpt2_tok, prompt="Hello")
    stepper.set_model(t5)  # GPT-2's tokenizer would be kept for T5: the status line says what to do
    assert "set_model(model, tokenizer)" in stepper.status.value
    assert stepper.model is gpt2 and stepper.tokenizer is gpt2_tok  # nothing changed
    stepper.set_model(t5, gpt2_tok)
    assert "不是同一个模型" in stepper.status.value and stepper.model is gpt2
    stepper.set_model(t5, t5_tok)
    assert stepper.model is t5 and stepper.tokenizer is t5_tok
    stepper.set_model(phi, gpt2_tok)  # Phi-1.5 reads GPT-2's vocabulary: a valid pair
    assert stepper.model is phi
