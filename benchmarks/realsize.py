"""The lesson's four architectures at their real size, random-init, built offline (no hub), for timing.

Used by benchmarks/decode.py: speed does not depend on the weights' values. The configurations
are the published ``config.json`` files vendored in ``dli_seq/real_configs/`` (read by path, the
same files the GPU tests in tests/gpu/ build from), so the timed shapes are exactly the real
models': gpt2 124M, t5-base 223M, flan-t5-large 783M (gated-gelu, untied), phi-1_5 1.4B.
Tokenizers are built offline too: GPT-2's real one from the vocabulary that ships with the kit,
and a synthetic T5 one with T5's vocabulary size.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import GPT2LMHeadModel, GPT2Tokenizer, PhiForCausalLM, T5ForConditionalGeneration, T5Tokenizer

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ROOT / "dli_seq" / "standins" / "gpt2_vocab"
CONFIGS = ROOT / "dli_seq" / "real_configs"
CLASSES = {"gpt2": GPT2LMHeadModel, "t5-base": T5ForConditionalGeneration,
           "flan-t5-large": T5ForConditionalGeneration, "phi-1_5": PhiForCausalLM}
NAMES = tuple(CLASSES)


def real_model(name: str, device="cpu", dtype: torch.dtype = torch.float32, seed: int = 0):
    """A random-init model with the published configuration, built directly on ``device`` (fast on a GPU)."""
    if name not in CLASSES:
        raise ValueError(f"Unknown model {name!r}; one of {', '.join(NAMES)}.")
    fields = json.loads((CONFIGS / f"{name}.json").read_text(encoding="utf-8"))
    torch.manual_seed(seed)
    with torch.device(device):
        model = CLASSES[name](CLASSES[name].config_class.from_dict(fields))
    return model.to(dtype).eval()


def gpt2_tokenizer() -> GPT2Tokenizer:
    """GPT-2's real tokenizer from the vocabulary that ships with the kit (GPT-2 and Phi-1.5 share it)."""
    return GPT2Tokenizer(str(VOCAB / "vocab.json"), str(VOCAB / "merges.txt"))


def synthetic_t5_tokenizer(words=()) -> T5Tokenizer:
    """A T5 tokenizer with T5's vocabulary size (32,128) whose every id decodes, built offline."""
    words = list(words) + ["Bonjour", "le", "monde", "!", "?", ":"]
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(f"\u2581{w}", -1.0) for w in dict.fromkeys(words)]
    pieces += [(f"\u2581w{i}", -5.0) for i in range(32028 - len(pieces))]
    return T5Tokenizer(vocab=pieces, extra_ids=100)
