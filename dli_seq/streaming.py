"""Text that arrives token by token, for every model of the lesson (sections 4.2, 4.4 and 4.5).

:class:`Generation` is the loop, one step per call: prefill once, then per step: temperature /
top-k / top-p (transformers' processors) -> pick a token (greedy, sampled, or forced) -> text ->
stops -> feed it back with ``decode_step``. :func:`stream_steps`, :func:`stream`,
:func:`generate_text` and the original lesson's :func:`get_token_generator` loop over it.

The text, exactly (tested):

* the pieces join to the text the new tokens add after the prompt,
  ``decode(prompt + new)[len(decode(prompt)):]`` (special tokens skipped); without a decoder
  prefix (T5) or with byte-level BPE (GPT-2, Phi) that is ``decode(new)``. After a T5 decoder
  prefix the space before the next word is kept ("Le" + " chat").
* a character split over several tokens (emoji, CJK in GPT-2's BPE) waits until it is
  complete: no U+FFFD mid-stream; nothing is held back at the end.
* the same holds for any tokenizers-backed tokenizer, byte-fallback ones included (Llama,
  Mistral: ``<0xE6><0x97><0xA5>`` for 日); a run of byte tokens waits until a normal token ends it.
* a stop string ends generation and is NOT part of the text, which stops right before it. It is
  found as soon as the decoded text holds it, even while a character after it is incomplete.
* the EOS token (``</s>``, ``<|endoftext|>``) ends generation and adds no text (unless ``eos=False``);
  so do the tokens in ``stop_tokens`` (the opt-in for special tokens such as ``"<|im_end|>"``,
  which never appear in the text and so cannot be stop strings).

An empty decoder-only prompt is an error (nothing to condition on); to start from nothing use
``prompt=tokenizer.bos_token``. GPT-2 reads at most 1024 positions, Phi-1.5 2048; T5 has
relative positions, so the kit bounds it: the encoder reads at most the tokenizer's
``model_max_length`` (512; ``max_input_tokens=`` raises it) and the decoder 4096 positions.
"""

from __future__ import annotations

import math
import re
import time
import weakref
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from tokenizers.decoders import DecodeStream
from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from .decoding import State, _check_encoder_fits, _token, decode_step, decoder_limit, encoder_limit, prefill, vocab_rows


@dataclass
class Step:
    """One generated token, as a widget or a learner sees it (4.2, 4.4, 4.5).

    ``text`` is the new text that became final with this token (may be ""); ``prob`` and ``top``
    (the ``top_n`` likeliest ``(id, token text, probability)``) come from the distribution after
    temperature / top-k / top-p; ``cache_length`` is how many positions the model had read when
    it chose this token; ``finish_reason`` is set on the last step: "eos", "stop_string" or
    "max_new_tokens".
    """

    index: int
    token_id: int
    text: str
    prob: float
    top: list[tuple[int, str, float]]
    cache_length: int
    elapsed_s: float
    finish_reason: str | None = None


_BYTE_TOKEN = re.compile(r"<0x[0-9A-Fa-f]{2}>")
_BYTE_IDS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def byte_fallback_ids(tokenizer) -> frozenset[int]:
    """Ids of the ``<0xC3>``-style byte tokens of a byte-fallback tokenizer (Llama, Mistral); empty otherwise."""
    backend = getattr(tokenizer, "_tokenizer", None)
    if backend is None or backend.decoder is None:
        return frozenset()
    try:
        return _BYTE_IDS[tokenizer]
    except (KeyError, TypeError):
        pass
    ids = frozenset()
    if b"ByteFallback" in backend.decoder.__getstate__():
        ids = frozenset(i for token, i in backend.get_vocab(with_added_tokens=False).items()
                        if _BYTE_TOKEN.fullmatch(token))
    try:
        _BYTE_IDS[tokenizer] = ids
    except TypeError:  # pragma: no cover - a tokenizer that cannot be weakly referenced
        pass
    return ids


