"""Figures for the notebooks: attention masks, KV-cache timing, evaluation tables (4.2-4.5).

* :func:`mask_explorer` (4.2, 4.3): bidirectional, causal and cross-attention masks for one sentence.
* :func:`measure_kv_cache` + :func:`plot_kv_cache_timing` (4.2): milliseconds per new token,
  re-reading everything vs the KV cache; :func:`kv_cache_timing` does both in one call.
* :func:`table` (4.5): rows of text as an HTML table.

Chinese labels use the font shipped in ``dli_seq/fonts/`` (a subset of Noto Sans CJK SC, made by
``tools/make_cjk_font.py``), registered with matplotlib when this module is imported, so the
figures look the same on every machine, with or without Chinese system fonts.
"""

from __future__ import annotations

import html
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as W
import matplotlib.pyplot as plt
import torch
from matplotlib import font_manager

from . import inputs
from .cells import LatestPerCell, close_all
from .decoding import decode_step, greedy_steps, naive_generate, prefill
from .token_view import token_label, visible

FONT_FILE = Path(__file__).resolve().parent / "fonts" / "DLISeqSansSC-Regular.otf"


def register_cjk_font() -> str:
    """Add the shipped Chinese font to matplotlib (once); return its family name (4.2-4.5 figures)."""
    if not any(Path(entry.fname) == FONT_FILE for entry in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(FONT_FILE))
    return font_manager.FontProperties(fname=str(FONT_FILE)).get_name()


CJK_FAMILY = register_cjk_font()


def chinese_font_family() -> list[str]:
    """The font list for figures with Chinese labels (4.2, 4.3): DejaVu Sans for Latin text and
    ␣ ✓ ✗, then the shipped Chinese font for every glyph DejaVu lacks."""
    return ["DejaVu Sans", CJK_FAMILY]


# ----------------------------------------------------------------------------- masks (4.2, 4.3)

MASK_EXPLORER_MAX_TOKENS = 64  # per sentence: larger matrices are unreadable (and huge)


def plain_label(text: str) -> str:
    """A tick label drawn as typed: ``$`` would otherwise start matplotlib's math mode (4.3)."""
    return text.replace("$", r"\$")


def mask_tokens(tokenizer, text, what: str) -> list[str]:
    """The tokens of one sentence as tick labels: a str is tokenized (split on spaces without a
    tokenizer), a list is taken as tokens (4.3)."""
    if isinstance(text, (list, tuple)):
        return [plain_label(str(t)) for t in text]
    if not isinstance(text, str):
        raise TypeError(f"{what} 应是一句话（str）或一个 token 列表，得到的是 {type(text).__name__}："
                        f"例如 {what}=\"Hello world\"。")
    words = text.split() if tokenizer is None else [
        visible(token_label(tokenizer, i)) for i in tokenizer.encode(text, add_special_tokens=False)]
    return [plain_label(w) for w in words]


class MaskExplorer(W.VBox):
    """The interactive mask explorer: two text boxes, a message line and the figure (4.3)."""

    figure = None

    def close(self) -> None:
        """Close the text boxes and the figure's output, and drop the figure (4.3)."""
        self.figure = None
        for child in self.children:
            close_all(child)
        self.layout.close()
        super().close()


EXPLORERS = LatestPerCell()  # re-running a cell closes the explorer its earlier run made


def mask_explorer(tokenizer=None, source: str = "Hello World! How's it going?",
                  target: str = "Bonjour le monde ! Comment ça va ?", interactive: bool = False):
    """Encoder (m×m, bidirectional), decoder (n×n, causal) and cross-attention (n×m) masks (4.3).

    ``tokenizer`` may be None (split on spaces); ``source``/``target`` may be lists of tokens.
    Returns a matplotlib Figure, or with ``interactive=True`` a widget with text boxes.
    """
    src, tgt = mask_tokens(tokenizer, source, "source"), mask_tokens(tokenizer, target, "target")
    if interactive:
        return _explorer(tokenizer, source, target)
    if not src or not tgt:
        raise ValueError("源句和目标句都不能为空：各写一句话。")
    m, n = len(src), len(tgt)
    if max(m, n) > MASK_EXPLORER_MAX_TOKENS:  # a figure of thousands of rows would exhaust the kernel's memory
        raise ValueError(f"源句有 {m} 个 token、目标句有 {n} 个：每句最多 {MASK_EXPLORER_MAX_TOKENS} 个，"
                         "矩阵才看得清。换一句短一点的话。")
    masks = [("编码器自注意力：双向", torch.ones(m, m), src, src),
             ("解码器自注意力：因果", torch.tril(torch.ones(n, n)), tgt, tgt),
             ("交叉注意力：解码器的查询 × 编码器的键", torch.ones(n, m), tgt, src)]
    with plt.rc_context({"font.family": chinese_font_family()}):
        return _draw_masks(masks, m, n, size=0.32)


