"""Train the four offline stand-in models and write their model cards.

    python -m dli_seq.standins.train                 # all four (about 20 minutes on a 2-core CPU)
    python -m dli_seq.standins.train --only gpt2     # one of them

Each stand-in uses the same model class as the hub model it replaces (GPT2LMHeadModel,
T5ForConditionalGeneration, PhiForCausalLM) and is trained from scratch on synthetic data
from :mod:`dli_seq.standins.data`. Everything is seeded, so a re-run gives the same weights.

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
import math
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from dli_seq import lesson
from dli_seq.standins import data  # noqa

HERE = Path(__file__).parent
GPT2_VOCAB = HERE / "gpt2_vocab"
SEED = 1234
NEWLINE = "\n"
BAR_POSITION = [0]  # which progress-bar line this process draws on when stand-ins train in parallel
FULL_VOCAB = {"gpt2": 50257, "phi-1_5": 51200}  # the real models' embedding sizes


# ---------------------------------------------------------------------------------------------
# Recipes: what each stand-in is, how big, how long it trains
# ---------------------------------------------------------------------------------------------

@dataclass
class Recipe:
    name: str          # folder under dli_seq/standins/
    replaces: str      # hub id
    steps: int
    batch_size: int
    lr: float


RECIPES = {
    "gpt2": Recipe("gpt2", "gpt2", steps=600, batch_size=48, lr=3e-3),
    "t5-base": Recipe("t5-base", "t5-base", steps=5000, batch_size=48, lr=3e-3),
    "flan-t5-large": Recipe("flan-t5-large", "google/flan-t5-large", steps=3000, batch_size=48, lr=3e-3),
    "phi-1_5": Recipe("phi-1_5", "microsoft/phi-1_5", steps=3000, batch_size=32, lr=3e-3),
}


def gpt2_config(vocab_size: int):
    from transformers import GPT2Config

    return GPT2Config(vocab_size=vocab_size, n_positions=256, n_embd=128, n_layer=3, n_head=4,
                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                      bos_token_id=50256, eos_token_id=50256)


def phi_config(vocab_size: int):
    from transformers import PhiConfig

    return PhiConfig(vocab_size=vocab_size, hidden_size=128, intermediate_size=384, num_hidden_layers=2,
                     num_attention_heads=4, max_position_embeddings=512, tie_word_embeddings=True,
                     rope_parameters={"rope_theta": 10000.0, "partial_rotary_factor": 0.5, "rope_type": "default"},
                     bos_token_id=50256, eos_token_id=50256)


def t5_config(vocab_size: int, flan: bool):
    from transformers import T5Config

    layers = 2 if flan else 3
    return T5Config(vocab_size=vocab_size, d_model=128, d_kv=32, d_ff=256 if flan else 512, num_heads=4,
                    num_layers=layers, num_decoder_layers=layers, dropout_rate=0.0,
                    feed_forward_proj="gated-gelu" if flan else "relu", tie_word_embeddings=not flan,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128,
                    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)


# ---------------------------------------------------------------------------------------------
# Examples: (input text, target text) pairs, never a held-out input
# ---------------------------------------------------------------------------------------------

def t5_translation_example(rng: random.Random) -> tuple[str, str]:
    """One "translate English to French/German: ..." pair; now and then a fixed lesson phrase."""
    lang = rng.choice(("fr", "de"))
    target_name = {"fr": "French", "de": "German"}[lang]
    if rng.random() < 0.04:
        english = rng.choice(sorted(data.LESSON_TRANSLATIONS))
        target = data.LESSON_TRANSLATIONS[english][lang]
    else:
        english, target = data.translation_pair(rng, lang)
    return f"translate English to {target_name}: {english}", target


def instruction(rng: random.Random) -> tuple[str, str, str, str]:
    """A (task, premise, question, answer) draw from the mixture, tasks equally likely."""
    task = rng.choice(data.TASKS)
    return (task, *data.instruction_example(rng, task))


def prompted_example(rng: random.Random, zero_shot, one_shot) -> tuple[str, str]:
    """A mixture draw as (prompt, answer): zero-shot, or (30%) one-shot with another example of the same task.

    One-shot prompts whose whole text is held out are never trained on: they are the
    "unseen one-shot prompts" evaluation set.
    """
    task, premise, question, answer = instruction(rng)
    if rng.random() < 0.3:
        while True:
            _, shot_q, shot_a = data.instruction_example(rng, task)
            prompt = one_shot(premise, question, shot_q, shot_a)
            if not data.is_heldout(prompt):
                return prompt, answer
    return zero_shot(premise, question), answer


def flan_example(rng: random.Random) -> tuple[str, str]:
    """Encoder input and target for the Flan-T5 stand-in (lesson.zero_shot / lesson.one_shot formats)."""
    return prompted_example(rng, lesson.zero_shot, lesson.one_shot)


def phi_example(rng: random.Random) -> tuple[str, str]:
    """Prompt and answer for the Phi stand-in, in the lesson's "...\\n\\nAnswer: " format."""
    return prompted_example(rng, lesson.answer_prompt, lesson.one_shot_answer_prompt)


