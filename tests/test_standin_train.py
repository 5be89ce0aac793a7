"""The stand-ins' training script, piece by piece: recipes are never changed in place, the shipped weights
went through the recipes' steps, a stand-in's training text is described in one place, and one real
training step of each T5 stand-in runs on the CPU and, when there is one, on a CUDA GPU."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
import torch

from dli_seq import models
from dli_seq.standins import loop, train


class StopAfterTraining(Exception):
    pass


def test_build_passes_a_scaled_copy_and_the_bar_position_and_leaves_the_recipes_alone(monkeypatch, tmp_path):
    seen = []

    def fake_train_one(recipe, out, bar_position=0):
        seen.append((recipe, out, bar_position))
        raise StopAfterTraining

    monkeypatch.setattr(train, "train_one", fake_train_one)
    before = {name: r.steps for name, r in train.RECIPES.items()}
    for _ in range(2):  # a second build in the same process must not scale an already scaled recipe
        with pytest.raises(StopAfterTraining):
            train.build("t5-base", tmp_path, eval_n=2, steps_scale=0.5, threads=0, bar_position=1)
    assert {name: r.steps for name, r in train.RECIPES.items()} == before
    for recipe, out, bar_position in seen:
        assert (recipe.name, recipe.steps) == ("t5-base", before["t5-base"] // 2)
        assert out == tmp_path and bar_position == 1


@pytest.mark.parametrize("name", ["gpt2", "phi-1_5"])
def test_train_one_hands_the_recipe_and_bar_position_to_the_decoder_training(monkeypatch, tmp_path, name):
    calls = []
    monkeypatch.setattr(train, "train_decoder", lambda *args, **kwargs: calls.append((args, kwargs)) or {})
    recipe = train.RECIPES[name].scaled(0.01)
    train.train_one(recipe, tmp_path, bar_position=1)
    (args, kwargs), = calls
    assert args[0] is recipe and args[3] == tmp_path and kwargs["bar_position"] == 1
    assert kwargs["loss_on_prompt"] == (name == "phi-1_5")


def test_recipes_are_frozen():
    with pytest.raises(AttributeError):
        train.RECIPES["gpt2"].steps = 1


@pytest.mark.parametrize("name", list(train.RECIPES))
def test_the_shipped_weights_went_through_the_recipe(name):
    stats = json.loads((models.STANDIN_DIR / name / "eval.json").read_text(encoding="utf-8"))["stats"]
    recipe = train.RECIPES[name]
    assert (stats["steps"], stats["batch_size"]) == (recipe.steps, recipe.batch_size)


DEVICES = [pytest.param("cpu"),
           pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"))]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["t5-base", "flan-t5-large"])
def test_one_training_step_runs_and_saves_the_architecture(monkeypatch, tmp_path, name, device):
    """train_t5 for real (two steps, batch 4) on ``device``: the saved stand-in loads with the
    architecture of its real model (Flan-T5: gated-GELU, its own lm_head; t5-base: ReLU, tied)."""
    from transformers import T5ForConditionalGeneration

    monkeypatch.setattr(loop, "device", lambda: torch.device(device))
    (tmp_path / name).mkdir()
    for file in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(models.STANDIN_DIR / "t5-base" / file, tmp_path / name / file)
    stats = train.train_t5(replace(train.RECIPES[name], steps=2, batch_size=4), tmp_path)
    assert stats["steps"] == 2 and stats["final_loss"] > 0
    saved = json.loads((tmp_path / name / "config.json").read_text(encoding="utf-8"))
    model = T5ForConditionalGeneration.from_pretrained(tmp_path / name)
    flan = name == "flan-t5-large"
    assert saved["tie_word_embeddings"] is not flan and saved["feed_forward_proj"] == ("gated-gelu" if flan else "relu")
    assert (model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()) is not flan


def test_what_a_standin_was_trained_on_is_said_once_and_is_what_its_card_says():
    assert not hasattr(train, "TRAINED_ON")
    for name, recipe in train.RECIPES.items():
        spec = models.REGISTRY[recipe.replaces]
        card = (models.STANDIN_DIR / name / "README.md").read_text(encoding="utf-8")
        assert f"--only {name}` from {spec.trained_on}." in card