def png_base64(fig) -> str:
    """A figure as base64 PNG text, as JupyterLab shows inline figures (4.3: the mask explorer)."""
    import base64
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=fig.dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _explorer(tokenizer, source, target) -> MaskExplorer:
    boxes = [W.Text(value=v if isinstance(v, str) else " ".join(v), description=d,
                    layout=W.Layout(width="600px")) for v, d in ((source, "源句"), (target, "目标句"))]
    out, message = W.Output(), W.HTML()
    box = MaskExplorer([*boxes, message, out])
    for widget, name in ((box, "dli-mask-explorer"), (message, "dli-mask-message"), (out, "dli-mask-figure")):
        widget.add_class(name)

    def redraw(_=None):
        try:
            box.figure = mask_explorer(tokenizer, boxes[0].value, boxes[1].value)
        except ValueError as err:  # no stale figure next to the error
            box.figure = None
            out.outputs = ()
            message.value = f"<span style='color:#b00020'>{html.escape(str(err))}</span>"
            return
        message.value = ""
        # Set the Output widget's content in one state update (no `with out:` capture): the page
        # never flickers, and a headless runner (nbclient) need not mimic the widget's capture.
        out.outputs = ({"output_type": "display_data", "metadata": {},
                        "data": {"image/png": png_base64(box.figure), "text/plain": "<图：三种注意力掩码>"}},)
    for text_box in boxes:
        text_box.observe(redraw, names="value")
    redraw()
    EXPLORERS.add(box)
    return box


def _draw_masks(masks, m: int, n: int, size: float):
    fig, axes = plt.subplots(1, 3, figsize=(max(9.0, size * (2 * m + n) + 4.5), max(3.5, size * max(m, n) + 2.5)),
                             gridspec_kw={"width_ratios": [m, n, m]}, layout="constrained")
    for ax, (title, mask, rows, cols) in zip(axes, masks):
        ax.imshow(mask.numpy(), cmap="Blues", vmin=0, vmax=1.4)
        ax.set_title(f"{title}\n{mask.shape[0]} × {mask.shape[1]}", fontsize=9)
        ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=8)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_xticks([k - 0.5 for k in range(len(cols) + 1)], minor=True)
        ax.set_yticks([k - 0.5 for k in range(len(rows) + 1)], minor=True)
        ax.grid(which="minor", color="white", linewidth=0.8)
        ax.tick_params(which="minor", length=0)
        ax.set_xlabel("键 / 值（被关注的位置）", fontsize=8)
        ax.set_ylabel("查询（发出关注的位置）", fontsize=8)
    fig.suptitle(f"谁可以关注谁：源句 m = {m} 个 token，目标句 n = {n} 个 token（深色 = 允许）", fontsize=10)
    plt.close(fig)  # returned for display; keeps pyplot from showing it a second time
    return fig


# ----------------------------------------------------------------------------- KV-cache timing (4.2)

@dataclass
class TimingResult:
    """Milliseconds per new token at each decoder length, without and with the KV cache (4.2)."""

    positions: list[int]
    naive_ms: list[float]
    cached_ms: list[float]
    device: str
    model_name: str = ""
    figure: object = None


def _device_name(device: torch.device) -> str:
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)