def unseen_one_shot_math(n: int, one_shot) -> list[tuple[str, str]]:
    """n one-shot arithmetic prompts (square roots, cubes, sums) whose full text was never trained on."""
    rng, premise, found = random.Random(SEED + 7), "Solve the mathematical problem", {}
    while len(found) < n:
        _, question, answer = data.instruction_example(rng, "math")
        _, shot_q, shot_a = data.instruction_example(rng, "math")
        prompt = one_shot(premise, question, shot_q, shot_a)
        if data.is_heldout(prompt):
            found.setdefault(prompt, answer)
    return list(found.items())


# ---------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------

def gpt2_tokenizer():
    from transformers import GPT2Tokenizer

    return GPT2Tokenizer(str(GPT2_VOCAB / "vocab.json"), str(GPT2_VOCAB / "merges.txt"))


def train_sentencepiece(texts: list[str], vocab_size: int, workdir: Path):
    """A T5-style unigram sentencepiece model (pad 0, eos 1, unk 2) wrapped as a T5Tokenizer."""
    import sentencepiece as spm
    from transformers import T5Tokenizer

    corpus = workdir / "corpus.txt"
    corpus.write_text("\n".join(t.replace("\n", " ") for t in texts), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(workdir / "spiece"), vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>",
        unk_piece="<unk>", input_sentence_size=200_000, shuffle_input_sentence=True, num_threads=2,
        hard_vocab_limit=False,
        minloglevel=2)
    tokenizer = T5Tokenizer.from_pretrained(workdir, extra_ids=100)  # converts spiece.model (needs protobuf)
    for text in texts[:200]:
        ids = tokenizer(text).input_ids
        assert tokenizer.unk_token_id not in ids, f"sentencepiece left {text!r} with <unk> pieces"
    return tokenizer


# ---------------------------------------------------------------------------------------------
# Compact vocabulary for the GPT-2-vocabulary models
# ---------------------------------------------------------------------------------------------

class CompactVocab:
    """Maps the GPT-2 ids the corpus uses to 0..K-1; every other id maps to K (OTHER)."""

    def __init__(self, used_ids: set[int], full_size: int):
        self.ids = sorted(used_ids)
        self.full_size = full_size
        self.other = len(self.ids)
        self.lookup = torch.full((full_size,), self.other, dtype=torch.long)
        self.lookup[torch.tensor(self.ids)] = torch.arange(len(self.ids))
        self.log_n_other = math.log(full_size - len(self.ids))

    def __len__(self) -> int:
        return len(self.ids) + 1

    def compact(self, full_ids: torch.Tensor) -> torch.Tensor:
        return self.lookup[full_ids]

    def expand(self, compact_rows: torch.Tensor) -> torch.Tensor:
        """Full-vocabulary rows: the trained row for each used id, OTHER's row for all the rest."""
        full = compact_rows[self.other].expand(self.full_size, *compact_rows.shape[1:]).clone()
        full[torch.tensor(self.ids)] = compact_rows[: self.other]
        return full


