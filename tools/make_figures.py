"""Draw the four teaching figures used by the dli-seq notebooks.

Every figure is our own drawing, made with plain matplotlib (no images are
copied, no network). Labels are Simplified Chinese, like the notebooks: Latin
text is DejaVu Sans (ships with matplotlib), Chinese falls back to the font the
package ships (``dli_seq/fonts/``, a subset of Noto Sans CJK SC made by
``tools/make_cjk_font.py``), the same one the notebooks' run-time figures use.
No system font is asked for, so the output does not depend on which fonts a
machine has. Example model inputs (the T5 task prefixes, the Flan prompts) stay
in the language the models read.

Figures written to ``imgs/`` (or ``--outdir``):

1. ``attention_bidirectional_vs_causal.png``  encoder (BERT-style) vs decoder
   (GPT-style) attention patterns for "the cat sat on the mat".
2. ``encoder_decoder_cross_attention.png``    the T5 encoder-decoder with
   cross-attention and the shapes of its score and output matrices.
3. ``text_to_text_format.png``                T5's text-to-text multi-task format.
4. ``instruction_tuning_mixture.png``         an instruction-tuning (Flan-style)
   task mixture, "{premise}: {question}" examples, zero-shot vs one-shot.

Output is deterministic: re-running produces byte-identical PNGs
(``tests/test_figures.py`` checks the committed copies against this script).

Usage::

    python tools/make_figures.py            # writes imgs/*.png
    python tools/make_figures.py --outdir /tmp/figs
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from dli_seq.figures import register_cjk_font  # noqa: E402

# --------------------------------------------------------------------------- style

DPI = 120
FIGURES = (
    "attention_bidirectional_vs_causal.png",
    "encoder_decoder_cross_attention.png",
    "text_to_text_format.png",
    "instruction_tuning_mixture.png",
)

# One palette for every figure: blue = encoder, orange = decoder, green = cross-attention.
ENC = "#3B6EA8"
ENC_LIGHT = "#DCE7F4"
DEC = "#D9782D"
DEC_LIGHT = "#FBE6D4"
CROSS = "#3E9A5B"
CROSS_LIGHT = "#DDF0E2"
PURPLE = "#7D5BA6"
PURPLE_LIGHT = "#EAE2F4"
INK = "#2B2B2B"
GREY = "#8A8A8A"
GREY_LIGHT = "#EFEFEF"
TASK_COLORS = ["#3B6EA8", "#D9782D", "#3E9A5B", "#7D5BA6", "#B8485A", "#2E9AA0", "#B08D2A", "#6B6B6B"]

MONO = "DejaVu Sans Mono"


def _style() -> None:
    """Fix every setting that could make the output differ between runs or machines.

    Call it inside ``matplotlib.rc_context()`` so the caller's settings come back afterwards.
    """
    plt.rcdefaults()
    cjk = register_cjk_font()
    # The shipped Chinese font has no bold face: matplotlib draws its regular one and would log that each time.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    plt.rcParams.update(
        {
            "svg.hashsalt": "dli-seq",
            "font.family": ["DejaVu Sans", cjk],  # Chinese glyphs fall back to the CJK font
            "font.size": 10,
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.dpi": DPI,
            "axes.edgecolor": INK,
            "text.color": INK,
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
        }
    )


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.12, metadata={"Software": None})
    plt.close(fig)
    return path


def _box(ax, x, y, w, h, text, *, fc, ec, fontsize=10, weight="normal", family=None, color=INK,
         ha="center", lw=1.4, pad=0.02, rounding=0.08, zorder=2):
    """Rounded box with (x, y) its lower-left corner and ``text`` centred (or left-aligned) inside."""
    patch = FancyBboxPatch((x, y), w, h, boxstyle=f"round,pad={pad},rounding_size={rounding}",
                           fc=fc, ec=ec, lw=lw, zorder=zorder)
    ax.add_patch(patch)
    tx = x + w / 2 if ha == "center" else x + 0.12
    ax.text(tx, y + h / 2, text, ha=ha, va="center", fontsize=fontsize, weight=weight,
            family=family or plt.rcParams["font.family"], color=color, zorder=zorder + 1,
            linespacing=1.35)
    return patch


def _arrow(ax, start, end, *, color=INK, lw=1.6, style="-|>", rad=0.0, mutation=14, zorder=1, ls="-"):
    arrow = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=mutation, color=color, lw=lw,
                            connectionstyle=f"arc3,rad={rad}", zorder=zorder, linestyle=ls,
                            shrinkA=0, shrinkB=0)
    ax.add_patch(arrow)
    return arrow


def _canvas(width, height, xlim, ylim):
    fig, ax = plt.subplots(figsize=(width, height))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


# --------------------------------------------------------------------------- figure 1


def attention_bidirectional_vs_causal(path: Path) -> Path:
    """Two token-by-token attention grids: every cell allowed (encoder) vs lower triangle (decoder)."""
    tokens = ["the", "cat", "sat", "on", "the", "mat"]
    n = len(tokens)
    full = np.ones((n, n), dtype=bool)
    causal = np.tril(full)

    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.9))
    panels = [
        (axes[0], full, ENC, "编码器（BERT 式）：双向",
         "每个 token 都能看到整句话"),
        (axes[1], causal, DEC, "解码器（GPT 式）：因果",
         "第 i 个 token 只能看到第 1..i 个（未来被掩蔽）"),
    ]
    for ax, mask, color, title, subtitle in panels:
        for i in range(n):  # row = query
            for j in range(n):  # column = key
                allowed = mask[i, j]
                ax.add_patch(Rectangle((j, i), 1, 1, fc=color if allowed else GREY_LIGHT,
                                       ec="white", lw=2.5, alpha=0.88 if allowed else 1.0))
                if not allowed:
                    ax.text(j + 0.5, i + 0.5, "\u00d7", ha="center", va="center", fontsize=13, color=GREY)
        ax.set_xlim(0, n)
        ax.set_ylim(n, 0)  # first token at the top
        ax.set_aspect("equal")
        ax.set_xticks(np.arange(n) + 0.5, tokens, fontsize=10.5)
        ax.set_yticks(np.arange(n) + 0.5, tokens, fontsize=10.5)
        ax.xaxis.tick_top()
        ax.xaxis.set_label_position("top")
        ax.tick_params(length=0, pad=4)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("键：第 j 个 token", fontsize=10.5, labelpad=6)
        ax.set_ylabel("查询：第 i 个 token 关注……", fontsize=10.5, labelpad=6)
        ax.set_title(title, fontsize=12.5, weight="bold", color=color, pad=40)
        ax.text(n / 2, n + 0.45, subtitle, ha="center", va="top", fontsize=10, style="italic", color=INK)

    legend = [
        Rectangle((0, 0), 1, 1, fc=ENC, alpha=0.88, label="可以关注（编码器）"),
        Rectangle((0, 0), 1, 1, fc=DEC, alpha=0.88, label="可以关注（解码器）"),
        Rectangle((0, 0), 1, 1, fc=GREY_LIGHT, ec=GREY, label="掩蔽：softmax 之前把分数设为 \u2212\u221e"),
    ]
    fig.legend(handles=legend, loc="lower center", ncol=3, frameon=False, fontsize=9.5,
               bbox_to_anchor=(0.5, 0.0))
    fig.subplots_adjust(wspace=0.45, bottom=0.13)
    return _save(fig, path)


# --------------------------------------------------------------------------- figure 2


def encoder_decoder_cross_attention(path: Path) -> Path:
    """T5-style encoder-decoder: encoder states become cross-attention keys/values for the decoder."""
    fig, ax = _canvas(9.6, 5.8, (0, 17.6), (0, 10.6))
    w = 5.8  # width of a stack

    # ---- encoder (left), read bottom to top
    ex = 0.4
    ax.add_patch(FancyBboxPatch((ex - 0.25, 2.1), w + 0.5, 4.25, boxstyle="round,pad=0.02,rounding_size=0.25",
                                fc="white", ec=ENC, lw=1.6, ls="--", zorder=1))
    ax.text(ex, 6.05, "编码器  \u00d7 N", fontsize=10.5, weight="bold", color=ENC, va="center")
    _box(ax, ex + 0.3, 2.5, w - 0.6, 0.95, "自注意力\n（双向：看到全部 m 个 token）",
         fc=ENC_LIGHT, ec=ENC, fontsize=9.5)
    _box(ax, ex + 0.3, 4.3, w - 0.6, 0.85, "前馈网络（FFN）", fc=ENC_LIGHT, ec=ENC, fontsize=9.5)
    _arrow(ax, (ex + w / 2, 3.47), (ex + w / 2, 4.28), color=ENC)

    _box(ax, ex, 0.55, w, 0.85, "translate English to French: Hello world", fc=GREY_LIGHT, ec=GREY,
         fontsize=8.8, family=MONO)
    ax.text(ex + w / 2, 0.3, "编码器输入：m 个 token", ha="center", va="top", fontsize=9, color=GREY,
            style="italic")
    _arrow(ax, (ex + w / 2, 1.42), (ex + w / 2, 2.48), color=ENC)

    _box(ax, ex + 0.3, 7.3, w - 0.6, 0.95, "编码器输出\nm 个 d 维向量", fc=ENC, ec=ENC,
         fontsize=9.8, color="white", weight="bold")
    _arrow(ax, (ex + w / 2, 5.17), (ex + w / 2, 7.28), color=ENC)

    # ---- decoder (right)
    dx = 11.4
    ax.add_patch(FancyBboxPatch((dx - 0.25, 2.1), w + 0.5, 6.15, boxstyle="round,pad=0.02,rounding_size=0.25",
                                fc="white", ec=DEC, lw=1.6, ls="--", zorder=1))
    ax.text(dx, 7.95, "解码器  \u00d7 N", fontsize=10.5, weight="bold", color=DEC, va="center")
    _box(ax, dx + 0.3, 2.5, w - 0.6, 0.95, "因果自注意力\n（掩蔽：只看到第 1..i 个 token）",
         fc=DEC_LIGHT, ec=DEC, fontsize=9.5)
    _box(ax, dx + 0.3, 4.25, w - 0.6, 0.95, "交叉注意力\nQ 来自解码器，K/V 来自编码器",
         fc=CROSS_LIGHT, ec=CROSS, fontsize=9.5, lw=2.0)
    _box(ax, dx + 0.3, 6.0, w - 0.6, 0.85, "前馈网络（FFN）", fc=DEC_LIGHT, ec=DEC, fontsize=9.5)
    _arrow(ax, (dx + 1.3, 3.47), (dx + 1.3, 4.23), color=DEC)
    ax.text(dx + 1.45, 3.85, "Q：n 个查询", fontsize=9, color=DEC, va="center", weight="bold")
    _arrow(ax, (dx + w / 2, 5.22), (dx + w / 2, 5.98), color=DEC)

    _box(ax, dx, 0.55, w, 0.85, "<pad>  Bonjour  le  monde", fc=GREY_LIGHT, ec=GREY, fontsize=8.8,
         family=MONO)
    ax.text(dx + w / 2, 0.3, "解码器输入：右移一位，从 <pad> 开始", ha="center", va="top",
            fontsize=9, color=GREY, style="italic")
    _arrow(ax, (dx + w / 2, 1.42), (dx + w / 2, 2.48), color=DEC)

    _box(ax, dx, 9.25, w, 0.85, "Bonjour  le  monde  </s>", fc=DEC, ec=DEC, fontsize=9.5, family=MONO,
         color="white", weight="bold")
    ax.text(dx + w / 2, 10.3, "解码器输出：n 个 token，各超前一步", ha="center", va="bottom",
            fontsize=9, color=DEC, style="italic")
    _arrow(ax, (dx + w / 2, 6.87), (dx + w / 2, 9.23), color=DEC)
    ax.text(dx + w / 2 + 0.15, 8.75, "语言模型头 + softmax", fontsize=8.8, color=DEC, va="center")

    # ---- encoder output -> keys and values of every cross-attention layer
    elbow = 8.8
    route = MplPath([(ex + w - 0.28, 7.78), (elbow, 7.78), (elbow, 4.72), (dx + 0.28, 4.72)],
                    [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO])
    ax.add_patch(FancyArrowPatch(path=route, arrowstyle="-|>", mutation_scale=16, color=CROSS, lw=2.2,
                                 joinstyle="round", zorder=1))
    ax.text(elbow - 0.15, 7.3, "K、V：m 个向量", ha="right", va="center", fontsize=9.5, color=CROSS,
            weight="bold")
    ax.text(elbow - 0.15, 6.65, "每一层、每个解码步\n都用这同一组", ha="right", va="center",
            fontsize=8.6, color=CROSS, style="italic")

    # ---- shapes of the cross-attention computation
    sx, sy, sw, sh = 6.45, 1.45, 4.7, 2.75
    _box(ax, sx, sy, sw, sh, "", fc="white", ec=CROSS, lw=1.2, rounding=0.12)
    ax.text(sx + sw / 2, sy + sh - 0.35, "交叉注意力的形状", ha="center", va="center", fontsize=9.5,
            weight="bold", color=CROSS)
    rows = [  # (role, formula, shape): mathtext draws no Chinese, so the role is its own text
        ("查询", r"$Q$", r"$n \times d$"),
        ("键、值", r"$K,\ V$", r"$m \times d$"),
        ("分数", r"$QK^{\top}$", r"$n \times m$"),
        ("输出", r"$\mathrm{softmax}(QK^{\top}/\sqrt{d})\,V$", r"$n \times d$"),
    ]
    for k, (role, formula, shape) in enumerate(rows):
        yy = sy + sh - 0.95 - 0.52 * k
        ax.text(sx + 0.2, yy, role, ha="left", va="center", fontsize=9.3, color=GREY)
        ax.text(sx + 1.15, yy, formula, ha="left", va="center", fontsize=9.3)
        ax.text(sx + sw - 0.2, yy, shape, ha="right", va="center", fontsize=9.3, weight="bold")
    ax.text(sx + sw / 2, 0.8, "（图中省略了残差连接\n和层规范化）", ha="center", va="center",
            fontsize=8.3, color=GREY, style="italic")
    return _save(fig, path)


# --------------------------------------------------------------------------- figure 3


def _mono_marked(ax, x, y, marked, *, color, fontsize, base=INK, zorder=4):
    """Left-aligned monospace text whose ``[bracketed]`` parts are drawn bold in ``color``.

    Regular and bold DejaVu Sans Mono share one advance width, so two overlaid strings (plain parts,
    and highlighted parts, each with the other's characters blanked) line up exactly.
    """
    plain, marks, inside = [], [], False
    for ch in marked:
        if ch in "[]":
            inside = ch == "["
            continue
        keep = ch == "\n"
        plain.append(ch if keep or not inside else " ")
        marks.append(ch if keep or inside else " ")
    for text, col, weight in (("".join(plain), base, "normal"), ("".join(marks), color, "bold")):
        ax.text(x, y, text, ha="left", va="center", family=MONO, fontsize=fontsize, color=col,
                weight=weight, linespacing=1.35, zorder=zorder)


def text_to_text_format(path: Path) -> Path:
    """T5: every task is a string with a task prefix in, a string out, through one model."""
    examples = [
        ("[translate English to German:] That is good.", "Das ist gut."),
        ("[summarize:] The town library will open on\nSundays from May, after volunteers offered\n"
         "to staff the desk and the council agreed\nto pay for the heating.",
         "Library to open on Sundays\nfrom May, staffed by volunteers."),
        ("[cola sentence:] The dogs is barking.", "unacceptable"),
        ("[stsb sentence1:] A man is riding a bike.\n[sentence2:] Someone is cycling down a road.", "4.2"),
    ]
    heights = [0.8, 1.75, 0.8, 1.2]
    gap = 0.45
    total = sum(heights) + gap * (len(heights) - 1)
    fig, ax = _canvas(8.1, 8.1 * (total + 1.65) / 16.4, (0, 16.4), (-0.9, total + 0.75))

    ix, iw = 0.0, 6.75
    mx, mw = 7.95, 2.2
    ox, ow = 11.3, 5.0
    mid = total / 2
    _box(ax, mx, mid - 1.1, mw, 2.2, "T5", fc=PURPLE, ec=PURPLE, fontsize=22, weight="bold", color="white",
         rounding=0.2)
    ax.text(mx + mw / 2, mid - 1.38, "一个模型\n一个损失\n一个解码器", ha="center", va="top",
            fontsize=9, color=PURPLE, style="italic")
    ax.text(ix + iw / 2, total + 0.35, "输入文本：任务前缀 + 文本", ha="center", fontsize=11,
            weight="bold")
    ax.text(ox + ow / 2, total + 0.35, "输出文本", ha="center", fontsize=11, weight="bold")

    y = total
    for (src, tgt), h, color in zip(examples, heights, TASK_COLORS):
        y -= h
        _box(ax, ix, y, iw, h, "", fc="white", ec=color, lw=1.6)
        ax.add_patch(Rectangle((ix - 0.02, y - 0.02), 0.1, h + 0.04, fc=color, ec="none", zorder=3))
        _mono_marked(ax, ix + 0.2, y + h / 2, src, color=color, fontsize=8.9)
        oh = min(h, 0.9)
        _box(ax, ox, y + (h - oh) / 2, ow, oh, tgt, fc=color, ec=color, fontsize=9.2, family=MONO,
             color="white", weight="bold")
        port = mid + (y + h / 2 - mid) * 0.25
        _arrow(ax, (ix + iw + 0.1, y + h / 2), (mx - 0.05, port), color=color, lw=1.5, mutation=12)
        _arrow(ax, (mx + mw + 0.05, port), (ox - 0.08, y + h / 2), color=color, lw=1.5, mutation=12)
        y -= gap

    ax.text(8.2, -0.7, "前缀指明任务；类别标签，甚至数字（STS-B 的相似度分数），"
            "都只是生成出来的文本。", ha="center", va="center", fontsize=9.2, style="italic")
    return _save(fig, path)


# --------------------------------------------------------------------------- figure 4


def instruction_tuning_mixture(path: Path) -> Path:
    """Instruction tuning: many task families phrased as instructions train one model."""
    families = [
        ("翻译", 18),
        ("问答 / 事实", 17),
        ("常识", 13),
        ("摘要", 12),
        ("对话", 11),
        ("算术", 10),
        ("故事续写", 9),
        ("分类 / 自然语言推断", 10),
    ]
    fig = plt.figure(figsize=(9.6, 6.05))

    # ---- left: the mixture as a donut
    ax_pie = fig.add_axes([0.0, 0.31, 0.34, 0.58])
    wedges, _ = ax_pie.pie([s for _, s in families], colors=TASK_COLORS, startangle=90, counterclock=False,
                           wedgeprops={"width": 0.42, "edgecolor": "white", "linewidth": 2})
    for wedge, (_, share) in zip(wedges, families):
        angle = np.deg2rad((wedge.theta1 + wedge.theta2) / 2)
        ax_pie.text(0.79 * np.cos(angle), 0.79 * np.sin(angle), f"{share}%", ha="center", va="center",
                    fontsize=8.5, color="white", weight="bold")
    ax_pie.text(0, 0, "任务\n类别", ha="center", va="center", fontsize=11, weight="bold")
    ax_pie.set_aspect("equal")
    ax_pie.set_title("指令微调的任务混合\n（比例仅为示意）", fontsize=11.5, weight="bold", pad=6)
    ax_pie.legend(wedges, [name for name, _ in families], loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  ncol=2, frameon=False, fontsize=9, handlelength=1.2, columnspacing=1.0)

    # ---- right: model box, examples and the prompt-layout inset on one data canvas
    ax = fig.add_axes([0.35, 0.0, 0.65, 1.0])
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 11.4)
    ax.set_aspect("equal")
    ax.axis("off")

    _arrow(ax, (-0.2, 8.3), (0.55, 8.3), color=INK, lw=2.2, mutation=18)
    _box(ax, 0.7, 7.55, 2.75, 1.5, "一个模型\n多种指令", fc=PURPLE, ec=PURPLE, fontsize=11,
         weight="bold", color="white", rounding=0.15)
    ax.text(2.07, 7.25, "在所有类别上微调，\n再拿新任务\n来问它", ha="center", va="top",
            fontsize=8.6, color=PURPLE, style="italic")

    ax.text(4.05, 10.95, '示例："{premise}: {question}" \u2192 答案', fontsize=10.5, weight="bold",
            va="center")
    prompts = [
        ("[Translate from English to Spanish:]\nWhere is the station?",
         "\u00bfD\u00f3nde est\u00e1 la estaci\u00f3n?", TASK_COLORS[0]),
        ("[Solve the mathematical problem:]\nWhat is 7 times 8?", "56", TASK_COLORS[5]),
        ("[Answer the question using commonsense knowledge:]\nWhy do people carry umbrellas?",
         "To stay dry when it rains.", TASK_COLORS[2]),
    ]
    y = 10.5
    for prompt, answer, color in prompts:
        h = 0.95
        y -= h
        _box(ax, 4.05, y, 7.85, h, "", fc="white", ec=color, lw=1.5)
        _mono_marked(ax, 4.2, y + h / 2, prompt, color=color, fontsize=8.4)
        ax.text(4.25, y - 0.33, "\u2192 " + answer, fontsize=8.8, family=MONO, color=color, weight="bold",
                va="center")
        y -= 0.78
    _arrow(ax, (3.5, 8.3), (3.95, 8.3), color=GREY, lw=1.4, mutation=12)

    # ---- inset: zero-shot vs one-shot prompt layouts
    ax.add_patch(FancyBboxPatch((0.1, 0.3), 11.8, 4.6, boxstyle="round,pad=0.02,rounding_size=0.2",
                                fc="#FAFAFA", ec=GREY, lw=1.0))
    ax.text(0.35, 4.55, "面对新问题的两种提示词布局", fontsize=10.5, weight="bold", va="center")
    cols = [(0.35, 5.45, ENC, "零样本：只有指令"),
            (6.15, 5.5, DEC, "单样本：先给一个解好的示例")]
    for x, wd, color, title in cols:
        ax.text(x, 4.05, title, fontsize=9.5, color=color, weight="bold", va="center")
        _box(ax, x, 1.55, wd, 2.15, "", fc="white", ec=color, rounding=0.1)
    # one-shot: the worked example (shaded) sits above the real question
    ox = cols[1][0]
    ax.add_patch(Rectangle((ox + 0.08, 2.62), cols[1][1] - 0.16, 1.0, fc=DEC_LIGHT, ec="none", zorder=2.5))
    ax.text(ox + 0.25, 3.33, "{premise}: {example question}", family=MONO, fontsize=8.6, va="center", zorder=4)
    ax.text(ox + 0.25, 2.9, "Answer: {example answer}", family=MONO, fontsize=8.6, va="center", zorder=4)
    ax.text(ox + cols[1][1] - 0.15, 2.75, "示例", fontsize=7.8, color=DEC, ha="right", va="center",
            style="italic", zorder=4)
    # zero-shot: nothing in that place
    zx, zw = cols[0][0], cols[0][1]
    ax.add_patch(Rectangle((zx + 0.08, 2.62), zw - 0.16, 1.0, fc="none", ec=GREY, lw=0.9, ls=(0, (4, 3)),
                           zorder=2.5))
    ax.text(zx + zw / 2, 3.12, "（没有示例）", fontsize=8.6, color=GREY, ha="center", va="center",
            style="italic", zorder=4)
    # the real question lines up at the same height in both layouts
    for x, _, color, _ in cols:
        ax.text(x + 0.25, 2.15, "{premise}: {question}", family=MONO, fontsize=8.6, va="center", zorder=4,
                weight="bold", color=color)
    ax.text(0.35, 1.1, "\u2192 模型只能猜答案的形式", fontsize=8.8, color=ENC, va="center")
    ax.text(6.15, 1.1, "\u2192 答案沿用示例的形式", fontsize=8.8, color=DEC,
            va="center")
    ax.text(6.0, 0.6, "仅解码器模型（如 Phi-1.5）在每个问题后加上 \"\\n\\nAnswer: \"，"
            "遇到换行就停。", ha="center", fontsize=8.3, color=GREY, style="italic", va="center")
    return _save(fig, path)


# --------------------------------------------------------------------------- entry points


def main(outdir: str | Path = "imgs") -> list[Path]:
    """Write all four figures into ``outdir`` (created if needed); return their paths."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    makers = (
        attention_bidirectional_vs_causal,
        encoder_decoder_cross_attention,
        text_to_text_format,
        instruction_tuning_mixture,
    )
    with matplotlib.rc_context():
        _style()
        return [maker(out / name) for maker, name in zip(makers, FIGURES)]


def _cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default="imgs", help="folder for the PNG files (default: imgs)")
    args = parser.parse_args(argv)
    for path in main(args.outdir):
        print(f"{path}  {path.stat().st_size / 1024:.1f} KB")


if __name__ == "__main__":
    _cli()
