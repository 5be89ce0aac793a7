"""dli_seq.figures, drawn at run time (sections 4.2-4.5): mask explorer, KV-cache timing, tables, the shipped font.

Tiny random-init models (tests/conftest.py) stand in for the lesson's models.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import ipywidgets as W
import pytest
import torch

from dli_seq import figures
from dli_seq.figures import kv_cache_timing, mask_explorer, measure_kv_cache, plot_kv_cache_timing, table
from dli_seq.token_view import token_label

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "translate English to French: Hello World! How's it going?"


def open_widgets() -> int:
    """Widgets still registered with the kernel (closed ones have no comm)."""
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), W.Widget) and obj.comm is not None)


# ----- masks ---------------------------------------------------------------------------------------

def test_mask_explorer_shapes():
    fig = mask_explorer(None, "a b c d e", "x y z")
    shapes = [ax.images[0].get_array().shape for ax in fig.axes]
    assert shapes == [(5, 5), (3, 3), (3, 5)]  # m×m encoder, n×n decoder, n×m cross-attention
    causal = fig.axes[1].images[0].get_array()
    assert (causal == torch.tril(torch.ones(3, 3)).numpy()).all()
    assert [t.get_text() for t in fig.axes[2].get_xticklabels()] == list("abcde")
    assert [t.get_text() for t in fig.axes[2].get_yticklabels()] == list("xyz")
    assert "3 × 5" in fig.axes[2].get_title()


def test_mask_explorer_with_tokenizer_and_widget(t5):
    _, tok = t5
    fig = mask_explorer(tok, "Hello World!", "Bonjour le monde !")
    m = len(tok.encode("Hello World!", add_special_tokens=False))
    n = len(tok.encode("Bonjour le monde !", add_special_tokens=False))
    assert fig.axes[2].images[0].get_array().shape == (n, m)
    box = mask_explorer(tok, "Hello World!", "Bonjour", interactive=True)
    assert isinstance(box, W.VBox)
    source, target, message, out = box.children
    assert box.figure.axes[2].images[0].get_array().shape[1] == m and not message.value
    first_png = out.outputs[0]["data"]["image/png"]  # the figure itself is in the Output widget's state
    target.value = "Bonjour le monde !"
    assert box.figure.axes[2].images[0].get_array().shape == (n, m)
    assert len(out.outputs) == 1 and out.outputs[0]["data"]["image/png"] != first_png
    out.outputs = ({"output_type": "display_data", "data": {"text/plain": "the old figure"}, "metadata": {}},)
    source.value = ""
    assert "不能为空" in message.value
    assert box.figure is None and out.outputs == ()  # no stale figure next to the error

    source.value = "Hello World!"
    assert not message.value and box.figure is not None


def test_mask_explorer_refuses_a_huge_text_before_drawing(t5):
    _, tok = t5
    with pytest.raises(ValueError, match="最多 64 个"):
        mask_explorer(tok, "Hello world. " * 20000, "Bonjour")
    box = mask_explorer(tok, "Hello", "Bonjour", interactive=True)
    source, target, message, out = box.children
    source.value = "Hello world. " * 20000
    assert "最多 64 个" in message.value and box.figure is None

def test_lone_space_tokens_get_a_visible_tick_label(t5):
    _, tok = t5
    space = tok.convert_tokens_to_ids("▁")
    assert token_label(tok, space).isspace()  # T5's lone "▁": blank text on its own
    text = "Bonjour le monde ! Comment ça va ?"
    ids = tok.encode(text, add_special_tokens=False)
    assert space in ids
    fig = mask_explorer(tok, text, text)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(labels) == len(ids) and "␣" in labels
    assert all(label.strip() for label in labels)



def test_mask_explorer_draws_dollar_signs_as_text(gpt2):
    """'It costs $$ here' used to raise a mathtext ParseException when the figure was drawn."""
    fig = mask_explorer(None, "It costs $$ here", "y")
    fig.canvas.draw()
    _, tok = gpt2
    fig = mask_explorer(tok, "It costs $5 and $6 $$", "a $x^$ b")
    fig.canvas.draw()
    assert any("$" in t.get_text() for t in fig.axes[0].get_xticklabels())


@pytest.mark.parametrize("source, target, what", [(None, "y", "source"), ("x", 3, "target")])
def test_mask_explorer_says_what_to_pass(t5, source, target, what):
    _, tok = t5
    for interactive in (False, True):
        with pytest.raises(TypeError, match=f"{what} 应是一句话"):
            mask_explorer(tok, source, target, interactive=interactive)


def test_rerunning_an_interactive_explorer_cell_frees_the_previous_one(t5):
    """100 interactive explorers used to add 160 MB: each re-run of the cell now closes the one before."""
    _, tok = t5
    for run in range(10):
        box = mask_explorer(tok, "Hello", "Bonjour", interactive=True)  # the same line: a re-run cell
        if run == 0:
            first, before = box, open_widgets()
    assert open_widgets() == before
    assert first.figure is None and first.comm is None and box.figure is not None
    box.close()
    assert open_widgets() < before


# ----- KV-cache timing -----------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["gpt2", "t5-base"])
def test_kv_cache_timing_returns_two_series(tiny_models, arch):
    model, tok = tiny_models[arch]
    enc_dec = model.config.is_encoder_decoder
    result = kv_cache_timing(model, tok, "" if enc_dec else "Hello world, how are you",
                             encoder_input=SOURCE if enc_dec else None, max_new_tokens=5)
    assert len(result.naive_ms) == len(result.cached_ms) == len(result.positions) == 5
    assert all(t > 0 for t in result.naive_ms + result.cached_ms)
    assert result.positions == list(range(result.positions[0], result.positions[0] + 5))
    ax = result.figure.axes[0]
    assert len(ax.lines) == 2 and "cpu" in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert type(model).__name__ in ax.get_title()


def test_measuring_and_plotting_are_separate(gpt2, monkeypatch):
    """The naive series times the lesson's own loop (decoding.naive_generate), once per repeat."""
    model, tok = gpt2
    calls = []
    real = figures.naive_generate
    monkeypatch.setattr(figures, "naive_generate", lambda *a, **k: calls.append(k) or real(*a, **k))
    result = measure_kv_cache(model, tok, "Hello world", max_new_tokens=4, repeats=2)
    assert result.figure is None and len(calls) == 2 and calls[0]["max_new_tokens"] == 4
    assert len(result.naive_ms) == 4 and result.positions[0] == len(tok.encode("Hello world"))
    fig = plot_kv_cache_timing(result)
    assert [list(line.get_xdata()) for line in fig.axes[0].lines] == [result.positions] * 2
    assert list(fig.axes[0].lines[0].get_ydata()) == result.naive_ms
    ticks = []
    monkeypatch.setattr(figures, "clock", lambda device: ticks.append(device) or 0.0)
    model(input_ids=torch.tensor([[1, 2]]))
    assert not ticks  # the timing hooks are gone after the measurement


