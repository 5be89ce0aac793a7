"""Run the whole course (sections 4.1-4.5) headless: the instructor's ``make course``.

    python -m dli_seq.course [--notebooks GLOB ...] [--out build] [--timeout 600] [--jobs N]

Every lesson notebook (``notebooks/04-*.ipynb`` in order, then ``notebooks/solutions/*.ipynb``)
is executed with nbclient on the kernel ``python3``, in the notebook's own folder, exactly as a
learner would run it top to bottom. For each notebook the executed copy and a static HTML page
land in ``build/`` (``build/solutions/`` for the solutions), and a summary table says which
notebooks ran cleanly. The exit code is 1 if any notebook failed, 2 if no notebook matched.

Cells tagged ``skip-execution`` are not run; they stay in the executed copy, without outputs.
The environment is passed on, so ``DLI_SEQ_MODELS`` (default ``auto``) decides whether the hub
models or the offline stand-ins are used, and the summary says which one each notebook got.
Notebooks run two at a time when every lesson model is a stand-in (``--jobs`` to choose).
Unless set, ``OMP_NUM_THREADS`` is 1 for the kernels: the lesson's models are small, and on a
small shared machine more threads than free cores only make torch's OpenMP threads thrash.

The HTML pages read without network and can be handed out: figures and images are embedded,
formulas are MathML (converted at build time, no MathJax), widgets show a static snapshot of
their state at the end of the run, and consecutive stream outputs are merged.
"""

from __future__ import annotations

import argparse
import base64
import copy
import glob
import html
import json
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

DEFAULT_PATTERNS = ("notebooks/04-*.ipynb", "notebooks/solutions/*.ipynb")
KERNEL_NAME = "python3"
SKIP_TAG = "skip-execution"

# The "lab" template, minus every <script> it would fetch from a CDN (require.js, MathJax,
# mermaid, the widget manager): formulas are MathML and widgets static HTML by then.
_HTML_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
"""
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Appended to each notebook's run (and removed again): which lesson models the kernel holds.
_PROBE_MARK = "dli-seq-models:"
_PROBE_CELL = f"""\
import sys as _s, json as _j
_t = _s.modules.get("torch")
print({_PROBE_MARK!r}, _j.dumps(sorted({{str(getattr(_v.config, "_name_or_path", "")) for _n, _v in globals().items()
      if not _n.startswith("_") and _t is not None and isinstance(_v, _t.nn.Module) and hasattr(_v, "config")}})))
