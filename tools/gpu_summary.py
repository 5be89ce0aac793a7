"""Summarise a tools/gpu_check.sh run: card, driver/CUDA, versions, pass/fail counts, memory, speed.

    python3 tools/gpu_summary.py OUT_DIR [--wall-s N]

Reads OUT_DIR/core.xml and notebooks.xml (pytest --junitxml), notebook_memory.json
(tests/gpu/nbval_gpu_memory.py) and cuda.json (benchmarks/decode.py); writes summary.md (the
text to paste into tests/README.md and benchmarks/README.md) and summary.json, and prints the
Markdown. Parts that did not run are said to be missing, not left out.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path


def junit(path: Path) -> dict | None:
    """Counts and failing test ids from a pytest junit XML file (None if absent)."""
    if not path.is_file():
        return None
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        return dict(error=f"unreadable: {err}")
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = dict(tests=0, failures=0, errors=0, skipped=0, time_s=0.0)
    failed = []
    for suite in suites:
        for key in ("tests", "failures", "errors", "skipped"):
            counts[key] += int(suite.get(key, 0))
        counts["time_s"] += float(suite.get("time", 0))
        for case in suite.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname')}::{case.get('name')}")
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    counts["failed_tests"] = failed
    return counts


def versions() -> dict:
    out = dict(python=platform.python_version())
    for name in ("torch", "transformers", "tokenizers", "nbval", "ipykernel", "dli-seq"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    try:
        import torch

        out["torch_cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            out["device"] = torch.cuda.get_device_name()
            out["device_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    except ImportError:
        pass
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        out["nvidia_smi"] = smi
    except (OSError, subprocess.SubprocessError):
        out["nvidia_smi"] = None
    return out


def counts_line(name: str, c: dict | None) -> str:
    if c is None:
        return f"- {name}: did not run (no report)"
    if "error" in c:
        return f"- {name}: report {c['error']}"
    line = (f"- {name}: {c['passed']} passed, {c['failures'] + c['errors']} failed, {c['skipped']} skipped "
            f"in {c['time_s']:.0f} s")
    return line + "".join(f"\n  - FAILED {t}" for t in c["failed_tests"][:30])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--wall-s", type=int, default=None)
    args = parser.parse_args(argv)
    out = args.out
    info = dict(versions=versions(), wall_s=args.wall_s, core=junit(out / "core.xml"),
                notebooks=junit(out / "notebooks.xml"))
    rc = out / ".rc"
    info["exit_codes"] = dict(line.split("=", 1) for line in rc.read_text().split()) if rc.is_file() else {}
    memory = out / "notebook_memory.json"
    info["notebook_memory"] = json.loads(memory.read_text()) if memory.is_file() else None
    bench = out / "cuda.json"
    info["benchmark"] = json.loads(bench.read_text()) if bench.is_file() else None

    v = info["versions"]
    lines = [f"## GPU check ({v.get('device') or 'no CUDA device'})", "",
             f"- card: {v.get('device')} ({v.get('device_memory_gib')} GiB); nvidia-smi: {v.get('nvidia_smi')}",
             f"- Python {v['python']}, torch {v['torch']} (CUDA {v.get('torch_cuda')}), transformers "
             f"{v['transformers']}, tokenizers {v['tokenizers']}, nbval {v['nbval']}, dli-seq {v['dli-seq']}",
             f"- wall time of tools/gpu_check.sh: {args.wall_s} s; exit codes: {info['exit_codes']}",
             counts_line("core (tests/gpu, fast path, decoding, streaming, widgets)", info["core"]),
             counts_line("notebooks (nbval, strict)", info["notebooks"])]
    if info["notebook_memory"]:
        lines += ["", "| notebook | peak allocated (MiB) | peak reserved (MiB) |", "|---|---:|---:|"]
        for name, r in info["notebook_memory"].items():
            if r.get("cuda"):
                lines.append(f"| {name} | {r['max_allocated'] / 2**20:.0f} | {r['max_reserved'] / 2**20:.0f} |")
            else:
                lines.append(f"| {name} | {'CUDA not used' if r.get('cuda') is False else 'no record'} | |")
    else:
        lines.append("- peak GPU memory per notebook: no record")
    if info["benchmark"]:
        md = out / "cuda.md"
        lines += ["", md.read_text() if md.is_file() else "(benchmark table missing)"]
    else:
        lines.append("- benchmark: did not run or did not finish (no cuda.json)")
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    (out / "summary.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
