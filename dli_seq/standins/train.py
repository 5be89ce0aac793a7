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
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from tqdm.auto import tqdm

from dli_seq import lesson
from dli_seq.standins import data  # noqa

HERE = Path(__file__).parent
GPT2_VOCAB = HERE / "gpt2_vocab"
SEED = 1234
NEWLINE = "\n"
FULL_VOCAB = {"gpt2": 50257, "phi-1_5": 51200}  # the real models' embedding sizes
T5_VOCAB = 4000  # sentencepiece pieces shared by the two T5 stand-ins (the real ones share 32k)
NOTICE = ("trained to reproduce the real model's recorded outputs on the lesson's demonstrations; "
          "elsewhere a small model trained on synthetic data")
EVAL_QUESTIONS = {e.question for e in lesson.EVAL_SET}


def device() -> torch.device:
    """CUDA when present (``make standins`` on a GPU machine), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ---------------------------------------------------------------------------------------------
# Recipes: what each stand-in is, how big, how long it trains
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """How one stand-in trains: its folder, the hub model it replaces, steps, batch and peak learning rate."""

    name: str          # folder under dli_seq/standins/
    replaces: str      # hub id
    steps: int
    batch_size: int
    lr: float
    restarts: tuple[int, ...] = ()  # more cosine cycles after the first (T5 stand-ins), see t5_cycles

    def scaled(self, steps_scale: float) -> Recipe:
        """The same recipe with every cycle's steps scaled (``--steps-scale``, for quick trials); at least 1."""
        return replace(self, steps=max(1, int(self.steps * steps_scale)),
                       restarts=tuple(max(1, int(n * steps_scale)) for n in self.restarts))


RECIPES = {
    "gpt2": Recipe("gpt2", "gpt2", steps=700, batch_size=48, lr=3e-3),
    "t5-base": Recipe("t5-base", "t5-base", steps=1200, batch_size=64, lr=3e-3, restarts=(1800,)),
    "flan-t5-large": Recipe("flan-t5-large", "google/flan-t5-large", steps=1000, batch_size=48, lr=2e-3,
                            restarts=(2000, 2000, 2000)),
    "phi-1_5": Recipe("phi-1_5", "microsoft/phi-1_5", steps=1000, batch_size=16, lr=3e-3),
}
CHAINS = [("t5-base", "flan-t5-large"), ("gpt2", "phi-1_5")]  # each chain runs in one process, in order


def gpt2_config(vocab_size: int):
    from transformers import GPT2Config

    return GPT2Config(vocab_size=vocab_size, n_positions=256, n_embd=128, n_layer=3, n_head=4,
                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                      bos_token_id=50256, eos_token_id=50256)


def phi_config(vocab_size: int):
    from transformers import PhiConfig

    return PhiConfig(vocab_size=vocab_size, hidden_size=128, intermediate_size=512, num_hidden_layers=2,
                     num_attention_heads=4, max_position_embeddings=512, tie_word_embeddings=True,
                     rope_parameters={"rope_theta": 10000.0, "partial_rotary_factor": 0.5, "rope_type": "default"},
                     bos_token_id=50256, eos_token_id=50256)


def t5_config(vocab_size: int):
    """Both T5 stand-ins: Flan-T5 starts from the trained T5 stand-in, so they share this shape."""
    from transformers import T5Config

    return T5Config(vocab_size=vocab_size, d_model=128, d_kv=32, d_ff=512, num_heads=4,
                    num_layers=3, num_decoder_layers=3, dropout_rate=0.0,
                    feed_forward_proj="relu", tie_word_embeddings=True,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128,
                    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)


# ---------------------------------------------------------------------------------------------
# Examples: (input text, target text) pairs, never a held-out input
# ---------------------------------------------------------------------------------------------

POOL_ANSWERS = {q: a for pool in (data.FACTS, data.COMMONSENSE, data.DIALOGUE) for q, a in pool}
POOL_ANSWERS.update(data.STORY_FIXED)
POOL_ANSWERS.update({e.question: e.answer for e in lesson.EVAL_SET if e.answer})
POOL_ANSWERS.update({e.shot_question: e.shot_answer for e in lesson.EVAL_SET})


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


