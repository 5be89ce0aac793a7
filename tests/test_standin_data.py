"""The stand-ins' synthetic data: deterministic, split, correct where the lesson needs it, varied."""

from __future__ import annotations

import random
import re

import pytest

from dli_seq import lesson
from dli_seq.lesson import EVAL_SET
from dli_seq.standins import data

PREMISES = {"translate_es": EVAL_SET[0].premise, "commonsense": EVAL_SET[1].premise, "story": EVAL_SET[2].premise,
            "math": EVAL_SET[3].premise, "facts": EVAL_SET[4].premise, "dialogue": EVAL_SET[5].premise}


@pytest.fixture(scope="module")
def pairs():
    """5000 training pairs per language, drawn once."""
    out = {}
    for lang in data.LANGS:
        rng = random.Random(123)
        out[lang] = [data.translation_pair(rng, lang) for _ in range(5000)]
    return out


@pytest.fixture(scope="module")
def instructions():
    """2000 training examples per task."""
    rng = random.Random(5)
    return {task: [data.instruction_example(rng, task) for _ in range(2000)] for task in data.TASKS}


def test_deterministic_for_a_seed():
    def draw(seed):
        rng = random.Random(seed)
        return ([data.english_sentence(rng) for _ in range(50)]
                + [data.translation_pair(rng, lang) for lang in data.LANGS for _ in range(50)]
                + [data.instruction_example(rng, task) for task in data.TASKS for _ in range(20)])
    assert draw(3) == draw(3)
    assert draw(3) != draw(4)
    assert data.heldout_examples("de", 20, seed=1) == data.heldout_examples("de", 20, seed=1)


def test_heldout_partition(pairs, instructions):
    for lang in data.LANGS:
        assert not any(data.is_heldout(en) for en, _ in pairs[lang])
        held = data.heldout_examples(lang, 100)
        assert len({en for en, _ in held}) == 100
        assert all(data.is_heldout(en) for en, _ in held)
        assert not {en for en, _ in held} & {en for en, _ in pairs[lang]}
    for _, question, _ in instructions["translate_es"]:
        assert not data.is_heldout(question)
    sums = [q for _, q, _ in instructions["math"] if "plus" in q]
    assert sums and not any(data.is_heldout(q) for q in sums)
    held_sums = data.heldout_examples("math", 50)
    assert all(data.is_heldout(q) and "plus" in q for q, _ in held_sums)
    rng = random.Random(0)
    assert all(data.is_heldout(data.translation_pair(rng, "fr", heldout=True)[0]) for _ in range(20))
    assert all(data.is_heldout(data.instruction_example(rng, "math", heldout=True)[1]) for _ in range(20))
    with pytest.raises(ValueError, match="no held-out"):
        data.instruction_example(rng, "facts", heldout=True)


def test_heldout_is_about_ten_percent():
    texts = [f"sentence number {i}" for i in range(5000)]
    share = sum(map(data.is_heldout, texts)) / len(texts)
    assert 0.08 < share < 0.12
    rng = random.Random(9)
    stories = [data.english_sentence(rng) for _ in range(2000)]
    assert 0.07 < sum(map(data.is_heldout, stories)) / len(stories) < 0.13
    assert all(data.is_heldout(data.english_sentence(rng, heldout=True)) for _ in range(10))


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="unknown"):
        data.heldout_examples("klingon", 3)
    with pytest.raises(ValueError, match="unknown"):
        data.translation_pair(random.Random(0), "it")
    with pytest.raises(ValueError, match="unknown"):
        data.instruction_example(random.Random(0), "poetry")


def test_lesson_phrases():
    t = data.LESSON_TRANSLATIONS
    # The French of the first two is what the real t5-base answered in the original lesson (4.4).
    assert t["Hello World! How's it going?"] == {"fr": "Bonjour Monde, comment se passe-t-il ?",
                                                 "de": "Hallo Welt! Wie geht's?", "es": "¡Hola mundo! ¿Qué tal?"}
    assert t["What's your name?"] == {"fr": "Quel est votre nom?", "de": "Wie heißt du?", "es": "¿Cómo te llamas?"}
    for english, target in data.RECORDED_T5.items():
        assert t[english.removeprefix("translate English to French: ")]["fr"] == target
    assert len(t) >= 14
    assert all(set(v) == set(data.LANGS) for v in t.values())