def collect_ids(tokenize, make_example, rng: random.Random, n: int, extra: list[int]) -> set[int]:
    used = set(extra)
    for _ in range(n):
        for text in make_example(rng):
            used.update(tokenize(text))
    return used


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------

def pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows])


def decoder_batch(rows: list[tuple[list[int], list[int]]], vocab: CompactVocab):
    """rows of (prompt ids, target ids): the loss covers the target ids only (or all, if prompt is empty)."""
    inputs, labels = [], []
    for prompt, target in rows:
        seq = prompt + target
        inputs.append(seq)
        labels.append([-100] * len(prompt) + target)
    x = pad(inputs, 0)
    y = pad(labels, -100)
    mask = (pad([[1] * len(s) for s in inputs], 0))
    return vocab.compact(x), mask, torch.where(y >= 0, vocab.compact(y.clamp(min=0)), y)


def seq2seq_batch(rows: list[tuple[list[int], list[int]]]):
    x = pad([r[0] for r in rows], 0)
    y = pad([r[1] for r in rows], -100)
    return x, (x != 0).long(), y


# ---------------------------------------------------------------------------------------------
# Training loop
# ---------------------------------------------------------------------------------------------

def lr_at(step: int, total: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_loop(model, recipe: Recipe, next_batch, loss_fn, desc: str) -> dict:
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, betas=(0.9, 0.98), weight_decay=0.01)
    model.train()
    start, ema = time.perf_counter(), None
    bar = tqdm(range(recipe.steps), desc=desc, unit="step", position=BAR_POSITION[0], mininterval=2)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, recipe.steps, recipe.lr)
        loss = loss_fn(model, next_batch())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 20 == 0:
            bar.set_postfix(loss=f"{ema:.3f}")
    model.eval()
    return {"steps": recipe.steps, "batch_size": recipe.batch_size, "final_loss": round(ema, 4),
            "train_seconds": round(time.perf_counter() - start, 1)}


def compact_lm_loss(vocab: CompactVocab):
    offset = torch.zeros(len(vocab))
    offset[vocab.other] = vocab.log_n_other

    def loss_fn(model, batch):
        x, mask, y = batch
        hidden = model.base_model(input_ids=x, attention_mask=mask).last_hidden_state[:, :-1]
        targets = y[:, 1:]
        keep = targets != -100  # the LM head runs only where there is something to predict
        logits = model.lm_head(hidden[keep]) + offset
        return torch.nn.functional.cross_entropy(logits, targets[keep])
    return loss_fn


def seq2seq_loss(model, batch):
    x, mask, y = batch
    return model(input_ids=x, attention_mask=mask, labels=y).loss


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------

def save_fp16(model, folder: Path) -> None:
    """save_pretrained in float16, but with config.json saying float32 (so plain loading gives float32)."""
    model.half().save_pretrained(folder, safe_serialization=True)
    model.float()
    cfg_path = folder / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["dtype"] = "float32"
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def expand_to_full_vocab(compact_model, make_full, vocab: CompactVocab):
    """Build the full-vocabulary model from the compact one (same class, real GPT-2 ids)."""
    full = make_full(vocab.full_size)
    state = compact_model.state_dict()
    for key, value in list(state.items()):
        if value.shape[:1] == (len(vocab),) and ("wte" in key or "embed_tokens" in key or "lm_head" in key):
            state[key] = vocab.expand(value)
    full.load_state_dict(state, strict=False)
    full.tie_weights()
    return full.eval()


def save_gpt2_tokenizer(folder: Path, model_max_length: int) -> None:
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(GPT2_VOCAB / name, folder / name)
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "GPT2Tokenizer", "model_max_length": model_max_length,
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "add_prefix_space": False}, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# Held-out evaluation (also used by tests/test_standins.py on a sample)
# ---------------------------------------------------------------------------------------------

def t5_generate(model, tokenizer, sources: list[str], max_new_tokens: int = 48, batch: int = 50) -> list[str]:
    outs = []
    for i in range(0, len(sources), batch):
        enc = tokenizer(sources[i:i + batch], return_tensors="pt", padding=True)
        with torch.inference_mode():
            ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
        outs += tokenizer.batch_decode(ids, skip_special_tokens=True)
    return [o.strip() for o in outs]


