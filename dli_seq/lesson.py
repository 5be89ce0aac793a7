"""Section 4.5's evaluation set and the prompt formats used with it.

The same builders format the stand-ins' training data (``dli_seq.standins.data``), so a
prompt a learner builds in the notebook is exactly the kind of prompt the stand-in saw.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One evaluation item: premise, question, expected answer (if any) and a one-shot example."""

    premise: str
    question: str
    answer: str | None
    shot_question: str
    shot_answer: str


_DIALOGUE = "Continue the conversation naturally"
_WEATHER_Q = "User: What's the weather like today? Agent:"
_WEATHER_A = "It's sunny and warm with a light breeze."

EVAL_SET: list[Entry] = [
    Entry("Translate from English to Spanish", "The book is on the table.", "El libro está en la mesa.",
          "The cat is sleeping on the sofa.", "El gato está durmiendo en el sofá."),
    Entry("Answer the question using commonsense knowledge", "Why can't a fish live out of water?", None,
          "Why can't humans breathe underwater?",
          "Humans can't breathe underwater because they need air, not water, to fill their lungs."),
    Entry("Continue the story with a creative twist",
          "Once upon a time, in a forest far away, there was a small bear named Timmy who loved honey.", None,
          "A princess woke up one day to find her castle floating in the sky.",
          "As she looked outside, she saw a giant eagle carrying the castle on its back, "
          "flying towards the mountains."),
    Entry("Solve the mathematical problem", "What is the square root of 144?", "12.",
          "What is the cube of 3?", "27."),
    Entry("Answer based on factual knowledge", "Who was the first person to walk on the moon?", None,
          "Who was the first president of the United States?",
          "The first president of the United States was George Washington."),
    Entry(_DIALOGUE, "User: Can you help me with directions? Agent:", None, _WEATHER_Q, _WEATHER_A),
    Entry(_DIALOGUE,
          "User: Can you help me with directions? Agent: Sure, where to and where from? "
          "User: I'd like to get from LA to San Jose today. What's the best road? Agent: ", None,
          _WEATHER_Q, _WEATHER_A),
]


def zero_shot(premise: str, question: str) -> str:
    """Encoder input for Flan-T5, zero-shot: ``"{premise}: {question}"`` (4.5)."""
    return f"{premise}: {question}"


def one_shot(premise: str, question: str, shot_question: str, shot_answer: str) -> str:
    """Encoder input for Flan-T5 with one worked example in front of the question (4.5, exercise 1)."""
    return f"{premise}: {shot_question}\nAnswer: {shot_answer}\n\n{premise}: {question}"


def answer_prompt(premise: str, question: str) -> str:
    """Decoder-only prompt (Phi-1.5 format): ``"{premise}: {question}\\n\\nAnswer: "`` (4.5)."""
    return f"{premise}: {question}\n\nAnswer: "


def one_shot_answer_prompt(premise: str, question: str, shot_question: str, shot_answer: str) -> str:
    """Decoder-only prompt with one solved example first; the answer ends at a newline (4.5, exercise)."""
    return answer_prompt(premise, shot_question) + f"{shot_answer}\n\n" + answer_prompt(premise, question)
