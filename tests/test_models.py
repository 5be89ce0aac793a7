"""dli_seq.models: resolution order, device choice, errors, loading (offline, tiny models)."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer

from dli_seq import models
from dli_seq.__main__ import main as cli_main

VOCAB = models.STANDIN_DIR / "gpt2_vocab"


@pytest.fixture
def tiny_gpt2_folder(tmp_path):
    """A random-init GPT-2 saved like a downloaded hub model (safetensors + tokenizer)."""
    folder = tmp_path / "gpt2"
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, n_positions=32)).save_pretrained(folder)
    GPT2Tokenizer(str(VOCAB / "vocab.json"), str(VOCAB / "merges.txt")).save_pretrained(folder)
    return folder


@pytest.fixture
def no_network(monkeypatch):
    monkeypatch.setattr(models, "hub_reachable", lambda timeout=2.0: False)
    monkeypatch.setattr(models, "_hub_cache", lambda hub_id: None)
    monkeypatch.delenv("DLI_SEQ_MODEL_DIR", raising=False)


def test_unknown_model_lists_known_names():
    with pytest.raises(models.ModelLoadError) as err:
        models.lesson_model("gpt-5")
    message = str(err.value)
    assert "gpt-5" in message
    for name in ("gpt2", "t5-base", "google/flan-t5-large", "microsoft/phi-1_5"):
        assert name in message


def test_aliases_resolve_to_hub_ids():
    assert models.lesson_model("phi-1_5").hub_id == "microsoft/phi-1_5"
    assert models.lesson_model("flan-t5-large").hub_id == "google/flan-t5-large"


def test_invalid_mode_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DLI_SEQ_MODELS", "sometimes")
    with pytest.raises(models.ModelLoadError, match="auto, hub, offline"):
        models.models_mode()


def test_offline_mode_always_uses_the_standin(monkeypatch, tmp_path, tiny_gpt2_folder):
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(tiny_gpt2_folder.parent))
    monkeypatch.setattr(models, "hub_reachable", lambda timeout=2.0: pytest.fail("offline must not probe the hub"))
    where = models.resolve("gpt2", "offline")
    assert where.is_standin and where.location.endswith("standins/gpt2")


def test_auto_order_local_folder_then_cache_then_hub_then_standin(monkeypatch, tiny_gpt2_folder, no_network):
    # nothing available: the stand-in
    assert models.resolve("gpt2", "auto").source == "stand-in"
    # the hub answers: the hub
    monkeypatch.setattr(models, "hub_reachable", lambda timeout=2.0: True)
    assert models.resolve("gpt2", "auto").source == "hub"
    # a cached copy wins over the hub
    monkeypatch.setattr(models, "_hub_cache", lambda hub_id: tiny_gpt2_folder)
    assert models.resolve("gpt2", "auto").source == "hub-cache"
    # a local folder wins over everything
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(tiny_gpt2_folder.parent))
    where = models.resolve("gpt2", "auto")
    assert (where.source, where.location) == ("local-folder", str(tiny_gpt2_folder))


def test_local_folder_accepts_org_double_dash_and_nested(monkeypatch, tmp_path, tiny_gpt2_folder, no_network):
    flat = tmp_path / "models_flat" / "microsoft--phi-1_5"
    nested = tmp_path / "models_nested" / "microsoft" / "phi-1_5"
    for folder in (flat, nested):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(tmp_path / "models_flat"))
    assert models.resolve("phi-1_5", "auto").location == str(flat)
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(tmp_path / "models_nested"))
    assert models.resolve("phi-1_5", "auto").location == str(nested)


def test_hub_mode_without_any_source_says_what_to_do(no_network):
    with pytest.raises(models.ModelLoadError, match="DLI_SEQ_MODELS=auto"):
        models.resolve("t5-base", "hub")


def test_load_from_local_folder(monkeypatch, tiny_gpt2_folder, no_network, capsys):
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(tiny_gpt2_folder.parent))
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    model, tokenizer = models.load("gpt2", device="cpu")
    assert type(model).__name__ == "GPT2LMHeadModel"
    assert model.dtype == torch.float32 and not model.training
    assert tokenizer("Hello world").input_ids == [15496, 995]
    assert "stand-in" not in capsys.readouterr().out


def test_load_refuses_pickle_only_weights(monkeypatch, tmp_path, tiny_gpt2_folder, no_network):
    folder = tmp_path / "pickled" / "gpt2"
    folder.mkdir(parents=True)
    model = GPT2LMHeadModel.from_pretrained(tiny_gpt2_folder)
    model.config.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")  # the old pickle format
    GPT2Tokenizer.from_pretrained(tiny_gpt2_folder).save_pretrained(folder)
    assert not list(folder.glob("*.safetensors"))
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(folder.parent))
    monkeypatch.setenv("DLI_SEQ_MODELS", "auto")
    with pytest.raises(models.ModelLoadError, match="Could not load 'gpt2'"):
        models.load("gpt2", device="cpu")


def test_default_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert models.pick_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert models.pick_device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert models.pick_device().type == "cpu"


def test_explicit_missing_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(models.ModelLoadError, match="no CUDA GPU"):
        models.pick_device("cuda")
    with pytest.raises(models.ModelLoadError, match="not a device name"):
        models.pick_device("gpu0")
    assert models.pick_device("cpu").type == "cpu"


def test_missing_standin_folder_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    monkeypatch.setattr(models, "STANDIN_DIR", tmp_path)
    with pytest.raises(models.ModelLoadError, match="stand-in for 'gpt2' is missing"):
        models.load("gpt2", device="cpu")


def test_doctor_reports_every_model(monkeypatch, capsys, no_network):
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    status = cli_main(["doctor"])
    out = capsys.readouterr().out
    assert "transformers" in out and "device: cpu" in out
    for name in models.REGISTRY:
        assert name in out
    assert out.count("stand-in (") == 4
    all_present = all((spec.standin_path / "config.json").is_file() for spec in models.REGISTRY.values())
    assert status == (0 if all_present else 1)
