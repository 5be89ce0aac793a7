"""dli_seq.models: resolution order, device choice, errors, loading (offline, tiny models)."""

from __future__ import annotations

import json
import shutil
import time
from http.server import BaseHTTPRequestHandler

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer

from dli_seq import models
from dli_seq.__main__ import main as cli_main
from hub_mirror import mirror

VOCAB = models.STANDIN_DIR / "gpt2_vocab"


@pytest.fixture
def tiny_gpt2_folder(tmp_path):
    """A random-init GPT-2 saved like a downloaded hub model (safetensors + tokenizer)."""
    folder = tmp_path / "gpt2"
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, n_positions=32)).save_pretrained(folder)
    GPT2Tokenizer(str(VOCAB / "vocab.json"), str(VOCAB / "merges.txt")).save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True)
def fresh_hub_memory(monkeypatch):
    """Each test starts with no remembered unreachable endpoint."""
    monkeypatch.setattr(models, "_UNREACHABLE", {})


@pytest.fixture
def no_network(monkeypatch):
    monkeypatch.setattr(models, "hub_check", lambda hub_id="gpt2", timeout=2.0: "no network in tests")
    monkeypatch.setattr(models, "_hub_cache", lambda hub_id: None)
    monkeypatch.delenv("DLI_SEQ_MODEL_DIR", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)


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
    with pytest.raises(models.ModelLoadError, match="auto、hub、offline"):
        models.models_mode()


def test_offline_mode_always_uses_the_standin(monkeypatch, tmp_path, tiny_gpt2_folder):
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(tiny_gpt2_folder.parent))
    monkeypatch.setattr(models, "hub_check", lambda *a, **k: pytest.fail("offline must not probe the hub"))
    where = models.resolve("gpt2", "offline")
    assert where.is_standin and where.location.endswith("standins/gpt2")


def test_auto_order_local_folder_then_cache_then_hub_then_standin(monkeypatch, tiny_gpt2_folder, no_network):
    # nothing available: the stand-in
    assert models.resolve("gpt2", "auto").source == "stand-in"
    # the hub answers: the hub
    monkeypatch.setattr(models, "hub_check", lambda hub_id="gpt2", timeout=2.0: None)
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
    from transformers import PhiConfig, PhiForCausalLM

    for folder in (flat, nested):  # a tiny Phi: weights that fit its config, and the GPT-2 tokenizer
        PhiForCausalLM(PhiConfig(vocab_size=50304, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                 num_attention_heads=2, max_position_embeddings=32)).save_pretrained(folder)
        GPT2Tokenizer(str(VOCAB / "vocab.json"), str(VOCAB / "merges.txt")).save_pretrained(folder)
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


def test_load_refuses_pickle_only_weights(monkeypatch, tmp_path, tiny_gpt2_folder, no_network, capsys):
    folder = tmp_path / "pickled" / "gpt2"
    folder.mkdir(parents=True)
    model = GPT2LMHeadModel.from_pretrained(tiny_gpt2_folder)
    model.config.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")  # the old pickle format
    GPT2Tokenizer.from_pretrained(tiny_gpt2_folder).save_pretrained(folder)
    assert not list(folder.glob("*.safetensors"))
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(folder.parent))
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    with pytest.raises(models.ModelLoadError, match="pytorch_model.bin") as err:
        models.load("gpt2", device="cpu")
    assert str(folder) in str(err.value)
    # auto: the next source, with a one-line notice saying why
    monkeypatch.setenv("DLI_SEQ_MODELS", "auto")
    model, _ = models.load("gpt2", device="cpu")
    out = capsys.readouterr().out
    assert "pytorch_model.bin" in out and "local-folder" in out and "离线替身模型" in out


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
    with pytest.raises(models.ModelLoadError, match="没有 CUDA GPU"):
        models.pick_device("cuda")
    with pytest.raises(models.ModelLoadError, match="'cuda:7'"):
        models.pick_device("cuda:7")
    with pytest.raises(models.ModelLoadError, match="不是设备名"):
        models.pick_device("gpu0")
    assert models.pick_device("cpu").type == "cpu"


