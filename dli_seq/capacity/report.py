"""``python -m dli_seq capacity``: how many learners this machine holds, per lesson notebook (4.1-4.5).

A learner on the classroom's JupyterHub costs one Jupyter server plus one kernel running the
notebook. For each notebook the report gives the memory per learner and the learners that fit:

(a) CPU + offline stand-ins: the idle server and the kernel's peak, both measured
    (``dli_seq/capacity_measured.json``, made by ``python -m dli_seq.capacity --measure``);
(b) CPU + real models in fp32: the real weights and KV cache (computed, :mod:`dli_seq.capacity.real`)
    on top of the measured kernel less the stand-ins' weights, plus the server;
(c) GPU + real models, bf16 and fp32: weights + KV cache + :data:`CUDA_OVERHEAD_BYTES` per kernel,
    an estimate not yet measured on a GPU; the host memory each kernel still needs is checked too.

RAM is ``MemTotal`` from ``/proc/meminfo`` (or ``--ram``) less ``--reserve`` for the OS and the hub;
GPU memory is torch's total for GPU 0 (or ``--gpu-memory``, to plan for a GPU server from here).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .arithmetic import GiB, gib, learners_that_fit, memory_for_learners, mib, run_all_seconds
from .measure import MEASURED_JSON

SECTION_KEYS = ("04-1", "04-2", "04-3", "04-4", "04-5")  # real.SECTIONS' keys (real imports torch: late)

CUDA_OVERHEAD_BYTES = GiB // 2  # CUDA context, cuBLAS workspace, allocator slack per kernel: an estimate
DEFAULT_RESERVE_GIB = 2.0
REMEASURE = "run `python -m dli_seq.capacity --measure` in the repository to measure it again"


def per_learner_standins(server_bytes: int, kernel_peak_bytes: int) -> int:
    """(a) CPU + stand-ins: the idle server plus the kernel's measured peak (workshop sizing)."""
    return server_bytes + kernel_peak_bytes


def per_learner_cpu_real(weights_bytes: int, kv_bytes: int, kernel_peak_bytes: int, standin_bytes: int,
                         server_bytes: int) -> int:
    """(b) CPU + real models: real weights and KV cache, the kernel without its stand-ins, the server."""
    return weights_bytes + kv_bytes + max(0, kernel_peak_bytes - standin_bytes) + server_bytes


def per_learner_gpu(weights_bytes: int, kv_bytes: int, overhead_bytes: int = CUDA_OVERHEAD_BYTES) -> int:
    """(c) GPU memory per learner (workshop sizing): weights and KV cache in the dtype, plus the CUDA overhead."""
    return weights_bytes + kv_bytes + overhead_bytes


def meminfo_bytes(field: str = "MemTotal", path: str = "/proc/meminfo") -> int | None:
    """A ``/proc/meminfo`` field in bytes (``MemTotal``, ``MemAvailable``), or None (workshop sizing)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return None


def gpu_total_bytes() -> tuple[int, str] | None:
    """GPU 0's total memory and name when torch sees a CUDA GPU, else None (workshop sizing)."""
    import torch

    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    return props.total_memory, props.name