"""


@dataclass
class NotebookResult:
    """How one notebook of the course (4.1-4.5) went: cells run, seconds, and the first error."""

    notebook: Path
    cells_run: int
    seconds: float
    error: str | None = None
    executed: Path | None = None
    html: Path | None = None
    models: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def find_notebooks(patterns: list[str] | None = None) -> list[Path]:
    """The course's notebooks (4.1-4.5, then the solutions), in the order they should run.

    Each glob (relative to the current folder; ``**`` allowed) is sorted on its own and the
    globs are taken in the order given; a notebook matched twice runs once.
    """
    found: list[Path] = []
    for pattern in patterns or DEFAULT_PATTERNS:
        for name in sorted(glob.glob(pattern, recursive=True)):
            path = Path(name)
            if ".ipynb_checkpoints" in path.parts or not path.is_file():
                continue
            if path.resolve() not in {p.resolve() for p in found}:
                found.append(path)
    return found


def output_stem(notebook: Path, root: Path) -> Path:
    """Where a course notebook's (4.1-4.5) outputs go below ``--out``, without the extension.

    ``notebooks/04-2_gpt.ipynb`` -> ``04-2_gpt``; ``notebooks/solutions/04-5_x.ipynb`` ->
    ``solutions/04-5_x`` (so a solution never overwrites the lesson notebook of the same name).
    """
    try:
        rel = notebook.resolve().relative_to(root)
    except ValueError:
        rel = Path(notebook.name)
    return rel.with_suffix("")


def kernel_env() -> dict[str, str]:
    """The environment for the kernel of each course notebook (4.1-4.5): this one, plus three things.

    The checkout that holds this ``dli_seq`` goes first on ``PYTHONPATH`` (so the notebooks
    import the same helpers as this runner, installed or not), pydevd's frozen-modules
    warning is silenced (it is printed by every kernel start and says nothing about the lesson),
    and torch gets one thread unless ``OMP_NUM_THREADS`` says otherwise (see the module doc).
    """
    env = dict(os.environ)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        parts = [str(checkout)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("OMP_NUM_THREADS", "1")  # small models, maybe busy cores: one thread per kernel
    env.setdefault("MKL_NUM_THREADS", env["OMP_NUM_THREADS"])
    return env


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return str(text).strip()


def _error_line(err: BaseException) -> str:
    """One line that says why a notebook failed (the cell's exception, not nbclient's wrapper)."""
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    if ename:
        return _first_line(f"{ename}: {evalue}") if evalue else ename
    message = _first_line(str(err))
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def model_source(name_or_path: str) -> str:
    """Where a model the course (4.2-4.5) ran came from, as ``"<model>: <source>"``.

    ``name_or_path`` is the model's ``config._name_or_path``, i.e. what ``models.load`` gave
    ``from_pretrained``: a stand-in folder, a folder under ``DLI_SEQ_MODEL_DIR``, a snapshot in
    the Hugging Face cache, or a hub id.
    """
    from .models import REGISTRY

    path = Path(name_or_path)
    for hub_id, spec in REGISTRY.items():
        if path.is_absolute() and path.resolve() == spec.standin_path.resolve():
            return f"{hub_id}: stand-in"
    local = os.environ.get("DLI_SEQ_MODEL_DIR")
    if local and path.is_absolute() and path.resolve().is_relative_to(Path(local).resolve()):
        return f"{path.name.replace('--', '/')}: local folder"
    cached = re.search(r"models--([^/\\]+)[/\\]snapshots[/\\]", name_or_path)
    if cached:
        return f"{cached.group(1).replace('--', '/')}: hub cache"
    if not path.is_absolute():
        return f"{name_or_path}: hub"
    return f"{name_or_path}: folder"


def merge_streams(outputs: list) -> list:
    """Consecutive stream outputs of the same name as one (text never splits mid-word) (4.1-4.5)."""
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                and last.get("name") == output.get("name")):
            last["text"] = _joined(last.get("text", "")) + _joined(output.get("text", ""))
        else:
            merged.append(output)
    return merged


def _joined(text) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)([^$\n]+?)(?<![\\$])\$(?!\$)")


def markdown_math_to_mathml(source: str) -> str:
    """Markdown with its ``$...$`` / ``$$...$$`` formulas as MathML, code left alone (4.1-4.5 pages).

    Browsers draw MathML themselves, so the course pages need neither MathJax nor network.
    A formula the converter cannot read stays as it was.
    """
    from latex2mathml.converter import convert

    def to_mathml(match, display: str) -> str:
        try:
            mathml = convert(match.group(1).strip(), display=display)
        except Exception:  # noqa: BLE001 - keep the TeX, readable as it is
            return match.group(0)
        return mathml.replace("\n", " ")

    parts = _CODE.split(source)
    for i in range(0, len(parts), 2):  # even parts are prose, odd ones code
        text = _DISPLAY_MATH.sub(lambda m: to_mathml(m, "block"), parts[i])
        parts[i] = _INLINE_MATH.sub(lambda m: to_mathml(m, "inline"), text)
    return "".join(parts)


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_HTML_IMAGE = re.compile(r"""(<img\b[^>]*?\bsrc=)(["'])([^"']+)\2""")
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                ".svg": "image/svg+xml"}


def embed_local_images(source: str, folder: Path) -> str:
    """Markdown with its local images (``![alt](../imgs/x.png)``, ``<img src=...>``) as data URIs (4.1-4.5 pages).

    Paths are relative to the notebook's ``folder``; web addresses and missing files stay as they are.
    """
    def data_uri(src: str) -> str | None:
        if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I):  # http:, data:, attachment: ...
            return None
        path = (folder / src).resolve()
        kind = _IMAGE_TYPES.get(path.suffix.lower())
        if kind is None or not path.is_file():
            return None
        return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"

    def markdown_image(m) -> str:
        uri = data_uri(m.group(2))
        return m.group(0) if uri is None else f'<img src="{uri}" alt="{html.escape(m.group(1), quote=True)}"/>'

    def html_image(m) -> str:
        uri = data_uri(m.group(3))
        return m.group(0) if uri is None else f"{m.group(1)}{m.group(2)}{uri}{m.group(2)}"

    parts = _CODE.split(source)
    for i in range(0, len(parts), 2):
        parts[i] = _HTML_IMAGE.sub(html_image, _MD_IMAGE.sub(markdown_image, parts[i]))
    return "".join(parts)


_BOXES = {"VBoxModel": "column", "HBoxModel": "row", "BoxModel": "row", "GridBoxModel": "row"}
_VALUES = {"FloatSliderModel", "IntSliderModel", "BoundedIntTextModel", "BoundedFloatTextModel", "IntTextModel",
           "FloatTextModel", "FloatProgressModel", "IntProgressModel"}


