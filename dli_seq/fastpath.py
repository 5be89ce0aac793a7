"""A faster decode loop for GPUs: a static KV cache and a CUDA graph per step (4.2, 4.4 extension).

On a GPU, one decode step of the lesson's loop launches hundreds of small kernels, and
Python's time to launch them is larger than the GPU's time to run them. The fast path removes
that overhead in two moves, without changing a single token:

1. **Static cache**: the KV cache is allocated once for all positions the generation can
   reach (prompt + ``max_new_tokens``; for T5 the cross-attention cache is the encoder's
   length), and each step writes its key and value in place. Tensor shapes and addresses no
   longer change from step to step. Attention runs over the whole buffer, with the positions
   not yet written masked out.
2. **CUDA graph** (CUDA only): the kernels of one decode step are recorded once
   (``torch.cuda.CUDAGraph``) and then replayed per token with a single launch. The step's only
   input, the new token id, is written into a fixed input buffer before each replay.

``prefill`` returns a :class:`FastState` (a :class:`~dli_seq.decoding.State`), and
``decode_step`` advances it: the same two verbs as :mod:`dli_seq.decoding`. Ask for it with
``Generation(..., fast=True)`` (and ``stream``/``generate_text``, which pass options on).
Where it cannot apply it says why in one line and falls back: on a CPU (no CUDA graphs) the
static cache still runs, eagerly; a model without static-cache support uses the usual
dynamic cache. Capture time is kept apart: ``state.warmup_s`` (prefill: ``state.prefill_s``).

Greedy tokens are the same as the eager dynamic-cache loop's (tests/test_fastpath.py on the CPU,
tests/gpu/ on CUDA); the logits may differ in the last bits, since attention sums over a
masked, longer buffer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from transformers import EncoderDecoderCache, StaticCache

from . import decoding, inputs
from .decoding import State, cache_argument

_told: set[tuple[str, str]] = set()  # (model class, reason) already reported: one line, once


@dataclass
class FastState(State):
    """A :class:`State` whose cache is static; ``mode`` is "cuda-graph" or "static-cache" (4.2 extension).

    ``reason`` says why no CUDA graph is used (None when one is); ``warmup_s`` is the time spent
    recording the graph, ``prefill_s`` the time reading the prompt; ``max_length`` is how many
    decoder positions the cache holds.
    """

    mode: str = "static-cache"
    reason: str | None = None
    max_length: int = 0
    prefill_s: float = 0.0
    warmup_s: float = 0.0
    _graph: object | None = field(default=None, repr=False)
    _token: torch.Tensor | None = field(default=None, repr=False)  # the graph's input: (1, 1) token id
    _out: torch.Tensor | None = field(default=None, repr=False)  # the graph's output logits

    @property
    def cache_length(self) -> int:
        """Decoder positions written so far (the buffer itself is ``max_length`` long)."""
        return len(self.ids)

    @property
    def kv_shapes(self) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        """Shapes of the written part of each layer's keys and values, as for the dynamic cache."""
        return [((*layer.keys.shape[:2], self.cache_length, layer.keys.shape[3]),
                 (*layer.values.shape[:2], self.cache_length, layer.values.shape[3]))
                for layer in self.self_attention_cache.layers]


def unsupported_reason(model) -> str | None:
    """Why this model cannot use a static cache, or None if it can (transformers' own flag)."""
    if not getattr(model, "_can_compile_fullgraph", False):
        return f"{type(model).__name__} 不支持静态 KV 缓存"
    return None


def graph_reason(model) -> str | None:
    """Why the decode step cannot be recorded as a CUDA graph here, or None if it can."""
    if model.device.type != "cuda":
        return f"CUDA 图只能在 GPU 上录制（模型在 {model.device.type} 上），这里用静态缓存逐步解码"
    return None


def notice(model, reason: str) -> None:
    """Print the one-line reason for a fallback, once per model class and reason."""
    key = (type(model).__name__, reason)
    if key not in _told:
        _told.add(key)
        print(f"[dli-seq] 快速路径：{reason}。")


_CACHE_ARG: dict = {}  # model class -> the forward argument that takes the cache (filled by the eager prefill)


def decoder_logits(model, ids: torch.Tensor, cache, encoder_hidden_states) -> torch.Tensor:
    """Decoder forward over ``ids`` (shape (1, n), on the model's device): the logits, for the static cache (4.2 extension)."""
    # `cache` (`past_key_values` in 5.17); a plain dict read, as an lru_cache call inside a compiled graph warns
    kw = {_CACHE_ARG.get(type(model)) or _CACHE_ARG.setdefault(type(model), cache_argument(type(model))): cache}
    if model.config.is_encoder_decoder:
        out = model(encoder_outputs=(encoder_hidden_states,), decoder_input_ids=ids, use_cache=True, **kw)
    else:
        out = model(input_ids=ids, use_cache=True, logits_to_keep=1, **kw)
    return out.logits


def _lengths(state: State) -> list[torch.Tensor]:
    return [layer.cumulative_length for layer in state.self_attention_cache.layers]