def load_measured(path: Path = MEASURED_JSON) -> dict:
    """The measured figures (4.1-4.5); a ``ValueError`` naming the file and the fix when missing or unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        notebooks, server = data["notebooks"], data["server"]
        for key in SECTION_KEYS:
            if not notebooks[key]["kernel_peak_bytes"] > 0:
                raise ValueError(f"no kernel peak for {key}")
        if not server["rss_bytes"] > 0:
            raise ValueError("no server RSS")
    except FileNotFoundError:
        raise ValueError(f"{path} is missing: {REMEASURE}") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not usable ({type(err).__name__}: {err}): {REMEASURE}") from None
    return data


def machine_line(m: dict) -> str:
    """The measuring machine as a user would describe it, for the capacity report."""
    gpu = f"GPU {m['gpu']}" if m.get("gpu") else "no GPU"
    return (f"{m['date']}, a {m['cores']}-core, {gib(m['ram_bytes'])} machine with {gpu} ({m['cpu']}), "
            f"torch {m['torch']}, transformers {m['transformers']}")


def _label(key: str) -> str:
    return key.removeprefix("0").replace("-", ".")  # "04-2" -> "4.2"


def report(measured: dict, ram_bytes: int, reserve_bytes: int, cores: int, gpu_bytes: int | None,
           ram_source: str, gpu_source: str) -> list[str]:
    """The capacity report's lines (English, like ``doctor``); pure given its inputs."""
    from .real import SECTIONS, section_memory, standin_weights_bytes

    available = memory_for_learners(ram_bytes, reserve_bytes)
    server = measured["server"]["rss_bytes"]
    out = [f"RAM: {gib(ram_bytes)} ({ram_source}) - {gib(reserve_bytes)} reserve (OS + hub) = "
           f"{gib(available)} for learners; {cores} cores",
           f"GPU: {gpu_source}",
           "Each learner: one Jupyter server + one kernel that has run the notebook top to bottom.",
           f"Measured ({MEASURED_JSON.name}): {machine_line(measured['machine'])}; "
           f"idle jupyter lab server {mib(server)}.", ""]

    out.append("(a) CPU + offline stand-ins: per learner = idle server + kernel peak (VmHWM), both measured")
    for key in SECTIONS:
        nb = measured["notebooks"][key]
        each = per_learner_standins(server, nb["kernel_peak_bytes"])
        n = learners_that_fit(available, each)
        t = run_all_seconds(n, nb["cpu_s"], cores)
        out.append(f"  {_label(key)}  {mib(each)} per learner -> this machine holds {n} learners; Run All costs "
                   f"{nb['cpu_s']:.1f} CPU-s (measured): if all {n} press Run All at once on {cores} cores, "
                   f"about {t:.0f} s (estimate)")

    out += ["", "(b) CPU + real models, fp32: per learner = weights + KV cache (computed from the published "
            "configs) + kernel peak less its stand-ins' weights + idle server (measured)"]
    for key in SECTIONS:
        mem = section_memory(key, "fp32")
        peak = measured["notebooks"][key]["kernel_peak_bytes"]
        kernel = max(0, peak - standin_weights_bytes(mem.models))
        each = per_learner_cpu_real(mem.weights_bytes, mem.kv_bytes, peak, standin_weights_bytes(mem.models), server)
        out.append(f"  {_label(key)}  {' + '.join(mem.models)}: {mib(mem.weights_bytes)} weights + {mib(mem.kv_bytes)} "
                   f"KV + {mib(kernel)} kernel + {mib(server)} server = {mib(each)} -> this machine holds "
                   f"{learners_that_fit(available, each)} learners (Run All time with real models on CPU: not measured)")

    out += ["", f"(c) GPU + real models: GPU memory per learner = weights + KV cache (computed) + "
            f"{gib(CUDA_OVERHEAD_BYTES)} CUDA context per kernel (an estimate, not yet measured on a GPU); host RAM "
            "per learner = kernel less its stand-ins + server (measured); models.load reads the weights into "
            "host RAM before moving them to the GPU, so while loading a kernel briefly needs the (b) figure"]
    for key in SECTIONS:
        standins = standin_weights_bytes(section_memory(key, "fp32").models)
        peak = measured["notebooks"][key]["kernel_peak_bytes"]
        host = per_learner_cpu_real(0, 0, peak, standins, server)
        by_ram = learners_that_fit(available, host)
        parts = []
        for dtype in ("bf16", "fp32"):
            mem = section_memory(key, dtype)
            each = per_learner_gpu(mem.weights_bytes, mem.kv_bytes)
            if gpu_bytes is None:
                parts.append(f"{dtype} {gib(each)} per learner")
                continue
            by_gpu = learners_that_fit(gpu_bytes, each)
            parts.append(f"{dtype} {gib(each)} per learner -> this machine holds {min(by_gpu, by_ram)} learners "
                         f"({'GPU' if by_gpu <= by_ram else 'RAM'} is the limit)")
        loading = per_learner_cpu_real(section_memory(key, "fp32").weights_bytes, 0, peak, standins, server)
        out.append(f"  {_label(key)}  " + "; ".join(parts))
        out.append(f"       host RAM {mib(host)} per learner (RAM fits {by_ram}); {mib(loading)} while loading "
                   f"(RAM fits {learners_that_fit(available, loading)} loading at once)")
    if gpu_bytes is None:
        out.append("  No GPU here: give --gpu-memory GiB (e.g. 80) to see how many learners a GPU server holds.")
    return out


def _gib_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of GiB (e.g. 24 or 7.5)") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of GiB >= 0, got {text}")
    return value


def _cores_arg(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of cores >= 1")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """``python -m dli_seq capacity``: print per notebook (4.1-4.5) how many learners this machine holds."""
    parser = argparse.ArgumentParser(prog="python -m dli_seq capacity",
                                     description="How many learners this machine holds, per lesson notebook.")
    parser.add_argument("--ram", type=_gib_arg, metavar="GiB",
                        help="plan for this much RAM (default: MemTotal of this machine)")
    parser.add_argument("--reserve", type=_gib_arg, default=DEFAULT_RESERVE_GIB, metavar="GiB",
                        help=f"RAM kept for the OS and the hub (default: {DEFAULT_RESERVE_GIB:g})")
    parser.add_argument("--gpu-memory", type=_gib_arg, metavar="GiB",
                        help="plan for a GPU with this much memory (default: this machine's GPU, if any)")
    parser.add_argument("--cores", type=_cores_arg, help="plan for this many cores (default: this machine's)")
    args = parser.parse_args(argv)

    if args.ram is not None:
        ram, ram_source = int(args.ram * GiB), "--ram"
    else:
        ram, ram_source = meminfo_bytes("MemTotal"), "MemTotal of this machine, /proc/meminfo"
        if ram is None:
            parser.error("cannot read MemTotal from /proc/meminfo here: give --ram GiB")
    if args.gpu_memory is not None:
        gpu, gpu_source = int(args.gpu_memory * GiB), f"{gib(args.gpu_memory * GiB)} (--gpu-memory)"
    else:
        found = gpu_total_bytes()
        gpu, gpu_source = (found[0], f"{gib(found[0])} ({found[1]}, GPU 0)") if found else (None, "none here")
    try:
        memory_for_learners(ram, int(args.reserve * GiB))  # a reserve that leaves nothing: said first
        lines = report(load_measured(), ram, int(args.reserve * GiB), args.cores or os.cpu_count() or 1, gpu,
                       ram_source, gpu_source)
    except ValueError as err:
        parser.exit(2, f"python -m dli_seq capacity: {err}\n")
    print("dli-seq capacity: learners per lesson notebook")
    print("\n".join(lines))
    return 0
