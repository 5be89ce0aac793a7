"""The fast path (dli_seq/fastpath.py): static cache gives the same tokens; CUDA graphs on CUDA only."""

from __future__ import annotations

import pytest
import torch

from dli_seq import decoding, fastpath
from dli_seq.models import REGISTRY
from dli_seq.streaming import Generation, stream_steps

from conftest import ARCHS

N = 12
CUDA = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="CUDA graphs need a CUDA GPU; on a GPU machine run `make test-gpu` (tests/README.md)")


def _ids(model, tok):
    if model.config.is_encoder_decoder:
        return dict(encoder_input_ids=tok.encode("translate English to French: Hello World! How's it going?"))
    return dict(input_ids=tok.encode("Hello world, this is"))


def _eos(model):
    return model.generation_config.eos_token_id


@pytest.mark.parametrize("arch", ARCHS)
def test_static_cache_gives_the_eager_greedy_tokens(tiny_models, arch, capsys):
    model, tok = tiny_models[arch]
    eager = decoding.greedy_generate(model, **_ids(model, tok), max_new_tokens=N, eos_token_id=_eos(model))
    fast = fastpath.greedy_generate(model, **_ids(model, tok), max_new_tokens=N, eos_token_id=_eos(model))
    assert fast == eager and len(set(eager)) > 2
    state = fastpath.prefill(model, **_ids(model, tok), max_new_tokens=N)
    assert isinstance(state, fastpath.FastState) and state.mode == "static-cache"
    assert "GPU" in state.reason and state.warmup_s == 0.0 and state.prefill_s > 0


@pytest.mark.parametrize("arch", ["t5-base", "flan-t5-large"])
def test_t5_decoder_prefix_on_the_fast_path(tiny_models, arch):
    model, tok = tiny_models[arch]
    source = tok.encode("translate English to French: What's your name?")
    prefix = tok.encode("Bonjour", add_special_tokens=False)
    eager = decoding.greedy_generate(model, prefix, encoder_input_ids=source, max_new_tokens=N, eos_token_id=1)
    assert fastpath.greedy_generate(model, prefix, encoder_input_ids=source, max_new_tokens=N, eos_token_id=1) == eager


@pytest.mark.parametrize("arch", ["gpt2", "t5-base"])
def test_fast_state_looks_like_a_state(tiny_models, arch):
    model, tok = tiny_models[arch]
    slow = decoding.prefill(model, **_ids(model, tok))
    fast = fastpath.prefill(model, **_ids(model, tok), max_new_tokens=4)
    for _ in range(3):
        token = int(slow.logits.argmax())
        assert int(fast.logits.argmax()) == token
        torch.testing.assert_close(fast.logits, slow.logits, rtol=1e-4, atol=1e-4)
        decoding.decode_step(slow, token)
        fastpath.decode_step(fast, token)
        assert fast.cache_length == slow.cache_length and fast.kv_shapes == slow.kv_shapes
        assert fast.ids.tolist() == slow.ids.tolist()
    fastpath.decode_step(fast, 5)  # the fourth and last position
    with pytest.raises(ValueError, match="静态缓存只有 .* 个位置，已经用满"):
        fastpath.decode_step(fast, 5)


@pytest.mark.parametrize("arch", ARCHS)
def test_generation_fast_gives_the_same_steps(tiny_models, arch):
    model, tok = tiny_models[arch]
    text = dict(encoder_input="translate English to French: Hello World!") if model.config.is_encoder_decoder \
        else dict(prompt="Hello world,")
    slow = list(stream_steps(model, tok, max_new_tokens=N, **text))
    fast = list(stream_steps(model, tok, max_new_tokens=N, fast=True, **text))
    assert [(s.token_id, s.text, s.cache_length, s.finish_reason) for s in fast] == \
        [(s.token_id, s.text, s.cache_length, s.finish_reason) for s in slow]
    assert [t for t, _, _ in fast[0].top] == [t for t, _, _ in slow[0].top]
    # branching (a forced token) works the same on the fast path
    forced = {2: fast[2].top[1][0]}
    a = [s.token_id for s in stream_steps(model, tok, max_new_tokens=6, force=forced.get, eos=False, **text)]
    b = [s.token_id for s in stream_steps(model, tok, max_new_tokens=6, force=forced.get, eos=False, fast=True, **text)]
    assert a == b and a[2] == forced[2]


