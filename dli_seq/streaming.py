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
* a stop string ends generation and is NOT part of the text, which stops right before it.
* the EOS token (``</s>``, ``<|endoftext|>``) ends generation and adds no text (unless ``eos=False``).

An empty decoder-only prompt is an error (nothing to condition on); to start from nothing use
``prompt=tokenizer.bos_token``. GPT-2 reads at most 1024 positions, Phi-1.5 2048; T5 has
relative positions and no hard limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from tokenizers.decoders import DecodeStream
from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from .decoding import State, context_size, decode_step, prefill


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


class TextDecoder:
    """Token ids in, exact text out, one token at a time (4.4: the streamer's detokenizer).

    Uses the tokenizers library's ``DecodeStream``, which waits while the text ends in an
    incomplete character; :meth:`flush` returns whatever is still waiting at the end.
    """

    def __init__(self, tokenizer, prompt_ids=(), use_decode_stream: bool = True):
        self.tokenizer = tokenizer
        self.prompt_ids = [int(i) for i in prompt_ids]
        self.new_ids: list[int] = []
        self.emitted = ""
        # Without a tokenizers backend, or with transformers' optional clean-up of spaces (which
        # DecodeStream does not do), fall back to decoding everything again at each step.
        self._fast = (use_decode_stream and getattr(tokenizer, "_tokenizer", None) is not None
                      and not getattr(tokenizer, "clean_up_tokenization_spaces", False))
        if self._fast:
            self._stream = DecodeStream(ids=self.prompt_ids, skip_special_tokens=True)

    def full_text(self) -> str:
        """The text all new tokens add after the prompt (what the pieces join to)."""
        def decode(ids):
            return self.tokenizer.decode(ids, skip_special_tokens=True)
        before, after = decode(self.prompt_ids), decode(self.prompt_ids + self.new_ids)
        return after[len(before):] if after.startswith(before) else decode(self.new_ids)

    def add(self, token_id: int) -> str:
        """Take one token; return the text that is now final (often one word piece, sometimes "")."""
        self.new_ids.append(int(token_id))
        if self._fast:
            piece = self._stream.step(self.tokenizer._tokenizer, int(token_id)) or ""
        else:  # decode everything again, keep back an unfinished character or trailing space
            ready = self.full_text().rstrip("\ufffd").rstrip()
            piece = ready[len(self.emitted):] if ready.startswith(self.emitted) else ""
        self.emitted += piece
        return piece

    def flush(self) -> str:
        """The text still held back (e.g. a lone byte that never became a character)."""
        text = self.full_text()
        piece = text[len(self.emitted):] if text.startswith(self.emitted) else ""
        self.emitted += piece
        return piece


class StopStrings:
    """Cut the text right before the first stop string (4.5: Phi stops at a newline)."""

    def __init__(self, stop_strings: list[str]):
        self.stop_strings = stop_strings
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """Return (text safe to show, whether a stop string was found)."""
        self.pending += text
        hits = [self.pending.find(s) for s in self.stop_strings if s in self.pending]
        if hits:
            safe, self.pending = self.pending[:min(hits)], ""
            return safe, True
        keep = max((k for s in self.stop_strings for k in range(1, len(s))
                    if self.pending.endswith(s[:k])), default=0)  # might be the start of a stop string
        safe, self.pending = self.pending[:len(self.pending) - keep], self.pending[len(self.pending) - keep:]
        return safe, False

    def flush(self) -> str:
        """At the end of generation, text that only looked like a stop string's start is shown."""
        safe, self.pending = self.pending, ""
        return safe


def _check_options(max_new_tokens, temperature, top_k, top_p, stop_strings, top_n) -> list[str]:
    """Clear errors for bad settings; returns the stop strings as a list."""
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens <= 0:
        raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}.")
    if not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a number > 0, got {temperature!r} (for greedy use do_sample=False).")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}.")
    if top_p is not None and (not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}.")
    if not isinstance(top_n, int) or top_n < 0:
        raise ValueError(f"top_n must be an integer >= 0, got {top_n!r}.")
    stops = [stop_strings] if isinstance(stop_strings, str) else stop_strings
    if stops is None:
        return []
    if not isinstance(stops, (list, tuple)) or not all(isinstance(s, str) and s for s in stops):
        raise TypeError(f"stop_strings must be a string or a list of non-empty strings, got {stop_strings!r}.")
    return list(stops)


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


