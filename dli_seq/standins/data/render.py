"""Rendering noun phrases and small clauses in four languages (agreement, elision, contractions).

Used by the toy grammar (:mod:`.grammar`) of the T5 and Flan-T5 stand-ins (4.4, 4.5) and by the
English stories and rewrites.
"""

from __future__ import annotations

from .lexicon import NP, NUMBERS, PREPOSITIONS, Pronoun


def capped(texts: dict) -> dict:
    """Capitalise every rendering of a sentence."""
    return {lang: cap(text) for lang, text in texts.items()}


def cap(text: str) -> str:
    """Capitalise the first letter (skipping a leading '¿' or '¡')."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1:]
    return text

_FR_VOWELS = "aeiouéèêàâîôûh"  # the lexicon has no aspirated-h word, so 'h' elides (l'homme)


def _fr_vowel(word: str) -> bool:
    return word[:1].lower() in _FR_VOWELS


def fr_join(word: str, nxt: str) -> str:
    """Join two French words, eliding le/la/je/ne/de/que before a vowel: l'arbre, j'ai, n'est."""
    if word in ("le", "la", "je", "ne", "de", "que") and _fr_vowel(nxt):
        return f"{word[:-1]}'{nxt}"
    return f"{word} {nxt}"


def en_np(np: NP) -> str:
    """English noun phrase: 'the small dog', 'an apple', 'my red cars', 'milk'."""
    words = " ".join(w for w in (np.adj.en if np.adj else "", np.noun.en_pl if np.plural else np.noun.en) if w)
    if np.det == "a":
        return ("an " if words[0] in "aeiou" else "a ") + words
    return f"{np.det} {words}" if np.det else words


def fr_np(np: NP) -> str:
    """French noun phrase with agreement, adjective position, elision and partitive."""
    n, g, pl = np.noun, np.noun.fr_g, np.plural
    words = n.fr_pl if pl else n.fr
    if np.adj and np.adj.fr_pre:
        words = f"{np.adj.fr_form(g, pl, before_vowel=_fr_vowel(words))} {words}"
    elif np.adj:
        words = f"{words} {np.adj.fr_form(g, pl)}"
    if np.det == "the":
        return f"les {words}" if pl else fr_join("le" if g == "m" else "la", words)
    if np.det == "a":
        return f"{'un' if g == 'm' else 'une'} {words}"
    if np.det == "my":
        return f"{'mes' if pl else 'mon' if g == 'm' or _fr_vowel(words) else 'ma'} {words}"
    if np.det in NUMBERS:
        return f"{NUMBERS[np.det][0]} {words}"
    return f"de l'{words}" if _fr_vowel(words) else f"{'du' if g == 'm' else 'de la'} {words}"  # partitive


_DE_DEF = {"nom": ("der", "die", "das", "die"), "acc": ("den", "die", "das", "die"),
           "dat": ("dem", "der", "dem", "den")}
_DE_INDEF = {"nom": ("ein", "eine", "ein"), "acc": ("einen", "eine", "ein"), "dat": ("einem", "einer", "einem")}
_DE_GENDERS = "mfn"


def _de_ending(det: str, case: str, gender: str, plural: bool) -> str:
    """German attributive adjective ending: weak after der/die/das, mixed after ein/mein, strong after numbers."""
    if plural:
        return "e" if det in NUMBERS and case != "dat" else "en"
    if case == "dat" or (case == "acc" and gender == "m"):
        return "en"
    if det == "the" or gender == "f":
        return "e"
    return "er" if gender == "m" else "es"  # ein kleiner Hund, ein kleines Kind


