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

import functools
import inspect
import operator
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


MAX_DECODER_POSITIONS = 4096  # T5 has no hard limit; this bound keeps the KV cache from eating the RAM
DEFAULT_ENCODER_POSITIONS = 512  # T5's pre-training length, when neither config nor tokenizer says


def context_size(model) -> int | None:
    """The longest sequence a decoder-only model can read; None for T5's relative positions (4.2, 4.4)."""
    if model.config.is_encoder_decoder:
        return None
    return getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", None)


def decoder_limit(model) -> int:
    """How many decoder positions generation may use: the context, or ``MAX_DECODER_POSITIONS`` for T5 (4.2, 4.4)."""
    return context_size(model) or MAX_DECODER_POSITIONS


def encoder_limit(model, tokenizer=None) -> int:
    """The longest source the encoder reads here: the tokenizer's ``model_max_length`` (512 for T5),
    else the config's ``n_positions``, else 512. Longer inputs are refused before any compute (4.4)."""
    for limit in (getattr(tokenizer, "model_max_length", None), getattr(model.config, "n_positions", None)):
        if isinstance(limit, int) and 0 < limit < 1_000_000:
            return limit
    return DEFAULT_ENCODER_POSITIONS


def vocab_rows(model) -> int:
    """How many token ids the model has embeddings for: valid ids are 0 .. vocab_rows - 1 (4.2)."""
    return model.get_input_embeddings().num_embeddings


def decoder_start_id(model) -> int:
    """The token an encoder-decoder's decoder starts from: ``<pad>`` (id 0) for T5 (4.4)."""
    for source in (model.generation_config, model.config):
        if getattr(source, "decoder_start_token_id", None) is not None:
            return source.decoder_start_token_id
    if model.config.pad_token_id is not None:
        return model.config.pad_token_id
    raise ValueError("这个编码器-解码器模型的配置里没有 decoder_start_token_id（也没有 pad_token_id），"
                     "解码器不知道从哪个 token 开始：在 model.generation_config 里设置 decoder_start_token_id。")


def _as_ids(ids, what: str, model=None) -> torch.LongTensor:
    """A 1-D LongTensor from a list or tensor of token ids (batch size 1), checked against the vocabulary."""
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"{what} 应是 token id 的列表或张量，而不是字符串：先用分词器 encode。")
    try:
        tensor = torch.as_tensor(ids)
    except (TypeError, ValueError, RuntimeError, OverflowError) as err:
        raise TypeError(f"{what} 应是 token id（整数）的列表或张量，得到的是 {type(ids).__name__}。") from err
    if tensor.numel() == 0:
        raise ValueError(f"{what} 是空的：至少要给一个 token id。")
    if tensor.dtype == torch.bool or tensor.is_floating_point() or tensor.is_complex():
        raise TypeError(f"{what} 的 token id 必须是整数，得到的 dtype 是 {tensor.dtype}。")
    if tensor.dim() == 2 and tensor.shape[0] == 1:
        tensor = tensor[0]  # what tokenizer(..., return_tensors="pt") gives: a batch of one
    if tensor.dim() > 1:
        raise ValueError(f"{what} 的形状是 {tuple(tensor.shape)}：这里一次只生成一个序列（批大小 1），"
                         "请传入一维的 token id 列表。")
    ids = tensor.reshape(-1).to(torch.long)
    if model is not None:
        rows = vocab_rows(model)
        bad = ids[(ids < 0) | (ids >= rows)]
        if bad.numel():
            raise ValueError(f"{what} 里有不在词表里的 token id {bad[0].item()}：这个模型的 id 是 0 到 {rows - 1}"
                             "（模型和分词器是同一个模型的吗？）。")
    return ids


def _token(token_id) -> int:
    """One token id as an int (int, numpy or 0-d tensor integers); bools and floats are refused."""
    try:
        if isinstance(token_id, bool):
            raise TypeError
        return operator.index(token_id)
    except TypeError:
        raise TypeError(f"token id 应是一个整数，得到的是 {token_id!r}。") from None


def check_token(model, token_id) -> int:
    """One token id as an int inside the model's vocabulary; cheap, as it runs on every decode step (4.2)."""
    token, rows = _token(token_id), vocab_rows(model)
    if not 0 <= token < rows:
        raise ValueError(f"token_id {token} 不在词表里：这个模型的 id 是 0 到 {rows - 1}（模型和分词器是同一个模型的吗？）。")
    return token


def _check_fits(model, length: int) -> None:
    limit = context_size(model)
    if limit is not None and length > limit:
        raise ValueError(f"要用 {length} 个位置，超过了模型的上下文长度（{limit} 个位置）："
                         "缩短提示词，或减小 max_new_tokens。")
    if limit is None and length > MAX_DECODER_POSITIONS:
        raise ValueError(f"解码器要用 {length} 个位置，超过了上限 {MAX_DECODER_POSITIONS}（防止 KV 缓存占满内存，"
                         "context 保护）：请减小 max_new_tokens。")


def _check_encoder_fits(n_tokens: int, limit: int) -> None:
    if n_tokens > limit:
        raise ValueError(f"编码器输入有 {n_tokens} 个 token，超过了上限 {limit}（模型的 context，见分词器的 "
                         "model_max_length）：请缩短源文本；确实需要更长时可传 max_input_tokens=…（内存会按长度平方增长）。")


