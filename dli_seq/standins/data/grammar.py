"""The toy grammar: every sentence type renders English, French, German and Spanish at once.

:func:`translation_pair` gives the (English, target) pairs the T5 stand-in (4.4) and the Flan-T5
stand-in's Spanish task (4.5) are trained on::

    >>> from dli_seq.standins.data import NOUNS, NP, place_phrase, say_location
    >>> book, table = NP(NOUNS["book"]), NP(NOUNS["table"])
    >>> say_location(book, place_phrase("on", table))["de"]
    'Das Buch ist auf dem Tisch.'
"""

from __future__ import annotations

import random

from .lexicon import (ACTIVITY_PLACES, ADJECTIVES, ESTAR, ETRE, LOCATIONS, NOUNS, NP, NUMBERS, PRONOUNS, SEIN, SER,
                      SWIM_PLACES, VERBS, Adj, Noun, Pronoun, Verb)
from .render import (agreement, capped, de_np, en_be, en_np, es_np, fr_clause, fr_join, fr_np, place_phrase,
                     subject_forms)
from .split import draw

LANGS = ("fr", "de", "es")

# Keep the toy world sensible: no "my man" (= my husband) or "my river", no "old child".
MY_PERSONS = {"friend", "teacher"}
_PLAIN_LOCATIONS = {"river", "lake", "park", "school", "bridge", "floor"}  # no "my", no adjective
_ADJ_EXCLUDED = {("old", "child"), ("old", "boy"), ("old", "girl"), ("young", "child"), ("young", "boy"),
                 ("young", "girl")}


def fits(adj: Adj, noun: Noun, kinds: str) -> bool:
    """May ``adj`` describe ``noun`` when the noun is used as one of ``kinds``?"""
    return bool(set(adj.kinds) & set(kinds)) and (adj.en, noun.en) not in _ADJ_EXCLUDED


def pick_np(rng: random.Random, noun: Noun, dets=("the", "the", "the", "my"), p_adj=0.35, p_plural=0.25) -> NP:
    """A random noun phrase around a noun: determiner, number and a compatible adjective."""
    det = rng.choice(dets)
    if det == "my" and noun.kind == "p" and noun.en not in MY_PERSONS:
        det = "the"
    plural = det in NUMBERS or (det != "a" and rng.random() < p_plural)
    fitting = [a for a in ADJECTIVES if fits(a, noun, noun.kind.replace("l", ""))]
    adj = rng.choice(fitting) if fitting and rng.random() < p_adj else None
    return NP(noun, det, plural, adj)


def pick_subject(rng: random.Random, kinds: str, p_pronoun=0.35):
    """A pronoun (for people) or a noun phrase whose noun is of one of the given kinds."""
    if "p" in kinds and rng.random() < p_pronoun:
        return rng.choice(PRONOUNS)
    return pick_np(rng, rng.choice([n for n in NOUNS.values() if set(n.kind) & set(kinds)]))


def kind_of(s) -> str:
    """The kind (a/p/t/l...) a subject counts as: "p" for a pronoun, else its noun's first kind."""
    return "p" if isinstance(s, Pronoun) else s.noun.kind[0]


def pick_location(rng: random.Random, who: str, exclude: Noun | None = None, places=None) -> dict:
    """A location phrase where a subject of kind ``who`` can be."""
    options = places or [(p, n) for p, n, w in LOCATIONS if who in w]
    prep, name = rng.choice([o for o in options if exclude is None or NOUNS[o[1]] != exclude])
    det, adj = rng.choice(("the",) * 6 + ("a", "my")), None
    if name in _PLAIN_LOCATIONS:
        det = "the"
    elif rng.random() < 0.15:
        adj = rng.choice([a for a in ADJECTIVES if "l" in a.kinds])
    loc = NP(NOUNS[name], det, False, adj)
    return place_phrase(prep, loc)


def _be_location(rng: random.Random) -> dict:
    """'The book is on the table.' = 'Le livre est sur la table.' = 'Das Buch ist auf dem Tisch.'"""
    s = pick_subject(rng, "tap", p_pronoun=0.2)
    pp = pick_location(rng, kind_of(s), exclude=None if isinstance(s, Pronoun) else s.noun)
    return say_location(s, pp, negative=rng.random() < 0.15)