def test_kv_cache_timing_checks_its_arguments(gpt2):
    model, tok = gpt2
    with pytest.raises(ValueError, match="上下文长度"):
        kv_cache_timing(model, tok, "Hello", max_new_tokens=500, plot=False, max_positions=None)
    with pytest.raises(ValueError, match="repeats"):
        kv_cache_timing(model, tok, "Hello", max_new_tokens=3, repeats=0, plot=False)
    with pytest.raises(ValueError, match="提示词是空的"):
        kv_cache_timing(model, tok, "", max_new_tokens=3, plot=False)


def test_kv_cache_timing_bounds_the_quadratic_naive_loop(t5):
    """max_new_tokens=250 used to run 118 s with no progress: now refused up front, with the way out."""
    model, tok = t5  # no context limit: only the work bound stops it
    with pytest.raises(ValueError, match="max_positions=None") as err:
        kv_cache_timing(model, tok, encoder_input="Hello", max_new_tokens=250, plot=False)
    assert "max_new_tokens" in str(err.value)
    with pytest.raises(ValueError, match="repeats"):  # repeats multiply the work
        kv_cache_timing(model, tok, encoder_input="Hello", max_new_tokens=60, repeats=20, plot=False)


def test_kv_cache_timing_shows_progress_when_asked_or_when_long(gpt2, capsys):
    model, tok = gpt2
    kv_cache_timing(model, tok, "Hello world", max_new_tokens=4, plot=False)
    assert "kv_cache_timing" not in capsys.readouterr().err  # small runs (the lesson's) stay quiet
    result = kv_cache_timing(model, tok, "Hello world", max_new_tokens=4, plot=False, progress=True)
    assert "kv_cache_timing" in capsys.readouterr().err and len(result.naive_ms) == 4
    result = kv_cache_timing(model, tok, "Hello world", max_new_tokens=3, plot=False, max_positions=None)
    assert len(result.cached_ms) == 3


# ----- tables --------------------------------------------------------------------------------------