def encode_inputs(model, tokenizer, prompt: str = "", encoder_input: str | None = None):
    """Token ids for prefill: (decoder prompt ids, encoder ids or None), with clear errors (4.2, 4.4)."""
    if not isinstance(prompt, str) or not isinstance(encoder_input, (str, type(None))):
        raise TypeError("prompt and encoder_input must be strings.")
    if not model.config.is_encoder_decoder:
        if encoder_input:
            raise ValueError("This is a decoder-only model (no encoder): put all the text in the prompt.")
        ids = tokenizer.encode(prompt)
        if not ids:
            raise ValueError("The prompt is empty: a decoder-only model needs some text to continue. "
                             "To start from nothing, use prompt=tokenizer.bos_token.")
        return ids, None
    if not encoder_input:
        raise ValueError("An encoder-decoder model needs encoder_input: the text its encoder reads.")
    eos = tokenizer.eos_token
    if eos and encoder_input.endswith(eos):  # the original lesson wrote "...</s>" by hand
        encoder_input = encoder_input[:-len(eos)]
    return tokenizer.encode(prompt, add_special_tokens=False), tokenizer.encode(encoder_input)


class Generation:
    """One generation that advances a token per :meth:`next` call; widgets drive it directly (4.2-4.5).

    ``gen.next()`` picks the token itself; ``gen.next(forced_id)`` takes the caller's choice
    (the widget's "branching"). ``gen.done`` turns True after the last step. Also there to look
    at: ``gen.state`` (cache, ids, logits), ``gen.new_ids``, ``gen.text``, ``gen.finish_reason``.
    ``fast=True``: static cache + CUDA graph on a GPU (:mod:`dli_seq.fastpath`), the same tokens.
    """

    def __init__(self, model, tokenizer, prompt: str = "", *, encoder_input: str | None = None,
                 max_new_tokens: int = 50, do_sample: bool = False, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
                 stop_strings=None, eos: bool = True, top_n: int = 5, fast: bool = False):
        stops = _check_options(max_new_tokens, temperature, top_k, top_p, stop_strings, top_n)
        prompt_ids, encoder_ids = encode_inputs(model, tokenizer, prompt, encoder_input)
        limit = context_size(model)
        if limit is not None and len(prompt_ids) + max_new_tokens > limit:
            raise ValueError(f"The prompt has {len(prompt_ids)} tokens; with max_new_tokens={max_new_tokens} "
                             f"that exceeds the model's context of {limit} positions.")
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.do_sample, self.top_n = max_new_tokens, do_sample, top_n
        self.processors = make_processors(temperature, top_k, top_p)
        self.rng = torch.Generator()  # sampling draws from here: the same seed gives the same text
        self.rng.seed() if seed is None else self.rng.manual_seed(seed)
        eos_id = model.generation_config.eos_token_id
        eos_id = tokenizer.eos_token_id if eos_id is None else eos_id
        self.eos_ids = set() if not eos or eos_id is None else {eos_id} if isinstance(eos_id, int) else set(eos_id)
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
            self.state: State = prefill(model, prompt_ids or None, encoder_input_ids=encoder_ids)
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
            raise RuntimeError(f"This generation has finished ({self.finish_reason}); start a new one.")
        started = time.perf_counter()
        self.feed()
        scores = self.scores()
        probs = torch.softmax(scores, dim=-1)
        if forced_id is not None:
            token = int(forced_id)
            if not 0 <= token < probs.numel():
                raise ValueError(f"forced_id {token} is not a token id of this model (0..{probs.numel() - 1}).")
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
        piece, stopped = self.stops.feed(piece)
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
        raise TypeError("get_token_generator needs a tokenizer: get_token_generator(model, tokenizer).")
    default_max = max_tokens

    def token_generator(encoder_input: str | None = "", decoder_input: str | None = "",
                        max_tokens: int = default_max, **options) -> Iterator[str]:
        return stream(model, tokenizer, decoder_input or "", encoder_input=encoder_input or None,
                      max_new_tokens=max_tokens, **options)
    return token_generator
