"""The lesson's four architectures at their real size, random-init, built offline (no hub).

Built from the published configurations vendored in ``dli_seq/real_configs/*.json`` (read by path;
``benchmarks/realsize.py`` reads the same files). Two test-only variations:

* ``tiny=True`` keeps every configuration choice but shrinks the sizes (2 layers, 64 wide), so a
  CPU can run the same checks in a second;
* ``spread=True`` widens the random initialisation (GPT-2/Phi ``initializer_range`` 0.2, T5
  ``initializer_factor`` 5): greedy text then varies instead of repeating one token, which makes an
  exactness test meaningful; the shapes, and so the speed, are the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import GPT2LMHeadModel, PhiForCausalLM, T5ForConditionalGeneration

CONFIGS = Path(__file__).resolve().parents[2] / "dli_seq" / "real_configs"
CLASSES = {"gpt2": GPT2LMHeadModel, "t5-base": T5ForConditionalGeneration,
           "flan-t5-large": T5ForConditionalGeneration, "phi-1_5": PhiForCausalLM}
NAMES = tuple(CLASSES)
TINY = {"gpt2": dict(n_layer=2, n_embd=64, n_head=4),
        "phi": dict(num_hidden_layers=2, hidden_size=64, intermediate_size=256, num_attention_heads=4),
        "t5": dict(num_layers=2, num_decoder_layers=2, d_model=64, d_kv=16, d_ff=128, num_heads=4)}


def real_config(name: str, tiny: bool = False, spread: bool = False):
    """The published configuration of one of the lesson's models (dli_seq/real_configs/<name>.json)."""
    if name not in CLASSES:
        raise ValueError(f"Unknown model {name!r}; one of {', '.join(NAMES)}.")
    fields = json.loads((CONFIGS / f"{name}.json").read_text(encoding="utf-8"))
    t5 = fields["model_type"] == "t5"
    if tiny:
        fields.update(TINY[fields["model_type"]])
    if spread:
        fields["initializer_factor" if t5 else "initializer_range"] = 5.0 if t5 else 0.2
    return CLASSES[name].config_class.from_dict(fields)


def real_model(name: str, device="cpu", dtype: torch.dtype = torch.float32, tiny: bool = False,
               spread: bool = False, seed: int = 0):
    """A random-init model with the real configuration, built directly on ``device`` (fast on a GPU)."""
    config = real_config(name, tiny, spread)
    torch.manual_seed(seed)
    with torch.device(device):
        model = CLASSES[name](config)
    return model.to(dtype).eval()
