"""Prefill + decode_step with a KV cache, and the naive baseline (sections 4.2 and 4.4)."""

from __future__ import annotations

import warnings

import pytest
import torch

from dli_seq.models import REGISTRY
from dli_seq import models
from dli_seq.decoding import State, decode_step, greedy_generate, naive_generate, prefill

from conftest import ARCHS

N = 12


def _prompt(model, tok):
    """(keyword arguments for our loops, arguments for model.generate, ids generate returns before the new ones)."""
    if model.config.is_encoder_decoder:
        source = tok.encode("translate English to French: Hello World! How's it going?")
        return dict(encoder_input_ids=source), dict(input_ids=torch.tensor([source])), 1
    prompt = tok.encode("Hello world, this is")
    return dict(input_ids=prompt), dict(input_ids=torch.tensor([prompt])), len(prompt)


def _eos(model):
    return model.generation_config.eos_token_id


@pytest.mark.parametrize("arch", ARCHS)
def test_greedy_matches_model_generate(tiny_models, arch):
    model, tok = tiny_models[arch]
    ours, theirs, skip = _prompt(model, tok)
    expected = model.generate(**theirs, do_sample=False, max_new_tokens=N)[0, skip:].tolist()
    assert greedy_generate(model, **ours, max_new_tokens=N, eos_token_id=_eos(model)) == expected
    assert len(set(expected)) > 2  # the random weights give a varied sequence, not one repeated token


@pytest.mark.parametrize("arch", ARCHS)
def test_naive_loop_gives_the_same_tokens(tiny_models, arch):
    model, tok = tiny_models[arch]
    ours, _, _ = _prompt(model, tok)
    cached = greedy_generate(model, **ours, max_new_tokens=N, eos_token_id=_eos(model))
    assert naive_generate(model, **ours, max_new_tokens=N, eos_token_id=_eos(model)) == cached


@pytest.mark.parametrize("arch", ["t5-base", "flan-t5-large"])
def test_t5_decoder_prefix_matches_generate(tiny_models, arch):
    model, tok = tiny_models[arch]
    source = tok.encode("translate English to French: What's your name?")
    prefix = tok.encode("Bonjour", add_special_tokens=False)
    expected = model.generate(torch.tensor([source]), decoder_input_ids=torch.tensor([[0] + prefix]),
                              do_sample=False, max_new_tokens=N)[0, 1 + len(prefix):].tolist()
    got = greedy_generate(model, prefix, encoder_input_ids=source, max_new_tokens=N, eos_token_id=1)
    assert got == expected
    assert naive_generate(model, prefix, encoder_input_ids=source, max_new_tokens=N, eos_token_id=1) == got


@pytest.mark.parametrize("arch", ARCHS)
def test_cache_grows_by_one_per_step(tiny_models, arch):
    model, tok = tiny_models[arch]
    ours, _, _ = _prompt(model, tok)
    state = prefill(model, **ours)
    assert isinstance(state, State) and state.is_encoder_decoder == model.config.is_encoder_decoder
    start = 1 if model.config.is_encoder_decoder else len(ours["input_ids"])  # T5: just the <pad> start token
    assert state.cache_length == start == len(state.ids)
    assert state.logits.shape == (model.config.vocab_size,) and state.logits.dtype == torch.float32
    for step in range(1, 4):
        assert decode_step(state, int(state.logits.argmax())) is state
        assert state.cache_length == start + step == len(state.ids)
    config = model.config
    layers = getattr(config, "num_decoder_layers", None) or config.num_hidden_layers
    heads = config.num_attention_heads if hasattr(config, "num_attention_heads") else config.num_heads
    head_dim = getattr(config, "d_kv", None) or config.hidden_size // heads
    assert state.kv_shapes == [((1, heads, start + 3, head_dim),) * 2] * layers
    if model.config.is_encoder_decoder:
        assert state.encoder_hidden_states.shape == (1, len(ours["encoder_input_ids"]), config.d_model)
        assert state.encoder_ids.tolist() == ours["encoder_input_ids"]