def test_missing_standin_folder_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    monkeypatch.setattr(models, "STANDIN_DIR", tmp_path)
    with pytest.raises(models.ModelLoadError, match="standins.train"):
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


# ---- hardening: every source is checked, auto falls back, the hub check is bounded ------------

@pytest.fixture
def auto_mode(monkeypatch, no_network):
    monkeypatch.setenv("DLI_SEQ_MODELS", "auto")


def _model_dir(tmp_path, tiny_gpt2_folder, edit=None):
    """$DLI_SEQ_MODEL_DIR/gpt2, a copy of the tiny model, then ``edit(folder)`` breaks it."""
    folder = tmp_path / "models" / "gpt2"
    shutil.copytree(tiny_gpt2_folder, folder)
    if edit:
        edit(folder)
    return folder


def _truncate(folder):
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])


def _other_architecture(folder):
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))


def _auto_map(folder):
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))


def _no_tokenizer(folder):
    for name in ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink(missing_ok=True)


def _only_config(folder):
    for path in folder.iterdir():
        if path.name != "config.json":
            path.unlink()


BROKEN = {  # how a folder is broken -> what the reason must say
    "truncated safetensors": (_truncate, "截断"),
    "another architecture": (_other_architecture, "'bert'"),
    "auto_map (remote code)": (_auto_map, "trust_remote_code"),
    "no tokenizer files": (_no_tokenizer, "分词器"),
    "only config.json": (_only_config, "safetensors"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_local_folder_auto_falls_back_hub_mode_explains(monkeypatch, tmp_path, tiny_gpt2_folder, auto_mode,
                                                              capsys, case):
    edit, reason = BROKEN[case]
    folder = _model_dir(tmp_path, tiny_gpt2_folder, edit)
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(folder.parent))
    assert reason in models.check_folder(folder, models.lesson_model("gpt2"))
    where = models.resolve("gpt2")
    assert where.is_standin and where.skipped[0].source == "local-folder" and where.skipped[0].broken
    model, tokenizer = models.load("gpt2", device="cpu")
    out = capsys.readouterr().out
    assert reason in out and "DLI_SEQ_MODEL_DIR" in out and "离线替身模型" in out
    assert tokenizer.encode("Hi")  # the stand-in's tokenizer, never an empty one
    # hub mode: a ModelLoadError that names the folder and the fix, nothing from deep inside transformers
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    with pytest.raises(models.ModelLoadError) as err:
        models.load("gpt2", device="cpu")
    assert str(folder) in str(err.value) and reason in str(err.value) and "解决办法" in str(err.value)
    # doctor shows the reason and fails
    monkeypatch.setenv("DLI_SEQ_MODELS", "auto")
    assert cli_main(["doctor"]) == 1
    assert reason in capsys.readouterr().out


def test_a_load_time_failure_in_a_checked_folder_is_a_model_load_error(monkeypatch, tmp_path, tiny_gpt2_folder,
                                                                       auto_mode, capsys):
    """A folder that passes every check but fails inside transformers: wrapped, then auto falls back."""
    folder = _model_dir(tmp_path, tiny_gpt2_folder)
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(folder.parent))

    class Failing:
        @staticmethod
        def from_pretrained(*args, **kwargs):
            raise RuntimeError("Error(s) in loading state_dict\n\tsomething deep inside")
    monkeypatch.setattr(models, "model_class", lambda kind: Failing)
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    with pytest.raises(models.ModelLoadError, match="无法从") as err:
        models.load("gpt2", device="cpu")
    assert str(folder) in str(err.value) and "\n" not in str(err.value)


def _header_file(header) -> bytes:
    """A .safetensors file with this (maybe malformed) JSON header and 64 bytes of data."""
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + bytes(64)


def _index(text):
    def edit(folder):
        (folder / "model.safetensors.index.json").write_text(text)
    return edit


def _header(header):
    def edit(folder):
        (folder / "model.safetensors").write_bytes(_header_file(header))
    return edit


def _shape_from_another_config(folder):  # weights of one size, a config of another
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "n_embd": 32}))


