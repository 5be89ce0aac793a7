"""``python -m dli_seq doctor``: what a workshop's first minute needs to know.

Prints library versions, the device the lesson will use, and for each lesson model
where it would load from, in the names ``models.source_of`` uses (local-folder, hub-cache, hub or
stand-in). Each source is validated by the same function ``load`` uses
(``model_files.check_folder``: config, safetensors headers and shapes, a tokenizer that loads; the
hub within a few seconds); a source passed over is shown with its reason. Exit status 1 when a source that is
there (``DLI_SEQ_MODEL_DIR``, the cache, an ``HF_ENDPOINT`` mirror) is unusable, or a model has none.

``python -m dli_seq capacity``: how many learners this machine holds per notebook (:mod:`dli_seq.capacity`).
"""

from __future__ import annotations

import argparse
import platform
import sys
from importlib import metadata


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def doctor() -> int:
    """Report versions, device and model sources (run at the start of the course, 4.1)."""
    from dli_seq import models

    print(f"dli-seq doctor  (python {platform.python_version()}, {platform.system()} {platform.machine()})")
    for package in ("torch", "transformers", "tokenizers", "safetensors", "sentencepiece", "protobuf",
                    "ipywidgets", "jupyterlab", "matplotlib"):
        print(f"  {package:<14} {_version(package)}")
    device = models.pick_device()
    extra = ""
    if device.type == "cuda":
        import torch

        extra = f" ({torch.cuda.get_device_name(0)})"
    print(f"device: {device}{extra}")
    try:
        mode = models.models_mode()
    except models.ModelLoadError as err:
        print(f"error: {err}")
        return 1
    print(f"DLI_SEQ_MODELS={mode}")
    status = 0
    for name, spec in models.REGISTRY.items():
        try:
            where = models.resolve(name, mode)
        except models.ModelLoadError as err:
            print(f"  {name:<22} NOT AVAILABLE: {err}")
            status = 1
            continue
        for skipped in where.skipped:
            mark = "UNUSABLE" if skipped.broken else "skipped"
            print(f"  {name:<22} {mark} {skipped.source} ({skipped.location}): {skipped.reason}")
            status = 1 if skipped.broken else status
        note = f"stand-in ({spec.trained_on})" if where.is_standin else where.source
        print(f"  {name:<22} {note}: {where.location}")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dli_seq", description="dli-seq helper commands")
    parser.add_argument("command", choices=["doctor", "capacity"],
                        help="doctor: versions, device, model sources; capacity: learners this machine holds")
    args, rest = parser.parse_known_args(argv)
    if args.command == "capacity":
        from .capacity import main as capacity

        return capacity(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return doctor()


if __name__ == "__main__":
    sys.exit(main())