def widget_html(model_id: str, state: dict) -> str:
    """A widget's view at the end of the run as static HTML, from nbclient's widget state (4.2-4.4 pages).

    Boxes become flex rows and columns, HTML widgets keep their HTML, buttons and inputs show
    their label and value (disabled), Output widgets their outputs; hidden children are left out.
    """
    entry = state.get(model_id.removeprefix("IPY_MODEL_"))
    if entry is None:
        return ""
    name, st = entry.get("model_name", ""), entry.get("state", {})
    layout = state.get(str(st.get("layout", "")).removeprefix("IPY_MODEL_"), {}).get("state", {})
    if layout.get("display") == "none" or layout.get("visibility") == "hidden":
        return ""
    desc = html.escape(str(st.get("description", "")))
    label = f"<span style='margin-right:6px'>{desc}</span>" if desc else ""
    value = st.get("value")
    if name in _BOXES:
        children = "".join(widget_html(child, state) for child in st.get("children", []))
        return (f"<div style='display:flex;flex-direction:{_BOXES[name]};flex-wrap:wrap;gap:4px 12px;"
                f"align-items:flex-start'>{children}</div>")
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<div>{label}{value or ''}</div>"
    if name == "LabelModel":
        return f"<div>{html.escape(str(value or ''))}</div>"
    if name == "ButtonModel":
        return f"<button disabled style='padding:2px 8px'>{desc}</button>"
    if name == "TextareaModel":
        return (f"<label style='display:block'>{label}<textarea readonly rows='2' style='width:90%'>"
                f"{html.escape(str(value or ''))}</textarea></label>")
    if name == "TextModel":
        return (f"<label style='display:block'>{label}<input readonly style='width:60%' "
                f"value='{html.escape(str(value or ''), quote=True)}'></label>")
    if name == "CheckboxModel":
        checked = " checked" if value else ""
        return f"<label><input type='checkbox' disabled{checked}> {desc}</label>"
    if name in ("DropdownModel", "SelectModel", "ToggleButtonsModel", "RadioButtonsModel"):
        labels, index = st.get("_options_labels", []), st.get("index")
        chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
        return f"<div>{label}<b>{html.escape(str(chosen))}</b></div>"
    if name in _VALUES:
        return f"<div>{label}<b>{html.escape(str(value))}</b></div>"
    if name == "OutputModel":
        return "".join(_output_html(out) for out in st.get("outputs", []))
    return f"<div><i>[{html.escape(name.removesuffix('Model'))}]</i></div>"


def _output_html(output: dict) -> str:
    """One output kept inside an Output widget, as HTML (images embedded)."""
    if output.get("output_type") == "stream":
        return f"<pre>{html.escape(_joined(output.get('text', '')))}</pre>"
    data = output.get("data", {})
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return f"<img src='data:{mime};base64,{_joined(data[mime]).strip()}' style='max-width:100%'>"
    if "image/svg+xml" in data:
        return _joined(data["image/svg+xml"])
    if "text/html" in data:
        return _joined(data["text/html"])
    if "text/plain" in data:
        return f"<pre>{html.escape(_joined(data['text/plain']))}</pre>"
    return ""


_SNAPSHOT_NOTE = "交互控件的静态快照（运行结束时的样子）：在 JupyterLab 里运行 notebook 才能操作。"


def _static_page(nb, models: list[str], notebook_dir: Path = Path(".")):
    """A copy of an executed notebook made for the HTML page: streams merged, math as MathML,
    widgets as static snapshots, and a first line naming the models the run used."""
    import nbformat

    page = copy.deepcopy(nb)
    state = page.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in page.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_math_to_mathml(embed_local_images(cell.source, notebook_dir))
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                snapshot = widget_html(view.get("model_id", ""), state) or "<i>（控件没有可显示的内容）</i>"
                output["data"] = {"text/html": (
                    f"<div class='dli-widget-snapshot' style='border:1px dashed #aaa;padding:6px'>"
                    f"<div style='color:#666;font-size:85%;margin-bottom:4px'>{_SNAPSHOT_NOTE}</div>{snapshot}</div>")}
    if models:
        shown = "；".join(f"`{m.split(': ')[0]}`：{_SOURCE_ZH.get(m.split(': ')[-1], m.split(': ')[-1])}"
                         for m in models)
        page.cells.insert(0, nbformat.v4.new_markdown_cell(f"> **本页运行所用的模型：** {shown}"))
    return page


_SOURCE_ZH = {"stand-in": "随包附带的替身模型（stand-in）", "local folder": "本地模型文件夹",
              "hub cache": "本机的 Hugging Face 缓存", "hub": "Hugging Face Hub", "folder": "本地文件夹"}


