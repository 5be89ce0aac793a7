"""Limits and argument checks, each written once (sections 4.2-4.5).

Generation reads a model's limits (how long a context it has, how many token ids it knows, where
T5's decoder starts) and refuses bad arguments **before** any compute, with one clear message per
mistake. Every entry point (:mod:`dli_seq.decoding`, :mod:`dli_seq.streaming`,
:mod:`dli_seq.fastpath`, the widgets and the exercise checks) calls the functions here, so the same
request is accepted or refused the same way everywhere.

The decoder budget, one formula: a generation of ``max_new_tokens`` after ``n`` decoder ids feeds
the model ``n + max_new_tokens - 1`` positions (the last new token is chosen, never fed back), so
it fits when ``max_new_tokens <= decoder_limit - n + 1`` (:func:`budget_left`).
"""

from __future__ import annotations

import math
import operator

import torch

MAX_DECODER_POSITIONS = 4096  # T5 has no hard limit; this bound keeps the KV cache from eating the RAM
DEFAULT_ENCODER_POSITIONS = 512  # T5's pre-training length, when neither config nor tokenizer says


# ---- the model's limits -------------------------------------------------------------------------

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


def decoder_length(model, prompt_ids) -> int:
    """How many decoder ids a prompt becomes: T5's decoder adds its start token in front (4.2, 4.4)."""
    return len(prompt_ids) + (1 if model.config.is_encoder_decoder else 0)


def budget_left(model, n_decoder_ids: int) -> int:
    """The largest ``max_new_tokens`` that fits after ``n_decoder_ids`` decoder ids (4.2, 4.4).

    The last new token is never fed back, so ``n + max_new_tokens - 1`` positions must fit.
    """
    return decoder_limit(model) - n_decoder_ids + 1


# ---- single values --------------------------------------------------------------------------------

def positive_int(value, name: str, *, allow_none: bool = False, minimum: int = 1):
    """``value`` as an int >= ``minimum`` (bools refused), or a clear error naming ``name`` (4.2-4.5)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        want = "正整数" if minimum == 1 else f"不小于 {minimum} 的整数"
        raise ValueError(f"{name} 应是{want}{'（或 None）' if allow_none else ''}，得到的是 {value!r}。")
    return value


def is_number(value) -> bool:
    """True for an int or float that is not a bool (4.2: temperature, top_p)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def token_id(value) -> int:
    """One token id as an int (int, numpy or 0-d tensor integers); bools and floats are refused (4.2)."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)
    except TypeError:
        raise TypeError(f"token id 应是一个整数，得到的是 {value!r}。") from None


def check_token(model, value) -> int:
    """One token id as an int inside the model's vocabulary; cheap, as it runs on every decode step (4.2)."""
    token, rows = token_id(value), vocab_rows(model)
    if not 0 <= token < rows:
        raise ValueError(f"token id {token} 不在词表里，不是这个模型的 token id：这个模型的 id 是 0 到 {rows - 1}（模型和分词器是同一个模型的吗？）。")
    return token


def as_ids(ids, what: str, model=None) -> torch.LongTensor:
    """A 1-D LongTensor from a list or tensor of token ids (batch size 1), checked against the vocabulary (4.2)."""
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
                         "传入一维的 token id 列表。")
    ids = tensor.reshape(-1).to(torch.long).cpu()
    if model is not None:
        rows = vocab_rows(model)
        bad = ids[(ids < 0) | (ids >= rows)]
        if bad.numel():
            raise ValueError(f"{what} 里有不在词表里的 token id {bad[0].item()}：这个模型的 id 是 0 到 {rows - 1}"
                             "（模型和分词器是同一个模型的吗？）。")
    return ids


def eos_ids(eos_token_id) -> set[int]:
    """The ids that end generation: None, one id, or a list / tensor of ids (4.2, 4.4)."""
    if eos_token_id is None:
        return set()
    if torch.is_tensor(eos_token_id):
        eos_token_id = eos_token_id.reshape(-1).tolist()
    items = eos_token_id if isinstance(eos_token_id, (list, tuple, set, frozenset)) else [eos_token_id]
    try:
        return {token_id(i) for i in items}
    except TypeError:
        raise TypeError(f"eos_token_id 应是一个 token id（整数）、id 的列表，或 None，得到的是 {eos_token_id!r}。") from None