class TextDecoder:
    """Token ids in, exact text out, one token at a time (4.4: the streamer's detokenizer).

    Uses the tokenizers library's ``DecodeStream``, which waits while the text ends in an
    incomplete character; :meth:`flush` returns whatever is still waiting at the end. Where
    DecodeStream cannot be exact it decodes everything again at each step instead: tokenizers
    without a tokenizers backend, transformers' optional clean-up of spaces, and byte-fallback
    tokenizers (Llama-style ``<0xC3>`` pieces: a later byte can turn a whole run of byte tokens into
    U+FFFD, so such a run is held back until a normal token ends it). If DecodeStream raises
    mid-stream, the decoder switches to re-decoding from there on.
    """

    def __init__(self, tokenizer, prompt_ids=(), use_decode_stream: bool = True):
        self.tokenizer = tokenizer
        self.prompt_ids = [int(i) for i in prompt_ids]
        self.new_ids: list[int] = []
        self.emitted = ""
        backend = getattr(tokenizer, "_tokenizer", None)
        self._byte_ids = byte_fallback_ids(tokenizer)
        self._special = frozenset(getattr(tokenizer, "all_special_ids", ())) if self._byte_ids else frozenset()
        # transformers' clean-up of spaces (" ." -> ".") can change the end of the text: hold back spaces
        self._hold_spaces = backend is None or bool(getattr(tokenizer, "clean_up_tokenization_spaces", False))
        self._fast = use_decode_stream and backend is not None and not self._hold_spaces and not self._byte_ids
        self._holding = False  # whether decoded text is waiting (an incomplete character, a byte run)
        self._base = 0  # new tokens before this index count as prompt (after DecodeStream gave up)
        self._since = ""  # text emitted since then
        self._before = self._decode(self.prompt_ids)
        if self._fast:
            self._stream = DecodeStream(ids=self.prompt_ids, skip_special_tokens=True)

    def _decode(self, ids) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _text(self, end: int | None = None, base: int | None = None) -> str:
        """What new_ids[base:end] add after the prompt and new_ids[:base]."""
        base = self._base if base is None else base
        head = self.prompt_ids + self.new_ids[:base]
        before = self._before if base == self._base else self._decode(head)
        tail = self.new_ids[base:end]
        after = self._decode(head + tail)
        return after[len(before):] if after.startswith(before) else self._decode(tail)

    def full_text(self) -> str:
        """The text all new tokens add after the prompt (what the pieces join to)."""
        return self._text(base=0)

    def _ready(self) -> str:
        """The part of the text (since ``_base``) that later tokens cannot change any more."""
        stable = len(self.new_ids)  # a run of byte tokens (special tokens in it are skipped) may still change
        while stable > self._base and (self.new_ids[stable - 1] in self._byte_ids
                                       or self.new_ids[stable - 1] in self._special):
            stable -= 1
        text = self._text(stable).rstrip("\ufffd")
        return text.rstrip() if self._hold_spaces else text

    def _emit(self, piece: str) -> str:
        self.emitted += piece
        self._since += piece
        return piece

    def add(self, token_id: int) -> str:
        """Take one token; return the text that is now final (often one word piece, sometimes "")."""
        self.new_ids.append(int(token_id))
        if self._fast:
            try:
                piece = self._stream.step(self.tokenizer._tokenizer, int(token_id)) or ""
                self._holding = not piece
                return self._emit(piece)
            except Exception:  # noqa: BLE001 - DecodeStream cannot go on: re-decode from this token on
                self._fast = False
                self._base, self._since = len(self.new_ids) - 1, ""
                self._before = self._decode(self.prompt_ids + self.new_ids[:self._base])
        ready = self._ready()
        self._holding = True
        return self._emit(ready[len(self._since):] if ready.startswith(self._since) else "")

    def pending(self) -> str:
        """Text already decoded but not final yet (after an incomplete character or in a byte run).

        Stop strings look at it, so a stop is found as soon as the decoded text holds it.
        """
        if not self._holding:
            return ""
        text = self._text().rstrip("\ufffd")
        return text[len(self._since):] if text.startswith(self._since) else ""

    def flush(self) -> str:
        """The text still held back (e.g. a lone byte that never became a character)."""
        text = self._text()
        self._holding = False
        return self._emit(text[len(self._since):] if text.startswith(self._since) else "")