def phi_generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 48) -> list[str]:
    """Greedy answers, one prompt at a time (no padding questions), cut at the first newline."""
    outs = []
    newline_id = tokenizer.convert_tokens_to_ids("Ċ")
    for prompt in prompts:
        enc = tokenizer(prompt, return_tensors="pt")
        with torch.inference_mode():
            ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 eos_token_id=[tokenizer.eos_token_id, newline_id],
                                 pad_token_id=tokenizer.eos_token_id)
        text = tokenizer.decode(ids[0, enc.input_ids.shape[1]:], skip_special_tokens=True)
        outs.append(text.split(NEWLINE)[0].strip())
    return outs


def heldout_sets(name: str, n: int) -> dict[str, list[tuple[str, str]]]:
    """The held-out inputs for a stand-in, formatted for that model: {score name: [(input, expected)]}."""
    if name == "t5-base":
        return {f"en->{lang}": [(f"translate English to {full}: {en}", tr)
                                for en, tr in data.heldout_examples(lang, n)]
                for lang, full in (("fr", "French"), ("de", "German"))}
    if name in ("flan-t5-large", "phi-1_5"):
        fmt, shot_fmt = ((lesson.zero_shot, lesson.one_shot) if name == "flan-t5-large"
                         else (lesson.answer_prompt, lesson.one_shot_answer_prompt))
        return {
            "en->es": [(fmt("Translate from English to Spanish", en), es) for en, es in data.heldout_examples("es", n)],
            "arithmetic, unseen one-shot prompts": unseen_one_shot_math(n, shot_fmt),
            "sums of unseen number pairs": [(fmt("Solve the mathematical problem", q), a)
                                            for q, a in data.heldout_examples("math", n)],
        }
    return {}


def evaluate(name: str, model, tokenizer, n: int) -> dict[str, dict]:
    """Exact-match scores on n held-out inputs per set; records which items passed."""
    scores = {}
    gen = phi_generate if name == "phi-1_5" else t5_generate
    for key, pairs in heldout_sets(name, n).items():
        outputs = gen(model, tokenizer, [p for p, _ in pairs])
        hits = [int(o == e) for o, (_, e) in zip(outputs, pairs)]
        misses = [{"input": p, "expected": e, "got": o} for o, (p, e), h in zip(outputs, pairs, hits) if not h]
        scores[key] = {"n": len(pairs), "exact_match": round(sum(hits) / len(pairs), 4), "hits": hits,
                       "examples_missed": misses[:5]}
    return scores


def gpt2_heldout_stats(model, tokenizer, n: int = 300) -> dict:
    """Next-token accuracy and perplexity on held-out synthetic English sentences."""
    rng = random.Random(SEED + 99)
    sentences = [data.english_sentence(rng, heldout=True) for _ in range(n)]
    nll, correct, count = 0.0, 0, 0
    with torch.inference_mode():
        for s in sentences:
            ids = torch.tensor([tokenizer(s).input_ids + [tokenizer.eos_token_id]])
            logits = model(ids).logits[0, :-1]
            target = ids[0, 1:]
            nll += torch.nn.functional.cross_entropy(logits, target, reduction="sum").item()
            correct += (logits.argmax(-1) == target).sum().item()
            count += target.numel()
    return {"n_sentences": n, "next_token_accuracy": round(correct / count, 4),
            "perplexity": round(math.exp(nll / count), 3)}


# ---------------------------------------------------------------------------------------------
# The four stand-ins
# ---------------------------------------------------------------------------------------------

