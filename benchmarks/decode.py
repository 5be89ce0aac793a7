"""Decode speed, side by side: the naive loop, our streamer, model.generate, generate + static cache.

On a GPU (``--device cuda``) the table is the one of issue 14 instead: our loop, the fast path
(static cache + CUDA graph), generate (dynamic, static, compiled) and the bandwidth floor, in
bf16 and fp32; see benchmarks/decode_cuda.py. Without a GPU that branch says so and stops.

    .venv/bin/python benchmarks/decode.py [--quick] [--sizes real,standin] [--tokens 32,128,512]
                                          [--models gpt2,t5-base] [--device cpu] [--repeats 2]
                                          [--threads 1]

For each model and each number of new tokens N it forces exactly N greedy tokens (EOS is
ignored) with every method and reports milliseconds per new token (prompt reading included).
"real" sizes are random-init models with the real configurations (GPT-2 124M, t5-base,
flan-t5-large, phi-1_5); "standin" sizes are the shipped stand-ins (skipped if absent).
Results go to benchmarks/results/<device>.json and .md (see benchmarks/README.md).

On a CPU the naive loop is quadratic: above --naive-full-up-to new tokens (default 128 on CPU)
it is ESTIMATED from timed single forward passes at evenly spread lengths, integrated over
all N steps; the table marks those cells with "~".
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402
import transformers  # noqa: E402

from dli_seq import models as registry  # noqa: E402
from realsize import gpt2_tokenizer, real_model, synthetic_t5_tokenizer as _t5_tokenizer  # noqa: E402
from dli_seq.decoding import context_size, naive_generate  # noqa: E402
from dli_seq.inputs import encode_inputs  # noqa: E402
from dli_seq.streaming import stream_steps  # noqa: E402

ALL_MODELS = ("gpt2", "t5-base", "flan-t5-large", "phi-1_5")
HUB_IDS = {"gpt2": "gpt2", "t5-base": "t5-base", "flan-t5-large": "google/flan-t5-large",
           "phi-1_5": "microsoft/phi-1_5"}
DECODER_PROMPT = "Hello world, this is a test of how fast a model can decode."
ENCODER_INPUT = "translate English to French: Hello World! How's it going?"


def device_name(device: torch.device) -> str:
    """The accelerator's name, or the CPU model from /proc/cpuinfo."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return platform.processor() or "cpu"


def real_size(name: str, device="cpu"):
    """Random-init model with the published configuration (benchmarks/realsize.py), and a tokenizer."""
    model = real_model(name, device=device)
    words = ENCODER_INPUT.replace(":", " :").split()
    return model, (_t5_tokenizer(words) if model.config.is_encoder_decoder else gpt2_tokenizer())


def standin(name: str):
    """The shipped stand-in, or None when it has not been trained yet."""
    if not (registry.STANDIN_DIR / name / "config.json").is_file():
        return None
    os.environ["DLI_SEQ_MODELS"] = "offline"
    return registry.load(HUB_IDS[name], device="cpu", quiet=True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device, fn) -> tuple[float, float, object]:
    """(wall seconds, this process's CPU seconds, result). CPU time barely moves when others share the cores."""
    sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    sync(device)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def runners(model, tok, device):
    """name -> fn(n) that makes exactly n new tokens and returns how many it made."""
    prompt_ids, encoder_ids = encode_inputs(model, tok, "" if model.config.is_encoder_decoder else DECODER_PROMPT,
                                            ENCODER_INPUT if model.config.is_encoder_decoder else None)
    enc = model.config.is_encoder_decoder
    gen_inputs = torch.tensor([encoder_ids if enc else prompt_ids], device=device)
    # generate() fills unset fields from model.generation_config, so EOS is switched off there:
    # every method must make exactly n tokens, also with trained stand-ins that stop early.
    no_eos = model.generation_config
    no_eos.eos_token_id, no_eos.do_sample = None, False
    no_eos.pad_token_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    text = dict(encoder_input=ENCODER_INPUT) if enc else dict(prompt=DECODER_PROMPT)
    skip = 1 if enc else len(prompt_ids)

    def naive(n):
        ids = dict(encoder_input_ids=encoder_ids) if enc else dict(input_ids=prompt_ids)
        return len(naive_generate(model, **ids, max_new_tokens=n))

    def streamer(n):
        return sum(1 for _ in stream_steps(model, tok, max_new_tokens=n, eos=False, **text))

    def generate(n, cache_implementation=None):
        config = copy.deepcopy(no_eos)
        config.max_new_tokens, config.cache_implementation = n, cache_implementation
        with torch.inference_mode():
            out = model.generate(gen_inputs, generation_config=config)
        return out.shape[1] - skip

    return {"naive": naive, "streamer": streamer, "generate": generate,
            "generate_static": lambda n: generate(n, "static")}, (enc, encoder_ids, prompt_ids)