class StopStrings:
    """Cut the text right before the first stop string (4.5: Phi stops at a newline)."""

    def __init__(self, stop_strings: list[str]):
        self.stop_strings = stop_strings
        self.pending = ""

    def feed(self, text: str, lookahead: str = "") -> tuple[str, bool]:
        """Return (text safe to show, whether a stop string was found).

        ``lookahead`` is decoded text that is not final yet (an incomplete character follows it):
        a stop string found there ends generation at once.
        """
        self.pending += text
        combined = self.pending + lookahead
        hits = [combined.find(s) for s in self.stop_strings if s in combined]
        if hits:
            safe, self.pending = combined[:min(hits)], ""
            return safe, True
        keep = max((k for s in self.stop_strings for k in range(1, len(s))
                    if self.pending.endswith(s[:k])), default=0)  # might be the start of a stop string
        safe, self.pending = self.pending[:len(self.pending) - keep], self.pending[len(self.pending) - keep:]
        return safe, False

    def flush(self) -> str:
        """At the end of generation, text that only looked like a stop string's start is shown."""
        safe, self.pending = self.pending, ""
        return safe


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_options(max_new_tokens, temperature, top_k, top_p, stop_strings, top_n, do_sample=False,
                   seed=None) -> list[str]:
    """Clear errors for bad settings; returns the stop strings as a list."""
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens <= 0:
        raise ValueError(f"max_new_tokens 应是正整数，得到的是 {max_new_tokens!r}。")
    if not _is_number(temperature) or not temperature > 0:
        raise ValueError(f"temperature 应是大于 0 的数，得到的是 {temperature!r}（想要贪心就用 do_sample=False）。")
    if not math.isfinite(temperature) or temperature < 1e-4:
        raise ValueError(f"temperature={temperature!r} 不能用：应在 0.0001 到有限大之间（想要贪心就用 do_sample=False）。")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise ValueError(f"top_k 应是正整数或 None，得到的是 {top_k!r}。")
    if top_p is not None and (not _is_number(top_p) or not 0 < top_p <= 1):
        raise ValueError(f"top_p 应在 (0, 1] 之间，得到的是 {top_p!r}。")
    if not isinstance(top_n, int) or isinstance(top_n, bool) or top_n < 0:
        raise ValueError(f"top_n 应是不小于 0 的整数，得到的是 {top_n!r}。")
    if not isinstance(do_sample, bool):
        raise TypeError(f"do_sample 应是 True 或 False，得到的是 {do_sample!r}。")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**64):
        raise ValueError(f"seed 应是 0 到 2**64-1 之间的整数（或 None），得到的是 {seed!r}。")
    stops = [stop_strings] if isinstance(stop_strings, str) else stop_strings
    if stops is None:
        return []
    if not isinstance(stops, (list, tuple)) or not all(isinstance(s, str) and s for s in stops):
        raise TypeError(f"stop_strings 应是一个字符串或非空字符串的列表，得到的是 {stop_strings!r}。")
    return list(stops)


def _stop_token_ids(tokenizer, stops: list[str], stop_tokens) -> set[int]:
    """Ids for ``stop_tokens``; a stop string that holds a special token's text is refused (it never matches)."""
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


def _check_text(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"{what} 里第 {err.start} 个字符 {text[err.start]!r} 不是合法的 Unicode 字符"
                         "（孤立的代理项），无法分词：请删掉它。") from None


def check_pair(model, tokenizer) -> None:
    """Refuse a tokenizer that belongs to another model (4.2-4.5): vocabulary size and special ids must agree."""
    if not callable(getattr(tokenizer, "encode", None)) or not hasattr(tokenizer, "decode"):
        raise TypeError(f"tokenizer 应是 transformers 的分词器，得到的是 {type(tokenizer).__name__}。")
    rows, size = vocab_rows(model), len(tokenizer)
    problem = None
    if size > rows:
        problem = f"分词器有 {size} 个 token，模型的词表只有 {rows} 行"
    model_eos = model.generation_config.eos_token_id
    model_eos = model.config.eos_token_id if model_eos is None else model_eos
    model_eos = {model_eos} if isinstance(model_eos, int) else set(model_eos or ())
    if problem is None and model_eos and tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in model_eos:
        problem = f"分词器的结束 token 是 {tokenizer.eos_token_id}，模型的是 {sorted(model_eos)}"
    if problem is None and model.config.is_encoder_decoder and tokenizer.pad_token_id is not None \
            and model.config.pad_token_id is not None and tokenizer.pad_token_id != model.config.pad_token_id:
        problem = f"分词器的填充 token 是 {tokenizer.pad_token_id}，模型的是 {model.config.pad_token_id}"
    if problem is not None:
        raise ValueError(f"模型和分词器不是同一个模型的（{problem}）：请用 load() 一起返回的那一对，"
                         "例如 model, tokenizer = load(\"t5-base\")。")