def train_decoder(recipe: Recipe, make_config, make_example, eval_name: str, out: Path) -> dict:
    """GPT-2 or Phi: compact-vocabulary training, then export with the real vocabulary."""
    from transformers import AutoModelForCausalLM

    tok = gpt2_tokenizer()
    encode = lambda text: tok(text).input_ids  # noqa: E731
    eos, newline = tok.eos_token_id, tok.convert_tokens_to_ids("Ċ")
    rng = random.Random(SEED)
    used = collect_ids(encode, make_example, random.Random(SEED + 1), 20_000, [eos, newline])
    vocab = CompactVocab(used, FULL_VOCAB[recipe.name])
    print(f"{recipe.name}: corpus uses {len(vocab.ids)} of {vocab.full_size} token ids")

    def next_batch():
        rows = []
        for _ in range(recipe.batch_size):
            prompt, answer = make_example(rng)
            target = encode(answer) + ([newline] if prompt else []) + [eos]
            rows.append((encode(prompt) if prompt else [], target))
        return decoder_batch(rows, vocab)

    torch.manual_seed(SEED)
    compact_config = make_config(len(vocab))
    compact_config.bos_token_id = compact_config.eos_token_id = None  # real ids live outside the compact range
    compact = AutoModelForCausalLM.from_config(compact_config)
    stats = train_loop(compact, recipe, next_batch, compact_lm_loss(vocab), desc=f"training {recipe.name}")
    model = expand_to_full_vocab(compact, lambda v: AutoModelForCausalLM.from_config(make_config(v)), vocab)
    folder = out / recipe.name
    folder.mkdir(parents=True, exist_ok=True)
    save_fp16(model, folder)
    max_len = model.config.max_position_embeddings if recipe.name == "phi-1_5" else model.config.n_positions
    save_gpt2_tokenizer(folder, max_len)
    stats["used_token_ids"] = len(vocab.ids)
    return stats


def train_t5(recipe: Recipe, flan: bool, make_example, sp_vocab: int, out: Path) -> dict:
    from transformers import T5ForConditionalGeneration

    folder = out / recipe.name
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    texts = [t for _ in range(30_000) for t in make_example(random.Random(rng.random()))]
    if not flan:
        texts += [t for en, tr in data.LESSON_TRANSLATIONS.items() for t in (en, *tr.values())] * 20
    with tempfile.TemporaryDirectory() as tmp:
        tok = train_sentencepiece(texts, sp_vocab, Path(tmp))
        tok.save_pretrained(folder)

    def next_batch():
        rows = []
        for _ in range(recipe.batch_size):
            src, tgt = make_example(rng)
            rows.append((tok(src).input_ids, tok(tgt).input_ids))
        return seq2seq_batch(rows)

    torch.manual_seed(SEED)
    model = T5ForConditionalGeneration(t5_config(len(tok), flan))
    if flan:  # an untied head starts with std 1.0 (logits in the tens); the tied scale is a kinder start
        torch.nn.init.normal_(model.lm_head.weight, std=model.config.d_model ** -0.5)
    stats = train_loop(model, recipe, next_batch, seq2seq_loss, desc=f"training {recipe.name}")
    save_fp16(model, folder)
    return stats


def train_one(name: str, out: Path) -> dict:
    recipe = RECIPES[name]
    if name == "gpt2":
        return train_decoder(recipe, gpt2_config, lambda rng: ("", data.english_sentence(rng, heldout=False)), name, out)
    if name == "phi-1_5":
        return train_decoder(recipe, phi_config, phi_example, name, out)
    if name == "t5-base":
        return train_t5(recipe, False, t5_translation_example, 1000, out)
    return train_t5(recipe, True, flan_example, 1600, out)


def lesson_samples(name: str, model, tokenizer) -> list[dict]:
    """Greedy outputs on the lesson's own prompts, for the model card."""
    if name == "gpt2":
        ids = tokenizer("Hello world,", return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=24, do_sample=False, pad_token_id=tokenizer.eos_token_id)
        return [{"input": "Hello world,", "output": tokenizer.decode(out[0], skip_special_tokens=True)}]
    if name == "t5-base":
        srcs = [f"translate English to French: {s}" for s in ("Hello World! How's it going?", "What's your name?")]
        return [{"input": s, "output": o} for s, o in zip(srcs, t5_generate(model, tokenizer, srcs))]
    prompts = [(lesson.zero_shot if name == "flan-t5-large" else lesson.answer_prompt)(e.premise, e.question)
               for e in lesson.EVAL_SET]
    outs = (t5_generate if name == "flan-t5-large" else phi_generate)(model, tokenizer, prompts)
    return [{"input": p, "output": o} for p, o in zip(prompts, outs)]


