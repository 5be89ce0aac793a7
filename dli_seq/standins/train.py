"""Train the four offline stand-in models and write their model cards.

    python -m dli_seq.standins.train                 # all four (two processes, one CPU thread each)
    python -m dli_seq.standins.train --only gpt2     # one of them

Each stand-in uses the same model class as the hub model it replaces (GPT2LMHeadModel,
T5ForConditionalGeneration, PhiForCausalLM) and is trained from scratch on synthetic data
from :mod:`dli_seq.standins.data`. Two kinds of training text:

* the real models' outputs recorded in the original lesson, on the lesson's own inputs
  (``data.RECORDED_*``), so that the lesson's demonstrations show what the real model did;
* synthetic tasks everywhere else, with held-out inputs the evaluation uses.

Everything is seeded, so a re-run on the same machine gives the same weights. A CUDA GPU is
used when present. Like the real pair, the Flan-T5 stand-in starts from the trained T5
stand-in (same tokenizer, same architecture) and is then instruction-tuned, so t5-base and
flan-t5-large train one after the other, next to gpt2 and phi-1_5 in a second process.

The pieces, one module each: :mod:`.recipes` (steps, sizes, configurations), :mod:`.examples`
(the training text), :mod:`.vocab` (tokenizers, compact vocabulary), :mod:`.loop` (batches,
training loop, float16 export), :mod:`.evaluation` (held-out scores, recorded demonstrations)
and :mod:`.cards` (model cards). This module trains and builds.

Two tricks keep the training inside a CPU budget:

* GPT-2 and Phi keep GPT-2's real 50,257-token vocabulary, but the synthetic corpus uses only a
  few thousand of those tokens. We train a *compact* copy of the model whose vocabulary is
  those tokens plus one shared row, OTHER, for all the rest. OTHER's logit gets
  ``+ log(number of other tokens)``, which is exactly the full softmax of a model in which every
  unused token shares OTHER's embedding. Exporting copies the rows back to their real ids, so
  the shipped model is an ordinary full-vocabulary model and tokenizer ids match the real GPT-2.
* Weights are stored in float16 (half the bytes); ``config.json`` says float32, so
  ``from_pretrained(path)`` loads them as float32.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from .cards import write_card
from .evaluation import demonstrations, evaluate, gpt2_heldout_stats, lesson_samples
from .examples import flan_example, gpt2_example, phi_page, t5_tokenizer_texts, t5_translation_example
from .loop import (compact_lm_loss, decoder_batch, device, expand_to_full_vocab, save_fp16, seq2seq_batches,
                   seq2seq_loss, train_loop)
from .recipes import CHAINS, FULL_VOCAB, RECIPES, SEED, T5_VOCAB, Recipe, gpt2_config, phi_config, t5_config
from .vocab import CompactVocab, collect_ids, gpt2_tokenizer, save_gpt2_tokenizer, train_sentencepiece

HERE = Path(__file__).parent


def encode_pair(encode, prompt: str, rest: str, eos: int) -> tuple[list[int], list[int]]:
    """Token ids of prompt and continuation, each tokenized on its own (as a prompt and its answer are)."""
    return (encode(prompt) if prompt else []), encode(rest) + [eos]


def train_decoder(recipe: Recipe, make_config, make_example, out: Path, loss_on_prompt: bool,
                  bar_position: int = 0) -> dict:
    """GPT-2 or Phi: compact-vocabulary training, then export with the real vocabulary."""
    from transformers import AutoModelForCausalLM

    tok = gpt2_tokenizer()
    encode = lambda text: tok(text).input_ids  # noqa: E731
    eos = tok.eos_token_id
    rng = random.Random(SEED)
    used = collect_ids(encode, make_example, random.Random(SEED + 1), 20_000, [eos, tok.convert_tokens_to_ids("Ċ")])
    vocab = CompactVocab(used, FULL_VOCAB[recipe.name])
    print(f"{recipe.name}: corpus uses {len(vocab.ids)} of {vocab.full_size} token ids")

    def next_batch():
        rows = []
        for _ in range(recipe.batch_size):
            prompt, target = encode_pair(encode, *make_example(rng), eos)
            rows.append(([], prompt + target) if loss_on_prompt else (prompt, target))
        return decoder_batch(rows, vocab)

    torch.manual_seed(SEED)
    compact_config = make_config(len(vocab))
    compact_config.bos_token_id = compact_config.eos_token_id = None  # real ids live outside the compact range
    compact = AutoModelForCausalLM.from_config(compact_config)
    stats = train_loop(compact, recipe, next_batch, compact_lm_loss(vocab), desc=f"training {recipe.name}",
                       bar_position=bar_position)
    model = expand_to_full_vocab(compact, lambda v: AutoModelForCausalLM.from_config(make_config(v)), vocab)
    folder = out / recipe.name
    folder.mkdir(parents=True, exist_ok=True)
    save_fp16(model, folder)
    max_len = model.config.max_position_embeddings if recipe.name == "phi-1_5" else model.config.n_positions
    save_gpt2_tokenizer(folder, max_len)
    stats["used_token_ids"] = len(vocab.ids)
    return stats


def train_t5(recipe: Recipe, out: Path, bar_position: int = 0) -> dict:
    """t5-base: a new shared tokenizer, then translation from scratch. flan-t5-large: the trained
    t5-base stand-in (weights and tokenizer) instruction-tuned on the Flan mixture. Both train in
    cosine cycles (:func:`t5_cycles`), each saved in float16 and continued from what was saved."""
    from transformers import T5ForConditionalGeneration, T5Tokenizer

    folder = out / recipe.name
    folder.mkdir(parents=True, exist_ok=True)
    flan = recipe.name == "flan-t5-large"
    if flan:
        base = out / "t5-base"
        tok = T5Tokenizer.from_pretrained(base)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tok = train_sentencepiece(t5_tokenizer_texts(), T5_VOCAB, Path(tmp))
    tok.save_pretrained(folder)
    make_example = flan_example if flan else t5_translation_example
    torch.manual_seed(SEED)
    if flan:
        model = T5ForConditionalGeneration.from_pretrained(base)
    else:
        model = T5ForConditionalGeneration(t5_config(len(tok)))
    stats: dict = {}
    for cycle in t5_cycles(recipe):
        batches = seq2seq_batches(tok, make_example, recipe.batch_size, random.Random(cycle.data_seed))
        more = train_loop(model, replace(recipe, steps=cycle.steps, restarts=()), batches, seq2seq_loss,
                          desc=cycle.desc, bar_position=bar_position)
        save_fp16(model, folder)  # the next cycle starts from these float16 weights
        stats = add_cycle(stats, more)
    stats["vocabulary"] = len(tok)
    if flan:
        stats["initialised_from"] = "the trained t5-base stand-in"
    return stats


@dataclass(frozen=True)
class Cycle:
    """One cosine learning-rate cycle: its steps, the seed of its data stream, its progress-bar label."""

    steps: int
    data_seed: int
    desc: str


def t5_cycles(recipe: Recipe) -> list[Cycle]:
    """The first cycle, then one warm restart per ``recipe.restarts`` (fresh optimizer, fresh data stream)."""
    first_seed = SEED + (5 if recipe.name == "flan-t5-large" else 0)
    cycles = [Cycle(recipe.steps, first_seed, f"training {recipe.name}")]
    cycles += [Cycle(steps, SEED + 100 * i, f"training {recipe.name} (cycle {i + 1})")
               for i, steps in enumerate(recipe.restarts, start=1)]
    return cycles


def add_cycle(stats: dict, more: dict) -> dict:
    """Training statistics so far with one more cycle's added (steps per cycle, last loss, total time)."""
    if not stats:
        return dict(more)
    cycles = stats.get("cycles", [stats["steps"]]) + [more["steps"]]
    return {**stats, "steps": sum(cycles), "cycles": cycles, "final_loss": more["final_loss"],
            "train_seconds": round(stats["train_seconds"] + more["train_seconds"], 1)}


