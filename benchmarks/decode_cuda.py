"""The CUDA branch of benchmarks/decode.py (issue 14): how close each decode loop gets to the hardware.

    python benchmarks/decode.py --device cuda [--sizes real] [--dtypes bf16,fp32] [--tokens 128]
                                              [--models gpt2,phi-1_5] [--compiled bf16|all|none]
                                              [--methods loop,fast,...] [--repeats 2]

For each model (real size, random-init: benchmarks/realsize.py; or the stand-ins), dtype and N,
every method makes exactly N greedy new tokens (EOS ignored) and is timed end to end with
``torch.cuda.synchronize``; ms per new token = wall time / N, prompt reading included, best of
``--repeats`` runs after one warm-up run with the same N (so nothing is compiled or allocated in
a timed run). Warm-up costs are reported apart: the fast path's graph recording
(``state.warmup_s``) and the compiled generate's first call minus its best call.

Methods:
  loop              dli_seq.decoding.greedy_generate: the lesson's prefill + decode_step loop (eager, dynamic cache)
  streamer          dli_seq.streaming.Generation (what stream_steps runs): the loop plus what a learner sees per step
  fast              dli_seq.fastpath.greedy_generate: static cache + the step replayed as a CUDA graph
  fast_streamer     Generation(fast=True): the streamer on the fast path
  generate          model.generate, dynamic cache
  generate_static   model.generate(cache_implementation="static", disable_compile=True)
  generate_compiled model.generate(cache_implementation="static"): transformers compiles the decode
                    step itself on CUDA (torch.compile, mode="reduce-overhead"); only for --compiled dtypes
  floor             weights' bytes / measured copy bandwidth: reading every weight once per token

Goals (issue 14; H100, bf16, 128 new tokens): fast <= 1.0 ms (gpt2), 1.5 (t5-base), 2.5
(flan-t5-large), 2.5 (phi-1_5), and fast <= generate_compiled in the same run.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import torch
import transformers

from dli_seq import decoding, fastpath
from dli_seq.inputs import encode_inputs
from dli_seq.streaming import Generation

DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32, "fp16": torch.float16}
GOALS_MS = {"gpt2": 1.0, "t5-base": 1.5, "flan-t5-large": 2.5, "phi-1_5": 2.5}
METHODS = ("loop", "streamer", "fast", "fast_streamer", "generate", "generate_static", "generate_compiled")


def copy_bandwidth(device, gib: float = 1.0, repeats: int = 10) -> float:
    """Bytes per second a device-to-device copy moves, counting bytes read and written (best of repeats)."""
    n = int(gib * 2**30)
    a = torch.empty(n, dtype=torch.uint8, device=device)
    b = torch.empty_like(a)
    b.copy_(a)
    best = float("inf")
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        b.copy_(a)
        end.record()
        torch.cuda.synchronize(device)
        best = min(best, start.elapsed_time(end) / 1000)
    del a, b
    torch.cuda.empty_cache()
    return 2 * n / best


def weight_bytes(model) -> int:
    """Bytes of all parameters and buffers (tied weights once)."""
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total


def runners(model, tok, prompt, encoder_input):
    """name -> fn(n) that makes exactly n new tokens and returns (tokens made, warm-up seconds inside)."""
    enc = model.config.is_encoder_decoder
    prompt_ids, encoder_ids = encode_inputs(model, tok, "" if enc else prompt, encoder_input if enc else None)
    ids = dict(encoder_input_ids=encoder_ids) if enc else dict(input_ids=prompt_ids)
    text = dict(encoder_input=encoder_input) if enc else dict(prompt=prompt)
    gen_inputs = torch.tensor([encoder_ids if enc else prompt_ids], device=model.device)
    skip = 1 if enc else len(prompt_ids)
    own = model.generation_config  # generate() fills unset fields from here: EOS off, greedy
    own.eos_token_id, own.do_sample = None, False
    own.pad_token_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0

    def loop(n):
        return len(decoding.greedy_generate(model, **ids, max_new_tokens=n)), 0.0

    def streamer(n, fast=False):  # what stream_steps does, keeping the Generation to read its warm-up
        gen = Generation(model, tok, max_new_tokens=n, eos=False, fast=fast, **text)
        made = 0
        while not gen.done:
            gen.next()
            made += 1
        return made, getattr(gen.state, "warmup_s", 0.0)

    def fast(n):
        state = fastpath.prefill(model, **ids, max_new_tokens=n)
        if state.mode != "cuda-graph":
            raise RuntimeError(f"no CUDA graph: {state.reason}")
        made = [int(state.logits.argmax())]
        while len(made) < n:
            fastpath.decode_step(state, made[-1])
            made.append(int(state.logits.argmax()))
        return len(made), state.warmup_s

    def generate(n, **options):
        config = copy.deepcopy(own)
        config.max_new_tokens = n
        for key, value in options.items():
            setattr(config, key, value)
        with torch.inference_mode():
            out = model.generate(gen_inputs, generation_config=config)
        return out.shape[1] - skip, 0.0

    return {"loop": loop, "streamer": streamer, "fast": fast, "fast_streamer": lambda n: streamer(n, fast=True),
            "generate": generate,
            "generate_static": lambda n: generate(n, cache_implementation="static", disable_compile=True),
            "generate_compiled": lambda n: generate(n, cache_implementation="static")}


def timed(device, fn, n):
    torch.cuda.synchronize(device)
    start = time.perf_counter()
    made, warmup = fn(n)
    torch.cuda.synchronize(device)
    return time.perf_counter() - start, made, warmup


def bench(label, size, dtype_name, model, tok, device, tokens, repeats, methods, bandwidth, prompt, encoder_input):
    """Rows (one per N) of ms per new token for ``methods``; a method that fails is reported, not fatal."""
    run = {k: v for k, v in runners(model, tok, prompt, encoder_input).items() if k in methods}
    floor_ms = weight_bytes(model) / bandwidth * 1000
    rows = []
    for n in tokens:
        limit = decoding.context_size(model)
        if limit is not None and n + 32 > limit:
            print(f"  {label} {dtype_name} N={n}: skipped (context {limit})")
            continue
        ms, warm, notes = {}, {}, {}
        for name, fn in run.items():
            try:
                first, made, warmup_in = timed(device, fn, n)  # warm-up with the same N
                assert made == n, f"{name} made {made} tokens, not {n}"
                best = float("inf")
                for _ in range(repeats):
                    wall, made, warmup_in = timed(device, fn, n)
                    best = min(best, wall - warmup_in)
                ms[name] = best * 1000 / n
                # the fast path records its graph in every run (warmup_in); compile happens in the first run only
                warm[name] = warmup_in * 1000 if name.startswith("fast") else max(0.0, first - best) * 1000
            except Exception as err:  # noqa: BLE001 - one failing method must not hide the others
                ms[name], notes[name] = None, f"{type(err).__name__}: {str(err).splitlines()[0][:160]}"
                print(f"  {label} {dtype_name} N={n}: {name} failed: {notes[name]}", flush=True)
        row = dict(model=label, size=size, dtype=dtype_name, new_tokens=n, floor_ms_per_token=floor_ms,
                   weight_bytes=weight_bytes(model), **{f"{k}_ms_per_token": v for k, v in ms.items()},
                   **{f"{k}_warmup_ms": v for k, v in warm.items()}, failures=notes)
        print(f"  {label:14s} {size:7s} {dtype_name} N={n:4d}  " + "  ".join(
            f"{k}={v:.2f}" if v is not None else f"{k}=n/a" for k, v in ms.items()) + f"  floor={floor_ms:.3f}",
            flush=True)
        rows.append(row)
    return rows


def markdown(rows) -> str:
    def cell(v):
        return "n/a" if v is None else f"{v:.2f}"
    head = ["model", "size", "dtype", "N", *METHODS, "floor", "fast: graph rec. (ms)", "compile warm-up (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 3 + "---:|" * (len(head) - 3)]
    for r in rows:
        compile_s = r.get("generate_compiled_warmup_ms")
        lines.append("| " + " | ".join([r["model"], r["size"], r["dtype"], str(r["new_tokens"]),
                                        *[cell(r.get(f"{m}_ms_per_token")) for m in METHODS],
                                        f"{r['floor_ms_per_token']:.3f}", cell(r.get("fast_warmup_ms")),
                                        "n/a" if compile_s is None else f"{compile_s / 1000:.1f}"]) + " |")
    return "\n".join(lines) + ("\n\nms per new token, best run after a warm-up run with the same N (prompt reading "
                               "included; the fast path's graph recording and generate's compilation excluded and "
                               "shown apart); floor = weights' bytes / measured copy bandwidth.\n")


def goals(rows) -> list[str]:
    out = []
    for r in rows:
        if r["size"] != "real" or r["dtype"] != "bf16" or r["new_tokens"] != 128 or r["model"] not in GOALS_MS:
            continue
        fast, goal = r.get("fast_ms_per_token"), GOALS_MS[r["model"]]
        anchor_name = "generate_compiled" if r.get("generate_compiled_ms_per_token") else "generate_static"
        anchor = r.get(f"{anchor_name}_ms_per_token")
        if fast is None:
            out.append(f"{r['model']} bf16: fast path did not run ({r['failures'].get('fast')}) -> MISSED")
            continue
        ok = fast <= goal and (anchor is None or fast <= anchor)
        out.append(f"{r['model']} bf16 N=128: fast {fast:.2f} ms (goal <= {goal}; {anchor_name} "
                   f"{'n/a' if anchor is None else f'{anchor:.2f}'}; floor {r['floor_ms_per_token']:.3f}) -> "
                   f"{'met' if ok else 'MISSED'}")
    return out


def main(args, load_real, load_standin, device_name, prompt, encoder_input) -> int:
    """Run the CUDA table; results are rewritten after every model, so a cut-off run keeps what it measured."""
    if not torch.cuda.is_available():
        print("benchmarks/decode.py --device cuda: no CUDA GPU on this machine (torch.cuda.is_available() is False); "
              "the CUDA table is measured on a GPU machine: see benchmarks/README.md. Nothing measured.")
        return 0
    device = torch.device(args.device)
    tokens = [int(t) for t in args.tokens.split(",")]
    chosen = args.models.split(",") if args.models else ["gpt2", "t5-base", "flan-t5-large", "phi-1_5"]
    methods = args.methods.split(",") if args.methods else [m for m in METHODS if m != "generate_compiled"]
    # Passes in order of importance, so that a run cut short keeps the most useful rows: every
    # model in the first dtype, then the next dtype, then generate's compiled path (slow to compile).
    dtypes = args.dtypes.split(",") if args.dtypes else ["bf16", "fp32"]
    compiled = {"all": dtypes, "none": []}.get(args.compiled, args.compiled.split(","))
    passes = [(d, methods) for d in dtypes] + [(d, ["generate_compiled"]) for d in compiled]
    name = device_name(device)
    bandwidth = copy_bandwidth(device)
    print(f"device: {name}; torch {torch.__version__} (CUDA {torch.version.cuda}), transformers "
          f"{transformers.__version__}; copy bandwidth {bandwidth / 1e12:.2f} TB/s (read + write); "
          f"passes: {passes}", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started, rows = time.perf_counter(), []
    for dtype_name, pass_methods in passes:
        for size in args.sizes.split(","):
            for label in chosen:
                loaded = load_real(label, device) if size == "real" else load_standin(label)
                if loaded is None:
                    print(f"  {label} {size}: skipped (no stand-in)")
                    continue
                model, tok = loaded
                model = model.to(device=device, dtype=DTYPES[dtype_name]).eval()
                new = bench(label, size, dtype_name, model, tok, device, tokens, args.repeats, pass_methods,
                            bandwidth, prompt, encoder_input)
                for row in new:  # a later pass adds its columns to the row of the same model, dtype and N
                    key = [r for r in rows if all(r[k] == row[k] for k in ("model", "size", "dtype", "new_tokens"))]
                    if key:
                        key[0]["failures"].update(row.pop("failures"))
                        key[0].update(row)
                    else:
                        rows.append(row)
                del model, loaded
                torch.compiler.reset()
                torch.cuda.empty_cache()
                table, verdicts = markdown(rows), goals(rows)
                meta = dict(device=name, device_type="cuda", torch=torch.__version__, torch_cuda=torch.version.cuda,
                            transformers=transformers.__version__, copy_bandwidth_bytes_per_s=bandwidth,
                            tokens=tokens, repeats=args.repeats, passes=passes,
                            wall_s=round(time.perf_counter() - started, 1),
                            date=time.strftime("%Y-%m-%d %H:%M:%S %Z"), goals=verdicts, rows=rows)
                (out / "cuda.json").write_text(json.dumps(meta, indent=2) + "\n")
                (out / "cuda.md").write_text(f"# Decode speed on {name}\n\n{table}\n" +
                                             "\n".join(f"- {v}" for v in verdicts) + "\n")
    print("\n" + markdown(rows) + "\n".join(goals(rows)))
    print(f"\nwrote {out / 'cuda.json'} and .md in {time.perf_counter() - started:.0f} s")
    return 0