def export_html(nb, path: Path, notebook_dir: Path, models: list[str] | None = None) -> None:
    """Write one executed course notebook (4.1-4.5) as a static page that reads without network.

    nbconvert's "lab" template with images embedded, no script from a CDN, formulas as MathML,
    widgets as static snapshots (see :func:`widget_html`) and merged stream outputs.
    """
    import jinja2
    from nbconvert import HTMLExporter

    page = _static_page(nb, models or [], notebook_dir)
    exporter = HTMLExporter(
        template_name="lab",
        embed_images=False,  # embed_local_images() did it, also for <img> tags
        extra_loaders=[jinja2.DictLoader({"dli_seq_course.html.j2": _HTML_TEMPLATE})],
        template_file="dli_seq_course.html.j2",
    )
    resources = {"metadata": {"name": path.stem, "path": str(notebook_dir)}}
    body, _ = exporter.from_notebook_node(page, resources=resources)
    path.write_text(body, encoding="utf-8")


def _read_notebook(notebook: Path):
    """The notebook, or a one-line reason why it is not a valid one."""
    import nbformat

    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - not JSON, not a notebook, unreadable: all reported
        return None, f"not a valid notebook ({_error_line(err)})"
    return nb, None


def run_notebook(notebook: Path, out_dir: Path, root: Path, timeout: int = 600) -> NotebookResult:
    """Execute one course notebook (4.1-4.5) top to bottom and write its .ipynb and .html.

    The kernel runs in the notebook's folder. Stored outputs are cleared first, so the copy
    in ``out_dir`` holds this run only; ``skip-execution`` cells stay, unexecuted. A notebook
    that stops at an error is still written, up to the failing cell, so it can be read. The
    kernel's own stderr (e.g. its complaints when it is stopped after a timeout) goes to
    ``<name>.kernel.log`` next to the page when there is any, not to the terminal.
    """
    import nbformat
    from nbclient import NotebookClient

    nb, error = _read_notebook(notebook)
    if nb is None:
        return NotebookResult(notebook, 0, 0.0, error)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    probe = nbformat.v4.new_code_cell(_PROBE_CELL)
    nb.cells.append(probe)
    notebook_dir = notebook.resolve().parent
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        skip_cells_with_tag=SKIP_TAG,
        # Quiet the kernel's own start-up log (e.g. ipykernel's plain-TCP notice); the lesson's
        # warnings and errors still reach the notebook's outputs.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(notebook_dir)}},
    )
    stem = out_dir / output_stem(notebook, root)
    stem.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+b") as kernel_log:
        try:
            client.execute(env=kernel_env(), stderr=kernel_log)
        except Exception as err:  # noqa: BLE001 - any failure is reported per notebook, the run goes on
            error = _error_line(err)
        seconds = time.perf_counter() - start
        kernel_log.seek(0)
        log_text = kernel_log.read().decode("utf-8", errors="replace")
    log_path = stem.with_name(stem.name + ".kernel.log")
    if log_text.strip():
        log_path.write_text(log_text, encoding="utf-8")
    elif log_path.exists():
        log_path.unlink()

    models: list[str] = []
    if nb.cells and nb.cells[-1] is probe:
        nb.cells.pop()
        for output in probe.outputs:
            text = _joined(output.get("text", ""))
            if output.get("output_type") == "stream" and _PROBE_MARK in text:
                models = [model_source(p) for p in json.loads(text.split(_PROBE_MARK, 1)[1]) if p]
    cells_run = client.code_cells_executed - (1 if probe.get("execution_count") else 0)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)

    executed, page = stem.with_name(stem.name + ".ipynb"), stem.with_name(stem.name + ".html")
    nbformat.write(nb, executed)
    try:
        export_html(nb, page, notebook_dir, models)
    except Exception as err:  # noqa: BLE001
        page = None
        error = error or f"HTML export: {_error_line(err)}"
    return NotebookResult(notebook, cells_run, seconds, error, executed, page, models)


