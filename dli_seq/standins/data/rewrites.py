"""The "Rewrite the following sentence" task, whose premise does not say which rewrite is wanted (4.5).

Zero-shot, the premise leaves the rewrite open (negative, past tense or question); a worked
example shows which one is meant. This is the task family where one-shot prompting helps
for a reason a learner can see: the example carries information the premise lacks.
"""

from __future__ import annotations

import random

from .grammar import fits, kind_of, pick_location, pick_subject
from .lexicon import ADJECTIVES, NP, SWIM_PLACES, VERBS, Pronoun
from .render import cap, en_be, subject_forms
from .split import draw

REWRITE_PREMISE = "Rewrite the following sentence"
REWRITES = ("negative", "past", "question")


def _rewrite_source(rng: random.Random) -> tuple[str, dict]:
    """An affirmative English 'be' sentence and its three rewrites."""
    r = rng.random()
    if r < 0.45:
        s = pick_subject(rng, "tap", p_pronoun=0.25)
        rest = pick_location(rng, kind_of(s), exclude=None if isinstance(s, Pronoun) else s.noun)["en"]
    elif r < 0.8:
        verb = rng.choice([v for v in VERBS.values() if v.intransitive])
        s = pick_subject(rng, verb.who)
        places = SWIM_PLACES if verb is VERBS["swim"] else None
        pp = pick_location(rng, kind_of(s), places=places)["en"] if rng.random() < 0.5 else ""
        rest = f"{verb.en[2]} {pp}".strip()
    else:
        s = pick_subject(rng, "tap", p_pronoun=0.3)
        if isinstance(s, NP):
            s = NP(s.noun, s.det, s.plural, None)
        adj = rng.choice([a for a in ADJECTIVES if isinstance(s, Pronoun) and "p" in a.kinds
                          or isinstance(s, NP) and fits(a, s.noun, kind_of(s))])
        rest = adj.en
    subject, p = subject_forms(s)["en"], s.person
    be = en_be(p)
    sentence = cap(f"{subject} {be} {rest}.")
    return sentence, {"negative": cap(f"{subject} {be} not {rest}."),
                      "past": cap(f"{subject} {en_be(p, past=True)} {rest}."),
                      "question": f"{be.capitalize()} {subject} {rest}?"}


def rewrite_example(rng: random.Random, rewrite: str, heldout: bool = False) -> tuple[str, str, str]:
    """(premise, sentence, rewritten sentence) for one of :data:`REWRITES`; split by :func:`is_heldout`."""
    if rewrite not in REWRITES:
        raise ValueError(f"unknown rewrite {rewrite!r}; expected one of {REWRITES}")
    sentence, forms = draw(rng, _rewrite_source, heldout)
    return REWRITE_PREMISE, sentence, forms[rewrite]


def heldout_rewrites(n: int, seed: int = 0) -> list[tuple[str, dict]]:
    """``n`` distinct held-out sentences, each with its three rewrites."""
    rng, found = random.Random(seed), {}
    for _ in range(200 * n):
        if len(found) == n:
            break
        sentence, forms = draw(rng, _rewrite_source, True)
        found.setdefault(sentence, forms)
    if len(found) < n:
        raise ValueError(f"could not find {n} distinct held-out sentences to rewrite")
    return list(found.items())