def check_max_new_tokens(max_new_tokens) -> int:
    """``max_new_tokens`` must be a positive int (4.2-4.5)."""
    return positive_int(max_new_tokens, "max_new_tokens")


# ---- lengths ----------------------------------------------------------------------------------------

def check_fits(model, length: int) -> None:
    """``length`` decoder positions must fit the model's context (or the kit's bound for T5) (4.2, 4.4)."""
    limit = context_size(model)
    if limit is not None and length > limit:
        raise ValueError(f"要用 {length} 个位置，超过了模型的上下文长度（{limit} 个位置）："
                         "缩短提示词，或减小 max_new_tokens。")
    if limit is None and length > MAX_DECODER_POSITIONS:
        raise ValueError(f"解码器要用 {length} 个位置，超过了上限 {MAX_DECODER_POSITIONS}（防止 KV 缓存占满内存）："
                         "减小 max_new_tokens。")


def check_encoder_fits(n_tokens: int, limit: int) -> None:
    """The encoder reads at most ``limit`` tokens (4.4); ``max_input_tokens=`` raises the limit."""
    if n_tokens > limit:
        raise ValueError(f"编码器输入有 {n_tokens} 个 token，超过了上限 {limit}（模型的 context，见分词器的 "
                         "model_max_length）：缩短源文本；确实需要更长时可传 max_input_tokens=…（内存会按长度平方增长）。")


def check_budget(model, n_decoder_ids: int, max_new_tokens: int) -> None:
    """Prompt + ``max_new_tokens`` must fit the decoder before the first step, not after a minute (4.2, 4.4)."""
    if max_new_tokens > budget_left(model, n_decoder_ids):
        raise ValueError(f"提示词占 {n_decoder_ids} 个位置，再生成 max_new_tokens={max_new_tokens} 个 token 就超过了"
                         f"模型的上下文长度（{decoder_limit(model)} 个位置）：缩短提示词，或减小 max_new_tokens"
                         f"（这里最多 {max(budget_left(model, n_decoder_ids), 0)}）。")


def prepare(model, input_ids, encoder_input_ids, *, max_encoder_tokens: int | None = None,
            max_new_tokens: int | None = None):
    """(decoder ids, encoder ids or None) for :func:`dli_seq.decoding.prefill`, checked once (4.2, 4.4).

    The right inputs for the kind of model, ids inside its vocabulary, the encoder input within
    ``max_encoder_tokens`` (default :func:`encoder_limit`), and, when ``max_new_tokens`` is given,
    the whole generation within the decoder's budget. T5's decoder ids start with its start token.
    """
    check_model(model)
    max_encoder_tokens = positive_int(max_encoder_tokens, "max_encoder_tokens", allow_none=True)
    if max_new_tokens is not None:
        check_max_new_tokens(max_new_tokens)
    if model.config.is_encoder_decoder:
        if encoder_input_ids is None:
            raise ValueError("编码器-解码器模型需要 encoder_input_ids（源文本的 token id）。")
        encoder_ids = as_ids(encoder_input_ids, "encoder_input_ids", model)
        check_encoder_fits(len(encoder_ids), max_encoder_tokens or encoder_limit(model))
        ids = torch.tensor([decoder_start_id(model)])
        if input_ids is not None and (torch.is_tensor(input_ids) or len(input_ids) > 0):
            ids = torch.cat([ids, as_ids(input_ids, "input_ids", model)])
    else:
        if encoder_input_ids is not None:
            raise ValueError("这是仅解码器模型，没有编码器，所以不能传 encoder_input_ids：把全部文本放进 input_ids。")
        if input_ids is None:
            raise ValueError("仅解码器模型需要 input_ids（提示词的 token id）。")
        ids, encoder_ids = as_ids(input_ids, "input_ids", model), None
    if max_new_tokens is None:
        check_fits(model, len(ids))
    else:
        check_budget(model, len(ids), max_new_tokens)
    return ids, encoder_ids


# ---- the streamer's options (4.2, 4.4, 4.5) -----------------------------------------------------------

