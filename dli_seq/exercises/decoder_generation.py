"""Exercise checks of section 4.2 (notebook 04-2, decoder generation with GPT-2): predict what
``temperature=0.5, top_k=3`` does (exercise 1, :func:`check_sampling_prediction`), top-k
sampling in the manual loop (exercise 2, :func:`check_pick_next`), and the KV cache after a
long prompt (exercise 3, :func:`check_long_prompt`)."""

from __future__ import annotations

import torch

from .. import decoding, inputs, streaming
from .harness import Outcome, Problem, as_int, call_learner, check, missing_value, short

SECTION = "4.2"  # the section of these checks: with a check's name, its id in the progress file


def next_distributions(model, tokenizer, prompt: str, *settings: dict):
    """(tokens left, top probability) of the next-token distribution under each settings dict (4.2, one forward)."""
    prompt_ids = tokenizer(prompt, return_tensors="pt").input_ids.to(model.device)
    with torch.inference_mode():
        logits = model(prompt_ids).logits[:, -1].float()
    result = []
    for options in settings:
        scores = streaming.make_processors(**options)(prompt_ids, logits.clone())[0]
        result.append((int(torch.isfinite(scores).sum()), float(torch.softmax(scores, dim=-1).max())))
    return result


@check("练习 1 检查：temperature=0.5 加 top_k=3",
       success="预测正确。")
def check_sampling_prediction(outcome: Outcome, tokens_left, top_prob_larger, model, tokenizer, prompt: str = "Hello world,") -> None:
    """Exercise 1 (4.2): the learner predicts, for ``temperature=0.5, top_k=3`` after ``prompt``,
    how many tokens are left and whether the top probability is larger than unchanged.

    The true values are computed on the model passed in, with the lesson's logits processors.
    """
    if tokens_left is None or top_prob_larger is None:
        raise Problem(missing_value("my_tokens_left 或 my_top_prob_larger"))
    predicted_left = as_int(tokens_left)
    if predicted_left is None:
        raise Problem(f"my_tokens_left 应该是一个整数，现在是 {short(tokens_left)}。")
    if not isinstance(top_prob_larger, bool):
        raise Problem("my_top_prob_larger 应该是 True 或 False。")
    (left, best), (_, best_before) = next_distributions(model, tokenizer, prompt,
                                                         dict(temperature=0.5, top_k=3), {})
    outcome.info(f"实际：剩下 {left} 个 token；最可能的 token 概率 {best_before:.3f} → {best:.3f}")
    if predicted_left == left:
        outcome.ok(f"剩下 {left} 个 token：温度不删除 token，top_k=3 只留下 3 个。")
    else:
        outcome.fail(f"你预测剩下 {tokens_left} 个，实际是 {left} 个：温度只缩放分数、不删除 token；"
                     "top_k=3 把其余 token 的分数设成 -inf。")
    if top_prob_larger == (best > best_before):
        outcome.ok("最可能的 token 的概率变大了：温度 0.5 让分布更尖，截到前 3 个再归一化又集中一次。")
    else:
        outcome.fail("最可能的 token 的概率其实变大了：温度小于 1 让分布更尖，去掉长尾后重新归一化，"
                     "剩下的概率又集中到前几个 token 上。")


# ---------------------------------------------------------------------------------------------
# Exercise 2: top-k sampling in the manual loop
# ---------------------------------------------------------------------------------------------

VOCAB = 1000
TOP_IDS = [917, 403, 58, 761, 230]   # the five best ids: none of them below 5, unlike positions 0..k-1
TOP_LOGITS = [3.0, 2.0, 1.0, 0.5, 0.0]


def made_up_logits() -> torch.Tensor:
    """Scores over :data:`VOCAB` ids whose five best ids are :data:`TOP_IDS` (4.2 exercise 2)."""
    logits = torch.full((VOCAB,), -3.0) + 0.3 * torch.randn(VOCAB, generator=torch.Generator().manual_seed(7))
    logits[TOP_IDS] = torch.tensor(TOP_LOGITS)
    return logits


def draw_tokens(pick_next, k: int, n: int, seed: int) -> list[int]:
    """``n`` draws of the learner's ``pick_next`` on :func:`made_up_logits`, seeded (4.2 exercise 2)."""
    rng = torch.Generator().manual_seed(seed)
    logits = made_up_logits()
    out = []
    for _ in range(n):
        returned = pick_next(logits.clone(), k=k, generator=rng)
        token = as_int(returned)
        if token is None:
            raise Problem(f"pick_next 应该返回一个整数 token id（用 int(...)），现在返回的是 {type(returned).__name__}。")
        out.append(token)
    return out


@check("练习 2 检查：top-k 采样",
       success="pick_next 是正确的 top-k 采样。")
