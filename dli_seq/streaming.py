"""Text that arrives token by token, for every model of the lesson (sections 4.2, 4.4 and 4.5).

:class:`Generation` is the loop, one step per call: prefill once, then per step: temperature /
top-k / top-p (transformers' processors) -> pick a token (greedy, sampled, or forced) -> text ->
stops -> feed it back with ``decode_step``. :func:`stream_steps`, :func:`stream`,
:func:`generate_text` and :func:`get_token_generator` (the streamer section 4.4 builds) loop over it.

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

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from . import fastpath, inputs
from .decoding import State, decode_step, prefill
from .detok import StopStrings, TextDecoder


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
        inputs.check_sampling(max_new_tokens, temperature, top_k, top_p, top_n, do_sample, seed)
        stops = inputs.stop_string_list(stop_strings)
        inputs.check_pair(model, tokenizer)
        if not isinstance(eos, bool):
            raise TypeError(f"eos 应是 True 或 False，得到的是 {eos!r}。")
        stop_ids = inputs.stop_token_ids(tokenizer, stops, stop_tokens)
        prompt_ids, encoder_ids = inputs.encode_inputs(model, tokenizer, prompt, encoder_input, max_input_tokens)
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.do_sample, self.top_n = max_new_tokens, do_sample, top_n
        self.processors = make_processors(temperature, top_k, top_p)
        self.rng = torch.Generator()  # sampling draws from here: the same seed gives the same text
        self.rng.seed() if seed is None else self.rng.manual_seed(seed)
        model_eos = model.generation_config.eos_token_id
        self.eos_ids = inputs.eos_ids(tokenizer.eos_token_id if model_eos is None else model_eos) if eos else set()
        self.eos_ids |= stop_ids
        self.new_ids: list[int] = []
        self.text = ""
        self.finish_reason: str | None = None
        self._pending: int | None = None  # chosen but not yet fed to the model
        self._token_texts: dict[int, str] = {}
        started = time.perf_counter()
        # prefill checks the ids, the encoder's length and the decoder's budget (dli_seq/inputs.py), once
        limits = dict(encoder_input_ids=encoder_ids, max_new_tokens=max_new_tokens,
                      max_encoder_tokens=max_input_tokens or inputs.encoder_limit(model, tokenizer))
        # fast=True: static cache + CUDA graph, same tokens (dli_seq/fastpath.py; says why when it falls back)
        self._decode_step = fastpath.decode_step if fast else decode_step
        self.state: State = (fastpath.prefill if fast else prefill)(model, prompt_ids or None, **limits)
        self._prefill_s = time.perf_counter() - started - getattr(self.state, "warmup_s", 0.0)
        self.decoder = TextDecoder(tokenizer, self.state.ids.tolist())
        self.stops = StopStrings(stops, before=self.decoder.prompt_text)

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
            token = inputs.check_token(self.model, forced_id)
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
        piece, stopped = self.stops.push(piece, lookahead)
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
    if force is not None and not callable(force):
        raise TypeError(f"force 应是一个函数 force(第几步) -> token id 或 None，得到的是 {force!r}。")
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
    """A token streamer with the call signature section 4.4 uses, on the cached loop (4.4, 4.5).

    ``model`` may be a pipeline (its ``.model``/``.tokenizer`` are used). The returned
    ``token_generator(encoder_input="", decoder_input="", max_tokens=...)`` yields greedy text
    pieces until EOS or ``max_tokens``. Encoder-decoder: ``encoder_input`` is the source (the
    tokenizer adds ``</s>``; a hand-written one is tolerated), ``decoder_input`` a prefix.
    Decoder-only: ``decoder_input`` is the prompt, all of it. Extra keywords
    (``stop_strings="\\n"``, ``do_sample=True``) go to :class:`Generation`.
    """
    if tokenizer is None and hasattr(model, "tokenizer"):
        model, tokenizer = model.model, model.tokenizer
    if tokenizer is None:
        raise TypeError("get_token_generator 需要分词器：get_token_generator(model, tokenizer)。")
    inputs.check_pair(model, tokenizer)  # swapped or mismatched arguments fail here, not at the first call
    default_max = inputs.positive_int(max_tokens, "max_tokens")

    def token_generator(encoder_input: str | None = "", decoder_input: str | None = "",
                        max_tokens: int = default_max, **options) -> Iterator[str]:
        return stream(model, tokenizer, decoder_input or "", encoder_input=encoder_input or None,
                      max_new_tokens=max_tokens, **options)
    return token_generator