def check_sampling(max_new_tokens, temperature, top_k, top_p, top_n, do_sample=False, seed=None) -> None:
    """Clear errors for bad generation settings, before anything runs (4.2)."""
    check_max_new_tokens(max_new_tokens)
    if not is_number(temperature) or not temperature > 0:
        raise ValueError(f"temperature 应是大于 0 的数，得到的是 {temperature!r}（想要贪心就用 do_sample=False）。")
    if not math.isfinite(temperature) or temperature < 1e-4:
        raise ValueError(f"temperature={temperature!r} 不能用：应在 0.0001 到有限大之间（想要贪心就用 do_sample=False）。")
    positive_int(top_k, "top_k", allow_none=True)
    if top_p is not None and (not is_number(top_p) or not 0 < top_p <= 1):
        raise ValueError(f"top_p 应在 (0, 1] 之间，得到的是 {top_p!r}。")
    positive_int(top_n, "top_n", minimum=0)
    if not isinstance(do_sample, bool):
        raise TypeError(f"do_sample 应是 True 或 False，得到的是 {do_sample!r}。")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64):
        raise ValueError(f"seed 应是 0 到 2**64-1 之间的整数（或 None），得到的是 {seed!r}。")


def stop_string_list(stop_strings) -> list[str]:
    """``stop_strings`` as a list: one string, a list of non-empty strings, or None (4.5)."""
    stops = [stop_strings] if isinstance(stop_strings, str) else stop_strings
    if stops is None:
        return []
    if not isinstance(stops, (list, tuple)) or not all(isinstance(s, str) and s for s in stops):
        raise TypeError(f"stop_strings 应是一个字符串或非空字符串的列表，得到的是 {stop_strings!r}。")
    return list(stops)


def stop_token_ids(tokenizer, stops: list[str], stop_tokens) -> set[int]:
    """Ids for ``stop_tokens``; a stop string that holds a special token's text is refused (it never matches) (4.5)."""
    special = [t for t in getattr(tokenizer, "all_special_tokens", ()) if t]
    for stop in stops:
        if (hit := next((t for t in special if t in stop), None)) is not None:
            raise ValueError(f"停止字符串 {stop!r} 里有特殊 token {hit!r}：解码时特殊 token 会被跳过，所以它永远匹配不上。"
                             f"要在这个 token 处停止，用 stop_tokens=[{hit!r}]。")
    if stop_tokens is None:
        return set()
    items = [stop_tokens] if isinstance(stop_tokens, (str, int)) else stop_tokens
    if not isinstance(items, (list, tuple, set)):
        raise TypeError(f"stop_tokens 应是 token 文本或 id 的列表，得到的是 {stop_tokens!r}。")
    ids, vocab = set(), tokenizer.get_vocab()
    for item in items:
        if isinstance(item, str) and item in vocab:
            ids.add(vocab[item])
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < len(tokenizer):
            ids.add(item)
        else:
            raise ValueError(f"stop_tokens 里的 {item!r} 不是这个分词器的一个 token（要写 token 的完整文本，"
                             "如 '<|im_end|>'，或它的 id）。")
    return ids


# ---- model, tokenizer and text ----------------------------------------------------------------------