def _missing_tensor(folder):  # a tensor the model needs is not in the file
    from safetensors.torch import load_file, save_file

    weights = load_file(folder / "model.safetensors")
    weights.pop(next(name for name in weights if name.endswith("ln_f.weight")))
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})


def _broken_tokenizer(folder):
    for name in ("vocab.json", "tokenizer.json"):
        if (folder / name).is_file():
            (folder / name).write_text("{not json")


MALFORMED = {  # crafted files: each one crashed the checks (AttributeError, TypeError, IndexError) before
    "header is a JSON list": (_header([1, 2]), "头部"),
    "header is null": (_header(None), "头部"),
    "header is a string": (_header("tensor"), "头部"),
    "tensor entry is an int": (_header({"w": 5}), "不是张量描述"),
    "offsets are a string": (_header({"w": {"dtype": "F32", "shape": [2], "data_offsets": "08"}}), "data_offsets"),
    "offsets too short": (_header({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}), "data_offsets"),
    "offsets past the end": (_header({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 10**6]}}), "截断"),
    "index is an int": (_index("5"), "index.json"),
    "index map is a list": (_index('{"weight_map": ["model.safetensors"]}'), "index.json"),
    "index names an int shard": (_index('{"weight_map": {"w": 5}}'), "index.json"),
    "index leaves the folder": (_index('{"weight_map": {"w": "../../gpt2/model.safetensors"}}'), "index.json"),
    "shapes differ from config.json": (_shape_from_another_config, "形状"),
    "a tensor is missing": (_missing_tensor, "缺少"),
    "tokenizer does not load": (_broken_tokenizer, "分词器加载不了"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_files_are_a_reason_for_load_and_doctor_alike(monkeypatch, tmp_path, tiny_gpt2_folder, auto_mode,
                                                                capfd, case):
    capsys = capfd  # transformers logs to the stderr it found at import: read the file descriptors
    edit, reason = MALFORMED[case]
    folder = _model_dir(tmp_path, tiny_gpt2_folder, edit)
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(folder.parent))
    capsys.readouterr()
    assert reason in models.check_folder(folder, models.lesson_model("gpt2"))
    model, tokenizer = models.load("gpt2", device="cpu")  # auto: falls back, one line says why
    out, err = capsys.readouterr()
    assert models.is_standin(model) and reason in out and "LOAD REPORT" not in out + err
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    with pytest.raises(models.ModelLoadError, match=reason) as err:
        models.load("gpt2", device="cpu")
    assert str(folder) in str(err.value)
    monkeypatch.setenv("DLI_SEQ_MODELS", "auto")
    assert cli_main(["doctor"]) == 1
    printed = capsys.readouterr()
    assert "UNUSABLE local-folder" in printed.out and reason in printed.out and "LOAD REPORT" not in printed.err


@pytest.mark.parametrize("kind", ["dangling symlink", "plain file"])
def test_something_that_is_not_a_folder_at_the_models_name_is_broken(monkeypatch, tmp_path, auto_mode, capsys, kind):
    root = tmp_path / "models"
    root.mkdir()
    if kind == "plain file":
        (root / "gpt2").write_text("not a model")
    else:
        (root / "gpt2").symlink_to(tmp_path / "gone")
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(root))
    skipped = models.resolve("gpt2").skipped[0]
    assert skipped.source == "local-folder" and skipped.broken
    assert ("不是一个文件夹" if kind == "plain file" else "符号链接") in skipped.reason
    assert cli_main(["doctor"]) == 1
    assert "UNUSABLE local-folder" in capsys.readouterr().out


def test_a_model_name_that_is_not_a_string_is_a_clear_error():
    for bad in (["gpt2"], None, 2):
        with pytest.raises(models.ModelLoadError, match="字符串") as err:
            models.load(bad, device="cpu")
        assert "gpt2" in str(err.value) and "t5-base" in str(err.value)