def make_processors(temperature=1.0, top_k=None, top_p=None) -> LogitsProcessorList:
    """transformers' own temperature / top-k / top-p warpers, in generate()'s order (4.2)."""
    processors = LogitsProcessorList()
    if temperature != 1.0:
        processors.append(TemperatureLogitsWarper(float(temperature)))
    if top_k is not None:
        processors.append(TopKLogitsWarper(top_k))
    if top_p is not None and top_p < 1.0:
        processors.append(TopPLogitsWarper(float(top_p)))
    return processors


def encode_inputs(model, tokenizer, prompt: str = "", encoder_input: str | None = None,
                  max_input_tokens: int | None = None):
    """Token ids for prefill: (decoder prompt ids, encoder ids or None), with clear errors (4.2, 4.4).

    The encoder input may have at most ``max_input_tokens`` tokens (default: the tokenizer's
    ``model_max_length``, 512 for T5): a longer one is refused before the encoder runs.
    """
    if not isinstance(prompt, str) or not isinstance(encoder_input, (str, type(None))):
        raise TypeError("prompt 和 encoder_input 应是字符串。")
    if max_input_tokens is not None and (not isinstance(max_input_tokens, int) or isinstance(max_input_tokens, bool)
                                         or max_input_tokens < 1):
        raise ValueError(f"max_input_tokens 应是正整数（或 None），得到的是 {max_input_tokens!r}。")
    _check_text(prompt, "prompt")
    _check_text(encoder_input or "", "encoder_input")
    if not model.config.is_encoder_decoder:
        if encoder_input:
            raise ValueError("这是仅解码器模型（没有编码器）：把全部文本放进 prompt。")
        ids = tokenizer.encode(prompt)
        if not ids:
            raise ValueError("提示词是空的：仅解码器模型要有一段文本才能往下写。"
                             "想从零开始，就用 prompt=tokenizer.bos_token。")
        return ids, None
    if not encoder_input:
        raise ValueError("编码器-解码器模型需要 encoder_input：编码器要读的源文本。")
    eos = tokenizer.eos_token
    if eos and encoder_input.endswith(eos):  # the original lesson wrote "...</s>" by hand
        encoder_input = encoder_input[:-len(eos)]
    limit = max_input_tokens or encoder_limit(model, tokenizer)
    if len(encoder_input) > 20 * limit:  # no need to tokenize a whole book to know it is too long
        raise ValueError(f"编码器输入有 {len(encoder_input)} 个字符，远超上限 {limit} 个 token：请缩短源文本"
                         "（确实需要更长时可传 max_input_tokens=…）。")
    encoder_ids = tokenizer.encode(encoder_input, truncation=False)
    _check_encoder_fits(len(encoder_ids), limit)
    return tokenizer.encode(prompt, add_special_tokens=False), encoder_ids