def _record_graph(state: FastState) -> None:
    """Record one decode step as a CUDA graph (the recipe of torch.cuda.graphs' documentation).

    Warm-up steps on a side stream let lazy initialisations happen outside the recording. They
    write a token id 0 at the next position(s); the write counters are put back afterwards, so the
    real steps overwrite those slots before anything reads them (positions past the current one
    are masked out). Recording itself launches nothing.
    """
    model = state.model
    token = torch.zeros((1, 1), dtype=torch.long, device=model.device)
    saved = [n.clone() for n in _lengths(state)]
    try:
        side = torch.cuda.Stream(device=model.device)
        side.wait_stream(torch.cuda.current_stream(model.device))
        with torch.cuda.stream(side):
            for _ in range(2):
                decoder_logits(model, token, state.cache, state.encoder_hidden_states)
        torch.cuda.current_stream(model.device).wait_stream(side)
        for n, before in zip(_lengths(state), saved):
            n.copy_(before)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = decoder_logits(model, token, state.cache, state.encoder_hidden_states)
    finally:  # the cache's write positions are as after prefill, whatever happened
        for n, before in zip(_lengths(state), saved):
            n.copy_(before)
        torch.cuda.synchronize(model.device)
    state._graph, state._token, state._out = graph, token, out


@torch.inference_mode()
def prefill(model, input_ids=None, *, encoder_input_ids=None, max_new_tokens: int, graph: bool | None = None,
            max_encoder_tokens: int | None = None):
    """Read the prompt into a static cache sized for ``max_new_tokens`` more tokens (4.2, 4.4 extension).

    ``graph=None`` records the decode step as a CUDA graph where it can (CUDA), ``False`` never.
    Returns a :class:`FastState`; for a model without static-cache support, a plain
    :class:`~dli_seq.decoding.State` from :func:`dli_seq.decoding.prefill` (after a one-line notice).
    Arguments are checked as in the eager loop (:func:`dli_seq.inputs.prepare`).
    """
    limits = dict(max_encoder_tokens=max_encoder_tokens, max_new_tokens=inputs.check_max_new_tokens(max_new_tokens))
    if (reason := unsupported_reason(model)) is not None:
        notice(model, reason + "，改用动态 KV 缓存")
        return decoding.prefill(model, input_ids, encoder_input_ids=encoder_input_ids, **limits)
    started = time.perf_counter()
    enc = model.config.is_encoder_decoder
    ids, encoder_ids = inputs.prepare(model, input_ids, encoder_input_ids, **limits)
    decoder_config = model.config.get_text_config(decoder=True)
    cache = StaticCache(decoder_config, max_cache_len=len(ids) + max_new_tokens)
    encoder_hidden_states = None
    if enc:
        encoder_hidden_states = model.get_encoder()(input_ids=encoder_ids[None].to(model.device)).last_hidden_state
        cache = EncoderDecoderCache(cache, StaticCache(decoder_config, max_cache_len=len(encoder_ids)))
    logits = decoder_logits(model, ids[None].to(model.device), cache, encoder_hidden_states)[0, -1].float()
    state = FastState(model=model, is_encoder_decoder=enc, cache=cache, ids=ids,
                      encoder_hidden_states=encoder_hidden_states, encoder_ids=encoder_ids, logits=logits,
                      max_length=len(ids) + max_new_tokens)
    if model.device.type == "cuda":
        torch.cuda.synchronize(model.device)
    state.prefill_s = time.perf_counter() - started
    reason = graph_reason(model) if graph is not False else "没有要求 CUDA 图（graph=False）"
    if reason is None:
        started = time.perf_counter()
        try:
            _record_graph(state)
            state.mode = "cuda-graph"
        except Exception as err:  # noqa: BLE001 - e.g. an operation that cannot be recorded: stay eager, same tokens
            reason = f"CUDA 图录制失败（{str(err).splitlines()[0][:120]}），这里用静态缓存逐步解码"
        state.warmup_s = time.perf_counter() - started
    if reason is not None:
        state.reason = reason
        if graph is not False:
            notice(model, reason)
    return state


@torch.inference_mode()
def decode_step(state: State, token_id: int) -> State:
    """Feed one token: replay the recorded graph, or one eager step into the static cache (4.2 extension).

    A plain :class:`~dli_seq.decoding.State` (the fallback of :func:`prefill`) goes to
    :func:`dli_seq.decoding.decode_step`.
    """
    if not isinstance(state, FastState):
        return decoding.decode_step(state, token_id)
    token_id = inputs.check_token(state.model, token_id)
    if len(state.ids) >= state.max_length:
        raise ValueError(f"静态缓存只有 {state.max_length} 个位置，已经用满：开始生成时把 max_new_tokens 设大一些。")
    if state._graph is not None:
        state._token.fill_(token_id)
        state._graph.replay()
        state.logits = state._out[0, -1].to(torch.float32, copy=True)  # the graph overwrites _out next time
    else:
        new = torch.tensor([[token_id]], device=state.model.device)
        state.logits = decoder_logits(state.model, new, state.cache, state.encoder_hidden_states)[0, -1].float()
    state.ids = torch.cat([state.ids, torch.tensor([token_id])])
    return state


@torch.inference_mode()
def greedy_generate(model, input_ids=None, *, encoder_input_ids=None, max_new_tokens: int,
                    eos_token_id=None, graph: bool | None = None) -> list[int]:
    """:func:`dli_seq.decoding.greedy_generate` on the fast path: the same tokens, fewer launches."""
    state = prefill(model, input_ids, encoder_input_ids=encoder_input_ids, max_new_tokens=max_new_tokens, graph=graph)
    return decoding.greedy_steps(state, max_new_tokens, inputs.eos_ids(eos_token_id), step=decode_step)
