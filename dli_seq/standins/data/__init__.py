"""Deterministic synthetic data for the offline stand-in models (4.2, 4.4, 4.5).

The real hub models cannot be downloaded in the classroom, so the kit trains small stand-ins on
the text made here. Everything is pure Python: every random choice goes through the
``random.Random`` you pass in, so the same seed always gives the same data. One module per thing:

* :mod:`.split`         :func:`is_heldout`, the held-out split (about 1 input in 10, by md5).
* :mod:`.lexicon`       nouns, adjectives, verbs, pronouns in English, French, German, Spanish.
* :mod:`.render`        noun phrases and small clauses with agreement, elision and contractions.
* :mod:`.grammar`       :func:`translation_pair`: one toy grammar rendered into English and
  French, German or Spanish.
* :mod:`.phrases`       :data:`LESSON_TRANSLATIONS`, fixed everyday phrases that the lesson translates.
* :mod:`.stories`       :func:`english_sentence`, short English mini-stories for the GPT-2 stand-in.
* :mod:`.instructions`  :func:`instruction_example`, (premise, question, answer) triples of the
  instruction mixture (premises exactly those of :data:`dli_seq.lesson.EVAL_SET`), and
  :func:`heldout_examples`.
* :mod:`.rewrites`      :func:`rewrite_example`: "Rewrite the following sentence" (negative, past
  or question), the one-shot task family of 4.5, and :func:`heldout_rewrites`.
* :mod:`.recorded`      ``RECORDED_*``: the real models' outputs recorded in the original lesson,
  keyed by the exact model input; the stand-ins are trained to reproduce them.

Building blocks you can call yourself::

    >>> from dli_seq.standins.data import NOUNS, NP, place_phrase, say_location
    >>> book, table = NP(NOUNS["book"]), NP(NOUNS["table"])
    >>> say_location(book, place_phrase("on", table))["de"]
    'Das Buch ist auf dem Tisch.'
"""

from __future__ import annotations

from .grammar import LANGS, say_location, say_progressive, translation_pair
from .instructions import (COMMONSENSE, DIALOGUE, FACTS, PREMISES, STORY_FIXED, TASKS, heldout_examples,
                           instruction_example)
from .lexicon import ADJECTIVES, NOUNS, NP, VERBS
from .phrases import LESSON_TRANSLATIONS
from .render import place_phrase
from .recorded import PHI_RECORDING_ENDINGS, RECORDED_FLAN, RECORDED_GPT2, RECORDED_PHI, RECORDED_T5
from .rewrites import REWRITE_PREMISE, REWRITES, heldout_rewrites, rewrite_example
from .split import is_heldout
from .stories import english_sentence

__all__ = ["is_heldout", "english_sentence", "LANGS", "translation_pair", "LESSON_TRANSLATIONS",
           "TASKS", "PREMISES", "FACTS", "COMMONSENSE", "DIALOGUE", "STORY_FIXED", "instruction_example",
           "heldout_examples", "REWRITE_PREMISE", "REWRITES", "rewrite_example", "heldout_rewrites",
           "RECORDED_GPT2", "RECORDED_T5", "RECORDED_FLAN", "RECORDED_PHI", "PHI_RECORDING_ENDINGS",
           "NOUNS", "VERBS", "ADJECTIVES", "NP", "place_phrase", "say_location", "say_progressive"]
