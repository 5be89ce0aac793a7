"""Tokens as readable labels and as HTML spans: what the stepper and the mask explorer show (4.2-4.4).

GPT-2's byte-level tokens that hold part of a character show their bytes, T5's ``▁`` keeps its
space, and a label that would read as blank gets a visible ``␣``.
"""

from __future__ import annotations

import html

_GENERATED_BG = ("#dbe9ff", "#fff0c2")  # alternating backgrounds show where tokens start and end
_PROMPT_BG = ("#e6e6e6", "#d0d0d0")


def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's byte-level BPE writes byte b as one printable character; this maps it back."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)], extra = b, extra + 1
    return chars


_BYTE_OF = _byte_level_alphabet()


def token_label(tokenizer, token_id: int) -> str:
    """One token as readable text, keeping its leading space (T5 ``▁le`` -> `` le``) (4.2, 4.4).

    A byte-level token holding part of a character (GPT-2 splits ``ç`` in two) shows its
    bytes, e.g. ``\\xc3``, instead of the replacement character.
    """
    text = tokenizer.decode([int(token_id)])
    raw = tokenizer.convert_ids_to_tokens(int(token_id)) or ""
    if "\ufffd" in text and all(c in _BYTE_OF for c in raw):
        text = bytes(_BYTE_OF[c] for c in raw).decode("utf-8", errors="backslashreplace")
    if raw[:1] in ("▁", "Ġ") and not text.startswith(" "):
        text = " " + text
    return (text or raw).replace("\n", "↵")


def visible(label: str) -> str:
    """A token label that never reads as blank: a lone space (T5's ``▁``) becomes ``␣`` (4.2-4.4)."""
    return label.replace(" ", "␣") if not label or label.isspace() else label


def _span(text: str, background: str, title: str, token_id: int | None = None) -> str:
    text = visible(text)
    sub = "" if token_id is None else f"<sub style='color:#666;font-size:65%'>{token_id}</sub>"
    return (f"<span class='dli-tok' title='{html.escape(title, quote=True)}' style='background:{background};"
            f"white-space:pre;border-radius:3px;padding:1px 1px;margin:0 1px;line-height:2'>"
            f"{html.escape(text)}{sub}</span>")


def _token_line(spans: list[str]) -> str:
    """Spans in one wrapping line (<wbr>: a long text may break between tokens)."""
    return "<div style='font-family:monospace;font-size:14px'>" + "<wbr>".join(spans) + "</div>"


def tokens_html(tokenizer, ids, n_prompt: int = 0, probs=None) -> str:
    """The text as token spans: id as subscript and tooltip, prompt tokens grey (4.2, 4.4)."""
    spans = []
    for i, token_id in enumerate(ids):
        if i < n_prompt:
            spans.append(_span(token_label(tokenizer, token_id), _PROMPT_BG[i % 2], f"提示词 token，id {token_id}",
                               token_id))
        else:
            p = probs[i - n_prompt] if probs is not None else None
            title = f"第 {i - n_prompt + 1} 个生成的 token，id {token_id}" + (f"，p = {p:.3f}" if p is not None else "")
            spans.append(_span(token_label(tokenizer, token_id), _GENERATED_BG[(i - n_prompt) % 2], title, token_id))
    return _token_line(spans)


def attention_html(tokenizer, ids, weights) -> str:
    """Encoder tokens shaded by the attention weight they receive (4.4 cross-attention)."""
    top = max(float(max(weights)), 1e-9)
    spans = [_span(token_label(tokenizer, t), f"rgba(230,120,0,{0.08 + 0.9 * float(w) / top:.3f})",
                   f"id {t}，注意力 {float(w):.3f}", t) for t, w in zip(ids, weights)]
    return _token_line(spans)
