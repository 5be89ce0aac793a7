"""Prefill once, then decode one token at a time with a KV cache (sections 4.2 and 4.4).

The same two functions drive every model of the lesson:

* :func:`prefill` reads the prompt once. A decoder-only model (GPT-2, Phi-1.5) runs its
  decoder over the whole prompt; an encoder-decoder (T5, Flan-T5) runs its encoder once over
  the source text and its decoder over the start token ``<pad>`` (plus an optional prefix).
* :func:`decode_step` feeds ONE new token. Keys and values of all earlier positions come
  from the cache, so each step costs the same, however long the text already is.

:func:`naive_generate` is the original lesson's baseline: no cache, every step recomputes
everything. :func:`greedy_generate` is the cached loop. Both pick the most likely token.

Everything works on one sequence (batch size 1) without padding, so every position is a real
token: no attention mask is needed, and positions continue from ``cache_length``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache, EncoderDecoderCache


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


def context_size(model) -> int | None:
    """The longest sequence a decoder-only model can read; None for T5's relative positions (4.2, 4.4)."""
    if model.config.is_encoder_decoder:
        return None
    return getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", None)


def decoder_start_id(model) -> int:
    """The token an encoder-decoder's decoder starts from: ``<pad>`` (id 0) for T5 (4.4)."""
    for source in (model.generation_config, model.config):
        if getattr(source, "decoder_start_token_id", None) is not None:
            return source.decoder_start_token_id
    if model.config.pad_token_id is not None:
        return model.config.pad_token_id
    raise ValueError("This encoder-decoder model has no decoder_start_token_id (nor pad_token_id) in its config.")


def _as_ids(ids, what: str) -> torch.LongTensor:
    """A 1-D LongTensor from a list or tensor of token ids (batch size 1)."""
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
    if ids.numel() == 0:
        raise ValueError(f"{what} is empty: give at least one token id.")
    return ids


def _check_fits(model, length: int) -> None:
    limit = context_size(model)
    if limit is not None and length > limit:
        raise ValueError(f"{length} positions do not fit the model's context of {limit} positions: "
                         "shorten the prompt or ask for fewer new tokens.")


def _decoder_forward(model, ids: torch.Tensor, cache, encoder_hidden_states):
    """One forward pass of the decoder over ``ids`` (1-D), reusing and extending ``cache``."""
    device = model.device
    if model.config.is_encoder_decoder:
        # The full model, not lm_head on raw decoder states: T5 rescales them first.
        out = model(encoder_outputs=(encoder_hidden_states,), decoder_input_ids=ids[None].to(device),
                    cache=cache, use_cache=True)
    else:
        # logits_to_keep=1: only the last position's scores are needed to pick the next token.
        out = model(input_ids=ids[None].to(device), cache=cache, use_cache=True, logits_to_keep=1)
    return out.logits[0, -1].float(), out.cache


@torch.inference_mode()
def prefill(model, input_ids=None, *, encoder_input_ids=None) -> State:
    """Read the prompt once and fill the KV cache (4.2 decoder-only, 4.4 encoder-decoder).

    Decoder-only: ``input_ids`` is the prompt (required, non-empty).
    Encoder-decoder: the encoder reads ``encoder_input_ids`` once; the decoder starts from its
    start token, followed by ``input_ids`` if given (a decoder-side prefix).
    """
    if model.config.is_encoder_decoder:
        if encoder_input_ids is None:
            raise ValueError("An encoder-decoder model needs encoder_input_ids (the source text's ids).")
        encoder_ids = _as_ids(encoder_input_ids, "encoder_input_ids")
        encoder_hidden_states = model.get_encoder()(input_ids=encoder_ids[None].to(model.device)).last_hidden_state
        start = torch.tensor([decoder_start_id(model)])
        ids = start if input_ids is None or len(input_ids) == 0 else torch.cat([start, _as_ids(input_ids, "input_ids")])
        cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    else:
        if encoder_input_ids is not None:
            raise ValueError("This is a decoder-only model: it has no encoder, so encoder_input_ids makes no sense.")
        if input_ids is None:
            raise ValueError("A decoder-only model needs input_ids (the prompt's token ids).")
        ids, encoder_ids, encoder_hidden_states = _as_ids(input_ids, "input_ids"), None, None
        _check_fits(model, len(ids))
        cache = DynamicCache()
    logits, cache = _decoder_forward(model, ids, cache, encoder_hidden_states)
    return State(model, model.config.is_encoder_decoder, cache, ids, encoder_hidden_states, encoder_ids, logits)


@torch.inference_mode()
def decode_step(state: State, token_id: int) -> State:
    """Append one token and run the decoder on that ONE position, reading the rest from the cache (4.2, 4.4)."""
    _check_fits(state.model, state.cache_length + 1)
    new = torch.tensor([int(token_id)])
    state.logits, state.cache = _decoder_forward(state.model, new, state.cache, state.encoder_hidden_states)
    state.ids = torch.cat([state.ids, new])
    return state


def _eos_set(eos_token_id) -> set[int]:
    if eos_token_id is None:
        return set()
    return {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id)


def _check_max_new_tokens(max_new_tokens) -> None:
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens <= 0:
        raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}.")


@torch.inference_mode()
def naive_generate(model, input_ids=None, *, encoder_input_ids=None, max_new_tokens: int,
                   eos_token_id=None) -> list[int]:
    """The original lesson's loop (4.2, 4.4): no cache, so every step re-reads the whole text.

    For T5 even the encoder runs again each step, as a pipeline called once per token does.
    Greedy; returns only the new token ids.
    """
    _check_max_new_tokens(max_new_tokens)
    stop = _eos_set(eos_token_id)
    if model.config.is_encoder_decoder:
        encoder_ids = _as_ids(encoder_input_ids, "encoder_input_ids")[None].to(model.device)
        ids = torch.tensor([decoder_start_id(model)])
        if input_ids is not None and len(input_ids) > 0:
            ids = torch.cat([ids, _as_ids(input_ids, "input_ids")])
    else:
        ids = _as_ids(input_ids, "input_ids")
    new: list[int] = []
    while len(new) < max_new_tokens:
        _check_fits(model, len(ids))
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
    _check_max_new_tokens(max_new_tokens)
    stop = _eos_set(eos_token_id)
    state = prefill(model, input_ids, encoder_input_ids=encoder_input_ids)
    new: list[int] = []
    while True:
        token = int(state.logits.argmax())
        new.append(token)
        if token in stop or len(new) == max_new_tokens:
            return new
        decode_step(state, token)