class Generation:
    """One generation that advances a token per :meth:`next` call; widgets drive it directly (4.2-4.5).

    ``gen.next()`` picks the token itself; ``gen.next(forced_id)`` takes the caller's choice
    (the widget's "branching"). ``gen.done`` turns True after the last step. Also there to look
    at: ``gen.state`` (cache, ids, logits), ``gen.new_ids``, ``gen.text``, ``gen.finish_reason``.

    ``stop_strings`` end generation when the decoded text holds them (special tokens are skipped in
    the text, so a special token's text, e.g. ``"<|im_end|>"``, can never match and is refused);
    ``stop_tokens=["<|im_end|>"]`` (token texts or ids) is the opt-in for those: such a token ends
    generation like EOS and adds no text. ``max_input_tokens`` raises the encoder's input limit.
    ``fast=True``: static cache + CUDA graph on a GPU (:mod:`dli_seq.fastpath`), the same tokens.
    """

    def __init__(self, model, tokenizer, prompt: str = "", *, encoder_input: str | None = None,
                 max_new_tokens: int = 50, do_sample: bool = False, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
                 stop_strings=None, eos: bool = True, top_n: int = 5, max_input_tokens: int | None = None,
                 stop_tokens=None, fast: bool = False):
        stops = _check_options(max_new_tokens, temperature, top_k, top_p, stop_strings, top_n, do_sample, seed)
        check_pair(model, tokenizer)
        stop_ids = _stop_token_ids(tokenizer, stops, stop_tokens)
        prompt_ids, encoder_ids = encode_inputs(model, tokenizer, prompt, encoder_input, max_input_tokens)
        limit = decoder_limit(model)
        if len(prompt_ids) + max_new_tokens > limit:
            raise ValueError(f"提示词有 {len(prompt_ids)} 个 token，加上 max_new_tokens={max_new_tokens} 就超过了"
                             f"模型的上下文长度（{limit} 个位置）：缩短提示词，或减小 max_new_tokens。")
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.do_sample, self.top_n = max_new_tokens, do_sample, top_n
        self.processors = make_processors(temperature, top_k, top_p)
        self.rng = torch.Generator()  # sampling draws from here: the same seed gives the same text
        self.rng.seed() if seed is None else self.rng.manual_seed(seed)
        eos_id = model.generation_config.eos_token_id
        eos_id = tokenizer.eos_token_id if eos_id is None else eos_id
        self.eos_ids = set() if not eos or eos_id is None else {eos_id} if isinstance(eos_id, int) else set(eos_id)
        self.eos_ids |= stop_ids
        self.stops = StopStrings(stops)
        self.new_ids: list[int] = []
        self.text = ""
        self.finish_reason: str | None = None
        self._pending: int | None = None  # chosen but not yet fed to the model
        self._token_texts: dict[int, str] = {}
        started = time.perf_counter()
        self._decode_step = decode_step
        if fast:  # static cache + CUDA graph, same tokens (dli_seq/fastpath.py; says why when it falls back)
            from . import fastpath
            self._decode_step = fastpath.decode_step
            self.state = fastpath.prefill(model, prompt_ids or None, encoder_input_ids=encoder_ids,
                                          max_new_tokens=max_new_tokens)
        else:
            self.state: State = prefill(model, prompt_ids or None, encoder_input_ids=encoder_ids,
                                        max_encoder_tokens=max_input_tokens or len(encoder_ids or ()) or None)
        self._prefill_s = time.perf_counter() - started - getattr(self.state, "warmup_s", 0.0)
        self.decoder = TextDecoder(tokenizer, self.state.ids.tolist())

    @property
    def done(self) -> bool:
        """True once EOS, a stop string or max_new_tokens has ended the generation."""
        return self.finish_reason is not None

    @torch.inference_mode()
    def scores(self) -> torch.Tensor:
        """The next token's scores after temperature / top-k / top-p (1-D, on the CPU)."""
        if not self.processors:
            return self.state.logits.cpu()
        return self.processors(self.state.ids[None], self.state.logits[None].clone())[0].cpu()

    def token_text(self, token_id: int) -> str:
        """How one token reads on its own, special tokens included (for the top alternatives)."""
        if token_id not in self._token_texts:
            self._token_texts[token_id] = self.tokenizer.decode([token_id])
        return self._token_texts[token_id]

    def feed(self) -> None:
        """Feed the last chosen token to the model now, so :meth:`scores` describe the next one.

        :meth:`next` does this itself at its start (so the last token costs no forward pass);
        a widget that shows the next candidates before the learner picks calls it early.
        """
        if self._pending is not None:
            self._decode_step(self.state, self._pending)
            self._pending = None

    def next(self, forced_id: int | None = None) -> Step:
        """Advance one token (forced_id: use this token instead of choosing one) and describe it."""
        if self.done:
            raise RuntimeError(f"这次生成已经结束（{self.finish_reason}）：要再生成，就新建一个。")
        started = time.perf_counter()
        self.feed()
        scores = self.scores()
        probs = torch.softmax(scores, dim=-1)
        if forced_id is not None:
            token = _token(forced_id)
            if not 0 <= token < probs.numel():
                raise ValueError(f"forced_id {token} 不是这个模型的 token id（应在 0 到 {probs.numel() - 1} 之间）。")
        elif self.do_sample:
            token = int(torch.multinomial(probs, 1, generator=self.rng))
        else:
            token = int(scores.argmax())
        self.new_ids.append(token)
        text = self._text_for(token)
        self._pending = None if self.done else token
        top = torch.topk(probs, min(self.top_n, probs.numel()))
        alternatives = [(int(i), self.token_text(int(i)), float(p)) for p, i in zip(*top)]
        elapsed = time.perf_counter() - started + (self._prefill_s if len(self.new_ids) == 1 else 0.0)
        return Step(len(self.new_ids) - 1, token, text, float(probs[token]), alternatives,
                    self.state.cache_length, elapsed, self.finish_reason)

    def _text_for(self, token: int) -> str:
        """The final text this token adds, after stop strings; sets finish_reason when it ends."""
        if token in self.eos_ids:
            self.finish_reason = "eos"
            piece = self.decoder.flush()
        else:
            piece = self.decoder.add(token)
            if len(self.new_ids) == self.max_new_tokens:
                self.finish_reason = "max_new_tokens"
                piece += self.decoder.flush()
        lookahead = self.decoder.pending() if self.stops.stop_strings and not self.done else ""
        piece, stopped = self.stops.feed(piece, lookahead)
        if stopped:
            self.finish_reason = "stop_string"
        elif self.done:
            piece += self.stops.flush()
        self.text += piece
        return piece