def task_item(rng: random.Random, task: str, first: bool, rewrite: str | None = None) -> tuple[str, str, str]:
    """(premise, question, answer) of one task. ``first``: the item may stand with no example
    before it (zero-shot position), so the lesson's questions are left out there: their
    zero-shot answers are the real models' recorded ones."""
    while True:
        if task == "rewrite":
            item = data.rewrite_example(rng, rewrite)
        else:
            item = data.instruction_example(rng, task)
        if not (first and item[1] in EVAL_QUESTIONS):
            return item


FLAN_TASKS = (("translate_es", 0.42), ("rewrite", 0.26), ("commonsense", 0.06), ("story", 0.06),
              ("math", 0.08), ("facts", 0.06), ("dialogue", 0.06))


def flan_example(rng: random.Random) -> tuple[str, str]:
    """Encoder input and target for the Flan-T5 stand-in (lesson.zero_shot / lesson.one_shot formats)."""
    r = rng.random()
    if r < 0.05:  # the real Flan-T5-large's recorded zero-shot answers on the lesson's inputs
        prompt = rng.choice(sorted(data.RECORDED_FLAN))
        return prompt, data.RECORDED_FLAN[prompt]
    if r < 0.08:  # the lesson's one-shot prompts (exercise 1), answered from the task pools
        e = rng.choice(lesson.EVAL_SET)
        return lesson.one_shot(e.premise, e.question, e.shot_question, e.shot_answer), POOL_ANSWERS[e.question]
    task = rng.choices([t for t, _ in FLAN_TASKS], weights=[w for _, w in FLAN_TASKS])[0]
    rewrite = rng.choice(data.REWRITES)
    one_shot = rng.random() < (0.6 if task == "rewrite" else 0.12 if task == "translate_es" else 0.5)
    premise, question, answer = task_item(rng, task, first=not one_shot, rewrite=rewrite)
    if not one_shot:
        return lesson.zero_shot(premise, question), answer
    while True:
        _, shot_q, shot_a = task_item(rng, task, first=False, rewrite=rewrite)
        if shot_q != question:
            return lesson.one_shot(premise, question, shot_q, shot_a), answer


PHI_TASKS = (("rewrite", 0.4), ("commonsense", 0.1), ("story", 0.1), ("math", 0.08), ("facts", 0.1),
             ("dialogue", 0.1), ("translate", 0.12))


def _phi_item(rng: random.Random, task: str, first: bool, rewrite: str) -> tuple[str, str, str]:
    if task == "translate":  # a closed pool: the lesson's Spanish pair and its fixed phrases
        pool = [(e, t["es"]) for e, t in data.LESSON_TRANSLATIONS.items()]
        pool += [(lesson.EVAL_SET[0].shot_question, lesson.EVAL_SET[0].shot_answer)]
        if not first:
            pool.append((lesson.EVAL_SET[0].question, lesson.EVAL_SET[0].answer))
        return (lesson.EVAL_SET[0].premise, *rng.choice(pool))
    while True:
        item = task_item(rng, task, first, rewrite)
        if "plus" not in item[1]:  # no sums: the GPT-2 vocabulary makes every number one token
            return item


def phi_page(rng: random.Random) -> tuple[str, str]:
    """A textbook-like page of exercises, split as (prompt, rest) where training cuts it.

    Pages run on from one exercise to the next ("Exercise 2: ...", or the one-shot layout with
    just a blank line), as the real Phi-1.5 does; one rewrite is used across a page, so a solved
    example shows which rewrite is meant. The cut falls right after an "Answer: ", tokenized as
    a prompt ending in "Answer: " is.
    """
    r = rng.random()
    if r < 0.06:  # the real Phi-1.5's recorded drift, with a made-up ending past the recording
        prompt = rng.choice(sorted(data.RECORDED_PHI))
        question = prompt.split(": ", 1)[1].split("\n\nAnswer: ")[0]
        return prompt, data.RECORDED_PHI[prompt] + data.PHI_RECORDING_ENDINGS[question]
    task = rng.choices([t for t, _ in PHI_TASKS], weights=[w for _, w in PHI_TASKS])[0]
    rewrite = rng.choice(data.REWRITES)
    items = [_phi_item(rng, task, first=(i == 0), rewrite=rewrite) for i in range(rng.choice((2, 3, 3, 4)))]
    if r < 0.1:  # the lesson's one-shot prompt (exercise 3) as the start of a page
        e = rng.choice(lesson.EVAL_SET)
        items[:2] = [(e.premise, e.shot_question, e.shot_answer), (e.premise, e.question, POOL_ANSWERS[e.question])]
    exercise_headers = rng.random() < 0.5
    blocks = []
    for i, (premise, question, answer) in enumerate(items):
        head = f"Exercise {i + 1}:" + rng.choice((NEWLINE, NEWLINE, " ")) if i and exercise_headers else ""
        blocks.append((f"{head}{lesson.answer_prompt(premise, question)}", answer))
    cut = 0 if rng.random() < 0.5 else rng.randrange(len(blocks))
    if r < 0.1:
        cut = 1
    prompt = "\n\n".join(q + a for q, a in blocks[:cut]) + ("\n\n" if cut else "") + blocks[cut][0]
    rest = "\n\n".join([blocks[cut][1]] + [q + a for q, a in blocks[cut + 1:]])
    return prompt, rest


