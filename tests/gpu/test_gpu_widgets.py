"""The widgets of sections 4.2-4.4 on CUDA, driven from Python with the stand-ins (issue 13).

The same clicks as tests/test_widgets.py, on models that live on the GPU: the stepper's
tensors must follow the model (candidates, cross-attention, branching), the timing plot must
synchronise CUDA and name the card. Skipped without a CUDA GPU (`make test-gpu` runs them).
"""

from __future__ import annotations

import pytest
import torch

from dli_seq import models
from dli_seq.figures import kv_cache_timing
from dli_seq.streaming import generate_text
from dli_seq.widgets import READY, GenerationStepper

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU: this is part of `make test-gpu` (tests/README.md, GPU section)")

SOURCE = "translate English to French: Hello World! How's it going?"


@pytest.fixture(scope="module")
def on_cuda():
    """lesson model id -> (stand-in model on cuda, tokenizer), loaded once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLI_SEQ_MODELS", "offline")
        loaded = {name: models.load(name, quiet=True) for name in ("gpt2", "t5-base", "microsoft/phi-1_5")}
    assert all(m.device.type == "cuda" for m, _ in loaded.values())  # load() picks cuda by itself
    return loaded


@pytest.mark.parametrize("name", ["gpt2", "t5-base", "microsoft/phi-1_5"])
def test_stepper_steps_branches_and_runs_on_cuda(on_cuda, name):
    model, tok = on_cuda[name]
    enc_dec = model.config.is_encoder_decoder
    s = GenerationStepper(model, tok, "" if enc_dec else "The cat is", encoder_input=SOURCE if enc_dec else None,
                          max_new_tokens=8)
    assert READY in s.status.value
    start = s.generation.state.cache_length
    first = s.step()
    assert s.generation.state.cache_length == start + 1 and "设备：cuda" in s.info.value
    second_choice = s.candidates[1][0]
    s.choose(1)  # branch: the second candidate becomes the next token
    assert s.steps[-1].token_id == second_choice
    s.run()
    assert s.generation.done and 2 <= len(s.steps) <= 8 and s.steps[0].token_id == first.token_id
    if enc_dec:  # the cross-attention row over the encoder tokens comes back from the GPU
        row = s.cross_attention_row
        assert row is not None and abs(float(row.sum()) - 1.0) < 1e-3
    s.reset()
    assert not s.steps and s.generation.state.cache_length == start


def test_stepper_matches_the_streamer_on_cuda(on_cuda):
    model, tok = on_cuda["gpt2"]
    s = GenerationStepper(model, tok, "The cat is", max_new_tokens=10)
    s.run()
    text = tok.decode([st.token_id for st in s.steps], skip_special_tokens=True)
    assert text == generate_text(model, tok, "The cat is", max_new_tokens=10)
    assert generate_text(model, tok, "The cat is", max_new_tokens=10, fast=True) == text


@pytest.mark.parametrize("name", ["gpt2", "t5-base"])
def test_kv_cache_timing_on_cuda(on_cuda, name):
    model, tok = on_cuda[name]
    enc_dec = model.config.is_encoder_decoder
    result = kv_cache_timing(model, tok, "" if enc_dec else "The cat is sleeping on the",
                             encoder_input=SOURCE if enc_dec else None, max_new_tokens=8)
    assert len(result.naive_ms) == len(result.cached_ms) == 8
    assert all(t > 0 for t in result.naive_ms + result.cached_ms)
    assert result.device.startswith("cuda (") and torch.cuda.get_device_name() in result.figure.axes[0].get_title()