@pytest.mark.parametrize("arch", ARCHS)
def test_cached_logits_equal_a_full_forward(tiny_models, arch):
    """decode_step's one-position pass gives the same scores as re-reading everything (T5: incl. the LM-head scale)."""
    model, tok = tiny_models[arch]
    ours, _, _ = _prompt(model, tok)
    state = prefill(model, **ours)
    for token in (5, 7, 11):
        decode_step(state, token)
    with torch.inference_mode():
        if model.config.is_encoder_decoder:
            full = model(input_ids=torch.tensor([ours["encoder_input_ids"]]), decoder_input_ids=state.ids[None])
        else:
            full = model(input_ids=state.ids[None])
    torch.testing.assert_close(state.logits, full.logits[0, -1].float(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("arch", ARCHS)
def test_no_warnings_during_generation(tiny_models, arch):
    model, tok = tiny_models[arch]
    ours, _, _ = _prompt(model, tok)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        greedy_generate(model, **ours, max_new_tokens=3)
        naive_generate(model, **ours, max_new_tokens=3)


def test_eos_stops_both_loops(tiny_models):
    model, tok = tiny_models["gpt2"]
    prompt = tok.encode("Hello world, this is")
    tokens = greedy_generate(model, prompt, max_new_tokens=N)
    stop = tokens[3]
    assert greedy_generate(model, prompt, max_new_tokens=N, eos_token_id=stop) == tokens[:tokens.index(stop) + 1]
    assert naive_generate(model, prompt, max_new_tokens=N, eos_token_id=[99999, stop]) == tokens[:tokens.index(stop) + 1]


def test_bad_arguments(tiny_models):
    gpt2, _ = tiny_models["gpt2"]
    t5, _ = tiny_models["t5-base"]
    with pytest.raises(ValueError, match="是空的"):
        prefill(gpt2, [])
    with pytest.raises(ValueError, match="仅解码器模型需要 input_ids"):
        prefill(gpt2)
    with pytest.raises(ValueError, match="仅解码器模型，没有编码器"):
        prefill(gpt2, [1, 2], encoder_input_ids=[3])
    with pytest.raises(ValueError, match="需要 encoder_input_ids"):
        prefill(t5, [1, 2])
    with pytest.raises(ValueError, match="上下文长度"):
        prefill(gpt2, list(range(gpt2.config.n_positions + 1)))
    state = prefill(gpt2, list(range(gpt2.config.n_positions)))
    with pytest.raises(ValueError, match="上下文长度"):
        decode_step(state, 1)
    for bad in (0, -1, 1.5, None):
        with pytest.raises(ValueError, match="max_new_tokens"):
            greedy_generate(gpt2, [1], max_new_tokens=bad)
        with pytest.raises(ValueError, match="max_new_tokens"):
            naive_generate(gpt2, [1], max_new_tokens=bad)


# the shipped stand-ins, by folder name -> lesson model id (from the registry, not a copy of it)
STANDINS = {spec.standin: hub_id for hub_id, spec in REGISTRY.items()}


@pytest.mark.parametrize("folder", list(STANDINS))
def test_standin_greedy_matches_generate(folder, monkeypatch):
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    model, tok = models.load(STANDINS[folder], device="cpu", quiet=True)
    ours, theirs, skip = _prompt(model, tok)
    eos = _eos(model) if _eos(model) is not None else tok.eos_token_id
    expected = model.generate(**theirs, do_sample=False, max_new_tokens=N, eos_token_id=eos)[0, skip:].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = greedy_generate(model, **ours, max_new_tokens=N, eos_token_id=eos)
    assert got == expected
    assert naive_generate(model, **ours, max_new_tokens=N, eos_token_id=eos) == got


# ---- inputs a learner may type: clear errors before any compute -------------------------------

@pytest.fixture
def no_compute(tiny_models):
    """Make any forward pass of the tiny models fail: errors must come before compute."""
    handles = []

    def refuse(module, args, kwargs):
        raise AssertionError("the model ran although the input was invalid")
    for model, _ in tiny_models.values():
        handles.append(model.register_forward_pre_hook(refuse, with_kwargs=True))
    yield
    for handle in handles:
        handle.remove()


def test_batches_dtypes_and_ids_out_of_range(tiny_models, no_compute):
    gpt2, _ = tiny_models["gpt2"]
    t5, _ = tiny_models["t5-base"]
    vocab = gpt2.get_input_embeddings().num_embeddings
    with pytest.raises(ValueError, match="批大小 1"):
        prefill(gpt2, [[1, 2], [3, 4]])  # a real batch is not flattened into one sequence
    with pytest.raises(ValueError, match="批大小 1"):
        greedy_generate(t5, encoder_input_ids=torch.ones(2, 3, dtype=torch.long), max_new_tokens=2)
    for bad_id in (-1, vocab):
        with pytest.raises(ValueError, match=f"token id {bad_id}"):
            prefill(gpt2, [5, bad_id])
        with pytest.raises(ValueError, match=f"token id {bad_id}"):
            naive_generate(t5, encoder_input_ids=[bad_id, 1], max_new_tokens=2)
    for floats in ([1.5, 2.0], torch.tensor([1.0]), [True, False]):
        with pytest.raises(TypeError, match="整数"):
            prefill(gpt2, floats)
    with pytest.raises(TypeError, match="encode"):
        prefill(gpt2, "Hello")


def test_a_batch_of_one_is_accepted(tiny_models):
    gpt2, tok = tiny_models["gpt2"]
    ids = tok("Hello world", return_tensors="pt").input_ids  # shape (1, n)
    assert greedy_generate(gpt2, ids, max_new_tokens=3) == greedy_generate(gpt2, ids[0].tolist(), max_new_tokens=3)


def test_decode_step_checks_the_token(tiny_models):
    gpt2, _ = tiny_models["gpt2"]
    state = prefill(gpt2, [1, 2])
    for bad in (1.5, True, "3"):
        with pytest.raises(TypeError, match="整数"):
            decode_step(state, bad)
    with pytest.raises(ValueError, match="不在词表里"):
        decode_step(state, 10**6)
    assert decode_step(state, torch.tensor(3)).ids.tolist() == [1, 2, 3]


def test_budget_is_checked_up_front(tiny_models, no_compute):
    gpt2, _ = tiny_models["gpt2"]
    t5, _ = tiny_models["t5-base"]
    for loop in (greedy_generate, naive_generate):
        with pytest.raises(ValueError, match="max_new_tokens=1000000000"):
            loop(gpt2, [1, 2, 3], max_new_tokens=10**9)  # used to run a minute, then lose the tokens
        with pytest.raises(ValueError, match="max_new_tokens"):
            loop(t5, encoder_input_ids=[5, 1], max_new_tokens=10**9)  # T5: bounded too (the KV cache's memory)
    with pytest.raises(ValueError, match="仅解码器模型，没有编码器"):
        naive_generate(gpt2, [1, 2], encoder_input_ids=[3], max_new_tokens=2)  # as prefill does


def test_encoder_input_over_the_limit_is_refused_before_the_encoder_runs(tiny_models, no_compute):
    t5, _ = tiny_models["t5-base"]
    too_long = [5] * 513  # the config's n_positions (512) when no tokenizer says otherwise
    for call in (lambda: prefill(t5, encoder_input_ids=too_long),
                 lambda: naive_generate(t5, encoder_input_ids=too_long, max_new_tokens=1),
                 lambda: greedy_generate(t5, encoder_input_ids=too_long, max_new_tokens=1)):
        with pytest.raises(ValueError, match="max_input_tokens"):
            call()


def test_encoder_limit_can_be_raised(tiny_models):
    t5, _ = tiny_models["t5-base"]
    state = prefill(t5, encoder_input_ids=[5] * 600, max_encoder_tokens=600)
    assert state.encoder_hidden_states.shape[1] == 600