def stream_steps(model, tokenizer, prompt: str = "", *, encoder_input: str | None = None,
                 force: Callable[[int], int | None] | None = None, **options) -> Iterator[Step]:
    """Yield a :class:`Step` per new token (4.2, 4.4, 4.5). Options as in :class:`Generation`.

    ``force(index)`` may return a token id to use at that step instead of the model's choice.
    Bad settings raise at once, before anything runs.
    """
    generation = Generation(model, tokenizer, prompt, encoder_input=encoder_input, **options)

    def steps() -> Iterator[Step]:
        while not generation.done:
            yield generation.next(force(len(generation.new_ids)) if force else None)
    return steps()


def stream(model, tokenizer, prompt: str = "", *, encoder_input: str | None = None, **options) -> Iterator[str]:
    """Yield only the text pieces as they become final (4.2, 4.4, 4.5)."""
    steps = stream_steps(model, tokenizer, prompt, encoder_input=encoder_input, **options)
    return (step.text for step in steps if step.text)


def generate_text(model, tokenizer, prompt: str = "", *, encoder_input: str | None = None, **options) -> str:
    """The whole continuation as one string (4.2, 4.4, 4.5)."""
    return "".join(stream(model, tokenizer, prompt, encoder_input=encoder_input, **options))


def get_token_generator(model, tokenizer=None, max_tokens: int = 50):
    """The original lesson's streamer with its call signature, on the cached loop (4.4, 4.5).

    ``model`` may be a pipeline (its ``.model``/``.tokenizer`` are used). The returned
    ``token_generator(encoder_input="", decoder_input="", max_tokens=...)`` yields greedy text
    pieces until EOS or ``max_tokens``. Encoder-decoder: ``encoder_input`` is the source (the
    tokenizer adds ``</s>``; a hand-written one is tolerated), ``decoder_input`` a prefix.
    Decoder-only: ``decoder_input`` is the prompt, all of it (the original dropped its last
    token). Extra keywords (``stop_strings="\\n"``, ``do_sample=True``) go to :class:`Generation`.
    """
    if tokenizer is None and hasattr(model, "tokenizer"):
        model, tokenizer = model.model, model.tokenizer
    if tokenizer is None:
        raise TypeError("get_token_generator 需要分词器：get_token_generator(model, tokenizer)。")
    default_max = max_tokens

    def token_generator(encoder_input: str | None = "", decoder_input: str | None = "",
                        max_tokens: int = default_max, **options) -> Iterator[str]:
        return stream(model, tokenizer, decoder_input or "", encoder_input=encoder_input or None,
                      max_new_tokens=max_tokens, **options)
    return token_generator
