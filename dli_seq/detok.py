"""Exact text from token ids, one token at a time, and stop strings (section 4.4: the streamer's detokenizer).

A token is not a word: GPT-2 splits 日 over three byte tokens, a T5 piece may begin with a
space, and a stop string may straddle two tokens. :class:`TextDecoder` turns ids into text
pieces that join to exactly what ``tokenizer.decode`` gives for the whole sequence;
:class:`StopStrings` cuts the text right before the first stop string.
"""

from __future__ import annotations

import re
import weakref

from tokenizers.decoders import DecodeStream

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
        self.prompt_text = self._before  # the prompt as text: a stop string may begin in it
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
    """Cut the text right before the first stop string (4.5: Phi stops at a newline).

    ``before`` is the text already there (the prompt): a stop string that begins in it and ends
    in the new text counts too, as it does for transformers' ``stop_strings`` in ``generate()``.
    """

    def __init__(self, stop_strings: list[str], before: str = ""):
        self.stop_strings = list(stop_strings)
        self.reach = max((len(s) for s in self.stop_strings), default=1) - 1  # how far back a stop may begin
        self.context = before[-self.reach:] if self.reach else ""
        self.pending = ""  # new text held back: it may be the start of a stop string

    def push(self, text: str, lookahead: str = "") -> tuple[str, bool]:
        """Take new text; return (text safe to show, whether a stop string was found).

        ``lookahead`` is decoded text that is not final yet (an incomplete character follows it):
        a stop string found there ends generation at once.
        """
        self.pending += text
        head = self.context
        combined = head + self.pending + lookahead
        # only matches that end in the new text: a stop string wholly inside the prompt does not stop
        hits = [i for s in self.stop_strings if (i := combined.find(s, max(len(head) - len(s) + 1, 0))) >= 0]
        if hits:
            safe, self.pending = (self.pending + lookahead)[:max(min(hits) - len(head), 0)], ""
            return safe, True
        keep = max((k for s in self.stop_strings for k in range(1, len(s))
                    if (head + self.pending).endswith(s[:k])), default=0)  # might be the start of a stop string
        keep = min(keep, len(self.pending))
        safe, self.pending = self.pending[:len(self.pending) - keep], self.pending[len(self.pending) - keep:]
        self.context = (head + safe)[-self.reach:] if self.reach else ""
        return safe, False

    def flush(self) -> str:
        """At the end of generation, text that only looked like a stop string's start is shown."""
        safe, self.pending = self.pending, ""
        return safe
