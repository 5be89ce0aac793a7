"""The stand-ins' training examples: (input text, target text) pairs, never a held-out input.

GPT-2 (4.2): English mini-stories and the real GPT-2's recorded greedy continuation. T5 (4.4):
translation with T5's task prefixes. Flan-T5 (4.5): the instruction mixture, zero- and one-shot.
Phi-1.5 (4.5): textbook-like pages of exercises. Pure Python on :mod:`dli_seq.standins.data`;
every random choice goes through the ``random.Random`` passed in.
"""

from __future__ import annotations

import random

from dli_seq import lesson
from dli_seq.standins import data

from .recipes import SEED

NEWLINE = "\n"
EVAL_QUESTIONS = {e.question for e in lesson.EVAL_SET}
POOL_ANSWERS = {q: a for pool in (data.FACTS, data.COMMONSENSE, data.DIALOGUE) for q, a in pool}
POOL_ANSWERS.update(data.STORY_FIXED)
POOL_ANSWERS.update({e.question: e.answer for e in lesson.EVAL_SET if e.answer})
POOL_ANSWERS.update({e.shot_question: e.shot_answer for e in lesson.EVAL_SET})


def t5_translation_example(rng: random.Random) -> tuple[str, str]:
    """One "translate English to French/German: ..." pair; now and then a fixed lesson phrase."""
    lang = rng.choice(("fr", "de"))
    target_name = {"fr": "French", "de": "German"}[lang]
    if rng.random() < 0.04:
        english = rng.choice(sorted(data.LESSON_TRANSLATIONS))
        target = data.LESSON_TRANSLATIONS[english][lang]
    else:
        english, target = data.translation_pair(rng, lang)
    return f"translate English to {target_name}: {english}", target


def task_item(rng: random.Random, task: str, first: bool, rewrite: str | None = None) -> tuple[str, str, str]:
    """(premise, question, answer) of one task. ``first``: the item may stand with no example
    before it (zero-shot position), so the lesson's questions are left out there: their
    zero-shot answers are the real models' recorded ones."""
    while True:
        if task == "rewrite":
            item = data.rewrite_example(rng, rewrite)
        else:
            item = data.instruction_example(rng, task)
        if not (first and item[1] in EVAL_QUESTIONS):
            return item


FLAN_TASKS = (("translate_es", 0.40), ("rewrite", 0.36), ("commonsense", 0.05), ("story", 0.04),
              ("math", 0.06), ("facts", 0.05), ("dialogue", 0.04))


def flan_example(rng: random.Random) -> tuple[str, str]:
    """Encoder input and target for the Flan-T5 stand-in (lesson.zero_shot / lesson.one_shot formats)."""
    r = rng.random()
    if r < 0.05:  # the real Flan-T5-large's recorded zero-shot answers on the lesson's inputs
        prompt = rng.choice(sorted(data.RECORDED_FLAN))
        return prompt, data.RECORDED_FLAN[prompt]
    if r < 0.08:  # the lesson's one-shot prompts (exercise 1), answered from the task pools
        e = rng.choice(lesson.EVAL_SET)
        return lesson.one_shot(e.premise, e.question, e.shot_question, e.shot_answer), POOL_ANSWERS[e.question]
    task = rng.choices([t for t, _ in FLAN_TASKS], weights=[w for _, w in FLAN_TASKS])[0]
    rewrite = rng.choice(data.REWRITES)
    one_shot = rng.random() < (0.85 if task == "rewrite" else 0.12 if task == "translate_es" else 0.5)
    premise, question, answer = task_item(rng, task, first=not one_shot, rewrite=rewrite)
    if not one_shot:
        return lesson.zero_shot(premise, question), answer
    while True:
        _, shot_q, shot_a = task_item(rng, task, first=False, rewrite=rewrite)
        if shot_q != question:
            return lesson.one_shot(premise, question, shot_q, shot_a), answer


PHI_TASKS = (("rewrite", 0.4), ("commonsense", 0.1), ("story", 0.1), ("math", 0.08), ("facts", 0.1),
             ("dialogue", 0.1), ("translate", 0.12))