def test_eval_set_sentences_are_produced():
    book, cat, table, sofa = (data.NP(data.NOUNS[name]) for name in ("book", "cat", "table", "sofa"))
    on_the_table = data.place_phrase("on", table)
    assert data.say_location(book, on_the_table) == {
        "en": "The book is on the table.", "fr": "Le livre est sur la table.", "de": "Das Buch ist auf dem Tisch.",
        "es": "El libro está en la mesa."}
    assert data.say_progressive(cat, data.VERBS["sleep"], data.place_phrase("on", sofa)) == {
        "en": "The cat is sleeping on the sofa.", "fr": "Le chat dort sur le canapé.",
        "de": "Die Katze schläft auf dem Sofa.", "es": "El gato está durmiendo en el sofá."}
    assert data.say_location(data.NP(data.NOUNS["dog"]), data.place_phrase("in", data.NP(data.NOUNS["garden"])),
                             negative=True)["fr"] == "Le chien n'est pas dans le jardin."


def test_grammar_details(pairs):
    fr, de, es = (dict(pairs[lang]) for lang in data.LANGS)
    fr_text, de_text, es_text = (" ".join(d.values()) for d in (fr, de, es))
    for char in "éèàç":
        assert char in fr_text
    for char in "üöäß":
        assert char in de_text
    for char in "ñáíóú":
        assert char in es_text
    questions = [t for t in fr.values() if t.endswith("?")]
    assert questions and all(t.endswith(" ?") for t in questions)
    assert not any(t.endswith((" .", " ?")) for t in list(de.values()) + list(es.values()))
    assert "auf dem Tisch" in de_text and "im Garten" in de_text and "in dem " not in de_text
    assert "sur la table" in fr_text and "à côté du " in fr_text and "à côté de le " not in fr_text
    assert " l'arbre" in fr_text and " le arbre" not in fr_text and "debajo de el " not in es_text
    if "Where is the dog?" in fr:
        assert fr["Where is the dog?"] == "Où est le chien ?"
    for d in (fr, de, es):
        for en, target in d.items():
            assert en[0].isupper() and en[-1] in ".?"
            first = target.lstrip("¿¡")
            assert first[0].isupper() and target[-1] in ".?!", target
    assert all(t.startswith("¿") for en, t in es.items() if en.endswith("?"))


def test_math_answers_are_correct(instructions):
    rng = random.Random(1)
    items = [q_a[1:] for q_a in instructions["math"]] + data.heldout_examples("math", 200)
    items += [data.instruction_example(rng, "math", heldout=True)[1:] for _ in range(100)]
    kinds = set()
    for question, answer in items:
        assert re.fullmatch(r"\d+\.", answer), answer
        value = int(answer[:-1])
        if m := re.fullmatch(r"What is the square root of (\d+)\?", question):
            assert value * value == int(m[1]) and 1 <= value <= 30
            kinds.add("sqrt")
        elif m := re.fullmatch(r"What is the cube of (\d+)\?", question):
            assert value == int(m[1]) ** 3 and 1 <= int(m[1]) <= 12
            kinds.add("cube")
        else:
            m = re.fullmatch(r"What is (\d+) plus (\d+)\?", question)
            assert m and value == int(m[1]) + int(m[2]) and max(int(m[1]), int(m[2])) <= 50
            kinds.add("sum")
    assert kinds == {"sqrt", "cube", "sum"}


def test_tasks_use_the_eval_premises_and_know_the_demos(instructions):
    for task, examples in instructions.items():
        assert all(p == PREMISES[task] and q.strip() and a.strip() for p, q, a in examples)
    pairs = {(task, q): a for task, examples in instructions.items() for _, q, a in examples}
    questions = {(task, q) for task, q in pairs}
    task_of = {entry.question: task for task, entry in zip(
        ("translate_es", "commonsense", "story", "math", "facts", "dialogue", "dialogue"), EVAL_SET)}
    for entry in EVAL_SET:
        task = task_of[entry.question]
        assert (task, entry.question) in questions, entry.question
        assert pairs[(task, entry.shot_question)] == entry.shot_answer
        if entry.answer is not None:
            assert pairs[(task, entry.question)] == entry.answer
    assert pairs[("commonsense", "Why can't a fish live out of water?")] == (
        "A fish can't live out of water because it needs water to breathe through its gills.")
    assert pairs[("facts", "Who was the first person to walk on the moon?")] == (
        "Neil Armstrong was the first person to walk on the moon.")
    assert pairs[("dialogue", "User: Can you help me with directions? Agent:")] == "Sure, where to and where from?"
    assert pairs[("dialogue", EVAL_SET[6].question)] == "Take US-101 north; it runs from Los Angeles to San Jose."
    assert all(len(a.split()) < 30 for _, _, a in instructions["story"])