def de_np(np: NP, case: str = "nom") -> str:
    """German noun phrase in a case (nom/acc/dat): 'der kleine Hund', 'einen roten Ball', 'dem Tisch'."""
    n, g, pl = np.noun, np.noun.de_g, np.plural
    noun = (n.de_dat_pl if case == "dat" else n.de_pl) if pl else (n.de_pl if n.de_weak and case != "nom" else n.de)
    if np.adj:
        stem = np.adj.de[:-1] if np.adj.de.endswith("e") else np.adj.de
        noun = f"{stem}{_de_ending(np.det, case, g, pl)} {noun}"
    gi = 3 if pl else _DE_GENDERS.index(g)
    if np.det == "the":
        return f"{_DE_DEF[case][gi]} {noun}"
    if np.det == "a":
        return f"{_DE_INDEF[case][gi]} {noun}"
    if np.det == "my":  # mein declines like ein; plural meine / meinen
        art = ("meinen" if case == "dat" else "meine") if pl else "m" + _DE_INDEF[case][gi]
        return f"{art} {noun}"
    if np.det in NUMBERS:
        return f"{NUMBERS[np.det][1]} {noun}"
    return noun  # mass noun: "Ich trinke Milch."


def es_np(np: NP) -> str:
    """Spanish noun phrase: 'el perro pequeño', 'una manzana roja', 'mis libros', 'leche'."""
    n, g, pl = np.noun, np.noun.es_g, np.plural
    words = n.es_pl if pl else n.es
    if np.adj:
        words = f"{words} {np.adj.es_form(g, pl)}"
    if np.det == "the":
        art = ("los" if g == "m" else "las") if pl else ("el" if g == "m" else "la")
    elif np.det == "a":
        art = "un" if g == "m" else "una"
    elif np.det == "my":
        art = "mis" if pl else "mi"
    elif np.det in NUMBERS:
        art = NUMBERS[np.det][2]
    else:
        return words
    return f"{art} {words}"


def place_phrase(prep: str, loc: NP) -> dict:
    """A location phrase ("on the table") in all four languages, with contractions (du, im, del)."""
    fr_p, de_p, es_p = PREPOSITIONS[prep]
    fr = fr_np(loc)
    if fr_p.endswith(" de"):
        head = fr_p[:-3]
        if fr.startswith("le "):
            fr = f"{head} du {fr[3:]}"
        elif fr.startswith("les "):
            fr = f"{head} des {fr[4:]}"
        else:
            fr = f"{head} {fr_join('de', fr)}"
    else:
        fr = f"{fr_p} {fr}"
    de = f"{de_p} {de_np(loc, 'dat')}"
    if de.startswith("in dem "):  # in dem Garten -> im Garten
        de = "im " + de[len("in dem "):]
    es = f"{es_p} {es_np(loc)}"
    if es_p.endswith(" de") and es.startswith(es_p + " el "):
        es = es_p[:-3] + " del " + es[len(es_p) + 4:]
    return {"en": f"{prep} {en_np(loc)}", "fr": fr, "de": de, "es": es}


def subject_forms(s) -> dict:
    """Subject in the four languages (German nominative)."""
    if isinstance(s, Pronoun):
        return {"en": s.en, "fr": s.fr, "de": s.de, "es": s.es}
    return {"en": en_np(s), "fr": fr_np(s), "de": de_np(s, "nom"), "es": es_np(s)}


def agreement(s) -> tuple[str, str, bool]:
    """(French gender, Spanish gender, plural) of a subject, for predicative adjectives."""
    if isinstance(s, Pronoun):
        return s.gender, s.gender, s.person >= 3
    return s.noun.fr_g, s.noun.es_g, s.plural


def en_be(person: int, past: bool = False) -> str:
    """English "to be" for a person (0 = I ... 5 = they): am/are/is, or was/were."""
    if past:
        return "was" if person in (0, 2) else "were"
    return ("am", "are", "is", "are", "are", "are")[person]


def fr_clause(subj: str, verb: str, neg: bool, rest: str = "") -> str:
    """French subject + verb (+ ne ... pas) + rest, with elision: 'je n'ai pas', 'j'écris'."""
    if neg:
        verb = fr_join("ne", verb) + " pas"
    head = fr_join(subj, verb) if subj == "je" else f"{subj} {verb}"
    return f"{head} {rest}".strip()

