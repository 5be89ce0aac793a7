"""The stand-ins' evaluation: greedy generation as the notebooks do it (4.2, 4.4, 4.5), held-out
exact-match scores, and the lesson's recorded demonstrations next to the stand-in's output.

Also used by ``tests/test_standins.py`` on a sample.
"""

from __future__ import annotations

import math
import random

import torch

from dli_seq import lesson
from dli_seq.standins import data

from .examples import NEWLINE
from .recipes import SEED

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
