"""The real models' memory, computed: weights per dtype and the KV cache at the lesson's lengths (4.1-4.5).

The four published ``config.json`` files in ``dli_seq/real_configs/`` describe the real models.
Each model is built on PyTorch's ``meta`` device (shapes only, no memory, no download) and its
parameters are counted exactly. transformers 5 always ties T5's output layer to its embeddings
when it builds the model; when it loads a checkpoint whose output layer differs (Flan-T5: the
published config says ``tie_word_embeddings: false``) it unties them again, so the count adds
that layer back: the figure is what a loaded model holds.

:data:`SECTIONS` lists what each lesson notebook does with which model (read from the notebooks
and :mod:`dli_seq.lesson`): the prompt, the new tokens asked for and the batch (beams and
``num_return_sequences`` count as rows). Prompt lengths are bounds (:func:`arithmetic.tokens_bound`),
so the KV figures are upper bounds; they are small next to the weights either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import lesson
from ..models import REGISTRY
from .arithmetic import kv_cache_bytes, tokens_bound

CONFIG_DIR = Path(__file__).resolve().parents[1] / "real_configs"
DTYPE_BYTES = {"fp32": 4, "bf16": 2}
TRANSLATE = "translate English to French: Hello World! How's it going?"  # 4.1, 4.3, 4.4
HELLO = "Hello world,"  # 4.2, 4.4


@dataclass(frozen=True)
class RealModel:
    """One real model's memory-relevant shape, from its published configuration (capacity, 4.1-4.5)."""

    name: str  # the file stem in real_configs/ (and the stand-in's folder name)
    hub_id: str
    parameters: int
    encoder_decoder: bool
    kv_layers: int  # decoder layers: each caches keys and values
    kv_heads: int
    head_dim: int

    def weights_bytes(self, dtype: str) -> int:
        """The weights' bytes in ``dtype`` ("fp32" or "bf16"), for the capacity report."""
        return self.parameters * DTYPE_BYTES[dtype]


@dataclass(frozen=True)
class Run:
    """One generation a notebook runs: which model, how long a prompt, how many new tokens, how many rows."""

    model: str
    what: str
    prompt_tokens: int
    new_tokens: int
    batch: int = 1


def _longest(prompts) -> int:
    return max(tokens_bound(p) for p in prompts)


SECTIONS: dict[str, tuple[Run, ...]] = {
    "04-1": (Run("t5-base", "translate one sentence, generate(max_new_tokens=32)", tokens_bound(TRANSLATE), 32),),
    "04-2": (Run("gpt2", "greedy and sampled continuations, 100 new tokens", tokens_bound(HELLO), 100),
             Run("gpt2", "pipeline, 5 samples of max_length=20", tokens_bound(HELLO), 20, 5),
             Run("gpt2", "exercise 3: a prompt of about 100 words, 32 new tokens", 200, 32)),
    "04-3": (Run("t5-base", "translate one sentence, generate(max_new_tokens=32)", tokens_bound(TRANSLATE), 32),),
    "04-4": (Run("t5-base", "beam search: 2 sentences x 4 beams, 40 new tokens", tokens_bound(TRANSLATE), 40, 8),
             Run("gpt2", "streaming, 20 new tokens", tokens_bound(HELLO), 20)),
    "04-5": (Run("flan-t5-large", "one-shot prompts of the evaluation set, 64 new tokens",
                 _longest(lesson.one_shot(e.premise, e.question, e.shot_question, e.shot_answer)
                          for e in lesson.EVAL_SET), 64),
             Run("phi-1_5", "one-shot prompts of the evaluation set, 64 new tokens",
                 _longest(lesson.one_shot_answer_prompt(e.premise, e.question, e.shot_question, e.shot_answer)
                          for e in lesson.EVAL_SET), 64)),
}


def published_config(name: str) -> dict:
    """A lesson model's published ``config.json`` (4.1-4.5), by file stem ("gpt2", "t5-base", "flan-t5-large", "phi-1_5")."""
    path = CONFIG_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.json")))
        raise ValueError(f"no published configuration {name!r} in {CONFIG_DIR}: one of {known}")
    return json.loads(path.read_text(encoding="utf-8"))


def _hub_id(name: str) -> str:
    for spec in REGISTRY.values():
        if spec.standin == name:
            return spec.hub_id
    raise ValueError(f"{name!r} is not one of the lesson's models")


@lru_cache(maxsize=None)
def real_model(name: str) -> RealModel:
    """A lesson model's parameter count and KV shape (4.1-4.5), built from its published config on the meta device."""
    import torch
    from transformers import AutoConfig

    from ..model_files import model_class

    fields = published_config(name)
    hub_id = _hub_id(name)
    config = AutoConfig.for_model(**fields)
    with torch.device("meta"):
        model = model_class(REGISTRY[hub_id].kind).from_config(config)
    parameters = sum(p.numel() for p in model.parameters())  # a tied tensor counts once
    head, embeddings = model.get_output_embeddings(), model.get_input_embeddings()
    if fields.get("tie_word_embeddings", True) is False and head.weight is embeddings.weight:
        parameters += head.weight.numel()  # loading the checkpoint unties it (see the module doc)
    if config.is_encoder_decoder:
        layers, heads, head_dim = config.num_decoder_layers, config.num_heads, config.d_kv
    else:
        layers, heads = config.num_hidden_layers, config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        heads = getattr(config, "num_key_value_heads", None) or heads
    return RealModel(name, hub_id, parameters, bool(config.is_encoder_decoder), layers, heads, head_dim)


def run_kv_bytes(model: RealModel, run: Run, dtype: str) -> int:
    """The KV cache one run of a lesson notebook (4.1-4.5) holds at its end, in ``dtype``.

    Decoder-only: prompt + new tokens. T5: the decoder's own positions (start token + new tokens)
    plus the cross-attention cache over the encoder's positions (the prompt).
    """
    size = DTYPE_BYTES[dtype]
    shape = (model.kv_layers, model.kv_heads, model.head_dim)
    if model.encoder_decoder:
        return (kv_cache_bytes(*shape, run.new_tokens + 1, run.batch, size)
                + kv_cache_bytes(*shape, run.prompt_tokens, run.batch, size))
    return kv_cache_bytes(*shape, run.prompt_tokens + run.new_tokens, run.batch, size)


@dataclass(frozen=True)
class SectionMemory:
    """What one notebook's kernel holds with the real models: its models' weights and its largest KV cache."""

    section: str
    models: tuple[str, ...]
    weights_bytes: int
    kv_bytes: int
    largest_run: Run


def section_memory(section: str, dtype: str) -> SectionMemory:
    """Weights of every model the notebook loads (all stay loaded) + the largest KV cache one of its runs builds."""
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}: one of {', '.join(SECTIONS)}")
    runs = SECTIONS[section]
    names = tuple(dict.fromkeys(run.model for run in runs))
    weights = sum(real_model(name).weights_bytes(dtype) for name in names)
    kv, largest = max((run_kv_bytes(real_model(run.model), run, dtype), run) for run in runs)
    return SectionMemory(section, names, weights, kv, largest)


def standin_weights_bytes(names: tuple[str, ...]) -> int:
    """Bytes of the shipped stand-ins' weight files for these models (what a 4.1-4.5 stand-in kernel held instead)."""
    return sum((REGISTRY[_hub_id(name)].standin_path / "model.safetensors").stat().st_size for name in names)