def test_table_renders_html_and_aligned_text():
    t = table(["#", "提示词", "输出"], [[1, "<b>x</b>", None], [2, "a\nb", "中文" * 30]], width=12)
    html = t._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "a<br>b" in html and html.count("<tr>") == 3
    lines = repr(t).splitlines()
    assert len(lines) == 4 and lines[1].startswith("--")
    second_bar = [figures.display_width(line[: line.index(" | ", 2)]) for line in (lines[0], lines[3])]
    assert second_bar[0] == second_bar[1], "CJK text counts two columns, so columns line up"
    assert lines[2] == "1 | <b>x</b> |", "an empty last cell leaves no trailing blanks"
    assert "…" in lines[3] and "a⏎b" in lines[3]


@pytest.mark.parametrize("headers, rows, error, words", [
    (["#", "输出"], [[1, "a"], [2]], ValueError, "第 2 行有 1 格，表头有 2 列"),  # used to be an IndexError at display
    (["#"], [[1, "a"]], ValueError, "第 1 行有 2 格"),
    (["#"], ["abc"], ValueError, "第 1 行是 str"),
    (None, [[1]], TypeError, "表头应是一个非空的列表"),  # used to be "TypeError: 'NoneType' object is not iterable"
    (["#"], None, TypeError, "rows 应是由行组成的列表"),
])
def test_table_refuses_bad_shapes_in_chinese(headers, rows, error, words):
    with pytest.raises(error, match=words):
        repr(table(headers, rows))


# ----- the shipped Chinese font --------------------------------------------------------------------

FONT_CHECK = textwrap.dedent("""
    import io, sys
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    # No system font at all: only the fonts inside matplotlib (DejaVu, STIX, ...) stay visible.
    data = matplotlib.get_data_path()
    font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist if f.fname.startswith(data)]
    assert not any("CJK" in f.name or "Hei" in f.name for f in font_manager.fontManager.ttflist)
    from matplotlib.font_manager import FontProperties, findfont
    from dli_seq import figures
    found = findfont(FontProperties(family=figures.CJK_FAMILY), fallback_to_default=False)
    assert found == str(figures.FONT_FILE), found
    fig = figures.mask_explorer(None, "编码器 读 整句", "解码器 写")
    fig.savefig(io.BytesIO(), format="png")  # -W error: a missing glyph would raise here
    result = figures.plot_kv_cache_timing(figures.TimingResult([1, 2], [1.0, 2.0], [1.0, 1.0], "cpu", "GPT2LMHeadModel"))
    result.savefig(io.BytesIO(), format="png")
    from matplotlib.ft2font import FT2Font
    font = FT2Font(found)
    labels = [t.get_text() for ax in fig.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label)]
    missing = {ch for text in labels for ch in text if ord(ch) > 0x2E7F and font.get_char_index(ord(ch)) == 0}
    assert not missing, missing
    print("OK", len(labels))
""")


def test_chinese_figures_render_with_the_shipped_font_only(tmp_path):
    """A fresh matplotlib (empty MPLCONFIGDIR), no system CJK font, warnings as errors: no tofu, no warning."""
    env = {"MPLCONFIGDIR": str(tmp_path / "mpl"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-W", "error", "-c", FONT_CHECK], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr[-3000:]


def test_the_shipped_font_is_small_licensed_and_covers_the_lesson():
    from fontTools.ttLib import TTFont

    assert figures.FONT_FILE.is_file() and figures.FONT_FILE.stat().st_size < 2_200_000
    assert "SIL OPEN FONT LICENSE Version 1.1" in (figures.FONT_FILE.parent / "LICENSE-OFL.txt").read_text()
    cmap = TTFont(str(figures.FONT_FILE))["cmap"].getBestCmap()
    used = {ch for path in [*ROOT.glob("dli_seq/*.py"), *ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("tools/*.py")]
            for ch in path.read_text(encoding="utf-8") if "\u4e00" <= ch <= "\u9fff"}
    assert used and not {ch for ch in used if ord(ch) not in cmap}
    assert all(ord(ch) in cmap for ch in "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会")


def test_no_notebook_output_warns_about_missing_glyphs():
    for path in sorted(ROOT.glob("notebooks/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            text = json.dumps(cell.get("outputs", []), ensure_ascii=False)
            assert "missing from font" not in text and "Glyph" not in text, f"{path.name}: a glyph warning"


def test_token_labels_of_the_t5_tokenizer_are_visible(t5):
    _, tok = t5
    assert token_label(tok, tok.eos_token_id) == "</s>"
