"""The held-out split: which generated inputs training never sees (the stand-ins of 4.2, 4.4, 4.5).

:func:`is_heldout` looks at the md5 of an input text and marks about 1 text in 10 as held out.
Only open-ended generated inputs are split: translation sentences (and so the ``translate_es``
task), English sentences, sentences to rewrite, and the sums of the ``math`` task. The generators
take a ``heldout`` flag and draw through :func:`draw`: ``heldout=False`` returns only inputs that
are *not* held out, ``heldout=True`` only held-out ones, ``None`` does not filter. Fixed pools
(facts, commonsense, stories, dialogue, the lesson's own questions) and the closed sets of square
roots and cubes are always training material; :func:`is_heldout` is not meant for them.
"""

from __future__ import annotations

import hashlib
import random


def is_heldout(text: str) -> bool:
    """True for about 10% of texts, decided by the md5 of the text (the same on every machine)."""
    digest = hashlib.md5(text.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 10 == 0


def draw(rng: random.Random, make, heldout: bool | None):
    """Call ``make(rng)`` until its first element (the input text) falls on the wanted side of the split.

    Every generator of the stand-ins' data (4.2, 4.4, 4.5) draws through here.
    """
    while True:
        item = make(rng)
        text = item[0] if isinstance(item, tuple) else item
        if heldout is None or is_heldout(text) == heldout:
            return item