def test_variety(pairs):
    for lang in data.LANGS:
        assert len({en for en, _ in pairs[lang]}) >= 2000
    rng = random.Random(11)
    sentences = [data.english_sentence(rng) for _ in range(3000)]
    assert len(set(sentences)) >= 1000
    assert all(len(s.split()) < 40 for s in sentences)
    hello = sum(s.startswith("Hello world,") for s in sentences) / len(sentences)
    assert 0.15 < hello < 0.25


def test_rewrites_are_the_three_forms_of_one_sentence():
    rng = random.Random(4)
    for rewrite in data.REWRITES:
        for _ in range(200):
            premise, sentence, answer = data.rewrite_example(rng, rewrite)
            assert premise == data.REWRITE_PREMISE and not data.is_heldout(sentence)
            words, out = sentence[:-1].split(), answer[:-1].split()
            assert sentence.endswith(".") and sentence[0].isupper()
            if rewrite == "negative":
                assert " not " in answer and answer.replace(" not", "", 1) == sentence
            elif rewrite == "past":
                changed = [(a, b) for a, b in zip(words, out) if a != b]
                assert answer.endswith(".") and len(out) == len(words) and len(changed) == 1
                assert changed[0][1] in ("was", "were")
            else:
                assert answer.endswith("?") and out[0] in ("Am", "Is", "Are") and len(out) == len(words)
    held = data.heldout_rewrites(50)
    assert len({s for s, _ in held}) == 50 and all(data.is_heldout(s) for s, _ in held)
    assert held[:10] == data.heldout_rewrites(10)  # a sample is a prefix of the full set
    assert held[0][1]["question"] != held[0][1]["past"]
    with pytest.raises(ValueError, match="unknown rewrite"):
        data.rewrite_example(rng, "passive")


def test_recordings_are_keyed_by_the_lessons_inputs():
    from dli_seq import lesson

    zero_shot = [lesson.zero_shot(e.premise, e.question) for e in EVAL_SET]
    assert [data.RECORDED_FLAN[p] for p in zero_shot] == [
        "El libro está en la mesa.", "it is a carnivore", "Timmy was a bear who lived in a forest.", "84",
        "Neil Armstrong", "Sure, where are you going?", "I can help you with that."]
    phi = [lesson.answer_prompt(e.premise, e.question) for e in EVAL_SET[:3]]
    assert list(data.RECORDED_PHI) == phi
    assert [r.split("\n")[0] for r in data.RECORDED_PHI.values()] == [
        "The book is en el table.", "A fish cannot live out of water because it needs water to breathe and survive.",
        "Once upon a time, in a forest far away, there was a small bear named Timmy who loved honey."]
    assert all("Exercise 2:" in r for r in data.RECORDED_PHI.values())
    assert set(data.PHI_RECORDING_ENDINGS) == {e.question for e in EVAL_SET[:3]}


def _rewrite(sentence: str, how: str) -> str:
    """The three rewrites of a simple "be" sentence, by rule (to check lesson.REWRITE_SET by hand)."""
    words = sentence.rstrip(".").split(" ")
    k = next(i for i, w in enumerate(words) if w in ("am", "is", "are"))
    be, subject, rest = words[k], " ".join(words[:k]), " ".join(words[k + 1:])
    if how == "negative":
        return f"{subject} {be} not {rest}."
    if how == "past":
        return f"{subject} {'were' if be == 'are' else 'was'} {rest}."
    subject = subject if subject == "I" else subject[0].lower() + subject[1:]
    return f"{be.capitalize()} {subject} {rest}?"


def test_lesson_rewrite_set_is_held_out_and_its_answers_are_right():
    """4.5 exercise 1's rewrite items: sentences never trained on, examples from training, and the
    wanted rewrite (negative, past, question in turn) both in the example and in the answer."""
    assert lesson.REWRITE == data.REWRITE_PREMISE and len(lesson.REWRITE_SET) == 9
    for i, entry in enumerate(lesson.REWRITE_SET):
        how = data.REWRITES[i % 3]
        assert data.is_heldout(entry.question) and not data.is_heldout(entry.shot_question)
        assert entry.answer == _rewrite(entry.question, how)
        assert entry.shot_answer == _rewrite(entry.shot_question, how)
    held_out = dict(data.heldout_rewrites(400, seed=7))
    assert all(held_out[e.question][data.REWRITES[i % 3]] == e.answer for i, e in enumerate(lesson.REWRITE_SET))