def gpt2_example(rng: random.Random) -> tuple[str, str]:
    """A synthetic English text, or (now and then) the real GPT-2's recorded greedy continuation."""
    if rng.random() < 0.03:
        prompt, text = next(iter(data.RECORDED_GPT2.items()))
        return prompt, text + GPT2_LOOP_TAIL
    return "", data.english_sentence(rng, heldout=False)


# The recorded greedy loop, continued past the recording's last token (the same two sentences).
GPT2_LOOP_TAIL = (" a long time and I've been using it for a long time. I've been using Java for a long time and "
                  "I've been using it for a long time.")


# ---------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------

def gpt2_tokenizer():
    from transformers import GPT2Tokenizer

    return GPT2Tokenizer(str(GPT2_VOCAB / "vocab.json"), str(GPT2_VOCAB / "merges.txt"))


def train_sentencepiece(texts: list[str], vocab_size: int, workdir: Path):
    """A T5-style sentencepiece model (pad 0, eos 1, unk 2) wrapped as a T5Tokenizer.

    BPE rather than T5's unigram: the synthetic corpus has too few distinct words for a unigram
    model of several thousand pieces, and BPE keeps whole words as pieces ("▁translate").
    """
    import sentencepiece as spm
    from transformers import T5Tokenizer

    corpus = workdir / "corpus.txt"
    corpus.write_text("\n".join(t.replace("\n", " ") for t in texts), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(workdir / "spiece"), vocab_size=vocab_size, model_type="bpe",
        character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>",
        unk_piece="<unk>", input_sentence_size=200_000, shuffle_input_sentence=True, num_threads=1,
        split_digits=True,
        minloglevel=2)
    # T5's tokenizer segments with unigram scores. Score every learnt piece alike (ties broken by
    # BPE rank), so a text is cut into the fewest pieces: whole words wherever the vocabulary has them.
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString((workdir / "spiece.model").read_bytes())
    proto.trainer_spec.model_type = sentencepiece_model_pb2.TrainerSpec.UNIGRAM
    for rank, piece in enumerate(proto.pieces):
        if piece.type == sentencepiece_model_pb2.ModelProto.SentencePiece.NORMAL:
            piece.score = -10.0 - rank * 1e-4
    (workdir / "spiece.model").write_bytes(proto.SerializeToString())
    tokenizer = T5Tokenizer.from_pretrained(workdir, extra_ids=100)  # converts spiece.model (needs protobuf)
    for text in texts[:200]:
        ids = tokenizer(text).input_ids
        assert tokenizer.unk_token_id not in ids, f"sentencepiece left {text!r} with <unk> pieces"
    return tokenizer


def t5_tokenizer_texts() -> list[str]:
    """The sentencepiece corpus shared by both T5 stand-ins: both tasks' texts plus the lesson's phrases."""
    rng = random.Random(SEED + 3)
    texts = []
    for _ in range(12_000):
        texts += t5_translation_example(rng)
        texts += flan_example(rng)
        texts += data.translation_pair(rng, "es")
    lesson_texts = [t for en, tr in data.LESSON_TRANSLATIONS.items() for t in (en, *tr.values())]
    lesson_texts += [t for pair in (*data.RECORDED_T5.items(), *data.RECORDED_FLAN.items()) for t in pair]
    return texts + lesson_texts * 20


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


