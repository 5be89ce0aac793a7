"""The committed notebooks of the course (4.1-4.5 and solutions) are clean and end the same way.

Each notebook is checked with ``tools/clean_notebooks.py --check``'s logic (no pending
normalisation, no absolute paths, tracebacks, stderr warnings or ANSI codes). The checker
itself is tested on a deliberately dirty notebook, so this file tests something even before
the notebooks exist. Fix a failing notebook with ``python tools/clean_notebooks.py`` and by
re-running the offending cells.
"""

from __future__ import annotations

import base64
import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
SANITIZE_CFG = Path(__file__).resolve().parent / "nbval_sanitize.cfg"


def _load_checker():
    spec = importlib.util.spec_from_file_location("clean_notebooks", ROOT / "tools" / "clean_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


clean_notebooks = _load_checker()

NOTEBOOKS = clean_notebooks.default_notebooks(NOTEBOOK_DIR)
# The lesson notebooks: the same set `make course` runs (dli_seq.course.DEFAULT_PATTERNS).
LESSON_NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("04-*.ipynb")) + sorted((NOTEBOOK_DIR / "solutions").glob("*.ipynb"))


def _ids(paths):
    return [str(p.relative_to(NOTEBOOK_DIR)) for p in paths]


def _params(paths):
    if paths:
        return {"argvalues": paths, "ids": _ids(paths)}
    return {"argvalues": [pytest.param(None, marks=pytest.mark.skip(reason="no notebooks under notebooks/ yet"))]}


# --- the committed notebooks -------------------------------------------------------------------

@pytest.mark.parametrize("path", **_params(NOTEBOOKS))
def test_notebook_is_clean(path):
    findings = clean_notebooks.process(path, check=True)
    assert not findings, ("\n".join(findings)
                          + "\n(run `python tools/clean_notebooks.py` and re-run the cells that report problems)")


@pytest.mark.parametrize("path", **_params(NOTEBOOKS))
def test_figures_travel_with_the_notebook(path):
    """A notebook opened on its own (copied, downloaded, in a wheel) still shows its figures:
    each is a cell attachment equal to the current imgs/ file, and nothing links ../imgs."""
    nb = nbformat.read(path, as_version=4)
    links = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and re.search(r"\bimgs/", c.source)]
    assert not links, f"{path.name}: markdown cell(s) {links} link imgs/: run `python tools/clean_notebooks.py`"
    for i, cell in enumerate(nb.cells):
        for name, data in (cell.get("attachments") or {}).items():
            figure = ROOT / "imgs" / name
            assert figure.is_file(), f"{path.name}: cell {i} carries {name}, which is not a figure in imgs/"
            assert base64.b64decode(data["image/png"]) == figure.read_bytes(), (
                f"{path.name}: cell {i}: attachment {name} differs from imgs/{name}: run `python tools/clean_notebooks.py`")
            assert f"attachment:{name}" in cell.source, f"{path.name}: cell {i} carries {name} but does not show it"


def test_every_figure_is_shown_by_some_lesson():
    shown = {name for path in NOTEBOOKS for cell in nbformat.read(path, as_version=4).cells
             for name in (cell.get("attachments") or {})}
    assert shown == {p.name for p in (ROOT / "imgs").glob("*.png")}


KERNEL_KILLERS = re.compile(r"do_shutdown\(|os\._exit\(|sys\.exit\(|\bexit\(\)|quit\(\)|kernel\.shutdown|restart_kernel")


@pytest.mark.parametrize("path", **_params(NOTEBOOKS))
def test_run_all_cannot_end_the_kernel(path):
    """Run > Run All Cells in JupyterLab runs every code cell, whatever its tags: none may end the kernel."""
    nb = nbformat.read(path, as_version=4)
    killers = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and KERNEL_KILLERS.search(c.source)]
    assert not killers, f"{path.name}: code cell(s) {killers} would shut down or restart the kernel during Run All"


@pytest.mark.parametrize("path", **_params(sorted(NOTEBOOK_DIR.glob("04-*.ipynb"))))
def test_lesson_ends_by_pointing_at_the_kernel_menu(path):
    nb = nbformat.read(path, as_version=4)
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "**内核 → 关闭内核**" in last.source, (
        f"{path.name}: the last cell should tell the learner to free memory with **内核 → 关闭内核** "
        "(Kernel → Shut Down Kernel, as JupyterLab's Chinese language pack names it)")


# --- one voice across 4.1-4.5 (notebooks/INSTRUCTORS.md: glossary and conventions) ------------