def test_model_dir_in_the_wrong_layout_is_named_in_the_notice(monkeypatch, tmp_path, tiny_gpt2_folder, auto_mode,
                                                              capsys):
    root = tmp_path / "downloads"
    shutil.copytree(tiny_gpt2_folder, root / "models--gpt2" / "snapshots" / "abc")  # a hub cache, not our layout
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(root))
    models.load("gpt2", device="cpu")
    out = capsys.readouterr().out
    assert f"DLI_SEQ_MODEL_DIR={root}" in out and "HF_HUB_CACHE" in out and "$DLI_SEQ_MODEL_DIR/gpt2" in out
    # pointing at the model folder itself instead of its parent
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(tiny_gpt2_folder))
    models.load("gpt2", device="cpu")
    assert "上一级" in capsys.readouterr().out


@pytest.mark.parametrize("leave", ["config.json", "pytorch_model.bin"])
def test_incomplete_hub_cache_falls_back(monkeypatch, tmp_path, tiny_gpt2_folder, auto_mode, capsys, leave):
    snapshot = tmp_path / "hub" / "models--gpt2" / "snapshots" / "0123"
    snapshot.mkdir(parents=True)
    if leave == "config.json":
        shutil.copy(tiny_gpt2_folder / "config.json", snapshot)
        cached = snapshot
    else:  # an old cache: the pickle, no config -> the repo folder is all there is
        (snapshot / "pytorch_model.bin").write_bytes(b"pickle")
        cached = snapshot.parents[1]
    monkeypatch.setattr(models, "_hub_cache", lambda hub_id: cached)
    where = models.resolve("gpt2")
    assert where.is_standin and where.skipped[0].source == "hub-cache"
    models.load("gpt2", device="cpu")
    out = capsys.readouterr().out
    assert "hub-cache" in out and "缓存不完整" in out and "离线替身模型" in out
    assert cli_main(["doctor"]) == 1
    assert "UNUSABLE hub-cache" in capsys.readouterr().out