def naive_estimate(model, inputs, n: int, device, samples: int = 8) -> float:
    """Seconds the naive loop would take for n tokens, from timed forward passes at spread lengths."""
    enc, encoder_ids, prompt_ids = inputs
    start_len = 1 if enc else len(prompt_ids)
    lengths = sorted({start_len + round(k * (n - 1) / (samples - 1)) for k in range(samples)})
    costs = []
    with torch.inference_mode():
        for length in lengths:
            ids = torch.randint(5, 1000, (1, length), device=device)
            if enc:
                fn = lambda: model(input_ids=torch.tensor([encoder_ids], device=device), decoder_input_ids=ids,  # noqa: E731
                                   use_cache=False)
            else:
                fn = lambda: model(input_ids=ids, use_cache=False)  # noqa: E731
            costs.append(timed(device, fn)[0])
    # Linear interpolation between the timed lengths, summed over every step's length.
    total = 0.0
    for step in range(n):
        length = start_len + step
        i = max(j for j in range(len(lengths)) if lengths[j] <= length)
        if i == len(lengths) - 1:
            total += costs[i]
        else:
            w = (length - lengths[i]) / (lengths[i + 1] - lengths[i])
            total += (1 - w) * costs[i] + w * costs[i + 1]
    return total


def bench_model(label, size, model, tok, device, tokens, repeats, naive_full_up_to):
    model.to(device).eval()
    run, inputs = runners(model, tok, device)
    for name, fn in run.items():  # warm-up: first calls allocate and compile kernels
        try:
            fn(2)
        except Exception as err:  # noqa: BLE001 - report, do not crash the whole benchmark
            print(f"  {label}: {name} unavailable: {type(err).__name__}: {err}".splitlines()[0])
            run[name] = None
    rows = []
    limit, prompt_len = context_size(model), len(inputs[2])
    for n in tokens:
        if limit is not None and prompt_len + n > limit:
            print(f"  {label:14s} {size:8s} N={n:4d}  skipped: {prompt_len} + {n} tokens exceed its context of {limit}")
            continue
        wall: dict[str, list[float]] = {k: [] for k in run}
        cpu: dict[str, list[float]] = {k: [] for k in run}
        # Short runs are cheap and the most exposed to bursts of load: repeat them more.
        for r in range(max(repeats, min(8, 256 // n))):  # interleave the cached methods, alternating order
            order = ("streamer", "generate", "generate_static")
            for name in order if r % 2 == 0 else order[::-1]:
                if run[name] is not None:
                    seconds, cpu_seconds, made = timed(device, lambda: run[name](n))
                    assert made == n, f"{name} made {made} tokens, not {n}"
                    wall[name].append(seconds)
                    cpu[name].append(cpu_seconds)
        estimated = n > naive_full_up_to
        if estimated:
            wall["naive"].append(naive_estimate(model, inputs, n, device))
        else:
            seconds, cpu_seconds, made = timed(device, lambda: run["naive"](n))
            assert made == n
            wall["naive"].append(seconds)
            cpu["naive"].append(cpu_seconds)
        ms = {k: (min(v) * 1000 / n if v else None) for k, v in wall.items()}
        # Where the naive loop ran end to end, also estimate it: shows how far to trust the "~" cells.
        check = None if estimated else naive_estimate(model, inputs, n, device) * 1000 / n / ms["naive"]
        # Others' load only ever adds time, so the best runs are compared (wall and CPU time).
        cpu_ms = {k: (min(v) * 1000 / n if v else None) for k, v in cpu.items()}
        ratio, ratio_cpu = ms["streamer"] / ms["generate"], cpu_ms["streamer"] / cpu_ms["generate"]
        row = dict(model=label, size=size, new_tokens=n, naive_estimated=estimated,
                   **{f"{k}_ms_per_token": v for k, v in ms.items()},
                   **{f"{k}_cpu_ms_per_token": v for k, v in cpu_ms.items()},
                   streamer_over_generate=ratio, streamer_over_generate_cpu=ratio_cpu,
                   naive_over_streamer=ms["naive"] / ms["streamer"], naive_estimate_over_measured=check)
        print(f"  {label:14s} {size:8s} N={n:4d}  " + "  ".join(
            f"{k}={v:8.2f}" if v is not None else f"{k}=n/a" for k, v in ms.items())
            + f"  streamer/generate={ratio:.3f} (CPU time {ratio_cpu:.3f})", flush=True)
        rows.append(row)
    model.to("cpu")
    return rows


def markdown(rows) -> str:
    def cell(v, approx=False):
        return "n/a" if v is None else f"{'~' if approx else ''}{v:.1f}"
    lines = ["| model | size | new tokens | naive | streamer | generate | generate (static cache) "
             "| streamer / generate (wall; CPU time) | naive / streamer |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['size']} | {r['new_tokens']} | "
                     f"{cell(r['naive_ms_per_token'], r['naive_estimated'])} | {cell(r['streamer_ms_per_token'])} | "
                     f"{cell(r['generate_ms_per_token'])} | {cell(r['generate_static_ms_per_token'])} | "
                     f"{r['streamer_over_generate']:.3f}x; {r['streamer_over_generate_cpu']:.3f}x | "
                     f"{cell(r['naive_over_streamer'], r['naive_estimated'])}x |")
    return "\n".join(lines) + ("\n\nms per new token, wall clock, best run (prompt reading included); "
                               "ratios of the best runs; \"~\": naive estimated, see README.\n")


def goals(rows) -> list[str]:
    """The two targets of issue 3, judged on this run."""
    out = []
    for key, what in (("streamer_over_generate", "wall"), ("streamer_over_generate_cpu", "CPU time")):
        worst = max(rows, key=lambda r: r[key])
        median = statistics.median(r[key] for r in rows)
        out.append(f"streamer <= 1.05x generate per token ({what}): median {median:.3f}x, worst {worst[key]:.3f}x "
                   f"({worst['model']} {worst['size']} N={worst['new_tokens']}) -> "
                   f"{'met in every row' if worst[key] <= 1.05 else 'met on the median, not in every row' if median <= 1.05 else 'MISSED'}")
    checks = [f"{r['model']} {r['size']} N={r['new_tokens']}: {r['naive_estimate_over_measured']:.2f}"
              for r in rows if r["naive_estimate_over_measured"] is not None]
    if checks:
        out.append("naive estimator / measured naive loop (where both exist): " + ", ".join(checks))
    big = [r for r in rows if r["model"] == "gpt2" and r["size"] == "real" and r["new_tokens"] == 512]
    if big:
        r = big[0]
        out.append(f"cache beats naive >= 5x at 512 new tokens (gpt2 real size): "
                   f"{r['naive_over_streamer']:.1f}x{' (naive estimated)' if r['naive_estimated'] else ''} -> "
                   f"{'met' if r['naive_over_streamer'] >= 5 else 'MISSED'}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: gpt2 + stand-ins, 16 and 64 tokens")
    parser.add_argument("--sizes", default="real,standin")
    parser.add_argument("--tokens", default="32,128,512")
    parser.add_argument("--models", default=None, help=f"comma list of {', '.join(ALL_MODELS)} "
                        "(default: all on a GPU; gpt2,t5-base real size plus all stand-ins on a CPU)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice; 1 is steadier on a shared machine)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each cached method (at least 256/N, at most 8); the best counts")
    parser.add_argument("--naive-full-up-to", type=int, default=None,
                        help="longest N the naive loop runs end to end (default: 128 on CPU, no limit on GPU)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--dtypes", default=None, help="CUDA only: comma list of bf16, fp32, fp16 (default bf16,fp32)")
    parser.add_argument("--compiled", default="bf16",
                        help="CUDA only: dtypes for which generate's compiled static-cache path is timed "
                             "(comma list, 'all' or 'none'; compiling costs about a minute per model)")
    parser.add_argument("--methods", default=None,
                        help="CUDA only: comma list of loop, streamer, fast, fast_streamer, generate, generate_static "
                             "(default: all of them; generate_compiled is set by --compiled)")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda"):  # issue 14: the fast path against generate and the bandwidth floor
        import decode_cuda

        args.tokens = "128" if args.tokens == "32,128,512" else args.tokens
        args.sizes = "real" if args.sizes == "real,standin" else args.sizes
        return decode_cuda.main(args, real_size, standin, device_name, DECODER_PROMPT, ENCODER_INPUT)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    tokens = [16, 64] if args.quick else [int(t) for t in args.tokens.split(",")]
    sizes = args.sizes.split(",")
    chosen = args.models.split(",") if args.models else None
    naive_limit = args.naive_full_up_to or (10**9 if device.type == "cuda" else 128)
    name = device_name(device)
    print(f"device: {name}; torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.get_num_threads()} threads", flush=True)
    started, rows = time.perf_counter(), []
    for size in sizes:
        default = ALL_MODELS if (size == "standin" or device.type == "cuda") else ("gpt2", "t5-base")
        for label in chosen or (("gpt2",) if args.quick and size == "real" else default):
            loaded = real_size(label) if size == "real" else standin(label)
            if loaded is None:
                print(f"  {label} {size}: skipped (dli_seq/standins/{label} not trained yet)")
                continue
            rows += bench_model(label, size, *loaded, device, tokens, args.repeats, naive_limit)
    table, verdicts = markdown(rows), goals(rows)
    print("\n" + table + "\n".join(verdicts))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(device=name, device_type=device.type, torch=torch.__version__, transformers=transformers.__version__,
                threads=torch.get_num_threads(), tokens=tokens, repeats=args.repeats, quick=args.quick,
                naive_full_up_to=naive_limit, wall_s=round(time.perf_counter() - started, 1),
                date=time.strftime("%Y-%m-%d %H:%M:%S %Z"), goals=verdicts, rows=rows)
    (out / f"{device.type}.json").write_text(json.dumps(meta, indent=2) + "\n")
    (out / f"{device.type}.md").write_text(f"# Decode speed on {name}\n\n{table}\n" + "\n".join(f"- {v}" for v in verdicts) + "\n")
    print(f"\nwrote {out / (device.type + '.json')} and .md in {meta['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