SOLUTION_NOTEBOOKS = sorted((NOTEBOOK_DIR / "solutions").glob("*.ipynb"))
LESSONS = sorted(NOTEBOOK_DIR.glob("04-*.ipynb"))
# Code spans, fenced code, math, HTML tags and link targets: ASCII is right there.
_NOT_PROSE = re.compile(r"(```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|<[^>\n]+>|\]\([^)\n]*\))", re.S)
# Words of one authorial voice replaced by the other (VOICE: 本节 / “4.2 节”, 停止字符串, ...), and
# arguments with a lesson the learner never saw (those live in notebooks/INSTRUCTORS.md).
_OFF_VOICE = ("本篇", "下一篇", "本 notebook", "停止串", "原课程", "原版", "隐藏状态", "补齐", "结束符", "起始符",
              "停止 token", "PREFILL", "DECODE", "层归一化")


def _section(path: Path) -> str:
    return path.name[:4].replace("0", "", 1).replace("-", ".")  # "04-2_..." -> "4.2"


def _prose(nb) -> list[tuple[int, str]]:
    return [(i, _NOT_PROSE.sub(" ", c.source)) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", **_params(NOTEBOOKS))
def test_prose_quotes_are_chinese(path):
    nb = nbformat.read(path, as_version=4)
    # 「」 only around Japanese (text with kana), as d2l-zh's style guide has it.
    bad = [i for i, text in _prose(nb) if '"' in text or "「" in re.sub(r"「[^」]*[\u3040-\u30ff][^」]*」", "", text)]
    assert not bad, f"{path.name}: markdown cell(s) {bad} use ASCII quotes (or 「」 around non-Japanese) in prose; write “…”"


@pytest.mark.parametrize("path", **_params(NOTEBOOKS))
def test_one_voice(path):
    nb = nbformat.read(path, as_version=4)
    found = [(i, word) for i, text in _prose(nb) for word in _OFF_VOICE if word in text]
    assert not found, f"{path.name}: {found} (see the conventions in notebooks/INSTRUCTORS.md)"
    emoji = [i for i, c in enumerate(nb.cells) if "❌" in nbformat.writes(nbformat.v4.new_notebook(cells=[c]))
             or "✅" in nbformat.writes(nbformat.v4.new_notebook(cells=[c]))]
    assert not emoji, f"{path.name}: cell(s) {emoji} use emoji ❌/✅ (no emoji font in the lab): use ✗/✓"


def test_checks_speak_with_check_marks_not_emoji():
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "dli_seq" / "exercises").glob("*.py"))
    assert "❌" not in source and "✅" not in source


@pytest.mark.parametrize("path", **_params(LESSONS))
def test_lesson_headings_are_numbered_by_section(path):
    nb = nbformat.read(path, as_version=4)
    section = _section(path)
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("#")]
    assert headings[0].startswith(f"# {section} "), f"{path.name}: the title should be '# {section} …'"
    assert "### 学习目标" in headings and "学完本节，你应该能够：" in nb.cells[0].source, (
        f"{path.name}: the first cell should have '### 学习目标' and '学完本节，你应该能够：' with a numbered list")
    numbered, named = [], []
    for line in headings[1:]:
        if line.startswith("## "):
            title = line[3:].strip()
            match = re.match(rf"{re.escape(section)}\.(\d+) \S", title)
            if match:
                numbered.append(int(match.group(1)))
            else:
                assert title in ("准备", "小结", "练习"), f"{path.name}: '{line}' should be '## {section}.N 标题'"
                named.append(title)
        elif line.startswith("### "):
            assert not re.match(r"### +(\d|\()", line), f"{path.name}: '{line}': ### headings are unnumbered"
        else:
            assert line.startswith(("# ", "## ", "### ")), f"{path.name}: '{line}'"
    assert numbered == list(range(1, len(numbered) + 1)), f"{path.name}: sections numbered {numbered}"
    assert named[-1:] in (["小结"], ["练习"]) and (named.index("小结") < named.index("练习") if "练习" in named else True), (
        f"{path.name}: '## 练习' comes after '## 小结' (d2l-zh order)")


@pytest.mark.parametrize("path", **_params(SOLUTION_NOTEBOOKS))
def test_solution_headings(path):
    nb = nbformat.read(path, as_version=4)
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("#")]
    assert headings[0] == f"# {_section(path)} 练习参考答案"
    assert all(re.match(r"## 练习 \d+：\S", h) for h in headings if h.startswith("## ")), headings


