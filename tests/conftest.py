"""Shared fixtures: offline tokenizers and tiny random-init models of the lesson's four architectures.

The models use the REAL architectures' configuration choices (GPT-2; T5 like t5-base: relu,
tied embeddings; Flan-T5: gated-gelu, untied; Phi like phi-1_5: partial rotary, untied) at a
tiny size, so tests run in seconds on a CPU without downloads.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

# Every exercise check records its verdict (dli_seq.exercises.progress): during the tests, into a
# temporary file, never the real home's. Set before any test runs, so the kernels, JupyterLab servers
# and scripts the tests start inherit it too; tests/test_progress.py sets its own paths.
PROGRESS_DIR = tempfile.mkdtemp(prefix="dli-seq-progress-")
os.environ["DLI_SEQ_PROGRESS"] = os.path.join(PROGRESS_DIR, "progress.jsonl")
atexit.register(shutil.rmtree, PROGRESS_DIR, ignore_errors=True)

VOCAB_DIR = Path(__file__).resolve().parents[1] / "dli_seq" / "standins" / "gpt2_vocab"

# Multilingual training text for a tiny T5-style sentencepiece model (accents, CJK, Cyrillic).
SPM_SENTENCES = [
    "translate English to French: Hello World! How's it going?",
    "Bonjour le monde, ça va très bien. Où est la bibliothèque ?",
    "Der Bär läuft über die Straße, schön und groß.",
    "El libro está en la mesa. ¿Qué tal? Mañana, señor.",
    "日本語のテキストです。東京は大きい都市です。",
    "你好，世界！我们正在学习编码器和解码器。",
    "Привет, мир! Как дела?",
    "Answer the question: What is the square root of 144? 12.",
    "The quick brown fox jumps over the lazy dog 0123456789.",
]


@pytest.fixture(scope="session")
def gpt2_tokenizer():
    """GPT-2's real byte-level BPE tokenizer, built from the vocabulary shipped in the package."""
    from transformers import GPT2Tokenizer

    return GPT2Tokenizer(str(VOCAB_DIR / "vocab.json"), str(VOCAB_DIR / "merges.txt"))


@pytest.fixture(scope="session")
def t5_tokenizer(tmp_path_factory):
    """A tiny T5 tokenizer (sentencepiece unigram, Metaspace) trained here, loaded the way hub T5 is."""
    import sentencepiece as spm
    from transformers import T5Tokenizer

    folder = tmp_path_factory.mktemp("t5_tokenizer")
    corpus = folder / "corpus.txt"
    lines = [f"{s} {i} {s[::-1]}" for i in range(60) for s in SPM_SENTENCES]
    corpus.write_text("\n".join(lines), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / "spiece"), vocab_size=300, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, hard_vocab_limit=False,
        minloglevel=2)
    return T5Tokenizer.from_pretrained(str(folder), extra_ids=8)


def _tiny(arch: str, vocab_size: int):
    from transformers import (GPT2Config, GPT2LMHeadModel, PhiConfig, PhiForCausalLM, T5Config,
                              T5ForConditionalGeneration)

    torch.manual_seed(1234)
    if arch == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab_size, n_positions=96, n_embd=64, n_layer=2,
                                           n_head=4, initializer_range=0.2))
    elif arch == "phi-1_5":
        model = PhiForCausalLM(PhiConfig(vocab_size=51200, hidden_size=64, intermediate_size=256,
                                         num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=96,
                                         bos_token_id=50256, eos_token_id=50256, initializer_range=0.2))
    else:
        flan = arch == "flan-t5-large"
        model = T5ForConditionalGeneration(T5Config(
            vocab_size=vocab_size, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4,
            feed_forward_proj="gated-gelu" if flan else "relu", tie_word_embeddings=not flan,
            decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, initializer_factor=5.0))
    return model.eval()


ARCHS = ("gpt2", "t5-base", "flan-t5-large", "phi-1_5")


@pytest.fixture(scope="session")
def tiny_models(gpt2_tokenizer, t5_tokenizer):
    """name -> (model, tokenizer) for the four architectures, random weights, tiny sizes."""
    return {arch: (_tiny(arch, len(t5_tokenizer) if "t5" in arch else len(gpt2_tokenizer)),
                   t5_tokenizer if "t5" in arch else gpt2_tokenizer)
            for arch in ARCHS}


@pytest.fixture
def gpt2(tiny_models):
    """The tiny random-init GPT-2 and GPT-2's real tokenizer (widget and figure tests)."""
    return tiny_models["gpt2"]


@pytest.fixture
def t5(tiny_models):
    """The tiny random-init t5-base-like model and its tokenizer (widget and figure tests)."""
    return tiny_models["t5-base"]


def pytest_configure(config):
    """Markers used by the suite (browser: the JupyterLab + chromium tests; wheel: tests/test_wheel.py)."""
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Debian chromium (needs /usr/bin/chromium)")
    config.addinivalue_line("markers", "wheel: builds the wheel and installs it into a fresh venv (tests/test_wheel.py)")


def wait_for_jupyter(process, url: str, token: str, log_path: Path, timeout: float = 60) -> None:
    """Wait until the JupyterLab server started as ``process`` answers /api/status (browser tests)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"jupyter lab did not answer in {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)


@pytest.fixture
def local_endpoint(monkeypatch):
    """Start a loopback server with ``handle(conn)``; HF_ENDPOINT points at it. Only 127.0.0.1 is used."""
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    import huggingface_hub

    huggingface_hub.close_session()  # a fresh session reads the proxy variables just set
    servers = []

    def start(handler_or_silence, scheme="https"):
        if isinstance(handler_or_silence, type):
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler_or_silence)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(lambda: (server.shutdown(), server.server_close()))
            port = server.server_address[1]
        else:  # a raw socket: accept connections, then do ``handler_or_silence(conn)``
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)
            held = []

            def serve():
                while True:
                    try:
                        conn, _ = sock.accept()
                    except OSError:
                        return
                    held.append(conn)
                    handler_or_silence(conn)
            threading.Thread(target=serve, daemon=True).start()
            servers.append(lambda: [c.close() for c in held + [sock]])
            port = sock.getsockname()[1]
        monkeypatch.setenv("HF_ENDPOINT", f"{scheme}://127.0.0.1:{port}")
        return port

    yield start
    for stop in servers:
        stop()
    huggingface_hub.close_session()
