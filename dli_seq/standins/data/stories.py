"""English mini-stories, the training text of the GPT-2 stand-in (4.2)."""

from __future__ import annotations

import random

from .grammar import MY_PERSONS, pick_location, pick_np
from .lexicon import ACTIVITY_PLACES, NOUNS, SWIM_PLACES, VERBS, Verb
from .render import cap, en_be, en_np
from .split import draw

_NAMES = {"Anna": "she", "Tom": "he", "Mia": "she", "Leo": "he", "Sam": "he", "Lucy": "she", "Ben": "he",
          "Emma": "she", "Max": "he", "Lily": "she", "Noah": "he", "Zoe": "she"}
_EN_ADJECTIVES = ["little", "lazy", "friendly", "brave", "clever", "funny", "quiet", "sleepy", "tiny", "kind",
                  "small", "big", "happy"]
_FEELINGS = ["happy", "sad", "tired", "hungry", "excited", "proud", "sleepy", "surprised", "calm", "bored"]
_TIMES = {False: ["today", "every day", "every morning", "in the evening", "on Sundays", "after school"],
          True: ["yesterday", "last night", "this morning", "on Sunday", "after lunch", "last week"]}
_LINKS = ["Then", "After that,", "Later,", "Soon", "In the end,"]
_EN_PRONOUNS = {"I": 0, "you": 1, "he": 2, "she": 2, "it": 2, "we": 3, "they": 5}


def _en_story_subject(rng: random.Random) -> tuple[str, str, int, str]:
    """(subject text, pronoun to continue with, person, kind a/p) for the first sentence of a story."""
    r = rng.random()
    if r < 0.35:
        name = rng.choice(sorted(_NAMES))
        return name, _NAMES[name], 2, "p"
    if r < 0.5:
        pron = rng.choice(["I", "we", "you", "they"])
        return pron, pron, _EN_PRONOUNS[pron], "p"
    noun = rng.choice([n for n in NOUNS.values() if n.kind in "ap"])
    plural = rng.random() < 0.25
    adj = rng.choice(_EN_ADJECTIVES) + " " if rng.random() < 0.5 else ""
    det = rng.choice(["the", "the", "my", "a"]) if not plural else rng.choice(["the", "my"])
    if det == "my" and noun.kind == "p" and noun.en not in MY_PERSONS:
        det = "the"
    text = f"{det} {adj}{noun.en_pl if plural else noun.en}"
    if det == "a" and text[2] in "aeiou":
        text = "an" + text[1:]
    if plural:
        return text, "they", 5, noun.kind
    if noun.kind == "a":
        return text, "it", 2, "a"
    gender = {"boy": "he", "man": "he", "girl": "she", "woman": "she"}.get(noun.en) or rng.choice(["he", "she"])
    return text, gender, 2, "p"


def _en_verb(verb: Verb, person: int, past: bool) -> str:
    return verb.en[3] if past else verb.en[1] if person == 2 else verb.en[0]


def _en_object(rng: random.Random, verb: Verb) -> str:
    noun = NOUNS[rng.choice(verb.objects)]
    if noun.kind == "m":
        return noun.en
    return en_np(pick_np(rng, noun, ("the", "a", "a", "my"), p_adj=0.4, p_plural=0.2))


def _en_clause(rng: random.Random, subj: str, person: int, kind: str, past: bool) -> str:
    """One English clause (no final period) in the chosen tense."""
    who = "a" if kind == "a" else "p"
    if rng.random() < 0.25:
        return f"{subj} {en_be(person, past)} {rng.choice(['', 'very ', 'so '])}{rng.choice(_FEELINGS)}"
    if rng.random() < 0.2:
        return f"{subj} {en_be(person, past)} {pick_location(rng, who)['en']}"
    verbs = [v for v in VERBS.values() if who in v.who]
    verb = rng.choice(verbs)
    if verb.objects and (not verb.intransitive or rng.random() < 0.6):
        obj = " " + _en_object(rng, verb)
    else:
        obj = ""
    place = SWIM_PLACES if verb is VERBS["swim"] else ACTIVITY_PLACES if obj else None
    with_place = not obj or (verb.progressive and rng.random() < 0.4)
    pp = " " + pick_location(rng, who, places=place)["en"] if with_place else ""
    if verb.progressive and rng.random() < 0.3:
        return f"{subj} {en_be(person, past)} {verb.en[2]}{obj}{pp}"
    if rng.random() < 0.15:
        return f"{subj} {'liked' if past else 'like' if person != 2 else 'likes'} to {verb.en[0]}{obj}{pp}"
    return f"{subj} {_en_verb(verb, person, past)}{obj}{pp}"


def english_sentence(rng: random.Random, heldout: bool | None = None) -> str:
    """A short English mini-story (1-3 sentences, < 40 words); about 1 in 5 starts with "Hello world,".

    ``heldout=None`` (default) does not filter; ``False``/``True`` keep only training / held-out texts.
    """
    def make(r: random.Random) -> str:
        while True:
            past = r.random() < 0.5
            subj, pron, person, kind = _en_story_subject(r)
            first = _en_clause(r, subj, person, kind, past)
            if r.random() < 0.4:
                first += " " + r.choice(_TIMES[past])
            sentences = [first]
            for _ in range(r.choice((0, 0, 1, 1, 2))):
                clause = _en_clause(r, pron, _EN_PRONOUNS[pron], kind, past)
                sentences.append(f"{r.choice(_LINKS)} {clause}" if r.random() < 0.5 else clause)
            text = " ".join(cap(s) + "." for s in sentences)
            if r.random() < 0.2:
                first_word = text.split()[0]
                if first_word not in _NAMES and first_word != "I":
                    text = text[0].lower() + text[1:]
                text = "Hello world, " + text
            if len(text.split()) < 40:
                return text
    return draw(rng, make, heldout)

