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
used when present. Like the real pair, the two T5 stand-ins share one sentencepiece tokenizer
(trained first) but not their architecture: the real Flan-T5 starts from T5 v1.1, not from
t5-base, so the Flan-T5 stand-in is trained from scratch with T5 v1.1's choices. On a CPU the
four train in two processes (:data:`.recipes.CHAINS`), about equally long.

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
from pathlib import Path

import torch

from .cards import write_card
from .evaluation import demonstrations, evaluate, gpt2_heldout_stats, lesson_samples
from .examples import flan_example, gpt2_example, phi_page, t5_tokenizer_texts, t5_translation_example
from .loop import (compact_lm_loss, decoder_batch, device, expand_to_full_vocab, save_fp16, seq2seq_batches,
                   seq2seq_loss, train_loop)
from .recipes import (CHAINS, FULL_VOCAB, RECIPES, SEED, T5_VOCAB, Recipe, flan_config, gpt2_config, phi_config,
                      t5_config)
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


def write_t5_tokenizer(folders: list[Path]) -> None:
    """Train the sentencepiece tokenizer both T5 stand-ins share (as the real t5-base and Flan-T5 share
    theirs) and save it into each folder; :func:`train_t5` reads it from there."""
    with tempfile.TemporaryDirectory() as tmp:
        tok = train_sentencepiece(t5_tokenizer_texts(), T5_VOCAB, Path(tmp))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        tok.save_pretrained(folder)


def train_t5(recipe: Recipe, out: Path, bar_position: int = 0) -> dict:
    """t5-base (translation, :func:`.recipes.t5_config`) or flan-t5-large (the instruction mixture,
    :func:`.recipes.flan_config`), each from scratch with the shared tokenizer already in its folder."""
    from transformers import T5ForConditionalGeneration, T5Tokenizer

    folder = out / recipe.name
    tok = T5Tokenizer.from_pretrained(folder)
    flan = recipe.name == "flan-t5-large"
    torch.manual_seed(SEED)
    model = T5ForConditionalGeneration((flan_config if flan else t5_config)(len(tok)))
    if flan:  # T5 v1.1: an output layer of its own (transformers builds every T5 with lm_head tied to shared),
        # started at the size a tied, scaled one has (logits of about unit size)
        scale = model.config.d_model ** -0.5
        model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.shared.weight) * scale)
    batches = seq2seq_batches(tok, flan_example if flan else t5_translation_example, recipe.batch_size,
                              random.Random(SEED + (5 if flan else 0)))
    stats = train_loop(model, recipe, batches, seq2seq_loss, desc=f"training {recipe.name}",
                       bar_position=bar_position)
    save_fp16(model, folder, tie_word_embeddings=not flan)  # what a published T5 / T5 v1.1 config says
    stats["vocabulary"] = len(tok)
    return stats


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
    from transformers.utils import logging as hf_logging

    cls = AutoModelForSeq2SeqLM if name in ("t5-base", "flan-t5-large") else AutoModelForCausalLM
    hf_logging.set_verbosity_error()  # transformers notes that Flan-T5's lm_head stays untied: as it should
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
    """Build stand-ins one after the other in this process (one chain of :data:`.recipes.CHAINS`)."""
    return [build(name, out, eval_n, steps_scale, threads, bar_position, eval_only) for name in names]


def main(argv=None) -> None:
    """Command line: ``python -m dli_seq.standins.train [--only ...]`` (``make standins``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="gpt2,t5-base,flan-t5-large,phi-1_5",
                        help="comma-separated stand-ins to train")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--eval-n", type=int, default=200, help="held-out items per evaluation set")
    parser.add_argument("--steps-scale", type=float, default=1.0,
                        help="scale every stand-in's number of steps (quick trials)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="processes, one CPU thread each (small models train fastest that way)")
    parser.add_argument("--eval-only", action="store_true",
                        help="keep the trained weights in --out; re-run the evaluation and rewrite the model cards")
    args = parser.parse_args(argv)
    names = args.only.split(",")
    for name in names:
        if name not in RECIPES:
            raise SystemExit(f"unknown stand-in {name!r}; choose from {', '.join(RECIPES)}")
    start = time.perf_counter()
    t5_names = [n for n in names if n in ("t5-base", "flan-t5-large")]
    if t5_names and not args.eval_only:
        write_t5_tokenizer([args.out / n for n in t5_names])
    chains = [[n for n in chain if n in names] for chain in CHAINS]
    chains = [c for c in chains if c]
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
