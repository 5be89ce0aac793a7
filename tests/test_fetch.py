"""``python -m dli_seq fetch`` against a loopback hub mirror that serves the GPT-2 stand-in as ``gpt2``."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest
import torch

from dli_seq import fetch, models
from dli_seq.__main__ import main as cli_main
from hub_mirror import mirror

NOT_NEEDED = ("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "model.onnx", "README.md")


@pytest.fixture
def repo(tmp_path):
    """The hub's gpt2 repository: the stand-in's files plus weights in formats the kit must not fetch."""
    folder = tmp_path / "hub" / "gpt2"
    shutil.copytree(models.STANDIN_DIR / "gpt2", folder)
    for name in NOT_NEEDED[:-1]:
        (folder / name).write_bytes(b"not for the kit")
    return folder


@pytest.fixture
def hub(monkeypatch, local_endpoint, repo):
    """Start the mirror (HF_ENDPOINT points at it) with the given faults; returns its handler class."""
    monkeypatch.setattr(models, "_UNREACHABLE", {})

    def start(**faults):
        handler = mirror({"gpt2": repo}, **faults)
        local_endpoint(handler, scheme="http")
        return handler
    return start


def run_fetch(target, capsys) -> tuple[int, str]:
    status = cli_main(["fetch", "--dir", str(target), "--models", "gpt2"])
    return status, capsys.readouterr().out


def downloads(handler) -> list[tuple[str, str | None]]:
    return [(path.rsplit("/", 1)[-1], span) for verb, path, span in handler.requests
            if verb == "GET" and "/resolve/" in path]


def test_fetch_downloads_verifies_shares_and_loads(monkeypatch, tmp_path, hub, repo, capsys):
    handler = hub()
    target = tmp_path / "new" / "models"
    old_umask = os.umask(0o077)  # a strict umask: fetch itself must make the folder readable by all
    try:
        status, out = run_fetch(target, capsys)
    finally:
        os.umask(old_umask)
    assert status == 0, out
    expected = sorted(p.name for p in repo.iterdir() if p.name not in NOT_NEEDED)
    assert sorted(p.name for p in (target / "gpt2").iterdir()) == expected
    for name in expected:
        assert (target / "gpt2" / name).read_bytes() == (repo / name).read_bytes()
    assert not (target / ".partial").exists()
    for path in [target.parent, target, *target.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path
    closed = [str(p) for p in target.parents if not p.stat().st_mode & stat.S_IXOTH]  # pytest's own: 0700
    warnings = [line for line in out.splitlines() if line.startswith("warning: other users cannot open")]
    assert all(path in "".join(warnings) for path in closed) and len(warnings) == (1 if closed else 0)
    assert f"DLI_SEQ_MODEL_DIR={target}" in out.splitlines()
    assert any(line.split()[0] == "gpt2" and line.split()[-1] == "yes" for line in out.splitlines() if line)

    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(target))
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    model, tokenizer = models.load("gpt2", device="cpu")
    assert models.source_of(model) == "local-folder"
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    standin, _ = models.load("gpt2", device="cpu", quiet=True)
    assert torch.equal(model.transformer.wte.weight, standin.transformer.wte.weight)
    assert tokenizer("Hello world").input_ids == [15496, 995]


def test_a_rerun_downloads_and_hashes_nothing_then_replaces_a_corrupt_file(monkeypatch, tmp_path, hub, repo,
                                                                          capsys):
    handler = hub()
    target = tmp_path / "models"
    assert run_fetch(target, capsys)[0] == 0
    handler.requests.clear()
    hashed = []
    real_digest = fetch.file_digest
    monkeypatch.setattr(fetch, "file_digest", lambda path, kind: hashed.append(path.name) or real_digest(path, kind))
    started = time.monotonic()
    status, out = run_fetch(target, capsys)
    assert status == 0 and "Nothing to download" in out, out
    assert downloads(handler) == [] and hashed == []
    assert time.monotonic() - started < 10
    # a weight file changed on disk (same size): reported, downloaded again, verified
    weights = target / "gpt2" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    status, out = run_fetch(target, capsys)
    assert status == 0, out
    assert "model.safetensors: does not match the hub's sha256 hash; downloading it again" in out
    assert downloads(handler) == [("model.safetensors", None)]
    assert weights.read_bytes() == (repo / "model.safetensors").read_bytes()


def test_a_connection_dropped_halfway_resumes_and_verifies(tmp_path, hub, repo, capsys):
    handler = hub(cut_once={"model.safetensors"})
    status, out = run_fetch(tmp_path / "models", capsys)
    assert status == 0, out
    gets = [span for name, span in downloads(handler) if name == "model.safetensors"]
    assert gets[0] is None and len(gets) == 2
    assert gets[1].startswith("bytes=") and int(gets[1].removeprefix("bytes=").rstrip("-")) > 0
    got = (tmp_path / "models" / "gpt2" / "model.safetensors").read_bytes()
    assert got == (repo / "model.safetensors").read_bytes()


def test_ctrl_c_then_the_same_command_continues_where_it_stopped(tmp_path, hub, repo, capsys):
    handler = hub(hold={"model.safetensors"})
    target = tmp_path / "models"
    command = [sys.executable, "-m", "dli_seq", "fetch", "--dir", str(target), "--models", "gpt2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "HF_HUB_DISABLE_PROGRESS_BARS": "1"})
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size for p in target.glob(".partial/gpt2/model.safetensors.*")):
            assert process.poll() is None and time.monotonic() < deadline, "no partial download appeared"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)  # Ctrl-C in the middle of the weights
        out, _ = process.communicate(timeout=30)
    finally:
        handler.release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out
    assert "interrupted. Run the same command again to continue" in out and "Traceback" not in out
    (partial,) = target.glob(".partial/gpt2/model.safetensors.*")
    kept = partial.stat().st_size
    assert 0 < kept < (repo / "model.safetensors").stat().st_size
    finished = {p.name for p in (target / "gpt2").iterdir()}
    assert finished and "model.safetensors" not in finished
    handler.hold.clear()
    handler.requests.clear()
    status, out = run_fetch(target, capsys)
    assert status == 0, out
    again = downloads(handler)
    assert ("model.safetensors", f"bytes={kept}-") in again  # continued, not started again
    assert [name for name, _ in again].count("model.safetensors") == 1
    assert not finished & {name for name, _ in again}  # files finished before Ctrl-C are kept
    got = (target / "gpt2" / "model.safetensors").read_bytes()
    assert got == (repo / "model.safetensors").read_bytes()


@pytest.mark.parametrize("name, kind", [("model.safetensors", "sha256"), ("vocab.json", "git")])
def test_a_corrupt_file_on_the_mirror_is_an_error_and_is_not_kept(tmp_path, hub, capsys, name, kind):
    handler = hub(corrupt={name})
    target = tmp_path / "models"
    status, out = run_fetch(target, capsys)
    assert status == 1
    assert f"gpt2/{name} as downloaded has {kind} " in out and "the file was removed" in out
    assert "NO (see above)" in out and "DLI_SEQ_MODEL_DIR=" not in out
    assert [n for n, _ in downloads(handler)].count(name) == 2  # reported, tried once more, then refused
    assert not (target / "gpt2" / name).exists()
    assert not list(target.glob(f".partial/**/{name}*"))


def test_an_unreachable_hub_gives_the_offline_message_fast(monkeypatch, tmp_path, local_endpoint, capsys):
    monkeypatch.setattr(models, "_UNREACHABLE", {})
    local_endpoint(lambda conn: None)  # TCP accepted, the TLS handshake never completes
    target = tmp_path / "models"
    started = time.monotonic()
    status, out = run_fetch(target, capsys)
    assert time.monotonic() - started <= 10
    assert status == 1 and "cannot be used now" in out and "127.0.0.1" in out
    assert "offline" in out and "stand-ins" in out and "DLI_SEQ_MODEL_DIR" in out
    assert not target.exists()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(models, "_probe", lambda *a: pytest.fail("HF_HUB_OFFLINE: no network"))
    assert run_fetch(target, capsys)[0] == 1


def test_a_folder_that_cannot_be_written_is_one_clear_line(tmp_path, hub, capsys):
    hub()
    (tmp_path / "a-file").write_text("")
    status, out = run_fetch(tmp_path / "a-file" / "models", capsys)
    assert status == 1 and "cannot write to" in out and "--dir" in out and "Traceback" not in out


def test_the_default_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", str(tmp_path))
    assert fetch.default_dir() == tmp_path
    monkeypatch.delenv("DLI_SEQ_MODEL_DIR")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert str(fetch.default_dir()) == "/opt/dli-seq/models"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert fetch.default_dir() == tmp_path / ".cache" / "dli-seq" / "models"


def test_a_folder_that_does_not_load_is_not_called_ready(tmp_path, hub, repo, capsys):
    (repo / "vocab.json").unlink()  # the hub's repository itself lacks half of the tokenizer
    hub()
    status, out = run_fetch(tmp_path / "models", capsys)
    assert status == 1 and "the folder is not usable" in out and "NO (see above)" in out
    assert "DLI_SEQ_MODEL_DIR=" not in out


def test_a_folder_learners_cannot_reach_is_a_warning(tmp_path):
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    home.chmod(0o700)  # a home folder: the files inside may be 0644, other users still cannot open them
    warning = fetch.Fetcher(home / "models").share()
    assert f"{home} (0700)" in warning and "--dir" in warning
    home.chmod(0o755)
    assert f"{home} (" not in (fetch.Fetcher(home / "models").share() or "")