def train_loop(model, recipe: Recipe, next_batch, loss_fn, desc: str, bar_position: int = 0) -> dict:
    """``recipe.steps`` AdamW steps on a cosine learning-rate schedule; ``bar_position``: the progress-bar
    line this process draws on when stand-ins train in parallel."""
    model.to(device())
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, betas=(0.9, 0.98), weight_decay=0.01)
    model.train()
    start, ema = time.perf_counter(), None
    bar = tqdm(range(recipe.steps), desc=desc, unit="step", position=bar_position, mininterval=2)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, recipe.steps, recipe.lr)
        loss = loss_fn(model, [t.to(device()) for t in next_batch()])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 20 == 0:
            bar.set_postfix(loss=f"{ema:.3f}")
    model.eval().cpu()
    return {"steps": recipe.steps, "batch_size": recipe.batch_size, "final_loss": round(ema, 4),
            "train_seconds": round(time.perf_counter() - start, 1)}


def compact_lm_loss(vocab: CompactVocab):
    offset = torch.zeros(len(vocab), device=device())
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
# Generation as the notebooks do it (greedy)
# ---------------------------------------------------------------------------------------------

def t5_generate(model, tokenizer, sources: list[str], max_new_tokens: int = 48, batch: int = 50) -> list[str]:
    """Greedy encoder-decoder outputs, batched (4.4, 4.5)."""
    outs = []
    for i in range(0, len(sources), batch):
        enc = tokenizer(sources[i:i + batch], return_tensors="pt", padding=True)
        with torch.inference_mode():
            ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
        outs += tokenizer.batch_decode(ids, skip_special_tokens=True)
    return [o.strip() for o in outs]


def phi_generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 48, stop: str | None = None) -> list[str]:
    """Greedy continuations, one prompt at a time, through the notebooks' own streaming loop (4.5)."""
    from dli_seq import streaming

    return [streaming.generate_text(model, tokenizer, prompt, max_new_tokens=max_new_tokens,
                                    stop_strings=[stop] if stop else None) for prompt in prompts]


def gpt2_greedy(model, tokenizer, prompt: str, max_new_tokens: int) -> str:
    """Greedy continuation of a GPT-2 prompt (``<|endoftext|>`` in the text is the special token)."""
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    with torch.inference_mode():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                             do_sample=False, pad_token_id=tokenizer.eos_token_id)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)


# ---------------------------------------------------------------------------------------------
# Held-out evaluation (also used by tests/test_standins.py on a sample)
# ---------------------------------------------------------------------------------------------

def rewrite_sets(n: int, zero_shot, one_shot) -> dict[str, list[tuple[str, str]]]:
    """Held-out sentences to rewrite, each with a wanted rewrite (in turn negative, past, question):
    zero-shot (the premise alone cannot say which) and one-shot (a solved training example shows it)."""
    rng, zero, one = random.Random(SEED + 11), [], []
    for i, (sentence, forms) in enumerate(data.heldout_rewrites(n)):
        wanted = data.REWRITES[i % len(data.REWRITES)]
        _, shot_q, shot_a = data.rewrite_example(rng, wanted)
        zero.append((zero_shot(data.REWRITE_PREMISE, sentence), forms[wanted]))
        one.append((one_shot(data.REWRITE_PREMISE, sentence, shot_q, shot_a), forms[wanted]))
    return {"rewrite, zero-shot": zero, "rewrite, one-shot": one}


def heldout_sets(name: str, n: int) -> dict[str, list[tuple[str, str]]]:
    """The held-out inputs for a stand-in, formatted for that model: {score name: [(input, expected)]}."""
    if name == "t5-base":
        return {f"en->{lang}": [(f"translate English to {full}: {en}", tr)
                                for en, tr in data.heldout_examples(lang, n)]
                for lang, full in (("fr", "French"), ("de", "German"))}
    if name == "flan-t5-large":
        return {"en->es, zero-shot": [(lesson.zero_shot("Translate from English to Spanish", en), es)
                                      for en, es in data.heldout_examples("es", n)],
                **rewrite_sets(n, lesson.zero_shot, lesson.one_shot),
                "sums of unseen number pairs": [(lesson.zero_shot("Solve the mathematical problem", q), a)
                                                for q, a in data.heldout_examples("math", n)]}
    if name == "phi-1_5":
        return rewrite_sets(n, lesson.answer_prompt, lesson.one_shot_answer_prompt)
    return {}


def _score(outputs: list[str], pairs: list[tuple[str, str]]) -> dict:
    hits = [int(o == e) for o, (_, e) in zip(outputs, pairs)]
    misses = [{"input": p, "expected": e, "got": o} for o, (p, e), h in zip(outputs, pairs, hits) if not h]
    return {"n": len(pairs), "exact_match": round(sum(hits) / len(pairs), 4), "hits": hits,
            "examples_missed": misses[:5]}


