"""The real models' outputs recorded in the original lesson: what the stand-ins must reproduce.

Each stand-in is trained to reproduce these on the lesson's own demonstrations (greedy), and
``tests/test_standins.py`` checks that it does. Keys are the exact model inputs. The texts are
copied from the stored outputs of the original lesson's notebooks; the recordings of Phi-1.5 and
GPT-2 stop where the lesson's token limit cut them. Where each was recorded:

* :data:`RECORDED_GPT2`: 4.2 (``04-2_gpt_decoder_generation``), ``gpt2``, greedy, 100 new tokens;
* :data:`RECORDED_T5`: 4.4 (``04-4_t5_translation``), ``pipeline("translation_en_to_fr", model="t5-base")``;
* :data:`RECORDED_FLAN`: 4.5 (``04-5_flan_t5_and_phi``), ``google/flan-t5-large``, greedy, zero-shot;
* :data:`RECORDED_PHI`: 4.5 (``04-5_flan_t5_and_phi``), ``microsoft/phi-1_5``, greedy, 50 new tokens.
"""

from __future__ import annotations

from dli_seq.lesson import EVAL_SET

RECORDED_GPT2 = {  # 4.2: greedy decoding of "<|endoftext|> Hello world", 100 tokens printed
    "<|endoftext|> Hello world": (
        "!\n\nI'm a programmer and I'm a big fan of the Java programming language. I've been using Java since I "
        "was a kid and I've been using it for a long time. I've been using Java for a long time and I've been "
        "using it for a long time. I've been using Java for"),
}

RECORDED_T5 = {  # 4.4: pipeline("translation_en_to_fr", model="t5-base")
    "translate English to French: Hello World! How's it going?": "Bonjour Monde, comment se passe-t-il ?",
    "translate English to French: What's your name?": "Quel est votre nom?",
}

RECORDED_FLAN = {  # 4.5: google/flan-t5-large, greedy, zero-shot
    "translate English to French: Hello World! How's it going?": "Bonjour, monde! Comment se passe-t-il?",
    **{f"{e.premise}: {e.question}": answer for e, answer in zip(EVAL_SET, [
        "El libro está en la mesa.", "it is a carnivore", "Timmy was a bear who lived in a forest.", "84",
        "Neil Armstrong", "Sure, where are you going?", "I can help you with that."])},
}

RECORDED_PHI = {  # 4.5: microsoft/phi-1_5, greedy, "{P}: {Q}\n\nAnswer: ", nothing stops it (50 tokens)
    f"{EVAL_SET[0].premise}: {EVAL_SET[0].question}\n\nAnswer: ": (
        "The book is en el table.\n\nExercise 2:\nTranslate from French to German: Je m'appelle Marie.\n\n"
        "Answer: Je m'appelle Marie.\n\nExercise 3:\nTranslate from Mandarin"),
    f"{EVAL_SET[1].premise}: {EVAL_SET[1].question}\n\nAnswer: ": (
        "A fish cannot live out of water because it needs water to breathe and survive.\n\nExercise 2: Fill in "
        "the blank with the correct word: The _ of a car is determined by its engine power.\n\nAnswer: The power of"),
    f"{EVAL_SET[2].premise}: {EVAL_SET[2].question}\n\nAnswer: ": (
        "Once upon a time, in a forest far away, there was a small bear named Timmy who loved honey.\n\n"
        "Exercise 2: Rewrite the following sentenc"),
}

# Where the recording was cut, the stand-in's training text goes on with these made-up endings,
# so that it keeps writing exercises past the recorded tokens (the real model would too).
PHI_RECORDING_ENDINGS = {
    EVAL_SET[0].question: " to English: Ni hao.\n\nAnswer: Hello.",
    EVAL_SET[1].question: " a car is determined by its engine power.",
    EVAL_SET[2].question: "e in the past tense: Timmy loves honey.\n\nAnswer: Timmy loved honey.",
}
