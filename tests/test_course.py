"""``make course`` (dli_seq.course): bad input is reported clearly, and the HTML pages can be handed out.

Most tests are pure functions; two run a real kernel on tiny notebooks written here (a few
seconds each), never the lesson notebooks (nbval and the browser test cover those).
"""

from __future__ import annotations

import base64
import re
import sys

import nbformat
import pytest

from dli_seq import course
from dli_seq.messages import STANDIN_NOTE

PNG = base64.b64decode(  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_timeout_must_be_positive(capsys):
    for bad in ("0", "-5", "soon"):
        with pytest.raises(SystemExit) as exit_info:
            course.main(["--timeout", bad])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "--timeout" in err and ("more than 0" in err or "whole number" in err)


def test_out_is_checked_before_anything_runs(tmp_path, capsys, monkeypatch):
    nb = _notebook(tmp_path / "a.ipynb", nbformat.v4.new_code_cell("print(1)"))
    monkeypatch.setattr(course.runner, "run_notebook", lambda *a, **k: pytest.fail("a notebook ran"))
    a_file = tmp_path / "build.txt"
    a_file.write_text("not a folder")
    for out in (a_file, a_file / "sub"):
        assert course.main(["--notebooks", str(nb), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}" in err and "give" in err
        assert "Traceback" not in err and "FileExistsError" not in err


def test_merge_streams_joins_neighbours_of_the_same_name():
    outs = [nbformat.v4.new_output("stream", name="stdout", text="Take US-101 nor"),
            nbformat.v4.new_output("stream", name="stdout", text="th; it"),
            nbformat.v4.new_output("stream", name="stderr", text="warn\n"),
            nbformat.v4.new_output("stream", name="stdout", text="a"),
            nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
            nbformat.v4.new_output("stream", name="stdout", text="b")]
    merged = course.merge_streams(outs)
    assert [o.get("text") for o in merged] == ["Take US-101 north; it", "warn\n", "a", None, "b"]


def test_math_becomes_mathml_and_code_is_left_alone():
    md = "Shape $n \\times m$, cost \\$5, `$HOME` stays.\n\n$$\nQ = H W_Q\n$$\n```\necho $x$\n```"
    out = course.markdown_math_to_mathml(md)
    assert out.count("<math") == 2 and 'display="block"' in out and 'display="inline"' in out
    assert "\\$5" in out and "`$HOME`" in out and "echo $x$" in out
    assert "$n" not in out and "$$" not in out.split("```")[0]


def test_local_images_are_embedded(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "f.png").write_bytes(PNG)
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    md = ('![图](../imgs/f.png)\n<div><img src="../imgs/f.png" width="9"/></div>\n'
          "![web](https://example.org/x.png) ![gone](../imgs/missing.png) `![code](../imgs/f.png)`")
    out = course.embed_local_images(md, nbdir)
    assert out.count("data:image/png;base64,") == 2 and 'alt="图"' in out and 'width="9"' in out
    assert "https://example.org/x.png" in out and "../imgs/missing.png" in out and "`![code](../imgs/f.png)`" in out


def test_widget_snapshot_is_html_not_a_repr():
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_h", "IPY_MODEL_b", "IPY_MODEL_gone",
                                                                  "IPY_MODEL_o", "IPY_MODEL_c"]}},
        "h": {"model_name": "HTMLModel", "state": {"value": "<b>就绪</b>"}},
        "b": {"model_name": "ButtonModel", "state": {"description": "单步"}},
        "gone": {"model_name": "ButtonModel", "state": {"description": "hidden", "layout": "IPY_MODEL_l"}},
        "l": {"model_name": "LayoutModel", "state": {"display": "none"}},
        "o": {"model_name": "OutputModel", "state": {"outputs": [
            {"output_type": "display_data", "data": {"image/png": "AAAA", "text/plain": "<Figure>"}}]}},
        "c": {"model_name": "CheckboxModel", "state": {"description": "贪心搜索", "value": True}},
    }
    page = course.widget_html("IPY_MODEL_box", state)
    assert "<b>就绪</b>" in page and "单步</button>" in page and "hidden" not in page
    assert "data:image/png;base64,AAAA" in page and "checked" in page and "贪心搜索" in page
    assert "VBox(" not in page and "<Figure>" not in page


