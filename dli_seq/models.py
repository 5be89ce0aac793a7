"""The lesson's models: one registry, offline first (used by every section, 4.2-4.5).

``load("gpt2")`` returns ``(model, tokenizer)``. Where the weights come from is decided
by :func:`resolve`, in this order:

1. a local folder of pre-downloaded models (``DLI_SEQ_MODEL_DIR``, for classrooms
   without network): ``$DLI_SEQ_MODEL_DIR/gpt2`` or ``$DLI_SEQ_MODEL_DIR/google--flan-t5-large``
   (``google/flan-t5-large`` as nested folders works too);
2. the Hugging Face cache on this machine (what an earlier download left);
3. the hub itself, if it can be reached;
4. the small stand-in model that ships inside this package (``dli_seq/standins/``).

``DLI_SEQ_MODELS`` picks the policy:

* ``auto`` (default): 1-4, first that works.
* ``hub``: 1-3 only; a clear error instead of a stand-in.
* ``offline``: the stand-in, always; no network, no cache. Tests use this, so their
  outputs are the same on every machine.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import torch

STANDIN_DIR = Path(__file__).parent / "standins"
MODES = ("auto", "hub", "offline")


@dataclass(frozen=True)
class LessonModel:
    """One model of the lesson: its hub id, kind, stand-in folder and what the stand-in learnt."""

    hub_id: str
    kind: str  # "decoder-only" or "encoder-decoder"
    section: str
    standin: str
    trained_on: str

    @property
    def standin_path(self) -> Path:
        return STANDIN_DIR / self.standin


REGISTRY: dict[str, LessonModel] = {
    m.hub_id: m
    for m in [
        LessonModel("gpt2", "decoder-only", "4.2", "gpt2",
                    "simple synthetic English sentences (real GPT-2 vocabulary)"),
        LessonModel("t5-base", "encoder-decoder", "4.4", "t5-base",
                    "toy English->French/German translation with task prefixes"),
        LessonModel("google/flan-t5-large", "encoder-decoder", "4.5", "flan-t5-large",
                    "a small instruction mixture: Spanish, arithmetic, facts, dialogue, stories"),
        LessonModel("microsoft/phi-1_5", "decoder-only", "4.5", "phi-1_5",
                    "the same instruction mixture in 'Answer:' format (GPT-2 vocabulary)"),
    ]
}
ALIASES = {"flan-t5-large": "google/flan-t5-large", "phi-1_5": "microsoft/phi-1_5",
           "phi-1.5": "microsoft/phi-1_5"}


class ModelLoadError(RuntimeError):
    """A lesson model could not be loaded; the message says what to do."""


@dataclass(frozen=True)
class Resolution:
    """Where :func:`load` will take a model from: ``source`` is local-folder, hub-cache, hub or stand-in."""

    name: str
    source: str
    location: str

    @property
    def is_standin(self) -> bool:
        return self.source == "stand-in"


def lesson_model(name: str) -> LessonModel:
    """Look up a lesson model by hub id or short alias (sections 4.2-4.5)."""
    key = ALIASES.get(name, name)
    if key not in REGISTRY:
        known = ", ".join(sorted(REGISTRY) + sorted(ALIASES))
        raise ModelLoadError(f"Unknown model {name!r}. Known lesson models: {known}.")
    return REGISTRY[key]


def models_mode() -> str:
    """The resolution policy from ``DLI_SEQ_MODELS`` (auto, hub or offline)."""
    mode = os.environ.get("DLI_SEQ_MODELS", "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ModelLoadError(f"DLI_SEQ_MODELS={mode!r} is not valid; use one of {', '.join(MODES)}.")
    return mode


def _local_folder(hub_id: str) -> Path | None:
    root = os.environ.get("DLI_SEQ_MODEL_DIR")
    if not root:
        return None
    for candidate in (Path(root) / hub_id.replace("/", "--"), Path(root) / hub_id):
        if (candidate / "config.json").is_file():
            return candidate
    return None


def _hub_cache(hub_id: str) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        return None
    found = try_to_load_from_cache(hub_id, "config.json")
    if isinstance(found, str) and Path(found).is_file():
        return Path(found).parent
    return None


def hub_reachable(timeout: float = 2.0) -> bool:
    """True when huggingface.co answers within ``timeout`` seconds (and HF_HUB_OFFLINE is unset)."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False"):
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def resolve(name: str, mode: str | None = None) -> Resolution:
    """Decide where ``name`` loads from, following the order in this module's docstring (4.2-4.5)."""
    spec = lesson_model(name)
    mode = mode or models_mode()
    if mode not in MODES:
        raise ModelLoadError(f"mode={mode!r} is not valid; use one of {', '.join(MODES)}.")
    standin = Resolution(spec.hub_id, "stand-in", str(spec.standin_path))
    if mode == "offline":
        return standin
    if (folder := _local_folder(spec.hub_id)) is not None:
        return Resolution(spec.hub_id, "local-folder", str(folder))
    if (cached := _hub_cache(spec.hub_id)) is not None:
        return Resolution(spec.hub_id, "hub-cache", str(cached))
    if hub_reachable():
        return Resolution(spec.hub_id, "hub", spec.hub_id)
    if mode == "hub":
        raise ModelLoadError(
            f"{spec.hub_id!r} is not in a local folder (DLI_SEQ_MODEL_DIR), not in the Hugging Face "
            "cache, and the hub cannot be reached. Download it on a machine with network, or set "
            "DLI_SEQ_MODELS=auto to use the offline stand-in.")
    return standin


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """cuda if available, else mps, else cpu; an explicit device that is absent is an error (4.2)."""
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ModelLoadError(f"device={device!r} is not a device name; use 'cpu', 'cuda' or 'mps'.") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("device='cuda' was asked for, but this machine has no CUDA GPU. "
                             "Use device=None (picks the best available) or device='cpu'.")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelLoadError("device='mps' was asked for, but Apple's MPS backend is not available here. "
                             "Use device=None or device='cpu'.")
    return dev