def test_unsupported_model_falls_back_with_one_line(tiny_models, monkeypatch, capsys):
    model, tok = tiny_models["gpt2"]
    monkeypatch.setattr(model, "_can_compile_fullgraph", False)
    monkeypatch.setattr(fastpath, "_told", set())
    gen = Generation(model, tok, "Hello world,", max_new_tokens=N, fast=True)
    assert type(gen.state) is decoding.State  # the dynamic cache, as without fast=True
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "不支持静态 KV 缓存" in out[0]
    eager = decoding.greedy_generate(model, **_ids(model, tok), max_new_tokens=N, eos_token_id=_eos(model))
    assert fastpath.greedy_generate(model, **_ids(model, tok), max_new_tokens=N, eos_token_id=_eos(model)) == eager
    assert capsys.readouterr().out == ""  # said once


def test_bad_arguments(tiny_models):
    model, tok = tiny_models["gpt2"]
    with pytest.raises(ValueError, match="max_new_tokens"):
        fastpath.prefill(model, [1, 2], max_new_tokens=0)
    with pytest.raises(ValueError, match="超过了模型的上下文长度（96 个位置）"):
        fastpath.prefill(model, list(range(90)), max_new_tokens=10)
    with pytest.raises(ValueError, match="仅解码器模型，没有编码器"):
        fastpath.prefill(model, [1, 2], encoder_input_ids=[3], max_new_tokens=2)
    t5, _ = tiny_models["t5-base"]
    with pytest.raises(ValueError, match="encoder_input_ids"):
        fastpath.prefill(t5, [1, 2], max_new_tokens=2)


@pytest.mark.parametrize("arch", ["t5-base", "phi-1_5"])  # GPT-2's step is a subset of Phi's (no rotary)
def test_decode_step_traces_as_one_graph(tiny_models, arch):
    """A CPU stand-in for 'can be recorded as a CUDA graph': torch.compile(fullgraph=True) of one
    static-cache step must not break the graph (a break means Python reads a tensor's value,
    which a recorded graph would freeze)."""
    model, tok = tiny_models[arch]
    state = fastpath.prefill(model, **_ids(model, tok), max_new_tokens=4, graph=False)
    token = torch.zeros((1, 1), dtype=torch.long)
    step = torch.compile(lambda t: fastpath.decoder_logits(model, t, state.cache, state.encoder_hidden_states),
                         backend="eager", fullgraph=True)
    with torch.inference_mode():
        logits = step(token)
    assert logits.shape[-1] == model.config.vocab_size
    torch._dynamo.reset()


STANDINS = {spec.standin: hub_id for hub_id, spec in REGISTRY.items()}


@pytest.mark.parametrize("folder", ["gpt2", "t5-base", "phi-1_5"])
def test_standin_fast_path_gives_the_same_text(folder, monkeypatch):
    from dli_seq import models

    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    model, tok = models.load(STANDINS[folder], device="cpu", quiet=True)
    text = dict(encoder_input="translate English to French: The cat is sleeping.") if model.config.is_encoder_decoder \
        else dict(prompt="The cat is sleeping on the")
    slow = [(s.token_id, s.text) for s in stream_steps(model, tok, max_new_tokens=24, eos=False, **text)]
    fast = [(s.token_id, s.text) for s in stream_steps(model, tok, max_new_tokens=24, eos=False, fast=True, **text)]
    assert fast == slow


# ---- CUDA only: the recorded graph ------------------------------------------------------------

@CUDA
@pytest.mark.parametrize("arch", ARCHS)
def test_cuda_graph_gives_the_eager_greedy_tokens(tiny_models, arch):
    model, tok = tiny_models[arch]
    model = model.to("cuda")
    try:
        eager = decoding.greedy_generate(model, **_ids(model, tok), max_new_tokens=N, eos_token_id=_eos(model))
        state = fastpath.prefill(model, **_ids(model, tok), max_new_tokens=N)
        assert state.mode == "cuda-graph", state.reason
        assert state.warmup_s > 0
        fast = fastpath.greedy_generate(model, **_ids(model, tok), max_new_tokens=N, eos_token_id=_eos(model))
        assert fast == eager
    finally:
        model.to("cpu")