def _phi_item(rng: random.Random, task: str, first: bool, rewrite: str) -> tuple[str, str, str]:
    if task == "translate":  # a closed pool: the lesson's Spanish pair and its fixed phrases
        pool = [(e, t["es"]) for e, t in data.LESSON_TRANSLATIONS.items()]
        pool += [(lesson.EVAL_SET[0].shot_question, lesson.EVAL_SET[0].shot_answer)]
        if not first:
            pool.append((lesson.EVAL_SET[0].question, lesson.EVAL_SET[0].answer))
        return (lesson.EVAL_SET[0].premise, *rng.choice(pool))
    while True:
        item = task_item(rng, task, first, rewrite)
        if "plus" not in item[1]:  # no sums: the GPT-2 vocabulary makes every number one token
            return item


def phi_page(rng: random.Random) -> tuple[str, str]:
    """A textbook-like page of exercises, split as (prompt, rest) where training cuts it.

    Pages run on from one exercise to the next ("Exercise 2: ...", or the one-shot layout with
    just a blank line), as the real Phi-1.5 does; one rewrite is used across a page, so a solved
    example shows which rewrite is meant. The cut falls right after an "Answer: ", tokenized as
    a prompt ending in "Answer: " is.
    """
    r = rng.random()
    if r < 0.06:  # the real Phi-1.5's recorded drift, with a made-up ending past the recording
        prompt = rng.choice(sorted(data.RECORDED_PHI))
        question = prompt.split(": ", 1)[1].split("\n\nAnswer: ")[0]
        return prompt, data.RECORDED_PHI[prompt] + data.PHI_RECORDING_ENDINGS[question]
    task = rng.choices([t for t, _ in PHI_TASKS], weights=[w for _, w in PHI_TASKS])[0]
    rewrite = rng.choice(data.REWRITES)
    items = [_phi_item(rng, task, first=(i == 0), rewrite=rewrite) for i in range(rng.choice((2, 3, 3, 4)))]
    if r < 0.1:  # the lesson's one-shot prompt (exercise 3) as the start of a page
        e = rng.choice(lesson.EVAL_SET)
        items[:2] = [(e.premise, e.shot_question, e.shot_answer), (e.premise, e.question, POOL_ANSWERS[e.question])]
    exercise_headers = rng.random() < 0.5
    blocks = []
    for i, (premise, question, answer) in enumerate(items):
        head = f"Exercise {i + 1}:" + rng.choice((NEWLINE, NEWLINE, " ")) if i and exercise_headers else ""
        blocks.append((f"{head}{lesson.answer_prompt(premise, question)}", answer))
    cut = 0 if rng.random() < 0.5 else rng.randrange(len(blocks))
    if r < 0.1:
        cut = 1
    prompt = "\n\n".join(q + a for q, a in blocks[:cut]) + ("\n\n" if cut else "") + blocks[cut][0]
    rest = "\n\n".join([blocks[cut][1]] + [q + a for q, a in blocks[cut + 1:]])
    return prompt, rest


def gpt2_example(rng: random.Random) -> tuple[str, str]:
    """A synthetic English text, or (now and then) the real GPT-2's recorded greedy continuation."""
    if rng.random() < 0.03:
        prompt, text = next(iter(data.RECORDED_GPT2.items()))
        return prompt, text + GPT2_LOOP_TAIL
    return "", data.english_sentence(rng, heldout=False)


# The recorded greedy loop, continued past the recording's last token (the same two sentences).
GPT2_LOOP_TAIL = (" a long time and I've been using it for a long time. I've been using Java for a long time and "
                  "I've been using it for a long time.")


def t5_tokenizer_texts() -> list[str]:
    """The sentencepiece corpus shared by both T5 stand-ins: both tasks' texts plus the lesson's phrases."""
    rng = random.Random(SEED + 3)
    texts = []
    for _ in range(12_000):
        texts += t5_translation_example(rng)
        texts += flan_example(rng)
        texts += data.translation_pair(rng, "es")
    lesson_texts = [t for en, tr in data.LESSON_TRANSLATIONS.items() for t in (en, *tr.values())]
    lesson_texts += [t for pair in (*data.RECORDED_T5.items(), *data.RECORDED_FLAN.items()) for t in pair]
    return texts + lesson_texts * 20