# Every exercise of 4.1-4.5, by the check that grades it; the lesson and its solutions both run it.
EXERCISE_CHECKS = {
    "4.1": ["check_alignment", "check_languages"],
    "4.2": ["check_sampling_prediction", "check_pick_next", "check_long_prompt"],
    "4.3": ["check_cross_attention_shape", "check_causal_mask_quiz", "check_swapped_shape"],
    "4.4": ["check_encoder_decoder_loop"],
    "4.5": ["check_flan_one_shot", "check_flan_decoder_only", "check_phi_one_shot"],
}


@pytest.mark.parametrize("path", **_params(LESSONS))
def test_every_exercise_has_a_check_cell_and_a_solution(path):
    from dli_seq import exercises

    section = _section(path)
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    numbers = sorted({int(n) for n in re.findall(r"(?:\*\*练习 |### 练习 )(\d+)：", text)})
    checks = EXERCISE_CHECKS[section]
    assert numbers == list(range(1, len(checks) + 1)), f"{path.name}: exercises {numbers}, checks {checks}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    solutions_path = NOTEBOOK_DIR / "solutions" / f"{path.name[:4]}_solutions.ipynb"
    assert solutions_path.is_file(), f"{path.name}: no {solutions_path.name}"
    assert f"solutions/{solutions_path.name}" in text, f"{path.name}: link the solutions"
    solutions = nbformat.read(solutions_path, as_version=4)
    solution_code = "\n".join(c.source for c in solutions.cells if c.cell_type == "code")
    solution_text = "\n".join(c.source for c in solutions.cells if c.cell_type == "markdown")
    for number, check in enumerate(checks, start=1):
        assert callable(getattr(exercises, check)), check
        assert f"exercises.{check}(" in code, f"{path.name}: exercise {number} has no check cell ({check})"
        assert f"exercises.{check}(" in solution_code, f"{solutions_path.name}: exercise {number} not checked"
        assert f"## 练习 {number}：" in solution_text, f"{solutions_path.name}: no '## 练习 {number}：'"


def test_the_instructors_note_is_linked_and_has_the_glossary():
    note = NOTEBOOK_DIR / "INSTRUCTORS.md"
    assert "notebooks/INSTRUCTORS.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    text = note.read_text(encoding="utf-8")
    assert "## Glossary (术语表)" in text and "## Conventions" in text and "Running a workshop offline" in text


# --- the checker itself ------------------------------------------------------------------------

