"""The shipped stand-in models: loadable, the right classes and vocabularies, and still as good as their cards say."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

from dli_seq import models
from dli_seq.standins import train

SAMPLE = 30  # held-out items re-checked per set (the card's scores use --eval-n of them)
CLASSES = {"gpt2": "GPT2LMHeadModel", "t5-base": "T5ForConditionalGeneration",
           "flan-t5-large": "T5ForConditionalGeneration", "phi-1_5": "PhiForCausalLM"}


def folder(name):
    path = models.STANDIN_DIR / name
    assert (path / "config.json").is_file(), f"stand-in {name} is missing: run `python -m dli_seq.standins.train`"
    return path


@pytest.fixture(scope="module", params=list(CLASSES))
def shipped(request):
    name = request.param
    path = folder(name)
    cls = AutoModelForSeq2SeqLM if "t5" in name else AutoModelForCausalLM
    return name, cls.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


def test_plain_from_pretrained_gives_the_real_class_in_float32(shipped):
    name, model, _ = shipped
    assert type(model).__name__ == CLASSES[name]
    assert model.dtype == torch.float32
    assert list(folder(name).glob("*.safetensors")) and not list(folder(name).glob("*.bin"))


def test_shipped_weights_fit_the_budget():
    total = sum(p.stat().st_size for name in CLASSES for p in folder(name).glob("*.safetensors"))
    assert total <= 40e6, f"stand-in weights take {total / 1e6:.1f} MB, budget 40 MB"


def test_gpt2_vocabulary_ids_match_the_real_model():
    for name in ("gpt2", "phi-1_5"):
        tokenizer = AutoTokenizer.from_pretrained(folder(name))
        assert tokenizer("Hello world").input_ids == [15496, 995]
        assert tokenizer.eos_token == "<|endoftext|>" and tokenizer.eos_token_id == 50256
    assert AutoModelForCausalLM.from_pretrained(folder("gpt2")).config.vocab_size == 50257


def test_t5_tokenizers_follow_t5_conventions():
    for name in ("t5-base", "flan-t5-large"):
        tokenizer = AutoTokenizer.from_pretrained(folder(name))
        assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
        assert tokenizer.eos_token == "</s>" and tokenizer.pad_token == "<pad>"
        assert "<extra_id_0>" in tokenizer.get_vocab()
        assert tokenizer("translate English to French: Hello").input_ids[-1] == 1  # </s> appended


def test_model_cards_record_heldout_scores():
    for name in CLASSES:
        card = (folder(name) / "README.md").read_text(encoding="utf-8")
        record = json.loads((folder(name) / "eval.json").read_text(encoding="utf-8"))
        assert "Held-out evaluation" in card and record["scores"]
        assert models.REGISTRY[train.RECIPES[name].replaces].hub_id in card


@pytest.mark.parametrize("name", ["t5-base", "flan-t5-large", "phi-1_5"])
def test_shipped_weights_still_give_the_recorded_heldout_results(name):
    """Greedy outputs on a sample of the held-out sets match the per-item results in eval.json."""
    path = folder(name)
    cls = AutoModelForSeq2SeqLM if "t5" in name else AutoModelForCausalLM
    model, tokenizer = cls.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)
    recorded = json.loads((path / "eval.json").read_text(encoding="utf-8"))["scores"]
    now = train.evaluate(name, model, tokenizer, SAMPLE)
    for key, result in now.items():
        assert result["hits"] == recorded[key]["hits"][:SAMPLE], f"{name} {key}: held-out results changed"


def test_gpt2_standin_continues_hello_world_in_english():
    model = AutoModelForCausalLM.from_pretrained(folder("gpt2")).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder("gpt2"))
    recorded = json.loads((folder("gpt2") / "eval.json").read_text(encoding="utf-8"))
    sample = train.lesson_samples("gpt2", model, tokenizer)
    assert sample == recorded["samples"]
    words = sample[0]["output"].split()
    assert len(words) >= 8 and all(w.strip(".,!?'").isalpha() for w in words[2:])


def test_load_offline_prints_one_line_naming_the_standin(monkeypatch, capsys):
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    model, tokenizer = models.load("t5-base", device="cpu")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "stand-in" in lines[0] and "standins/t5-base" in lines[0]
    assert type(model).__name__ == "T5ForConditionalGeneration"