def clock(device: torch.device) -> float:
    """Seconds, after the device has finished its queued work (4.2 timing)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
    return time.perf_counter()


@contextmanager
def time_forward_passes(model, times: list[float], on_pass=None):
    """Inside the block, append the seconds of every forward pass of ``model`` to ``times`` (4.2).

    The lesson's own loops run unchanged; torch's module hooks time them from outside.
    """
    starts: list[float] = []

    def before(_module, _args):
        starts.append(clock(model.device))

    def after(_module, _args, _output):
        times.append(clock(model.device) - starts.pop())
        if on_pass is not None:
            on_pass()

    handles = [model.register_forward_pre_hook(before), model.register_forward_hook(after)]
    try:
        yield times
    finally:
        for handle in handles:
            handle.remove()


TIMING_MAX_POSITIONS = 20_000  # positions the naive loop may recompute in all (it grows with the square)
TIMING_PROGRESS_FROM = 5_000  # show a progress bar from this much work on


@torch.inference_mode()
def measure_kv_cache(model, tokenizer, prompt: str = "The weather today is", *, encoder_input: str | None = None,
                     max_new_tokens: int = 64, repeats: int = 1, max_positions: int | None = TIMING_MAX_POSITIONS,
                     progress: bool | None = None) -> TimingResult:
    """Time each new token: the lesson's loop without cache (:func:`decoding.naive_generate`) vs
    prefill + :func:`decoding.decode_step` (:func:`decoding.greedy_steps`) (4.2).

    Both loops pick greedily and ignore end-of-sequence, so both series have ``max_new_tokens``
    points; with ``repeats`` > 1 the fastest of the repeats is kept per position. The naive loop
    recomputes every position at every step (work grows with the square of ``max_new_tokens``):
    more than ``max_positions`` positions in all is refused up front (``max_positions=None`` lifts
    the bound), and a progress bar shows from a few thousand on (``progress=True/False`` forces it).
    """
    inputs.check_max_new_tokens(max_new_tokens)
    inputs.positive_int(repeats, "repeats")
    prompt_ids, encoder_ids = inputs.encode_inputs(model, tokenizer, prompt, encoder_input)
    first = inputs.decoder_length(model, prompt_ids)  # T5 starts from its start token
    work = repeats * (max_new_tokens * first + max_new_tokens * (max_new_tokens - 1) // 2)
    if max_positions is not None and work > max_positions:
        raise ValueError(f"不用缓存的循环要重新计算约 {work} 个位置（随 max_new_tokens 平方增长），超过了上限 "
                         f"{max_positions}：减小 max_new_tokens（或 repeats），或传 max_positions=None 取消上限。")
    from tqdm.auto import tqdm

    show = work >= TIMING_PROGRESS_FROM if progress is None else bool(progress)
    bar = tqdm(total=2 * repeats * max_new_tokens, desc="kv_cache_timing", unit="token", leave=False,
               disable=not show)
    ids = dict(input_ids=prompt_ids or None, encoder_input_ids=encoder_ids)

    def naive() -> list[float]:  # the lesson's loop: everything again, every step
        with time_forward_passes(model, [], on_pass=bar.update) as times:
            naive_generate(model, **ids, max_new_tokens=max_new_tokens)
        return times

    def cached() -> list[float]:  # prefill once, then one position per step
        started = clock(model.device)
        state = prefill(model, **ids)
        times = [clock(model.device) - started]
        bar.update()

        def timed_step(state, token_id):
            started = clock(model.device)
            decode_step(state, token_id)
            times.append(clock(model.device) - started)
            bar.update()
        greedy_steps(state, max_new_tokens, set(), step=timed_step)
        return times

    prefill(model, **ids)  # warm-up: lazy initialisation
    with bar:
        runs_naive = [naive() for _ in range(repeats)]  # naive_generate checks the context first
        runs_cached = [cached() for _ in range(repeats)]
    naive_ms = [1000 * min(r[i] for r in runs_naive) for i in range(max_new_tokens)]
    cached_ms = [1000 * min(r[i] for r in runs_cached) for i in range(max_new_tokens)]
    positions = [first + i for i in range(max_new_tokens)]
    return TimingResult(positions, naive_ms, cached_ms, _device_name(model.device), type(model).__name__)


def plot_kv_cache_timing(result: TimingResult):
    """The two series of :func:`measure_kv_cache` as one line plot; returns the Figure (4.2)."""
    with plt.rc_context({"font.family": chinese_font_family()}):
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        ax.plot(result.positions, result.naive_ms, "o-", ms=3,
                label=f"不用缓存：每步重算所有位置，共 {sum(result.naive_ms):.0f} ms")
        ax.plot(result.positions, result.cached_ms, "s-", ms=3,
                label=f"KV 缓存：预填充一次，之后每步只算一个位置，共 {sum(result.cached_ms):.0f} ms")
        ax.set_xlabel("模型已读的 token 数（解码器长度）")
        ax.set_ylabel("每个新 token 的毫秒数")
        ax.set_ylim(bottom=0)
        ax.set_title(plain_label(f"每个新 token 的耗时：{result.model_name}，设备 {result.device}"))
        ax.legend()
        fig.canvas.draw()  # lay the text out while the font settings hold
        plt.close(fig)
    return fig


def kv_cache_timing(model, tokenizer, prompt: str = "The weather today is", *, encoder_input: str | None = None,
                    max_new_tokens: int = 64, repeats: int = 1, plot: bool = True,
                    max_positions: int | None = TIMING_MAX_POSITIONS, progress: bool | None = None) -> TimingResult:
    """:func:`measure_kv_cache`, then (``plot=True``) its figure in ``result.figure`` (4.2)."""
    result = measure_kv_cache(model, tokenizer, prompt, encoder_input=encoder_input, max_new_tokens=max_new_tokens,
                              repeats=repeats, max_positions=max_positions, progress=progress)
    if plot:
        result.figure = plot_kv_cache_timing(result)
    return result


# ----------------------------------------------------------------------------- tables (4.5)

def display_width(text: str) -> int:
    """Columns a text takes in a terminal: CJK characters count twice (4.5 tables)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    out, used = "", 0
    for ch in text:
        used += display_width(ch)
        if used > width:
            break
        out += ch
    return out


