"""The stand-ins' training script, piece by piece (no training here): recipes are never changed in place,
the T5 stand-ins' cosine cycles come from one plan that matches what the shipped weights went through,
and a stand-in's training text is described in one place."""

from __future__ import annotations

import json

import pytest

from dli_seq import models
from dli_seq.standins import train


class StopAfterTraining(Exception):
    pass


def test_build_passes_a_scaled_copy_and_the_bar_position_and_leaves_the_recipes_alone(monkeypatch, tmp_path):
    seen = []

    def fake_train_one(recipe, out, bar_position=0):
        seen.append((recipe, out, bar_position))
        raise StopAfterTraining

    monkeypatch.setattr(train, "train_one", fake_train_one)
    before = {name: (r.steps, r.restarts) for name, r in train.RECIPES.items()}
    for _ in range(2):  # a second build in the same process must not scale an already scaled recipe
        with pytest.raises(StopAfterTraining):
            train.build("t5-base", tmp_path, eval_n=2, steps_scale=0.5, threads=0, bar_position=1)
    assert {name: (r.steps, r.restarts) for name, r in train.RECIPES.items()} == before
    for recipe, out, bar_position in seen:
        assert (recipe.name, recipe.steps, recipe.restarts) == ("t5-base", before["t5-base"][0] // 2,
                                                                tuple(n // 2 for n in before["t5-base"][1]))
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


@pytest.mark.parametrize("name", ["t5-base", "flan-t5-large"])
def test_t5_cycles_are_the_cycles_the_shipped_weights_went_through(name):
    cycles = train.t5_cycles(train.RECIPES[name])
    stats = json.loads((models.STANDIN_DIR / name / "eval.json").read_text(encoding="utf-8"))["stats"]
    assert [c.steps for c in cycles] == stats["cycles"]
    assert sum(c.steps for c in cycles) == stats["steps"]
    assert len({c.data_seed for c in cycles}) == len(cycles)  # every cycle draws a fresh data stream
    assert cycles[0].desc == f"training {name}" and cycles[-1].desc.endswith(f"(cycle {len(cycles)})")


def test_cycle_statistics_add_up():
    runs = [{"steps": 10, "batch_size": 4, "final_loss": 2.0, "train_seconds": 1.2},
            {"steps": 20, "batch_size": 4, "final_loss": 1.0, "train_seconds": 2.5},
            {"steps": 5, "batch_size": 4, "final_loss": 0.5, "train_seconds": 0.3}]
    stats = {}
    for run in runs:
        stats = train.add_cycle(stats, run)
    assert stats == {"steps": 35, "batch_size": 4, "final_loss": 0.5, "train_seconds": 4.0, "cycles": [10, 20, 5]}
    assert train.add_cycle({}, runs[0]) == runs[0] and "cycles" not in train.add_cycle({}, runs[0])


def test_what_a_standin_was_trained_on_is_said_once_and_is_what_its_card_says():
    assert not hasattr(train, "TRAINED_ON")
    for name, recipe in train.RECIPES.items():
        spec = models.REGISTRY[recipe.replaces]
        card = (models.STANDIN_DIR / name / "README.md").read_text(encoding="utf-8")
        assert f"--only {name}` from {spec.trained_on}." in card
