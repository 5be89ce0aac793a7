"""Batches, the training loop and the float16 export of the stand-ins (4.2, 4.4, 4.5)."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .recipes import Recipe
from .vocab import CompactVocab

def device() -> torch.device:
    """CUDA when present (``make standins`` on a GPU machine), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pad(rows: list[list[int]], value: int) -> torch.Tensor:
    """Rows of ids padded with ``value`` to the longest, as one tensor."""
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
    """(encoder ids, attention mask, labels) of T5 rows; padded labels are -100 (no loss)."""
    x = pad([r[0] for r in rows], 0)
    y = pad([r[1] for r in rows], -100)
    return x, (x != 0).long(), y


def lr_at(step: int, total: int, peak: float, warmup: int = 100) -> float:
    """Learning rate at ``step``: linear warm-up, then a cosine down to 5% of ``peak``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def optimizer(model, recipe: Recipe):
    """AdamW (GPT-2, Phi), or Adafactor for the T5 stand-ins, as T5 itself was trained: its steps are
    relative to each weight's size. T5's weights start at very different sizes (embeddings about 1,
    attention queries about 0.016, since they absorb attention's 1/sqrt(d) scaling); AdamW's steps
    are the same size for all of them. With Adafactor the T5 stand-ins learn several times faster."""
    if recipe.optimizer == "adafactor":
        from transformers.optimization import Adafactor

        return Adafactor(model.parameters(), lr=recipe.lr, scale_parameter=True, relative_step=False,
                         warmup_init=False, beta1=0.9)
    return torch.optim.AdamW(model.parameters(), lr=recipe.lr, betas=(0.9, 0.98), weight_decay=0.01)


def train_loop(model, recipe: Recipe, next_batch, loss_fn, desc: str, bar_position: int = 0) -> dict:
    """``recipe.steps`` steps of :func:`optimizer` on a cosine learning-rate schedule; ``bar_position``:
    the progress-bar line this process draws on when stand-ins train in parallel."""
    model.to(device())
    opt = optimizer(model, recipe)
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
    """The causal-LM loss of a compact-vocabulary model: OTHER's logit gets + log(number of other tokens)."""
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
    """The encoder-decoder model's own cross-entropy on one batch."""
    x, mask, y = batch
    return model(input_ids=x, attention_mask=mask, labels=y).loss


def save_fp16(model, folder: Path, **config_fields) -> None:
    """save_pretrained in float16, but with config.json saying float32 (so plain loading gives float32),
    and ``config_fields`` written into config.json as given (T5's ``tie_word_embeddings``, which
    transformers 5 always saves as true and reads as "scale the decoder output")."""
    model.half().save_pretrained(folder, safe_serialization=True)
    model.float()
    cfg_path = folder / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.update(config_fields, dtype="float32")
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