def test_hub_cache_lookup_finds_incomplete_repos(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert models._hub_cache("gpt2") is None
    (tmp_path / "models--gpt2" / "blobs").mkdir(parents=True)
    assert models._hub_cache("gpt2") == tmp_path / "models--gpt2"


def test_a_missing_gpu_index_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(models.ModelLoadError, match="'cuda:7'.*1 块 GPU"):
        models.pick_device("cuda:7")
    assert models.pick_device("cuda:0") == torch.device("cuda:0")


def test_dtype_names_and_bad_devices():
    assert models.pick_dtype("bf16") is torch.bfloat16
    assert models.pick_dtype("float16") is torch.float16 and models.pick_dtype("torch.float32") is torch.float32
    assert models.pick_dtype(None) is torch.float32 and models.pick_dtype(torch.bfloat16) is torch.bfloat16
    for bad in ("bf17", torch.int64, 16):
        with pytest.raises(models.ModelLoadError, match="dtype="):
            models.pick_dtype(bad)
    with pytest.raises(models.ModelLoadError, match="'meta'"):
        models.pick_device("meta")


def test_load_with_a_dtype_name(monkeypatch):
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    model, _ = models.load("gpt2", device="cpu", dtype="bf16", quiet=True)
    assert model.dtype == torch.bfloat16


def test_tls_that_never_answers_falls_back_within_10_seconds(monkeypatch, local_endpoint, capsys):
    """A captive portal / filtering firewall: TCP is accepted, the TLS handshake never completes."""
    monkeypatch.setattr(models, "_hub_cache", lambda hub_id: None)
    monkeypatch.delenv("DLI_SEQ_MODEL_DIR", raising=False)
    monkeypatch.setenv("DLI_SEQ_MODELS", "auto")
    local_endpoint(lambda conn: None)  # accept and stay silent
    started = time.monotonic()
    model, tokenizer = models.load("gpt2", device="cpu")
    assert time.monotonic() - started <= 10
    out = capsys.readouterr().out
    assert "离线替身模型" in out and "127.0.0.1" in out and "秒内没有完成应答" in out
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    started = time.monotonic()
    with pytest.raises(models.ModelLoadError, match="HF_ENDPOINT"):
        models.load("gpt2", device="cpu")
    assert time.monotonic() - started <= 10
    # the next model does not wait for the same dead endpoint again (for a minute)
    monkeypatch.setattr(models, "_probe", lambda *a: pytest.fail("the dead endpoint was probed again"))
    assert "秒内没有完成应答" in models.hub_check("t5-base")


def test_a_server_that_is_not_tls_falls_back_at_once(monkeypatch, local_endpoint, capsys):
    """Something that answers port 443 with plain text (a broken proxy): a TLS error, no retries."""
    monkeypatch.setattr(models, "_hub_cache", lambda hub_id: None)
    monkeypatch.delenv("DLI_SEQ_MODEL_DIR", raising=False)
    monkeypatch.setenv("DLI_SEQ_MODELS", "auto")

    def plain_text(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        conn.close()
    local_endpoint(plain_text)
    started = time.monotonic()
    models.load("gpt2", device="cpu")
    assert time.monotonic() - started <= 10
    assert "连不上" in capsys.readouterr().out
    assert cli_main(["doctor"]) == 1  # HF_ENDPOINT is set and unusable: doctor says so


def test_hf_endpoint_mirror_is_used(monkeypatch, tmp_path, tiny_gpt2_folder, local_endpoint, capsys):
    """HF_ENDPOINT (e.g. https://hf-mirror.com) is where the check and the download go."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DLI_SEQ_MODEL_DIR", raising=False)
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    handler = mirror({"gpt2": tiny_gpt2_folder})
    local_endpoint(handler, scheme="http")
    assert models.hub_check("gpt2") is None
    assert ("HEAD", "/gpt2/resolve/main/config.json", None) in handler.requests
    where = models.resolve("gpt2")
    assert where.source == "hub" and "127.0.0.1" in where.location
    model, tokenizer = models.load("gpt2", device="cpu")
    assert tokenizer("Hello world").input_ids == [15496, 995]
    assert any(path.endswith("/model.safetensors") for verb, path, _ in handler.requests if verb == "GET")
    assert "stand-in" not in capsys.readouterr().out
    # where it came from has one home, models.source_of: a fresh download is "hub", then the cache serves it
    assert models.source_of(model) == "hub" and model.dli_seq_hub_id == "gpt2"
    again, _ = models.load("gpt2", device="cpu")
    assert models.source_of(again) == "hub-cache"
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    standin, _ = models.load("gpt2", device="cpu", quiet=True)
    assert models.source_of(standin) == "stand-in" and models.is_standin(standin)
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    # a mirror that answers 404 for the model is a reason, not a hang or a traceback
    handler.status = 404
    assert "HTTP 404" in models.hub_check("gpt2")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_a_tls_intercepting_proxy_falls_back_without_retries(monkeypatch, tmp_path, tiny_gpt2_folder, local_endpoint,
                                                             capsys):
    """A proxy that re-signs TLS with its own certificate: verification fails, auto uses the stand-in at once."""
    import ssl
    import subprocess

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    def intercept(conn):
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass  # the client refuses our certificate: that is the point
    monkeypatch.setattr(models, "_hub_cache", lambda hub_id: None)
    monkeypatch.delenv("DLI_SEQ_MODEL_DIR", raising=False)
    monkeypatch.setenv("DLI_SEQ_MODELS", "auto")
    local_endpoint(intercept)
    started = time.monotonic()
    models.load("gpt2", device="cpu")
    assert time.monotonic() - started <= 10
    out = capsys.readouterr().out
    assert "离线替身模型" in out and "CERTIFICATE_VERIFY_FAILED" in out


def test_the_hub_check_goes_through_the_proxy(monkeypatch, local_endpoint):
    """HTTP(S)_PROXY is honoured: the check reaches a mirror name that only the (loopback) proxy knows."""
    class Proxy(BaseHTTPRequestHandler):
        seen: list = []

        def log_message(self, *args):
            pass

        def do_HEAD(self):
            type(self).seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
    local_endpoint(Proxy, scheme="http")
    proxy = models.hub_endpoint()
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("HF_ENDPOINT", "http://hub-mirror.invalid")
    import huggingface_hub

    huggingface_hub.close_session()  # the session reads the proxy variables when it is made
    assert models.hub_check("gpt2") is None
    assert Proxy.seen == ["http://hub-mirror.invalid/gpt2/resolve/main/config.json"]
