"""Exercise checks of section 4.3 (notebook 04-3, encoders and decoders): the shape of the
cross-attention weights (exercise 1, :func:`check_cross_attention_shape`), a question on the
decoder's causal mask (exercise 2, :func:`check_causal_mask_quiz`) and the shape of the product
with queries and keys swapped (exercise 3, :func:`check_swapped_shape`)."""

from __future__ import annotations

import torch

from .. import decoding, models
from .harness import Outcome, Problem, as_int, check, missing_value, short

SECTION = "4.3"  # the section of these checks: with a check's name, its id in the progress file


def cross_shape(model, tokenizer, source: str, prefix: str) -> tuple[int, ...]:
    """Measured (batch, heads, n, m) of layer 0's cross-attention weights (4.3; eager attention, put back after)."""
    encoder_ids = tokenizer(source, return_tensors="pt").input_ids.to(model.device)
    prefix_ids = tokenizer(prefix, add_special_tokens=False).input_ids
    decoder_ids = torch.tensor([[decoding.decoder_start_id(model)] + prefix_ids], device=model.device)
    with models.eager_attention(model), torch.inference_mode():
        out = model(input_ids=encoder_ids, decoder_input_ids=decoder_ids, output_attentions=True)
    return tuple(out.cross_attentions[0].shape)


def shape_of(prediction, name: str) -> tuple[int, ...]:
    """The learner's predicted shape as 4 ints (numpy and tensor integers accepted), else a Problem (4.3)."""
    if prediction is None:
        raise Problem(missing_value(name))
    sizes = [as_int(x) for x in prediction] if isinstance(prediction, (tuple, list, torch.Size)) else []
    if len(sizes) != 4 or None in sizes:
        raise Problem(f"{name} 应该是 4 个整数组成的元组 (batch, heads, 行数, 列数)，现在是 {short(prediction)}。")
    return tuple(sizes)


def shape_hints(got, want, rows: tuple[str, str], cols: tuple[str, str]) -> str:
    """Chinese hint for a predicted (batch, heads, rows, cols) that differs from ``want`` (4.3).

    ``rows``/``cols`` are (symbol, what it counts), e.g. ("n", "解码器位置").
    """
    batch, heads, r, c = want
    if got == (batch, heads, c, r):
        return f"行和列反了：行是查询（{rows[1]}，{rows[0]} 个），列是键（{cols[1]}，{cols[0]} 个）。"
    if got[0] != batch:
        return f"batch 是 {batch}：一次只送入了一句话。"
    if got[1] != heads:
        return f"heads 是 {heads}：看 config.num_heads，每个头各有一个注意力矩阵。"
    hints = []
    for value, true, (symbol, _) in ((got[2], r, rows), (got[3], c, cols)):
        if value == true:
            continue
        if value == true - 1 and symbol == "m":
            hints.append("m 少了 1：分词器在源句末尾自动加了 </s>，它也是一个 token。")
        elif value == true - 1:
            hints.append("n 少了 1：解码器从起始 token <pad> 开始，它也占一个位置。")
        else:
            hints.append(f"{symbol} 应该是 {true}，不是 {value}：用 tokenizer.tokenize(...) 数一数 token。")
    return "".join(hints)


@check("练习 1 检查：交叉注意力的形状",
       success="n 数的是解码器位置（含 <pad>），m 数的是源句 token（含 </s>）。")
def check_cross_attention_shape(outcome: Outcome, prediction, model, tokenizer, source: str, prefix: str) -> None:
    """Exercise 1 (4.3): the learner's predicted (batch, heads, n, m) of the cross-attention
    weights for ``source`` and decoder prefix ``prefix``, against the model's own output.
    """
    got = shape_of(prediction, "my_prediction")
    measured = cross_shape(model, tokenizer, source, prefix)
    if got == measured:
        outcome.ok(f"预测 {got} 与模型输出的交叉注意力形状一致。")
        return
    outcome.fail(f"你预测 {got}，模型给出的是 {measured}。"
                 + shape_hints(got, measured, ("n", "解码器位置"), ("m", "源句 token")))


@check("练习 3 检查：对调 Q 和 K 的来源",
       success="这个矩阵给每个源 token 一行，对生成下一个 token 没有用。")
def check_swapped_shape(outcome: Outcome, prediction, model, tokenizer, source: str, prefix: str) -> None:
    """Exercise 3 (4.3): the shape of softmax(QK^T) when queries come from the encoder and keys
    from the decoder: (batch, heads, m, n), with n and m measured on the model."""
    got = shape_of(prediction, "my_swapped_shape")
    batch, heads, n, m = cross_shape(model, tokenizer, source, prefix)
    want = (batch, heads, m, n)
    if got == want:
        outcome.ok(f"{got}：每个源 token（m 个）一行，对 n 个解码器位置做 softmax。")
        return
    if got == (batch, heads, n, m) and n != m:
        outcome.fail(f"{got} 是原来的形状。对调以后查询来自编码器（m 个）、键来自解码器（n 个），行和列都换了。")
        return
    outcome.fail(f"你预测 {got}，应该是 {want}。"
                 + shape_hints(got, want, ("m", "源句 token"), ("n", "解码器位置")))


CAUSAL_MASK_QUIZ = {
    "A": (True, "对：没有掩码，位置 t 直接看得到要预测的第 t+1 个 token，模型学会“抄答案”；生成时后面的 token "
                "还不存在，没有可抄的东西。"),
    "B": (False, "不对：有没有掩码，注意力矩阵都是 n × n，形状不变；掩码只决定哪些格子被置为 0。"),
    "C": (False, "不对：交叉注意力看的是原文，原文一开始就全部已知；解码器自注意力看的是目标序列本身，"
                 "不遮住后面的位置就会泄露答案。"),
    "D": (False, "不对：多出来的“上下文”正是要预测的答案。训练损失会很低，但学到的东西在生成时用不上。"),
}


@check("练习 2 检查：去掉解码器的因果掩码会怎样",
       success="这也是 4.2 节“一条序列提供所有下一个 token 样本”的前提。")
def check_causal_mask_quiz(outcome: Outcome, choice) -> None:
    """Exercise 2 (4.3): a multiple-choice question on removing the decoder's causal mask."""
    if choice is None:
        raise Problem(missing_value("my_choice"))
    key = str(choice).strip().upper()
    if key not in CAUSAL_MASK_QUIZ:
        raise Problem(f"my_choice 应该是 \"A\"、\"B\"、\"C\" 或 \"D\" 之一，现在是 {short(choice)}。")
    right, why = CAUSAL_MASK_QUIZ[key]
    (outcome.ok if right else outcome.fail)(f"{key}：{why}")