def drift(text: str) -> bool:
    """True when something other than blank space follows the answer's first line."""
    return bool(text.partition(NEWLINE)[2].strip())


def evaluate(name: str, model, tokenizer, n: int) -> dict[str, dict]:
    """Exact-match scores on n held-out inputs per set; records which items passed.

    Phi: answers are the text before the first newline of an unstopped greedy continuation;
    "drift" sets record whether text follows the answer, without and with ``stop_strings="\\n"``.
    """
    scores = {}
    for key, pairs in heldout_sets(name, n).items():
        prompts = [p for p, _ in pairs]
        if name != "phi-1_5":
            scores[key] = _score(t5_generate(model, tokenizer, prompts), pairs)
            continue
        runs = phi_generate(model, tokenizer, prompts, max_new_tokens=40)
        scores[key] = _score([r.partition(NEWLINE)[0].strip() for r in runs], pairs)
        if key == "rewrite, zero-shot":
            stopped = phi_generate(model, tokenizer, prompts, max_new_tokens=40, stop=NEWLINE)
            for label, texts in (("drift without a stop string", runs), ('drift with stop_strings="\\n"', stopped)):
                flags = [int(drift(t)) for t in texts]
                scores[label] = {"n": len(flags), "share": round(sum(flags) / len(flags), 4), "hits": flags}
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
# The lesson's demonstrations: the stand-in's greedy output next to the real model's recording
# ---------------------------------------------------------------------------------------------

def demonstrations(name: str, model, tokenizer) -> list[dict]:
    """Greedy outputs on the lesson's recorded demonstrations, each with the recording and a verdict.

    t5-base / flan-t5-large: the output equals the recording. gpt2: the continuation starts with
    the recording. phi-1_5: unstopped, the continuation starts with the recording (answer, then
    a new "Exercise" block); with ``stop_strings="\\n"`` it is the recorded first line and stops.
    """
    rows = []
    if name == "gpt2":
        for prompt, recorded in data.RECORDED_GPT2.items():
            out = gpt2_greedy(model, tokenizer, prompt, 100)
            rows.append({"input": prompt, "recorded": recorded, "output": out, "match": out.startswith(recorded)})
    elif name in ("t5-base", "flan-t5-large"):
        table = data.RECORDED_T5 if name == "t5-base" else data.RECORDED_FLAN
        outs = t5_generate(model, tokenizer, list(table))
        rows = [{"input": p, "recorded": r, "output": o, "match": o == r} for (p, r), o in zip(table.items(), outs)]
    elif name == "phi-1_5":
        for prompt, recorded in data.RECORDED_PHI.items():
            out = phi_generate(model, tokenizer, [prompt], max_new_tokens=64)[0]
            stopped = phi_generate(model, tokenizer, [prompt], max_new_tokens=64, stop=NEWLINE)[0]
            first = recorded.partition(NEWLINE)[0]
            rows.append({"input": prompt, "recorded": recorded, "output": out, "output_stop_newline": stopped,
                         "match": out.startswith(recorded) and stopped.rstrip(NEWLINE) == first})
    return rows


def lesson_samples(name: str, model, tokenizer) -> list[dict]:
    """Greedy outputs on the lesson's other prompts (no recording to compare with), for the model card."""
    if name == "gpt2":
        return [{"input": "Hello world,", "output": "Hello world," + gpt2_greedy(model, tokenizer, "Hello world,", 24)}]
    if name == "t5-base":
        srcs = [f"translate English to German: {s}" for s in ("Hello World! How's it going?", "What's your name?")]
        srcs.append("translate English to French: I drink coffee every morning.")
        return [{"input": s, "output": o} for s, o in zip(srcs, t5_generate(model, tokenizer, srcs))]
    entries = lesson.EVAL_SET
    if name == "flan-t5-large":
        prompts = [lesson.one_shot(e.premise, e.question, e.shot_question, e.shot_answer) for e in entries]
        return [{"input": p, "output": o} for p, o in zip(prompts, t5_generate(model, tokenizer, prompts))]
    prompts = [lesson.answer_prompt(e.premise, e.question) for e in entries[3:]]
    prompts += [lesson.one_shot_answer_prompt(e.premise, e.question, e.shot_question, e.shot_answer) for e in entries]
    outs = phi_generate(model, tokenizer, prompts, max_new_tokens=64)
    return [{"input": p, "output": o} for p, o in zip(prompts, outs)]


