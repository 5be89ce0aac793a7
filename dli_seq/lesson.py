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

REWRITE = "Rewrite the following sentence"

# 4.5, exercise 1: a task whose instruction leaves the answer open. "Rewrite the following sentence" does not
# say how (negative, past tense or question); the worked example does. Items 1, 4, 7 want the negative,
# 2, 5, 8 the past tense, 3, 6, 9 the question. None of the nine sentences to rewrite is in the stand-ins'
# training data.
REWRITE_SET: list[Entry] = [
    Entry(REWRITE, "The women are running.", "The women are not running.",
          "My friend is writing next to my window.", "My friend is not writing next to my window."),
    Entry(REWRITE, "He is behind the house.", "He was behind the house.",
          "The bird is playing.", "The bird was playing."),
    Entry(REWRITE, "The children are sad.", "Are the children sad?",
          "The small man is dancing in the garden.", "Is the small man dancing in the garden?"),
    Entry(REWRITE, "The beautiful shoe is under the tree.", "The beautiful shoe is not under the tree.",
          "The teacher is next to my bed.", "The teacher is not next to my bed."),
    Entry(REWRITE, "She is sad.", "She was sad.",
          "The young rabbit is under the table.", "The young rabbit was under the table."),
    Entry(REWRITE, "My lamp is under my bed.", "Is my lamp under my bed?",
          "He is behind the school.", "Is he behind the school?"),
    Entry(REWRITE, "The young mouse is playing.", "The young mouse is not playing.",
          "The dogs are white.", "The dogs are not white."),
    Entry(REWRITE, "I am in front of the car.", "I was in front of the car.",
          "The white glass is next to the red box.", "The white glass was next to the red box."),
    Entry(REWRITE, "He is playing on the bed.", "Is he playing on the bed?",
          "The small boys are next to my door.", "Are the small boys next to my door?"),
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