def _check_budget(model, n_decoder_ids: int, max_new_tokens: int) -> None:
    """Prompt + max_new_tokens must fit the decoder before the first step, not after a minute."""
    limit = decoder_limit(model)
    if n_decoder_ids + max_new_tokens - 1 > limit:
        raise ValueError(f"提示词有 {n_decoder_ids} 个位置，再加 max_new_tokens={max_new_tokens} 超过了模型的上下文长度"
                         f"（{limit} 个位置）：缩短提示词，或减小 max_new_tokens。")


@functools.lru_cache(maxsize=None)
def _cache_name(model_class) -> str:
    """The KV cache's argument and output name: ``cache`` in recent transformers, ``past_key_values`` in older 5.x (5.17)."""
    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def _decoder_forward(model, ids: torch.Tensor, cache, encoder_hidden_states):
    """One forward pass of the decoder over ``ids`` (1-D), reusing and extending ``cache``."""
    device = model.device
    name = _cache_name(type(model))
    if model.config.is_encoder_decoder:
        # The full model, not lm_head on raw decoder states: T5 rescales them first.
        out = model(encoder_outputs=(encoder_hidden_states,), decoder_input_ids=ids[None].to(device),
                    use_cache=True, **{name: cache})
    else:
        # logits_to_keep=1: only the last position's scores are needed to pick the next token.
        out = model(input_ids=ids[None].to(device), use_cache=True, logits_to_keep=1, **{name: cache})
    return out.logits[0, -1].float(), getattr(out, name)


def _inputs(model, input_ids, encoder_input_ids, max_encoder_tokens=None):
    """(decoder ids, encoder ids or None), checked: the right inputs for the model, ids in its vocabulary."""
    if model.config.is_encoder_decoder:
        if encoder_input_ids is None:
            raise ValueError("编码器-解码器模型需要 encoder_input_ids（源文本的 token id）。")
        encoder_ids = _as_ids(encoder_input_ids, "encoder_input_ids", model)
        _check_encoder_fits(len(encoder_ids), max_encoder_tokens or encoder_limit(model))
        start = torch.tensor([decoder_start_id(model)])
        if input_ids is None or (not torch.is_tensor(input_ids) and len(input_ids) == 0):
            return start, encoder_ids
        return torch.cat([start, _as_ids(input_ids, "input_ids", model)]), encoder_ids
    if encoder_input_ids is not None:
        raise ValueError("这是仅解码器模型，没有编码器，所以不能传 encoder_input_ids：把全部文本放进 input_ids。")
    if input_ids is None:
        raise ValueError("仅解码器模型需要 input_ids（提示词的 token id）。")
    return _as_ids(input_ids, "input_ids", model), None


@torch.inference_mode()
def prefill(model, input_ids=None, *, encoder_input_ids=None, max_encoder_tokens: int | None = None) -> State:
    """Read the prompt once and fill the KV cache (4.2 decoder-only, 4.4 encoder-decoder).

    Decoder-only: ``input_ids`` is the prompt (required, non-empty).
    Encoder-decoder: the encoder reads ``encoder_input_ids`` once; the decoder starts from its
    start token, followed by ``input_ids`` if given (a decoder-side prefix). The encoder reads at
    most ``max_encoder_tokens`` (default :func:`encoder_limit`); ids are checked before any compute.
    """
    ids, encoder_ids = _inputs(model, input_ids, encoder_input_ids, max_encoder_tokens)
    _check_fits(model, len(ids))
    if model.config.is_encoder_decoder:
        encoder_hidden_states = model.get_encoder()(input_ids=encoder_ids[None].to(model.device)).last_hidden_state
        cache = EncoderDecoderCache(DynamicCache(), DynamicCache())
    else:
        encoder_hidden_states = None
        cache = DynamicCache()
    logits, cache = _decoder_forward(model, ids, cache, encoder_hidden_states)
    return State(model, model.config.is_encoder_decoder, cache, ids, encoder_hidden_states, encoder_ids, logits)


@torch.inference_mode()
def decode_step(state: State, token_id: int) -> State:
    """Append one token and run the decoder on that ONE position, reading the rest from the cache (4.2, 4.4)."""
    _check_fits(state.model, state.cache_length + 1)
    new = torch.tensor([check_token(state.model, token_id)])
    state.logits, state.cache = _decoder_forward(state.model, new, state.cache, state.encoder_hidden_states)
    state.ids = torch.cat([state.ids, new])
    return state


def _eos_set(eos_token_id) -> set[int]:
    if eos_token_id is None:
        return set()
    return {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id)


def _check_max_new_tokens(max_new_tokens) -> None:
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens <= 0:
        raise ValueError(f"max_new_tokens 应是正整数，得到的是 {max_new_tokens!r}。")


@torch.inference_mode()
def naive_generate(model, input_ids=None, *, encoder_input_ids=None, max_new_tokens: int,
                   eos_token_id=None) -> list[int]:
    """The original lesson's loop (4.2, 4.4): no cache, so every step re-reads the whole text.

    For T5 even the encoder runs again each step, as a pipeline called once per token does.
    Greedy; returns only the new token ids.
    """
    _check_max_new_tokens(max_new_tokens)
    stop = _eos_set(eos_token_id)
    ids, encoder_ids = _inputs(model, input_ids, encoder_input_ids)
    _check_budget(model, len(ids), max_new_tokens)
    if encoder_ids is not None:
        encoder_ids = encoder_ids[None].to(model.device)
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
    ids, _ = _inputs(model, input_ids, encoder_input_ids)
    _check_budget(model, len(ids), max_new_tokens)
    state = prefill(model, input_ids, encoder_input_ids=encoder_input_ids)
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