def train_one(recipe: Recipe, out: Path, bar_position: int = 0) -> dict:
    """Train the stand-in of ``recipe`` into ``out / recipe.name``; returns its training statistics."""
    if recipe.name == "gpt2":
        return train_decoder(recipe, gpt2_config, gpt2_example, out, loss_on_prompt=False, bar_position=bar_position)
    if recipe.name == "phi-1_5":
        return train_decoder(recipe, phi_config, phi_page, out, loss_on_prompt=True, bar_position=bar_position)
    return train_t5(recipe, out, bar_position)


def build(name: str, out: Path, eval_n: int, steps_scale: float, threads: int, bar_position: int = 0,
          eval_only: bool = False) -> str:
    """Train one stand-in (or, ``eval_only``, keep the weights in ``out``), evaluate what was saved,
    write its model card; returns a one-line summary."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    folder = out / name
    if eval_only:
        stats = json.loads((folder / "eval.json").read_text(encoding="utf-8"))["stats"]
    else:
        stats = train_one(RECIPES[name].scaled(steps_scale), out, bar_position)
        stats["device"] = device().type
    cls = AutoModelForSeq2SeqLM if name in ("t5-base", "flan-t5-large") else AutoModelForCausalLM
    model = cls.from_pretrained(folder).eval()  # evaluate exactly what ships
    tokenizer = AutoTokenizer.from_pretrained(folder)
    started = time.perf_counter()
    if name == "gpt2":
        found = gpt2_heldout_stats(model, tokenizer)
        scores = {"held-out next-token accuracy": found["next_token_accuracy"],
                  "held-out perplexity": found["perplexity"]}
    else:
        scores = evaluate(name, model, tokenizer, eval_n)
    demos = demonstrations(name, model, tokenizer)
    write_card(name, folder, stats, scores, demos, lesson_samples(name, model, tokenizer), model)
    summary = {k: (v.get("exact_match", v.get("share")) if isinstance(v, dict) else v) for k, v in scores.items()}
    matched = sum(d["match"] for d in demos)
    return (f"{name} ({stats['train_seconds']} s training, {time.perf_counter() - started:.0f} s evaluation): "
            f"{json.dumps(summary)}; recorded demonstrations reproduced: {matched}/{len(demos)}")


def build_chain(names: list[str], out: Path, eval_n: int, steps_scale: float, threads: int,
                bar_position: int, eval_only: bool = False) -> list[str]:
    """Build stand-ins one after the other in this process (t5-base must precede flan-t5-large)."""
    return [build(name, out, eval_n, steps_scale, threads, bar_position, eval_only) for name in names]


def main(argv=None) -> None:
    """Command line: ``python -m dli_seq.standins.train [--only ...]`` (``make standins``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="gpt2,t5-base,flan-t5-large,phi-1_5",
                        help="comma-separated stand-ins to train")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--eval-n", type=int, default=200, help="held-out items per evaluation set")
    parser.add_argument("--steps-scale", type=float, default=1.0,
                        help="scale the number of steps of every cycle (quick trials)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="processes, one CPU thread each (small models train fastest that way)")
    parser.add_argument("--eval-only", action="store_true",
                        help="keep the trained weights in --out; re-run the evaluation and rewrite the model cards")
    args = parser.parse_args(argv)
    names = args.only.split(",")
    for name in names:
        if name not in RECIPES:
            raise SystemExit(f"unknown stand-in {name!r}; choose from {', '.join(RECIPES)}")
    base_missing = not (args.out / "t5-base" / "config.json").is_file()
    if "flan-t5-large" in names and "t5-base" not in names and not args.eval_only and base_missing:
        raise SystemExit(f"flan-t5-large starts from the t5-base stand-in: train t5-base first (--out {args.out})")
    chains = [[n for n in chain if n in names] for chain in CHAINS]
    chains = [c for c in chains if c]
    start = time.perf_counter()
    if args.jobs <= 1 or len(chains) == 1 or device().type == "cuda":
        summaries = [s for c in chains for s in build_chain(c, args.out, args.eval_n, args.steps_scale, 0, 0,
                                                                 args.eval_only)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(len(chains), mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(build_chain, c, args.out, args.eval_n, args.steps_scale, 1, i, args.eval_only)
                       for i, c in enumerate(chains)]
            summaries = [s for f in futures for s in f.result()]
    print("\n".join(summaries))
    print(f"all done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
