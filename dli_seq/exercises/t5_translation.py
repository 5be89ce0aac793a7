"""Exercise check of section 4.4 (notebook 04-4, translation with T5): the learner's own
encoder-decoder loop, compared with ``generate()`` (exercise 1, :func:`check_encoder_decoder_loop`)."""

from __future__ import annotations

import sys

import torch

from .. import decoding
from .harness import Outcome, Problem, as_int_list, call_learner, check, short

SECTION = "4.4"  # the section of these checks: with a check's name, its id in the progress file

LOOP_TIME_LIMIT_S = 120.0  # a learner's whole generation loop for one sentence
T5_TASK_PREFIX = "translate English to French: "
LOOP_SENTENCES = ("Hello World! How's it going?", "What's your name?", "I drink coffee every morning.")
LIBRARY_LOOPS = {"transformers/generation/": "model.generate()", "dli_seq/decoding.py": "dli_seq.decoding",
                 "dli_seq/streaming.py": "dli_seq.streaming", "dli_seq/fastpath.py": "dli_seq.fastpath"}


class CallCounter:
    """Forward hooks on the encoder and decoder: how often each ran, how many decoder tokens per
    call, and whether a library generation loop (generate(), dli_seq.decoding) did the work."""

    def __init__(self, model):
        self.model, self.encoder_calls, self.decoder_lengths, self.library = model, 0, [], None
        self.handles = []

    def _on_encoder(self, module, args, kwargs):
        self.encoder_calls += 1

    def _on_decoder(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None and kwargs.get("inputs_embeds") is not None:
            ids = kwargs["inputs_embeds"]
        self.decoder_lengths.append(int(ids.shape[1]) if ids is not None and ids.dim() > 1 else 0)
        frame = sys._getframe(1)
        while frame is not None and self.library is None:
            where = frame.f_code.co_filename.replace("\\", "/")
            for part, name in LIBRARY_LOOPS.items():
                if part in where:
                    self.library = name
            frame = frame.f_back

    def __enter__(self):
        self.handles = [self.model.get_encoder().register_forward_pre_hook(self._on_encoder, with_kwargs=True),
                        self.model.get_decoder().register_forward_pre_hook(self._on_decoder, with_kwargs=True)]
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def as_id_list(result) -> list[int]:
    """The learner's returned token ids as a list of ints (lists, tensors, numpy arrays), else a Problem (4.4)."""
    if result is None:
        raise Problem("函数返回了 None：用 return 返回生成的 token id 列表。")
    if isinstance(result, str):
        raise Problem("返回的是文字；这里要返回生成的 token id 列表（文字可以自己用 tokenizer.decode 看）。")
    shape = tuple(getattr(result, "shape", ()))
    if len(shape) == 2 and shape[0] == 1:
        result = result[0]
    elif hasattr(result, "shape") and len(shape) != 1:
        raise Problem(f"返回的张量形状是 {shape}，应该是一维的 token id 列表。")
    ids = as_int_list(result)
    if ids is None:
        raise Problem(f"返回值应该是 token id（整数）的列表，现在是 {short(result)}。")
    return ids


def reference_ids(model, encoder_ids, max_new_tokens: int) -> list[int]:
    """What greedy ``model.generate()`` gives, without the start token: the answer to compare with (4.4)."""
    with torch.inference_mode():
        out = model.generate(input_ids=encoder_ids, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
    return out[0].tolist()[1:]  # without the start token


@check("练习 1 检查：自己写编码器-解码器的生成循环",
       success="编码器只运行一次，解码器每步一个 token，结果和 generate() 完全相同。")
def check_encoder_decoder_loop(outcome: Outcome, fn, model, tokenizer, sentences=LOOP_SENTENCES, max_new_tokens: int = 40,
                               prefix: str = T5_TASK_PREFIX) -> None:
    """Exercise 1 (4.4): ``fn(model, tokenizer, text, max_new_tokens)`` translates ``text`` greedily
    with its own loop and returns the new token ids (``</s>`` included, the start token not).

    Passes when, for each sentence, the encoder ran exactly once, the decoder got ONE token per
    call after the first (the KV cache did the rest), no library loop (``generate()``,
    ``dli_seq.decoding``) ran, and the ids equal ``model.generate(..., do_sample=False)``.
    """
    if not callable(fn):
        raise Problem("第一个参数应该是你写的函数。")
    config = getattr(model, "config", None)
    if config is None or not getattr(config, "is_encoder_decoder", False):
        raise Problem("第二个参数应该是编码器-解码器模型（例如 t5_model）。")
    start, eos = decoding.decoder_start_id(model), tokenizer.eos_token_id
    for sentence in sentences:
        text = prefix + sentence
        with CallCounter(model) as calls:
            result = call_learner(fn, model, tokenizer, text, max_new_tokens, limit=LOOP_TIME_LIMIT_S, what="你的循环")
        if calls.library:
            raise Problem(f"你的函数用了库里现成的生成循环（{calls.library}）：这个练习要你自己写循环，"
                          "直接调用 model.get_encoder() 和 model(...)。")
        ids = as_id_list(result)
        if ids[:1] == [start]:
            ids = ids[1:]
        if calls.encoder_calls != 1:
            raise Problem(f"编码器运行了 {calls.encoder_calls} 次：它只需要在循环开始之前运行一次，"
                          "之后把它的输出（encoder_outputs）交给每一步的解码器。")
        if not calls.decoder_lengths:
            raise Problem("解码器一次也没有运行：每一步都要调用 model(...)（或 model.decoder）算出下一个 token 的分数。")
        later = [n for n in calls.decoder_lengths[1:] if n != 1]
        if later:
            raise Problem(f"第 2 步以后解码器一次收到了 {later[0]} 个 token：没有用上 KV 缓存。每一步只送入"
                          "新的那一个 token，并把上一步返回的 cache 传回去。")
        encoder_ids = tokenizer(text, return_tensors="pt").input_ids.to(model.device)
        reference = reference_ids(model, encoder_ids, max_new_tokens)
        if ids == reference:
            outcome.ok(f"{sentence!r} → {tokenizer.decode(ids, skip_special_tokens=True)!r}"
                       f"（{len(ids)} 个 token，编码器 1 次，解码器 {len(calls.decoder_lengths)} 次，与 generate() 相同）")
            continue
        if len(ids) > max_new_tokens:
            raise Problem(f"生成了 {len(ids)} 个 token，超过了 max_new_tokens={max_new_tokens}。")
        if ids[: len(reference)] == reference and reference and reference[-1] == eos:
            raise Problem("生成 </s> 以后还在继续：遇到 tokenizer.eos_token_id 就停下（</s> 本身留在结果里）。")
        if ids == reference[:-1] and reference[-1] == eos:
            raise Problem("结果里少了最后的 </s>：把它也放进列表，再停下。")
        first = next((i for i, (a, b) in enumerate(zip(ids, reference)) if a != b), min(len(ids), len(reference)))
        if first == 0:
            raise Problem("第一个 token 就和 generate() 不同：解码器要从 decoder_start_token_id（T5 是 <pad>，id 0）"
                          "开始，每步选 logits 最大的 token（贪心）。")
        raise Problem(f"前 {first} 个 token 相同，第 {first + 1} 个不同（{tokenizer.decode(ids[first:first + 1])!r}，"
                      f"generate() 给出 {tokenizer.decode(reference[first:first + 1])!r}）：每步用最后一个位置的 logits，"
                       "并把选中的 token 接在后面。")