def _model_class(kind: str):
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM if kind == "encoder-decoder" else AutoModelForCausalLM


def standin_notice(spec: LessonModel) -> str:
    """The one line printed when a stand-in replaces a hub model (4.2-4.5)."""
    return (f"[dli-seq] {spec.hub_id!r} is not available here: using the offline stand-in "
            f"'standins/{spec.standin}' ({spec.kind}), trained to reproduce the real model's recorded outputs "
            "on the lesson's demonstrations; elsewhere a small model trained on synthetic data.")


def load(name: str, device: str | torch.device | None = None, dtype: torch.dtype | None = None,
         quiet: bool = False):
    """Load a lesson model and its tokenizer: ``model, tokenizer = load("t5-base")`` (4.2-4.5).

    ``device=None`` picks cuda, then mps, then cpu; ``dtype=None`` means float32.
    Weights load from safetensors only and never with remote code.
    """
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    spec = lesson_model(name)
    dev = pick_device(device)
    where = resolve(spec.hub_id)
    if where.is_standin and not (spec.standin_path / "config.json").is_file():
        raise ModelLoadError(f"The stand-in for {spec.hub_id!r} is missing at {spec.standin_path}; "
                             "reinstall dli-seq or run `python -m dli_seq.standins.train`.")
    kwargs = dict(trust_remote_code=False, local_files_only=where.source != "hub")
    bars_were_on = hf_logging.is_progress_bar_enabled()
    if where.is_standin:  # a stand-in loads in milliseconds: no progress bar in the notebook
        hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(where.location, **kwargs)
        model = _model_class(spec.kind).from_pretrained(
            where.location, dtype=dtype or torch.float32, use_safetensors=True, **kwargs)
    except OSError as err:
        raise ModelLoadError(f"Could not load {spec.hub_id!r} from {where.source} ({where.location}): {err}. "
                             "Set DLI_SEQ_MODELS=offline to use the stand-in.") from err
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
    if where.is_standin and not quiet:
        print(standin_notice(spec))
    model.to(dev).eval()
    return model, tokenizer