class Table:
    """Rows of text shown as an HTML table in JupyterLab and as aligned text elsewhere (4.5)."""

    def __init__(self, headers: list[str], rows: list[list[str | None]], width: int = 36):
        if not isinstance(headers, (list, tuple)) or not headers:
            raise TypeError(f"表头应是一个非空的列表，例如 [\"#\", \"提示词\", \"输出\"]，得到的是 {headers!r}。")
        if not isinstance(rows, (list, tuple)):
            raise TypeError(f"rows 应是由行组成的列表（每行一个列表），得到的是 {type(rows).__name__}。")
        for number, row in enumerate(rows, 1):
            if not isinstance(row, (list, tuple)) or len(row) != len(headers):
                cells = f"有 {len(row)} 格" if isinstance(row, (list, tuple)) else f"是 {type(row).__name__}，不是列表"
                raise ValueError(f"第 {number} 行{cells}，表头有 {len(headers)} 列：每行都要是一个列表，"
                                 "格数和表头一样（空着的格写 None）。")
        if not isinstance(width, int) or isinstance(width, bool) or width < 2:
            raise ValueError(f"width 应是不小于 2 的整数（每列最多显示的字符宽度），得到的是 {width!r}。")
        self.headers = [str(h) for h in headers]
        self.rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
        self.width = width

    def _repr_html_(self) -> str:
        def cell(tag: str, text: str) -> str:
            body = html.escape(text).replace("\n", "<br>")
            return f"<{tag} style=\"text-align:left; vertical-align:top\">{body}</{tag}>"
        head = "".join(cell("th", h) for h in self.headers)
        body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        def fit(text: str) -> str:
            text = text.replace("\n", "⏎")
            return text if display_width(text) <= self.width else _cut(text, self.width - 1) + "…"
        grid = [[fit(c) for c in self.headers]] + [[fit(c) for c in row] for row in self.rows]
        widths = [max(display_width(row[i]) for row in grid) for i in range(len(self.headers))]
        lines = [" | ".join(c + " " * (w - display_width(c)) for c, w in zip(row, widths)).rstrip() for row in grid]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return "\n".join(lines)


def table(headers: list[str], rows: list[list[str | None]], width: int = 36) -> Table:
    """An evaluation table (4.5): ``display(table(["提示词", "零样本", ...], rows))``."""
    return Table(headers, rows, width)
