"""Prefill once, then decode one token at a time with a KV cache (sections 4.2 and 4.4).

The same two functions drive every model of the lesson:

* :func:`prefill` reads the prompt once. A decoder-only model (GPT-2, Phi-1.5) runs its
  decoder over the whole prompt; an encoder-decoder (T5, Flan-T5) runs its encoder once over
  the source text and its decoder over the start token ``<pad>`` (plus an optional prefix).
* :func:`decode_step` feeds ONE new token. Keys and values of all earlier positions come
  from the cache, so each step costs the same, however long the text already is.

:func:`naive_generate` is the baseline of section 4.2: no cache, every step recomputes
everything. :func:`greedy_generate` is the cached loop. Both pick the most likely token.

Everything works on one sequence (batch size 1) without padding, so every position is a real
token: no attention mask is needed, and positions continue from ``cache_length``. Arguments are
checked once, at the top, by :mod:`dli_seq.inputs`: the loops below are the lesson, nothing else.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import torch
from transformers import DynamicCache, EncoderDecoderCache

from . import inputs
from .inputs import context_size, decoder_limit, decoder_start_id, encoder_limit, vocab_rows  # noqa: F401 - the
# model's limits live in dli_seq/inputs.py; the notebooks of 4.2 and 4.4 read them as decoding.context_size(...)


@dataclass
class State:
    """Everything generation has computed so far for one sequence (4.2, 4.4).

    ``ids`` holds every decoder token so far (prompt, or T5's start token and prefix, then
    the generated tokens); ``logits`` are the scores for the NEXT token (1-D, float32).
    """

    model: torch.nn.Module
    is_encoder_decoder: bool
    cache: DynamicCache | EncoderDecoderCache
    ids: torch.LongTensor
    encoder_hidden_states: torch.Tensor | None  # T5: the encoder's output, computed once
    encoder_ids: torch.LongTensor | None
    logits: torch.Tensor

    @property
    def cache_length(self) -> int:
        """How many decoder positions the KV cache holds (4.2: it grows by one per step)."""
        return self.self_attention_cache.get_seq_length()

    @property
    def self_attention_cache(self) -> DynamicCache:
        """The decoder's self-attention cache (T5 keeps its cross-attention cache beside it)."""
        if isinstance(self.cache, EncoderDecoderCache):
            return self.cache.self_attention_cache
        return self.cache

    @property
    def kv_shapes(self) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        """(key shape, value shape) of each decoder layer: (batch, heads, positions, head size) (4.2)."""
        return [(tuple(layer.keys.shape), tuple(layer.values.shape))
                for layer in self.self_attention_cache.layers]


@functools.lru_cache(maxsize=None)
def cache_argument(model_class) -> str:
    """The KV cache's argument and output name: ``cache`` in recent transformers, ``past_key_values``
    in older 5.x releases such as 5.17 (4.2; the fast path uses it too)."""
    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def decoder_forward(model, ids: torch.Tensor, cache, encoder_hidden_states):
    """One forward pass of the decoder over ``ids`` (1-D), reusing and extending ``cache`` (4.2, 4.4).

    Returns (the last position's logits as float32, the cache)."""
    device = model.device
    name = cache_argument(type(model))
    if model.config.is_encoder_decoder:
        # The full model, not lm_head on raw decoder states: T5 rescales them first.
        out = model(encoder_outputs=(encoder_hidden_states,), decoder_input_ids=ids[None].to(device),
                    use_cache=True, **{name: cache})
    else:
        # logits_to_keep=1: only the last position's scores are needed to pick the next token.
        out = model(input_ids=ids[None].to(device), use_cache=True, logits_to_keep=1, **{name: cache})
    return out.logits[0, -1].float(), getattr(out, name)