def check_model(model) -> None:
    """``model`` must be a transformers model, e.g. the first value ``load()`` returns (4.2-4.5)."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        raise TypeError(f"model 应是 transformers 的模型（load() 返回的第一个值），得到的是 {type(model).__name__}："
                        "先运行加载模型的单元格，例如 model, tokenizer = models.load(\"gpt2\")。")


def _looks_like_tokenizer(obj) -> bool:
    return callable(getattr(obj, "encode", None)) and hasattr(obj, "decode")


def check_pair(model, tokenizer) -> None:
    """Refuse a tokenizer that belongs to another model, or the two swapped (4.2-4.5)."""
    if _looks_like_tokenizer(model) and isinstance(tokenizer, torch.nn.Module):
        raise TypeError("模型和分词器的顺序反了：先传模型，再传分词器，例如 (model, tokenizer)。")
    check_model(model)
    if not _looks_like_tokenizer(tokenizer):
        raise TypeError(f"tokenizer 应是 transformers 的分词器，得到的是 {type(tokenizer).__name__}。")
    rows, size = vocab_rows(model), len(tokenizer)
    problem = None
    if size > rows:
        problem = f"分词器有 {size} 个 token，模型的词表只有 {rows} 行"
    model_eos = model.generation_config.eos_token_id
    model_eos = eos_ids(model.config.eos_token_id if model_eos is None else model_eos)
    if problem is None and model_eos and tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in model_eos:
        problem = f"分词器的结束 token 是 {tokenizer.eos_token_id}，模型的是 {sorted(model_eos)}"
    if problem is None and model.config.is_encoder_decoder and tokenizer.pad_token_id is not None \
            and model.config.pad_token_id is not None and tokenizer.pad_token_id != model.config.pad_token_id:
        problem = f"分词器的填充 token 是 {tokenizer.pad_token_id}，模型的是 {model.config.pad_token_id}"
    if problem is not None:
        raise ValueError(f"模型和分词器不是同一个模型的（{problem}）：用 load() 一起返回的那一对，"
                         "例如 model, tokenizer = load(\"t5-base\")。")


def check_text(text, what: str) -> str:
    """``text`` must be a string that can be tokenized (no lone surrogates) (4.2-4.5)."""
    if not isinstance(text, str):
        raise TypeError(f"{what} 应是字符串，得到的是 {type(text).__name__}。")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"{what} 里第 {err.start} 个字符 {text[err.start]!r} 不是合法的 Unicode 字符"
                         "（孤立的代理项），无法分词：删掉它。") from None
    return text


def prompt_ids(model, tokenizer, prompt: str) -> list[int]:
    """The decoder prompt's token ids: the whole prompt for GPT-2 / Phi, a decoder prefix without
    ``</s>`` for T5 (4.2, 4.4). No length warning from transformers: the budget check says it better."""
    special = not model.config.is_encoder_decoder
    return tokenizer.encode(check_text(prompt, "prompt"), add_special_tokens=special, verbose=False) if prompt else []


def max_new_tokens_allowed(model, tokenizer, prompt: str) -> int:
    """The largest ``max_new_tokens`` a generation after ``prompt`` may ask for (4.2, 4.4: the stepper's bound)."""
    return budget_left(model, decoder_length(model, prompt_ids(model, tokenizer, prompt)))


def encode_inputs(model, tokenizer, prompt: str = "", encoder_input: str | None = None,
                  max_input_tokens: int | None = None):
    """Token ids for prefill: (decoder prompt ids, encoder ids or None), with clear errors (4.2, 4.4).

    The ids' vocabulary and the lengths are checked once, by :func:`prepare` inside prefill; here
    the texts are checked, and a source far too long to tokenize is refused at once.
    """
    check_text(prompt, "prompt")
    if encoder_input is not None:
        check_text(encoder_input, "encoder_input")
    max_input_tokens = positive_int(max_input_tokens, "max_input_tokens", allow_none=True)
    if not model.config.is_encoder_decoder:
        if encoder_input:
            raise ValueError("这是仅解码器模型（没有编码器）：把全部文本放进 prompt。")
        ids = prompt_ids(model, tokenizer, prompt)
        if not ids:
            raise ValueError("提示词是空的：仅解码器模型要有一段文本才能往下写。"
                             "想从零开始，就用 prompt=tokenizer.bos_token。")
        return ids, None
    if not encoder_input:
        raise ValueError("编码器-解码器模型需要 encoder_input：编码器要读的源文本。")
    eos = tokenizer.eos_token
    if eos and encoder_input.endswith(eos):  # a source written with "...</s>" by hand, as 4.4 once did
        encoder_input = encoder_input[:-len(eos)]
    limit = max_input_tokens or encoder_limit(model, tokenizer)
    if len(encoder_input) > 20 * limit:  # no need to tokenize a whole book to know it is too long
        raise ValueError(f"编码器输入有 {len(encoder_input)} 个字符，远超上限 {limit} 个 token：缩短源文本"
                         "（确实需要更长时可传 max_input_tokens=…）。")
    encoder_ids = tokenizer.encode(encoder_input, truncation=False, verbose=False)
    return prompt_ids(model, tokenizer, prompt), encoder_ids
