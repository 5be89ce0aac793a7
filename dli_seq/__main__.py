"""``python -m dli_seq doctor``: what a workshop's first minute needs to know
(and ``python -m dli_seq fetch``: the lesson models into a shared folder, see :mod:`dli_seq.fetch`).

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
    """``python -m dli_seq doctor`` (4.1), ``capacity`` or ``fetch`` (workshop set-up)."""
    from dli_seq.models import ALIASES, REGISTRY

    parser = argparse.ArgumentParser(prog="python -m dli_seq", description="dli-seq helper commands")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="versions, device, and where each lesson model would load from")
    commands.add_parser("capacity", add_help=False,  # its own options: python -m dli_seq capacity --help
                        help="learners this machine holds per notebook (python -m dli_seq capacity --help)")
    fetch = commands.add_parser(
        "fetch", help="download the lesson models once into a shared read-only folder (DLI_SEQ_MODEL_DIR)",
        description="Download, verify (hashes and a loadable folder) and share the real lesson models. "
                    "Re-running continues an interrupted download and downloads nothing that is already there.")
    fetch.add_argument("--dir", help="target folder (default: $DLI_SEQ_MODEL_DIR, else /opt/dli-seq/models "
                                     "when run as root, else ~/.cache/dli-seq/models)")
    fetch.add_argument("--models", nargs="+", metavar="MODEL", choices=sorted(REGISTRY) + sorted(ALIASES),
                       help=f"only these (default: all four: {', '.join(REGISTRY)})")
    args, rest = parser.parse_known_args(argv)
    if args.command == "capacity":
        from .capacity import main as capacity

        return capacity(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "fetch":
        from dli_seq.fetch import fetch as run_fetch

        return run_fetch(args.dir, args.models)
    return doctor()


if __name__ == "__main__":
    sys.exit(main())