def _clean_notebook():
    nb = new_notebook(cells=[
        new_markdown_cell("# 4.2 GPT 风格的生成\n\nSee https://huggingface.co/home/docs and $f:\\mathbb{R}\\to\\mathbb{R}$."),
        new_code_cell("print('hello')", outputs=[new_output("stream", name="stdout", text="hello\n")]),
        new_code_cell("x = 1"),
        new_code_cell("1 + 1", outputs=[new_output("execute_result", data={"text/plain": "2"})]),
        new_code_cell("x = 2", metadata={"tags": ["skip-execution", "nbval-skip"]}),
    ])
    nb.metadata = {"kernelspec": dict(clean_notebooks.KERNELSPEC), "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    nb.cells[1].execution_count = 1
    nb.cells[3].execution_count = 2
    nb.cells[3].outputs[0].execution_count = 2
    return nb


def _dirty_notebook():
    nb = _clean_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
    nb.metadata["kernelspec"]["display_name"] = "Python 3 (dli-seq)"
    nb.cells[1].execution_count = 7
    nb.cells[1].metadata.update({"execution": {"iopub.status.busy": "2026-01-01T00:00:00Z"},
                                 "ExecuteTime": {"end_time": "x"}, "scrolled": True, "collapsed": False,
                                 "jupyter": {"source_hidden": False}, "tags": ["keep-me"]})
    nb.cells[2].source = "data = open('/work/main/data.txt').read()"
    nb.cells[2].execution_count = 3
    nb.cells[2].outputs = [
        new_output("error", ename="FileNotFoundError", evalue="No such file",
                   traceback=["\x1b[0;31mFileNotFoundError\x1b[0m: No such file"]),
    ]
    nb.cells[3].outputs.append(new_output(
        "stream", name="stderr",
        text="/root/.venv/lib/site.py:3: FutureWarning: `past_key_values` is deprecated\n"))
    nb.cells[3].outputs.append(new_output(
        "stream", name="stdout", text="Traceback (most recent call last):\n  File \"x.py\"\nValueError\n"))
    return nb


def _write(nb, path: Path) -> Path:
    path.write_text(clean_notebooks.dumps(nb), encoding="utf-8")
    return path


def test_checker_passes_a_clean_notebook(tmp_path):
    path = _write(_clean_notebook(), tmp_path / "clean.ipynb")
    assert clean_notebooks.process(path, check=True) == []
    assert clean_notebooks.main(["--check", str(path)]) == 0


def test_checker_reports_each_problem_of_a_dirty_notebook(tmp_path, capsys):
    path = _write(_dirty_notebook(), tmp_path / "dirty.ipynb")
    before = path.read_text(encoding="utf-8")
    findings = clean_notebooks.process(path, check=True)
    report = "\n".join(findings)

    assert path.read_text(encoding="utf-8") == before, "--check must not write"
    assert re.search(r"dirty\.ipynb: would be rewritten .*notebook metadata", report)
    assert "cell 1: metadata execution, ExecuteTime, collapsed, scrolled, jupyter" in report
    assert "cell 2: absolute path '/work/' in source" in report
    assert "cell 2: error output (FileNotFoundError" in report
    assert "cell 2: ANSI escape code in error output" in report
    assert "cell 3: absolute path '/root/' in stderr output" in report
    assert "cell 3: warning in stderr output" in report and "FutureWarning" in report
    assert "cell 3: traceback in stdout output" in report
    assert not any(": cell 0:" in line for line in findings), "URLs and LaTeX are not paths"

    assert clean_notebooks.main(["--check", str(path)]) == 1
    assert "dirty.ipynb: cell 2" in capsys.readouterr().out


def test_cleaning_normalises_metadata_and_counts_and_is_idempotent(tmp_path):
    path = _write(_dirty_notebook(), tmp_path / "dirty.ipynb")
    ids = [c.id for c in nbformat.read(path, as_version=4).cells]
    clean_notebooks.main([str(path)])  # exit 1: output problems remain, but the metadata is fixed
    nb = nbformat.read(path, as_version=4)

    assert nb.metadata == {"kernelspec": clean_notebooks.KERNELSPEC, "language_info": {"name": "python"}}
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert [c.id for c in nb.cells] == ids, "cell ids stay stable"
    assert nb.cells[1].metadata == {"tags": ["keep-me"]}
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2, 3, None]
    assert nb.cells[3].outputs[0].execution_count == 3

    text = path.read_text(encoding="utf-8")
    assert "GPT 风格" in text, "non-ASCII text is written as is"
    findings = clean_notebooks.process(path, check=True)
    assert not any("would be rewritten" in f for f in findings), "cleaning twice changes nothing"


def test_cleaning_gives_missing_cell_ids(tmp_path):
    nb = _clean_notebook()
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(nb, version=4), encoding="utf-8")
    assert any("nbformat 4.4 -> 4.5" in f for f in clean_notebooks.process(path, check=True))
    clean_notebooks.main([str(path)])
    first = [c.id for c in nbformat.read(path, as_version=4).cells]
    assert len(set(first)) == len(first) and all(first)
    assert clean_notebooks.process(path, check=True) == []