def format_summary(results: list[NotebookResult], total_seconds: float) -> str:
    """The table printed at the end of ``make course``: one row per notebook of 4.1-4.5."""
    rows = [("notebook", "cells run", "seconds", "models", "status")]
    for r in results:
        status = "ok" if r.ok else f"FAILED  {r.error}"
        models = ", ".join(r.models) if r.models else "-"
        rows.append((str(r.notebook), str(r.cells_run), f"{r.seconds:.1f}", models, status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for i, (name, cells, secs, models, status) in enumerate(rows):
        lines.append(f"{name:<{widths[0]}}  {cells:>{widths[1]}}  {secs:>{widths[2]}}  {models:<{widths[3]}}  {status}")
        if i == 0:
            lines.append("-" * (sum(widths) + 8 + len("status")))
    failed = sum(not r.ok for r in results)
    lines.append("")
    lines.append(f"{len(results)} notebook(s), {failed} failed, total {total_seconds:.1f} s")
    return "\n".join(lines)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number > 0, got {value}")
    return value


def check_out_dir(out: Path) -> str | None:
    """Why ``--out`` cannot hold the course's pages (None if it can); it is created if missing."""
    if out.exists() and not out.is_dir():
        return f"--out {out} exists and is not a folder: give a folder (default: build)."
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"--out {out}: cannot create the folder ({err.strerror or err}); give another one."
    if not os.access(out, os.W_OK | os.X_OK):
        return f"--out {out}: cannot write in this folder; give another one."
    return None


def main(argv: list[str] | None = None) -> int:
    """Run every notebook of the course (4.1-4.5 and solutions); 0 if all ran, 1 if any failed, 2 on bad use."""
    from tqdm import tqdm

    parser = argparse.ArgumentParser(
        prog="python -m dli_seq.course",
        description="Execute the course notebooks headless and write executed copies and HTML pages.")
    parser.add_argument("--notebooks", action="append", metavar="GLOB",
                        help="notebooks to run (repeatable; default: "
                             + " then ".join(DEFAULT_PATTERNS) + ")")
    parser.add_argument("--out", default="build", type=Path, help="output folder (default: build)")
    parser.add_argument("--timeout", default=600, type=_positive_int,
                        help="seconds one cell may run before the notebook fails (default: 600)")
    parser.add_argument("--jobs", default=None, type=_positive_int,
                        help="notebooks run at once (default: 2 on a machine with 2+ cores when every lesson "
                             "model is a stand-in, else 1: real models may not fit twice in memory)")
    args = parser.parse_args(argv)

    patterns = args.notebooks or list(DEFAULT_PATTERNS)
    notebooks = find_notebooks(patterns)
    if not notebooks:
        print(f"dli_seq.course: no notebooks match {' or '.join(patterns)} "
              f"(looked from {Path.cwd()}). Nothing to run.", file=sys.stderr)
        return 2
    problem = check_out_dir(args.out)
    if problem:
        print(f"dli_seq.course: {problem}", file=sys.stderr)
        return 2

    root = Path(os.path.commonpath([str(p.resolve().parent) for p in notebooks]))
    env = kernel_env()
    jobs = min(args.jobs or default_jobs(), len(notebooks))
    print(f"Running {len(notebooks)} notebook(s), {jobs} at a time, on kernel {KERNEL_NAME!r} with "
          f"DLI_SEQ_MODELS={os.environ.get('DLI_SEQ_MODELS', 'auto')}, OMP_NUM_THREADS={env['OMP_NUM_THREADS']}; "
          f"output in {args.out}/")
    results: dict[Path, NotebookResult] = {}
    start = time.perf_counter()
    with tqdm(total=len(notebooks), desc="course", unit="nb", file=sys.stderr, dynamic_ncols=True) as bar, \
            ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        running = {pool.submit(run_notebook, nb, args.out, root, args.timeout): nb for nb in notebooks}
        for done in as_completed(running):
            notebook = running[done]
            try:
                result = done.result()
            except Exception as err:  # noqa: BLE001 - a worker that died is one failed notebook
                result = NotebookResult(notebook, 0, 0.0, f"runner: {_error_line(err)}")
            results[notebook] = result
            bar.set_postfix_str(notebook.name)
            bar.update()
            if not result.ok:
                bar.write(f"FAILED {notebook}: {result.error}", file=sys.stderr)
    ordered = [results[nb] for nb in notebooks]
    print(format_summary(ordered, time.perf_counter() - start))
    return 0 if all(r.ok for r in ordered) else 1


def default_jobs() -> int:
    """Notebooks run at once by ``make course``: 2 when every lesson model is a stand-in, else 1.

    The stand-ins are small and the kernels use one thread each, so two notebooks fit two cores;
    two kernels holding the real Flan-T5 and Phi-1.5 may not fit in memory (or on a small GPU).
    """
    from .models import REGISTRY, resolve

    if (os.cpu_count() or 1) < 2:
        return 1
    try:
        all_standins = all(resolve(name).is_standin for name in REGISTRY)
    except Exception:  # noqa: BLE001 - e.g. DLI_SEQ_MODELS=hub without network: the notebooks will say why
        return 1
    return 2 if all_standins else 1


if __name__ == "__main__":
    sys.exit(main())