@torch.inference_mode()
def prefill(model, input_ids=None, *, encoder_input_ids=None, max_encoder_tokens: int | None = None,
            max_new_tokens: int | None = None) -> State:
    """Read the prompt once and fill the KV cache (4.2 decoder-only, 4.4 encoder-decoder).

    Decoder-only: ``input_ids`` is the prompt (required, non-empty).
    Encoder-decoder: the encoder reads ``encoder_input_ids`` once; the decoder starts from its
    start token, followed by ``input_ids`` if given (a decoder-side prefix). The encoder reads at
    most ``max_encoder_tokens`` (default :func:`dli_seq.inputs.encoder_limit`). Given
    ``max_new_tokens``, the whole generation must fit the decoder. Checked before any compute.
    """
    ids, encoder_ids = inputs.prepare(model, input_ids, encoder_input_ids,
                                      max_encoder_tokens=max_encoder_tokens, max_new_tokens=max_new_tokens)
    if model.config.is_encoder_decoder:
        encoder_hidden_states = model.get_encoder()(input_ids=encoder_ids[None].to(model.device)).last_hidden_state
        cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    else:
        encoder_hidden_states = None
        cache = DynamicCache()
    logits, cache = decoder_forward(model, ids, cache, encoder_hidden_states)
    return State(model, model.config.is_encoder_decoder, cache, ids, encoder_hidden_states, encoder_ids, logits)


@torch.inference_mode()
def decode_step(state: State, token_id: int) -> State:
    """Append one token and run the decoder on that ONE position, reading the rest from the cache (4.2, 4.4)."""
    inputs.check_fits(state.model, state.cache_length + 1)
    new = torch.tensor([inputs.check_token(state.model, token_id)])
    state.logits, state.cache = decoder_forward(state.model, new, state.cache, state.encoder_hidden_states)
    state.ids = torch.cat([state.ids, new])
    return state


@torch.inference_mode()
def naive_generate(model, input_ids=None, *, encoder_input_ids=None, max_new_tokens: int,
                   eos_token_id=None) -> list[int]:
    """The baseline loop (4.2, 4.4): no cache, so every step re-reads the whole text.

    For T5 even the encoder runs again each step, as a pipeline called once per token does.
    Greedy; returns only the new token ids.
    """
    stop, max_new_tokens = inputs.eos_ids(eos_token_id), inputs.check_max_new_tokens(max_new_tokens)
    ids, encoder_ids = inputs.prepare(model, input_ids, encoder_input_ids, max_new_tokens=max_new_tokens)
    if encoder_ids is not None:
        encoder_ids = encoder_ids[None].to(model.device)
    new: list[int] = []
    while len(new) < max_new_tokens:
        if model.config.is_encoder_decoder:
            logits = model(input_ids=encoder_ids, decoder_input_ids=ids[None].to(model.device), use_cache=False).logits
        else:
            logits = model(input_ids=ids[None].to(model.device), use_cache=False).logits
        token = int(logits[0, -1].argmax())
        new.append(token)
        if token in stop:
            break
        ids = torch.cat([ids, torch.tensor([token])])
    return new


@torch.inference_mode()
def greedy_generate(model, input_ids=None, *, encoder_input_ids=None, max_new_tokens: int,
                    eos_token_id=None) -> list[int]:
    """The cached loop (4.2, 4.4): prefill once, then one decode_step per new token. Greedy."""
    stop, max_new_tokens = inputs.eos_ids(eos_token_id), inputs.check_max_new_tokens(max_new_tokens)
    state = prefill(model, input_ids, encoder_input_ids=encoder_input_ids, max_new_tokens=max_new_tokens)
    return greedy_steps(state, max_new_tokens, stop)


def greedy_steps(state, max_new_tokens: int, stop: set[int], step=decode_step) -> list[int]:
    """The decode half of :func:`greedy_generate` (4.2, 4.4): take the most likely token, feed it
    back with ``step`` (:func:`decode_step`, or the fast path's), until a ``stop`` id or the limit."""
    new: list[int] = []
    while True:
        token = int(state.logits.argmax())
        new.append(token)
        if token in stop or len(new) == max_new_tokens:
            return new
        step(state, token)