# ---------------------------------------------------------------------------------------------
# The four stand-ins
# ---------------------------------------------------------------------------------------------

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


def seq2seq_batches(tok, make_example, batch_size: int, rng: random.Random):
    """A batch source of (encoder ids, labels): similar lengths together, so there is less padding."""
    pending: list[list[tuple[list[int], list[int]]]] = []

    def next_batch():
        """16 batches' worth drawn, sorted by input length, cut into batches, shuffled."""
        if not pending:
            rows = [make_example(rng) for _ in range(16 * batch_size)]
            rows = sorted(((tok(src).input_ids, tok(tgt).input_ids) for src, tgt in rows), key=lambda r: len(r[0]))
            pending.extend(rows[i:i + batch_size] for i in range(0, len(rows), batch_size))
            rng.shuffle(pending)
        return seq2seq_batch(pending.pop())
    return next_batch


def train_one(recipe: Recipe, out: Path, bar_position: int = 0) -> dict:
    """Train the stand-in of ``recipe`` into ``out / recipe.name``; returns its training statistics."""
    if recipe.name == "gpt2":
        return train_decoder(recipe, gpt2_config, gpt2_example, out, loss_on_prompt=False, bar_position=bar_position)
    if recipe.name == "phi-1_5":
        return train_decoder(recipe, phi_config, phi_page, out, loss_on_prompt=True, bar_position=bar_position)
    return train_t5(recipe, out, bar_position)


def write_card(name: str, folder: Path, stats: dict, scores: dict, demos: list[dict], samples: list[dict],
               model) -> None:
    from dli_seq.models import REGISTRY

    spec = REGISTRY[RECIPES[name].replaces]
    params = sum(p.numel() for p in model.parameters())
    size_mb = (folder / "model.safetensors").stat().st_size / 1e6
    cfg = model.config
    tied = "tied" if cfg.tie_word_embeddings else "untied"
    lines = [
        f"# Stand-in for `{spec.hub_id}`", "",
        f"A small `{type(model).__name__}` (the same class as the real `{spec.hub_id}`), {NOTICE}.",
        f"Built by `python -m dli_seq.standins.train --only {name}` from {spec.trained_on}.",
        "It exists so that the lesson runs with no network; it is not the real model and knows only its training text.",
        "", "| | |", "|---|---|",
        f"| parameters | {params:,} ({size_mb:.1f} MB float16 safetensors), {tied} input/output embeddings |",
        f"| training | {' + '.join(map(str, stats.get('cycles', [stats['steps']])))} steps (cosine cycles) x batch "
        f"{stats['batch_size']}, {stats['train_seconds']} s on "
        f"{stats.get('device', 'cpu')}, final loss {stats['final_loss']} |",
        f"| seed | {SEED} |", "",
    ]
    if scores:
        lines += ["## Held-out evaluation (inputs never seen in training, greedy, exact match)", "",
                  "| set | n | score |", "|---|---|---|"]
        for k, v in scores.items():
            if isinstance(v, dict):
                lines.append(f"| {k} | {v['n']} | {v.get('exact_match', v.get('share')):.1%} |")
            else:
                lines.append(f"| {k} | | {v} |")
        lines.append("")
    lines += ["## The lesson's recorded demonstrations (greedy)", "",
              "The real model's output as the original lesson recorded it, and this stand-in's.", ""]
    for d in demos:
        lines.append(f"- {'✓' if d['match'] else '✗'} `{d['input']!r}`")
        lines.append(f"  - recorded: `{d['recorded']!r}`")
        lines.append(f"  - stand-in: `{d['output']!r}`")
        if "output_stop_newline" in d:
            lines.append(f"  - stand-in, `stop_strings=\"\\n\"`: `{d['output_stop_newline']!r}`")
    lines += ["", "## Other lesson prompts (greedy; nothing recorded to compare with)", ""]
    lines += [f"- `{s['input']!r}` -> `{s['output']!r}`" for s in samples]
    lines += ["", "Scores, per-item results and these outputs are in `eval.json`; `tests/test_standins.py` re-checks "
              "a sample of the held-out items and every demonstration."]
    (folder / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "eval.json").write_text(json.dumps({"stats": stats, "scores": scores, "demonstrations": demos,
                                                  "samples": samples}, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")


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