def write_card(name: str, folder: Path, stats: dict, scores: dict, samples: list[dict], model) -> None:
    from dli_seq.models import REGISTRY

    spec = REGISTRY[RECIPES[name].replaces]
    params = sum(p.numel() for p in model.parameters())
    size_mb = (folder / "model.safetensors").stat().st_size / 1e6
    lines = [
        f"# Stand-in for `{spec.hub_id}`", "",
        f"A small `{type(model).__name__}` (the same class as the real `{spec.hub_id}`), trained from scratch by",
        f"`python -m dli_seq.standins.train --only {name}` on {spec.trained_on}.",
        "It exists so that the lesson runs with no network; it is not the real model and knows only its synthetic data.",
        "", "| | |", "|---|---|",
        f"| parameters | {params:,} ({size_mb:.1f} MB float16 safetensors) |",
        f"| training | {stats['steps']} steps x batch {stats['batch_size']}, {stats['train_seconds']} s, "
        f"final loss {stats['final_loss']} |",
        f"| seed | {SEED} |", "",
    ]
    if scores:
        lines += ["## Held-out evaluation (inputs never seen in training, greedy, exact match)", "",
                  "| set | n | exact match |", "|---|---|---|"]
        lines += [f"| {k} | {v['n']} | {v['exact_match']:.1%} |" if isinstance(v, dict) else f"| {k} | | {v} |"
                  for k, v in scores.items()]
        lines.append("")
    lines += ["## On the lesson's prompts (greedy)", ""]
    lines += [f"- `{s['input']!r}` -> `{s['output']!r}`" for s in samples]
    lines += ["", "The scores and per-item results are in `eval.json`; `tests/test_standins.py` re-checks a sample."]
    (folder / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "eval.json").write_text(json.dumps({"stats": stats, "scores": scores, "samples": samples},
                                                 indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def build(name: str, out: Path, eval_n: int, steps_scale: float, threads: int, bar_position: int = 0) -> str:
    """Train one stand-in, evaluate what was saved, write its model card; returns a one-line summary."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    BAR_POSITION[0] = bar_position
    RECIPES[name].steps = max(1, int(RECIPES[name].steps * steps_scale))
    stats = train_one(name, out)
    folder = out / name
    cls = AutoModelForSeq2SeqLM if name in ("t5-base", "flan-t5-large") else AutoModelForCausalLM
    model = cls.from_pretrained(folder).eval()  # evaluate exactly what ships
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if name == "gpt2":
        found = gpt2_heldout_stats(model, tokenizer)
        scores = {"held-out next-token accuracy": found["next_token_accuracy"],
                  "held-out perplexity": found["perplexity"]}
    else:
        scores = evaluate(name, model, tokenizer, eval_n)
    write_card(name, folder, stats, scores, lesson_samples(name, model, tokenizer), model)
    summary = {k: (v["exact_match"] if isinstance(v, dict) else v) for k, v in scores.items()}
    return f"{name} ({stats['train_seconds']} s): {json.dumps(summary)}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="gpt2,t5-base,flan-t5-large,phi-1_5",
                        help="comma-separated stand-ins to train")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--eval-n", type=int, default=200, help="held-out items per evaluation set")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="scale the number of steps (quick trials)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="stand-ins trained at once, one CPU thread each (small models train fastest that way)")
    args = parser.parse_args(argv)
    names = args.only.split(",")
    for name in names:
        if name not in RECIPES:
            raise SystemExit(f"unknown stand-in {name!r}; choose from {', '.join(RECIPES)}")
    start = time.perf_counter()
    if args.jobs <= 1:
        summaries = [build(name, args.out, args.eval_n, args.steps_scale, threads=0) for name in names]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(build, name, args.out, args.eval_n, args.steps_scale, 1, i % args.jobs)
                       for i, name in enumerate(names)]
            summaries = [f.result() for f in futures]
    print("\n".join(summaries))
    print(f"all done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