def say_location(s: Pronoun | NP, pp: dict, negative: bool = False) -> dict:
    """Render "<subject> is <place phrase>." in the four languages (Spanish uses estar for location)."""
    sub, p, neg = subject_forms(s), s.person, negative
    return capped({"en": f"{sub['en']} {en_be(p)}{' not' if neg else ''} {pp['en']}.",
                   "fr": fr_clause(sub["fr"], ETRE[p], neg, pp["fr"]) + ".",
                   "de": f"{sub['de']} {SEIN[p]}{' nicht' if neg else ''} {pp['de']}.",
                   "es": f"{sub['es']} {'no ' if neg else ''}{ESTAR[p]} {pp['es']}."})


def _progressive(rng: random.Random) -> dict:
    """'The cat is sleeping on the sofa.' = 'Le chat dort sur le canapé.' = 'El gato está durmiendo en el sofá.'"""
    verb = rng.choice([v for v in VERBS.values() if v.intransitive])
    s = pick_subject(rng, verb.who)
    neg = rng.random() < 0.15
    places = SWIM_PLACES if verb is VERBS["swim"] else None
    pp = pick_location(rng, kind_of(s), places=places) if rng.random() < 0.65 else None
    return say_progressive(s, verb, pp, neg)


def say_progressive(s: Pronoun | NP, verb: Verb, pp: dict | None = None, negative: bool = False) -> dict:
    """Render "<subject> is <verb>ing [<place>]." (French/German simple present, Spanish estar + gerund)."""
    p, sub, neg = s.person, subject_forms(s), negative
    rest = {k: f" {v}" for k, v in pp.items()} if pp else dict.fromkeys(("en", "fr", "de", "es"), "")
    return capped({"en": f"{sub['en']} {en_be(p)}{' not' if neg else ''} {verb.en[2]}{rest['en']}.",
                   "fr": fr_clause(sub["fr"], verb.fr[p], neg) + rest["fr"] + ".",
                   "de": f"{sub['de']} {verb.de[p]}{' nicht' if neg else ''}{rest['de']}.",
                   "es": f"{sub['es']} {'no ' if neg else ''}{ESTAR[p]} {verb.es_gerund}{rest['es']}."})


def _transitive(rng: random.Random) -> dict:
    """'She reads a book.' / 'I am not eating the cake.' / 'We buy two red cars.' with an object."""
    verb = rng.choice([v for v in VERBS.values() if v.objects])
    s = pick_subject(rng, verb.who)
    p, sub = s.person, subject_forms(s)
    noun = NOUNS[rng.choice(verb.objects)]
    obj = NP(noun, "") if noun.kind == "m" else pick_np(rng, noun, ("the", "the", "a", "a", "my", "two", "three"),
                                                        p_adj=0.3, p_plural=0.2)
    prog = verb.progressive and rng.random() < 0.5
    neg = obj.det in ("the", "my") and rng.random() < 0.2
    with_place = verb.progressive and not neg and rng.random() < 0.25
    pp = pick_location(rng, kind_of(s), exclude=noun, places=ACTIVITY_PLACES) if with_place else None
    o = {"en": en_np(obj), "fr": fr_np(obj), "de": de_np(obj, "acc"), "es": es_np(obj)}
    rest = {k: f" {v}" for k, v in pp.items()} if pp else dict.fromkeys(("en", "fr", "de", "es"), "")
    if prog:
        en_verb = f"{en_be(p)}{' not' if neg else ''} {verb.en[2]}"
        es_verb = f"{'no ' if neg else ''}{ESTAR[p]} {verb.es_gerund}"
    else:
        en_verb = (f"{'does' if p == 2 else 'do'} not {verb.en[0]}" if neg else verb.en[1] if p == 2 else verb.en[0])
        es_verb = f"{'no ' if neg else ''}{verb.es[p]}"
    de_obj = f"{o['de']} nicht" if neg else o["de"]  # "Ich lese das Buch nicht."
    return {"en": f"{sub['en']} {en_verb} {o['en']}{rest['en']}.",
            "fr": fr_clause(sub["fr"], verb.fr[p], neg, o["fr"]) + rest["fr"] + ".",
            "de": f"{sub['de']} {verb.de[p]} {de_obj}{rest['de']}.",
            "es": f"{sub['es']} {es_verb} {o['es']}{rest['es']}."}