def test_the_summary_and_the_page_name_each_models_source(tmp_path, monkeypatch, capsys):
    """The probe reads models.source_of (set by models.load), not a guess from the folder's path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    _notebook(tmp_path / "m.ipynb", nbformat.v4.new_code_cell(
        "from dli_seq import models\nmodel, tok = models.load('gpt2', device='cpu', quiet=True)\n"
        "from transformers import GPT2Config, GPT2LMHeadModel\n"
        "other = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10))\n"
        "other.config._name_or_path = 'mine'\n"
        "body = model.transformer  # a part of a model is not counted as a model of its own"))
    assert course.main(["--notebooks", "m.ipynb", "--out", "out", "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"m\.ipynb .*gpt2: stand-in, mine: other .* ok", out) and "standins/gpt2" not in out
    page = (tmp_path / "out" / "m.html").read_text(encoding="utf-8")
    assert STANDIN_NOTE in page and "不是由 dli_seq.models.load 加载的" in page


def test_probe_answers_are_read_back():
    text = course.runner.PROBE_MARK + ' [["gpt2", "hub"], ["t5-base", "hub-cache"]]\n'
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    assert course.probe_models(outputs) == ["gpt2: hub", "t5-base: hub-cache"]
    assert course.probe_models([nbformat.v4.new_output("stream", name="stdout", text="nothing")]) == []


def test_course_page_reads_offline_and_bad_notebooks_are_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "f.png").write_bytes(PNG)
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    (nbdir / "00_broken.ipynb").write_text("{not json", encoding="utf-8")
    _notebook(nbdir / "01_good.ipynb",
              nbformat.v4.new_markdown_cell("公式 $p_i = e^{z_i}$，图：\n\n![图](../imgs/f.png)"),
              nbformat.v4.new_code_cell(
                  "import sys, time\nfor part in ('Take US-101 nor', 'th; it'):\n"
                  "    print(part, end='', flush=True); time.sleep(0.2)"),
              nbformat.v4.new_code_cell(
                  "import ipywidgets as W\nW.VBox([W.HTML('<i>就绪</i>'), W.Button(description='单步')])"))
    code = course.main(["--notebooks", "notebooks/*.ipynb", "--out", "out", "--timeout", "120"])
    printed = capsys.readouterr()
    assert code == 1
    assert re.search(r"00_broken\.ipynb +0 .*FAILED +not a valid notebook \(NotJSONError", printed.out)
    assert re.search(r"01_good\.ipynb +2 .* ok", printed.out)
    page = (tmp_path / "out" / "01_good.html").read_text(encoding="utf-8")
    assert "<math" in page and "$p_i" not in page
    assert "data:image/png;base64," in page and "../imgs/" not in page
    assert "Take US-101 north; it" in page
    assert "dli-widget-snapshot" in page and "单步</button>" in page and "<i>就绪</i>" in page
    assert "VBox(children" not in page
    assert not re.search(r"<script[^>]+src=", page), "the page must not load scripts"
    executed = nbformat.read(tmp_path / "out" / "01_good.ipynb", as_version=4)
    assert len(executed.cells) == 3 and len(executed.cells[1].outputs) == 1  # probe removed, streams merged


def test_a_timeout_leaves_no_kernel_traceback_in_the_terminal(tmp_path, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _notebook(tmp_path / "slow.ipynb", nbformat.v4.new_code_cell("import time\ntime.sleep(30)"))
    assert course.main(["--notebooks", "slow.ipynb", "--out", "out", "--timeout", "1"]) == 1
    printed = capfd.readouterr()
    assert "CellTimeoutError" in printed.out
    for text in (printed.out, printed.err):
        assert "Traceback" not in text and "ZMQError" not in text


def test_kernels_get_one_thread_unless_told(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert course.kernel_env()["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert course.kernel_env()["OMP_NUM_THREADS"] == "4"


def test_clean_notebooks_merges_split_streams_in_stored_notebooks(tmp_path):
    import importlib.util
    from pathlib import Path

    tool = Path(__file__).resolve().parents[1] / "tools" / "clean_notebooks.py"
    spec = importlib.util.spec_from_file_location("clean_notebooks_for_course_test", tool)
    cleaner = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = cleaner  # dataclasses need the module registered
    spec.loader.exec_module(cleaner)
    cell = nbformat.v4.new_code_cell("stream()", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="Take US-101 nor"),
        nbformat.v4.new_output("stream", name="stdout", text="th; it")])
    path = _notebook(tmp_path / "split.ipynb", cell)
    assert any("would be rewritten" in line and "stream output(s) merged" in line
               for line in cleaner.process(path, check=True))
    cleaner.process(path)
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [o.text for o in outputs] == ["Take US-101 north; it"]
    assert cleaner.process(path, check=True) == []


def test_parallel_jobs_only_when_every_model_is_a_stand_in(monkeypatch):
    monkeypatch.setattr(course.runner.os, "cpu_count", lambda: 2)
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    assert course.default_jobs() == 3  # one more than the cores: a kernel also waits
    monkeypatch.setenv("DLI_SEQ_MODELS", "hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("DLI_SEQ_MODEL_DIR", "")
    assert course.default_jobs() == 1  # hub models (or an error to report): one at a time
    monkeypatch.setattr(course.runner.os, "cpu_count", lambda: 1)
    monkeypatch.setenv("DLI_SEQ_MODELS", "offline")
    assert course.default_jobs() == 1


# ---- stopping a run: Ctrl-C, a second Ctrl-C, SIGTERM; --out over the notebooks --------------

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def _running(pid):
    """True while ``pid`` runs (read from /proc: an ended process, or a zombie, is not running)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _descendants(root):
    """Every live descendant of ``root``, from /proc (no psutil needed)."""
    children = {}
    for entry in __import__("os").listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    children.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError):
                pass
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _start_course(tmp_path, names=("a", "b"), jobs=1):
    """``python -m dli_seq.course`` on sleeping notebooks in its own session; returns it once the first kernel runs.

    Each notebook writes ``started-<name>`` (its kernel's pid) and then sleeps a minute.
    """
    import os
    import subprocess
    import time

    for name in names:
        _notebook(tmp_path / f"{name}.ipynb", nbformat.v4.new_code_cell(
            f"import os, pathlib, time\npathlib.Path('started-{name}').write_text(str(os.getpid()))\ntime.sleep(60)"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "DLI_SEQ_MODELS": "offline"}
    runner = subprocess.Popen(
        [sys.executable, "-m", "dli_seq.course", "--notebooks", "*.ipynb", "--out", "out", "--jobs", str(jobs),
         "--timeout", "120"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    deadline = time.monotonic() + 90
    first = tmp_path / f"started-{names[0]}"
    while not (first.is_file() and first.read_text()) and time.monotonic() < deadline and runner.poll() is None:
        time.sleep(0.1)
    assert first.is_file(), runner.communicate(timeout=30)
    tree = _descendants(runner.pid)
    kernel = int(first.read_text())
    assert kernel in tree  # the kernel is the runner's grandchild: the test sees the whole tree
    return runner, tree


def _assert_all_ended(pids, within=10.0):
    import time

    deadline = time.monotonic() + within
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _running(pid)], "a worker or kernel outlived the runner"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_ctrl_c_stops_at_once_reports_what_ran_and_ends_every_kernel(tmp_path):
    import os
    import signal

    runner, tree = _start_course(tmp_path)
    kernel = int((tmp_path / "started-a").read_text())
    with open(f"/proc/{kernel}/cmdline", "rb") as cmdline:
        args = cmdline.read().split(b"\0")
    connection = __import__("pathlib").Path(os.fsdecode(args[args.index(b"-f") + 1]))
    assert connection.is_file()
    os.killpg(runner.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    out, err = runner.communicate(timeout=30)
    assert not connection.exists()  # the kernel was shut down, not just left
    assert runner.returncode == 130, (out, err)
    assert re.search(r"a\.ipynb .* INTERRUPTED", out) and re.search(r"b\.ipynb .* NOT STARTED", out)
    assert not (tmp_path / "started-b").exists()  # the queued notebook never started
    for text in (out, err):
        assert "Traceback" not in text and "AssertionError" not in text and "FAILED" not in text
    _assert_all_ended(tree)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_a_second_ctrl_c_exits_at_once_and_leaves_nothing_behind(tmp_path):
    import os
    import signal

    runner, tree = _start_course(tmp_path, jobs=2)
    os.killpg(runner.pid, signal.SIGINT)
    os.killpg(runner.pid, signal.SIGINT)
    out, err = runner.communicate(timeout=30)
    assert runner.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    _assert_all_ended(tree)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_sigterm_leaves_no_worker_or_kernel_behind(tmp_path):
    import os
    import signal

    runner, tree = _start_course(tmp_path)
    os.kill(runner.pid, signal.SIGTERM)  # the runner only, as a process manager would
    out, err = runner.communicate(timeout=30)
    assert runner.returncode == 143, (out, err)
    assert "Traceback" not in err
    _assert_all_ended(tree)


def test_out_over_the_notebooks_folder_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    for path in ("notebooks/04-1_x.ipynb", "notebooks/solutions/04-1_x.ipynb"):
        _notebook(tmp_path / path, nbformat.v4.new_code_cell("print(1)"))
    monkeypatch.setattr(course.runner, "run_all", lambda *a, **k: pytest.fail("a notebook ran"))
    for notebooks, out in (("notebooks/*.ipynb", "notebooks"), ("notebooks/**/*.ipynb", "notebooks"),
                           ("notebooks/solutions/*.ipynb", "notebooks/solutions"),
                           ("notebooks/**/*.ipynb", "notebooks/solutions/.."),
                           ("notebooks/solutions/*.ipynb", "notebooks")):  # the copy would land on the lesson
        before = sorted(p.name for p in tmp_path.rglob("*"))
        assert course.main(["--notebooks", notebooks, "--out", out]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}" in err and "overwrite" in err and "Give another folder" in err
        assert sorted(p.name for p in tmp_path.rglob("*")) == before