def test_cleaning_turns_figure_links_into_attachments_from_imgs(tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    (images / "f.png").write_bytes(b"\x89PNG first")
    (tmp_path / "notebooks").mkdir()
    nb = _clean_notebook()
    nb.cells[0].source = ('# 4.2 图\n\n![图一](../imgs/f.png)\n<div><img src="../imgs/f.png" alt="图二" width="900"/></div>\n'
                          "![web](https://example.org/x.png) ![gone](../imgs/missing.png) `code`")
    clean, changes = clean_notebooks.normalise(nb, folder=tmp_path / "notebooks", images=images)
    cell = clean.cells[0]
    assert cell.source == ("# 4.2 图\n\n![图一](attachment:f.png)\n![图二](attachment:f.png)\n"
                           "![web](https://example.org/x.png) ![gone](../imgs/missing.png) `code`")
    assert base64.b64decode(cell.attachments["f.png"]["image/png"]) == b"\x89PNG first"
    assert "cell 0: figure links -> attachments" in changes
    # the missing figure stays a link, and the checker says so
    assert any("link to ../imgs/missing.png" in str(p) for p in clean_notebooks.find_problems(clean))

    # a figure redrawn in imgs/: the attachment follows it, and only it changes
    (images / "f.png").write_bytes(b"\x89PNG second")
    again, changes = clean_notebooks.normalise(clean, folder=tmp_path / "notebooks", images=images)
    assert changes == ["cell 0: attachment f.png <- imgs/f.png"]
    assert base64.b64decode(again.cells[0].attachments["f.png"]["image/png"]) == b"\x89PNG second"
    assert again.cells[0].source == cell.source
    assert clean_notebooks.normalise(again, folder=tmp_path / "notebooks", images=images)[1] == []


def test_checker_reports_an_attachment_the_cell_lacks():
    nb = _clean_notebook()
    nb.cells[0].source = "![图](attachment:nowhere.png)"
    assert any("attachment(s) nowhere.png" in str(p) for p in clean_notebooks.find_problems(nb))


# --- nbval's sanitizers ------------------------------------------------------------------------

def _sanitize(text: str) -> str:
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(SANITIZE_CFG.read_text(encoding="utf-8")):
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize("raw, expected", [
    ("Wall time: 1.23 s", "Wall time: TIME"),
    ("decode 450ms, generate 12.5 µs per token, 3 seconds", "decode TIME, generate TIME per token, TIME"),
    ("1.2 ms ± 3.4 µs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)",
     "TIME ± TIME per loop (mean ± std. dev. of N-LOOPS, N-LOOPS each)"),
    ("<Model object at 0x7f3a5c2b1e80>", "<Model object at ADDR>"),
    ("loaded from /root/.cache/huggingface/hub/x: ok", "loaded from PATH: ok"),
    ("see https://huggingface.co/home/x", "see https://huggingface.co/home/x"),
    ("device: cuda:0", "device: DEVICE"),
    ("tensor([1, 2], device='cpu')", "tensor([1, 2], device='DEVICE')"),
    ("generate: 50%|█████     | 5/10 [00:01<00:01, 4.20it/s]\ndone", "PROGRESS\ndone"),
    ("3 steps, 12 tokens, 2 sequences", "3 steps, 12 tokens, 2 sequences"),
])
def test_nbval_sanitizers(raw, expected):
    assert _sanitize(raw) == expected


# --- the prose names the step-by-step widget's controls as the widget shows them -----------------

_QUOTED = re.compile(r"“([^”]+)”")
_HTML_TAG = re.compile(r"<[^>]+>")


def _stepper_labels(stepper) -> set[str]:
    """The labels of a GenerationStepper's controls and the names in its info line (not the candidate tokens)."""
    labels, todo = set(), [stepper.widget]
    while todo:
        widget = todo.pop()
        todo.extend(getattr(widget, "children", ()))
        if getattr(widget, "description", "") and widget not in stepper.buttons:  # not the candidate tokens
            labels.add(widget.description)
    # "KV 缓存：<b>4</b> 个位置 · 上一步：..." -> "KV 缓存", "上一步", ...
    labels.update(part.split("：")[0].strip() for part in _HTML_TAG.sub("", stepper.info.value).split("·"))
    return labels - {""}


def test_prose_quotes_the_stepper_controls_by_their_labels(tiny_models):
    """Markdown about GenerationStepper quotes its controls with “…” exactly as the widget labels them."""
    from dli_seq.widgets import GenerationStepper

    labels = set()
    for name, kwargs in (("gpt2", {"prompt": "Hello world,"}), ("t5-base", {"encoder_input": "Hello world!"})):
        model, tokenizer = tiny_models[name]
        stepper = GenerationStepper(model, tokenizer, max_new_tokens=2, **kwargs)
        stepper.step()
        labels |= _stepper_labels(stepper)
    assert {"单步", "重置", "贪心搜索", "KV 缓存"} <= labels, labels  # the collector itself works

    cells = [(path.name, i, c.source) for path in LESSONS for i, c in enumerate(nbformat.read(path, as_version=4).cells)
             if c.cell_type == "markdown" and "GenerationStepper" in c.source]
    assert len(cells) >= 2, "the lessons of 4.2 and 4.4 both describe GenerationStepper"
    for name, i, source in cells:
        quoted = _QUOTED.findall(source)
        assert quoted, f"{name}: cell {i} describes the stepper without quoting a control (“单步”, ...)"
        unknown = [q for q in quoted if q not in labels]
        assert not unknown, f"{name}: cell {i} quotes {unknown}, which the widget does not show; its labels: {sorted(labels)}"
        english = re.findall(r"\*(?:Step|Reset|greedy)\*|KV cache", source)
        assert not english, f"{name}: cell {i} names {english}; the widget's labels are Chinese"