def check_pick_next(outcome: Outcome, pick_next) -> None:
    """Exercise 2 (4.2): ``pick_next(last_logits, k=5, generator=None)`` samples among the k best.

    Checked on made-up scores over 1000 ids whose five best ids are known: every draw must be
    one of the k best vocabulary ids (not a position 0..k-1), draws must vary, follow the
    softmax over the k best scores, honour ``k`` and the ``generator`` (same seed, same draws).
    """
    n_draws = 1000

    if not callable(pick_next):
        raise Problem("第一个参数应该是你写的函数 pick_next。")
    draws = call_learner(draw_tokens, pick_next, 5, n_draws, 0, what="pick_next ")
    top = set(TOP_IDS)
    if all(0 <= t < 5 for t in draws) and not top & set(draws):
        raise Problem("返回的是 top-k 里的位置（0…k-1），不是词表里的 token id：用 torch.topk 得到的 "
                      ".indices 把抽到的位置换回 token id。")
    outside = sorted(set(draws) - top)
    if outside:
        raise Problem(f"抽到了不在前 k 个里的 token（例如 {outside[0]}）：只在 torch.topk 选出的 k 个分数上做 "
                      "softmax，再从这 k 个里抽。")
    if len(set(draws)) == 1:
        raise Problem("每次都返回同一个 token：这还是贪心选择。用 torch.multinomial 按概率抽一个。")
    outcome.ok("抽到的都是分数最高的 5 个 token 之一，而且不总是同一个。")
    weights = torch.softmax(torch.tensor(TOP_LOGITS), dim=-1)
    expected = {t: float(w) for t, w in zip(TOP_IDS, weights)}
    distance = 0.5 * sum(abs(draws.count(t) / n_draws - p) for t, p in expected.items())
    if distance > 0.08:
        seen = ", ".join(f"{draws.count(t) / n_draws:.2f}" for t in TOP_IDS)
        want = ", ".join(f"{p:.2f}" for p in expected.values())
        raise Problem(f"抽样频率 [{seen}] 和 softmax 概率 [{want}] 差得太多：按 softmax(前 k 个分数) 的概率抽，"
                      "而不是每个候选机会均等。")
    outcome.ok("抽样频率符合前 k 个分数的 softmax 概率。")
    if call_learner(draw_tokens, pick_next, 5, 50, 1, what="pick_next ") != call_learner(
            draw_tokens, pick_next, 5, 50, 1, what="pick_next "):
        raise Problem("同一个种子两次抽样的结果不同：把 generator 传给 torch.multinomial(..., generator=generator)。")
    outcome.ok("同一个随机种子给出同样的结果（用上了 generator）。")
    if set(call_learner(draw_tokens, pick_next, 1, 20, 2, what="pick_next ")) != {TOP_IDS[0]}:
        raise Problem("k=1 时应该总是选分数最高的 token：用参数 k，不要把 5 写死。")
    if not set(call_learner(draw_tokens, pick_next, 3, 200, 3, what="pick_next ")) <= set(TOP_IDS[:3]):
        raise Problem("k=3 时抽到了前 3 名以外的 token：用参数 k，不要把 5 写死。")
    outcome.ok("参数 k 起作用：k=1 就是贪心，k=3 只在前 3 名里抽。")


# ---------------------------------------------------------------------------------------------
# Exercise 3: a long prompt, the cache after prefill and per step
# ---------------------------------------------------------------------------------------------

MIN_LONG_PROMPT_TOKENS = 100


@check("练习 3 检查：长提示词与 KV 缓存",
       success="预测正确。再看看计时图：第一个点为什么高？")
def check_long_prompt(outcome: Outcome, long_prompt, cache_after_prefill, growth_per_step, model, tokenizer) -> None:
    """Exercise 3 (4.2): a prompt of at least 100 tokens, and the learner's prediction of the
    cache length after prefill and its growth per decode step, checked with ``decoding.prefill``.
    """


    if not isinstance(long_prompt, str) or not long_prompt.strip():
        raise Problem("long_prompt 应该是一段英文文字（字符串）。")
    if cache_after_prefill is None or growth_per_step is None:
        raise Problem(missing_value("my_cache_after_prefill 或 my_growth_per_step"))
    ids = inputs.prompt_ids(model, tokenizer, long_prompt)  # no transformers warning for a long text
    if len(ids) < MIN_LONG_PROMPT_TOKENS:
        raise Problem(f"long_prompt 只有 {len(ids)} 个 token：换一段至少 {MIN_LONG_PROMPT_TOKENS} 个 token"
                      "（大约 80 个英文单词以上）的文字。")
    try:
        inputs.check_budget(model, len(ids), 2)  # prefill, then one decode step
    except ValueError:
        raise Problem(f"long_prompt 有 {len(ids)} 个 token，加上再写一个 token 就超过了模型能读的 "
                      f"{inputs.decoder_limit(model)} 个位置：缩短一些。") from None
    outcome.ok(f"提示词有 {len(ids)} 个 token。")
    state = decoding.prefill(model, ids)
    after = state.cache_length
    decoding.decode_step(state, int(state.logits.argmax()))
    growth = state.cache_length - after
    if as_int(cache_after_prefill) == after:
        outcome.ok(f"prefill 之后缓存里有 {after} 个位置：提示词的每个 token 一个。")
    else:
        outcome.fail(f"你预测 prefill 之后缓存里有 {cache_after_prefill} 个位置，实际是 {after} 个："
                     "prefill 一次读入整个提示词，每个 token 的键和值都进缓存。")
    if as_int(growth_per_step) == growth:
        outcome.ok(f"之后每步只多 {growth} 个位置。")
    else:
        outcome.fail(f"你预测每步增加 {growth_per_step} 个位置，实际是 {growth} 个：解码阶段每步只送入一个新 token。")


