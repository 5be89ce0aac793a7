"""The lesson's four architectures at their real size, random-init, built offline (no hub).

Used by benchmarks/decode.py (speed does not depend on the weights' values) and by the GPU
tests in tests/gpu/ (greedy exactness at real size). The configurations are written out by
hand from the published models' config.json files:

* gpt2: ``GPT2Config()`` (124M: 12 layers, 768 wide, 12 heads, 1024 positions);
* t5-base: 12+12 layers, d_model 768, d_ff 3072, 12 heads, relu, tied embeddings (223M);
* flan-t5-large: 24+24 layers, d_model 1024, d_ff 2816, 16 heads, gated-gelu, untied (783M);
* phi-1_5: ``PhiConfig()`` (its defaults are phi-1_5's: 24 layers, 2048 wide, 32 heads,
  partial rotary 0.5, 2048 positions; 1.4B).

``tiny=True`` keeps every configuration choice but shrinks the sizes (2 layers, 64 wide), so a
CPU can run the same checks in a second. ``spread=True`` widens the random initialisation
(GPT-2/Phi ``initializer_range`` 0.2, T5 ``initializer_factor`` 5): greedy text then varies
instead of repeating one token, which makes an exactness test meaningful; the shapes, and so
the speed, are the same.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (GPT2Config, GPT2LMHeadModel, GPT2Tokenizer, PhiConfig, PhiForCausalLM, T5Config,
                          T5ForConditionalGeneration, T5Tokenizer)

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ROOT / "dli_seq" / "standins" / "gpt2_vocab"
NAMES = ("gpt2", "t5-base", "flan-t5-large", "phi-1_5")
TINY = dict(gpt2=dict(n_layer=2, n_embd=64, n_head=4),
            phi=dict(num_hidden_layers=2, hidden_size=64, intermediate_size=256, num_attention_heads=4),
            t5=dict(num_layers=2, num_decoder_layers=2, d_model=64, d_kv=16, d_ff=128, num_heads=4))


def real_config(name: str, tiny: bool = False, spread: bool = False):
    """The configuration of one of the lesson's models, written out by hand (no download)."""
    if name == "gpt2":
        config = GPT2Config(**(TINY["gpt2"] if tiny else {}))
        if spread:
            config.initializer_range = 0.2
    elif name == "phi-1_5":
        config = PhiConfig(bos_token_id=50256, eos_token_id=50256, **(TINY["phi"] if tiny else {}))
        if spread:
            config.initializer_range = 0.2
    elif name in ("t5-base", "flan-t5-large"):
        sizes = dict(d_model=768, d_ff=3072, d_kv=64, num_layers=12, num_heads=12) if name == "t5-base" else \
            dict(d_model=1024, d_ff=2816, d_kv=64, num_layers=24, num_heads=16)
        sizes.update(TINY["t5"] if tiny else {})
        flan = name == "flan-t5-large"
        config = T5Config(vocab_size=32128, feed_forward_proj="gated-gelu" if flan else "relu",
                          tie_word_embeddings=not flan, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
                          initializer_factor=5.0 if spread else 1.0, **sizes)
    else:
        raise ValueError(f"Unknown model {name!r}; one of {', '.join(NAMES)}.")
    return config


def real_model(name: str, device="cpu", dtype: torch.dtype = torch.float32, tiny: bool = False,
               spread: bool = False, seed: int = 0):
    """A random-init model with the real configuration, built directly on ``device`` (fast on a GPU)."""
    config = real_config(name, tiny, spread)
    cls = {"gpt2": GPT2LMHeadModel, "phi-1_5": PhiForCausalLM}.get(name, T5ForConditionalGeneration)
    torch.manual_seed(seed)
    with torch.device(device):
        model = cls(config)
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