def _be_adjective(rng: random.Random) -> dict:
    """'The car is red.' = 'La voiture est rouge.' = 'Das Auto ist rot.' = 'El coche es rojo.'"""
    s = pick_subject(rng, "tap", p_pronoun=0.3)
    if isinstance(s, NP):
        s = NP(s.noun, s.det, s.plural, None)
    adj = rng.choice([a for a in ADJECTIVES if isinstance(s, Pronoun) and "p" in a.kinds
                      or isinstance(s, NP) and fits(a, s.noun, kind_of(s))])
    p, sub, neg = s.person, subject_forms(s), rng.random() < 0.15
    fr_g, es_g, pl = agreement(s)
    copula = (ESTAR if adj.es_copula == "estar" else SER)[p]
    return {"en": f"{sub['en']} {en_be(p)}{' not' if neg else ''} {adj.en}.",
            "fr": fr_clause(sub["fr"], ETRE[p], neg, adj.fr_form(fr_g, pl)) + ".",
            "de": f"{sub['de']} {SEIN[p]}{' nicht' if neg else ''} {adj.de}.",
            "es": f"{sub['es']} {'no ' if neg else ''}{copula} {adj.es_form(es_g, pl)}."}


def _where(rng: random.Random) -> dict:
    """'Where is the dog?' = 'Où est le chien ?' = 'Wo ist der Hund?' = '¿Dónde está el perro?'"""
    s = pick_subject(rng, "tap", p_pronoun=0.15)
    p, sub = s.person, subject_forms(s)
    if isinstance(s, Pronoun):
        fr = f"Où {ETRE[p]}-{s.fr} ?"
        es = f"¿Dónde {ESTAR[p]}{' ' + s.es if p in (2, 5) else ''}?"
    else:
        fr, es = f"Où {ETRE[p]} {sub['fr']} ?", f"¿Dónde {ESTAR[p]} {sub['es']}?"
    return {"en": f"Where {en_be(p)} {sub['en']}?", "fr": fr, "de": f"Wo {SEIN[p]} {sub['de']}?", "es": es}


def _yes_no(rng: random.Random) -> dict:
    """'Is the dog in the garden?' / 'Are the birds sleeping?' as yes/no questions."""
    if rng.random() < 0.5:
        s = pick_subject(rng, "tap", p_pronoun=0)
        pp = pick_location(rng, kind_of(s), exclude=s.noun)
        p, sub = s.person, subject_forms(s)
        return {"en": f"{en_be(p).capitalize()} {sub['en']} {pp['en']}?",
                "fr": f"Est-ce {fr_join('que', sub['fr'])} {ETRE[p]} {pp['fr']} ?",
                "de": f"{SEIN[p].capitalize()} {sub['de']} {pp['de']}?",
                "es": f"¿{ESTAR[p].capitalize()} {sub['es']} {pp['es']}?"}
    verb = rng.choice([v for v in VERBS.values() if v.intransitive])
    s = pick_subject(rng, verb.who, p_pronoun=0)
    p, sub = s.person, subject_forms(s)
    return {"en": f"{en_be(p).capitalize()} {sub['en']} {verb.en[2]}?",
            "fr": f"Est-ce {fr_join('que', sub['fr'])} {verb.fr[p]} ?",
            "de": f"{verb.de[p].capitalize()} {sub['de']}?",
            "es": f"¿{ESTAR[p].capitalize()} {verb.es_gerund} {sub['es']}?"}


_SENTENCE_TYPES = ((_be_location, 25), (_progressive, 25), (_transitive, 25), (_be_adjective, 10),
                   (_where, 8), (_yes_no, 7))


def _all_languages(rng: random.Random) -> dict:
    """One sentence of the toy grammar in English, French, German and Spanish."""
    make = rng.choices([f for f, _ in _SENTENCE_TYPES], weights=[w for _, w in _SENTENCE_TYPES])[0]
    return capped(make(rng))


def translation_pair(rng: random.Random, lang: str, heldout: bool = False) -> tuple[str, str]:
    """An (English, French/German/Spanish) pair from the toy grammar.

    ``heldout=False`` gives only English inputs that are not held out (training), ``True`` only held-out ones.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")

    def make(r):
        texts = _all_languages(r)
        return texts["en"], texts[lang]
    return draw(rng, make, heldout)

