"""The stand-ins' training data is reproducible: every generator the training uses, drawn with fixed
seeds, hashes to the digest recorded here.

Why a recorded digest is legitimate here: the shipped weights (``dli_seq/standins/*/model.safetensors``)
were trained on exactly this data (training is seeded). A refactor of ``dli_seq.standins.data`` or of
the training examples (``dli_seq.standins.examples``) that changes one drawn example, one random call or
one table row would make ``python -m dli_seq.standins.train`` produce different weights from the ones
that ship, silently. This test fails on any such change; update the digest only together with retrained
weights.
"""

from __future__ import annotations

import hashlib
import json
import random

from dli_seq.standins import data, evaluation, examples

N = 2000
DIGEST = "a0a3c335a20d616aaf6e93a29d8674a49dc292853318a80ed15d6da5cf7df91d"


def _draws() -> dict[str, list]:
    """N examples from every generator training and evaluation use, each stream with its own fixed seed."""
    out: dict[str, list] = {}
    for i, (name, make) in enumerate([("t5 translation", examples.t5_translation_example),
                                      ("flan", examples.flan_example), ("phi pages", examples.phi_page),
                                      ("gpt2 stories", examples.gpt2_example)]):
        rng = random.Random(100 + i)
        out[name] = [make(rng) for _ in range(N)]
    rng = random.Random(200)
    for lang in data.LANGS:
        out[f"translation {lang}"] = [data.translation_pair(rng, lang) for _ in range(N // 4)]
    for task in data.TASKS:
        out[f"instruction {task}"] = [data.instruction_example(rng, task) for _ in range(N // 4)]
    for rewrite in data.REWRITES:
        out[f"rewrite {rewrite}"] = [data.rewrite_example(rng, rewrite) for _ in range(N // 4)]
    out["english, unfiltered"] = [data.english_sentence(rng) for _ in range(N // 4)]
    out["english, held out"] = [data.english_sentence(rng, heldout=True) for _ in range(N // 10)]
    for held in (*data.LANGS, "math"):
        out[f"held-out {held}"] = data.heldout_examples(held, 200)
    out["held-out rewrites"] = data.heldout_rewrites(200)
    for name in ("t5-base", "flan-t5-large", "phi-1_5"):
        out[f"held-out sets {name}"] = evaluation.heldout_sets(name, 50)
    out["pool answers"] = sorted(examples.POOL_ANSWERS.items())
    out["lesson translations"] = sorted(data.LESSON_TRANSLATIONS.items())
    out["recorded"] = [data.RECORDED_GPT2, data.RECORDED_T5, data.RECORDED_FLAN, data.RECORDED_PHI,
                       data.PHI_RECORDING_ENDINGS]
    return out


def digest(texts) -> str:
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def test_training_data_is_byte_for_byte_what_the_shipped_weights_were_trained_on():
    assert digest(_draws()) == DIGEST


def test_t5_tokenizer_corpus_is_unchanged():
    """The sentencepiece corpus of both T5 stand-ins (36,000 draws; a few seconds)."""
    assert digest(examples.t5_tokenizer_texts()) == TOKENIZER_DIGEST


TOKENIZER_DIGEST = "a37c2decce537736e527974b2f1b4a95d34ffecf2bb4d439e1c7e7e720e89140"
