"""Run the whole course (sections 4.1-4.5) headless: the instructor's ``make course``.

    python -m dli_seq.course [--notebooks GLOB ...] [--out build] [--timeout 600]

Every lesson notebook (``notebooks/04-*.ipynb`` in order, then ``notebooks/solutions/*.ipynb``)
is executed with nbclient on the kernel ``python3``, in the notebook's own folder, exactly as a
learner would run it top to bottom. For each notebook the executed copy and a static HTML page
land in ``build/`` (``build/solutions/`` for the solutions), and a summary table says which
notebooks ran cleanly. The exit code is 1 if any notebook failed, 2 if no notebook matched.

Cells tagged ``skip-execution`` are not run; they stay
in the executed copy, without outputs. The environment is passed on unchanged, so
``DLI_SEQ_MODELS`` (default ``auto``) decides whether the hub models or the offline stand-ins
are used.
"""

from __future__ import annotations

import argparse
import copy
import glob
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATTERNS = ("notebooks/04-*.ipynb", "notebooks/solutions/*.ipynb")
KERNEL_NAME = "python3"
SKIP_TAG = "skip-execution"

# The "lab" template, minus the require.js <script> it fetches from a CDN: nothing in an
# executed lesson needs it, and the page must read the same without network.
_HTML_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
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
    """The environment for the kernel of each course notebook (4.1-4.5): this one, plus two things.

    The checkout that holds this ``dli_seq`` goes first on ``PYTHONPATH`` (so the notebooks
    import the same helpers as this runner, installed or not), and pydevd's frozen-modules
    warning is silenced (it is printed by every kernel start and says nothing about the lesson).
    """
    env = dict(os.environ)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        parts = [str(checkout)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
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


def export_html(nb, path: Path, notebook_dir: Path) -> None:
    """Write one executed course notebook (4.1-4.5) as a static page that reads without network.

    nbconvert's "lab" template, with the markdown's images embedded. Widget outputs show
    their text form (the live widgets need a kernel; their state stays in the .ipynb), and no
    script is fetched from a CDN except MathJax, which only typesets formulas.
    """
    import jinja2
    from nbconvert import HTMLExporter

    page = copy.deepcopy(nb)
    page.metadata.pop("widgets", None)
    exporter = HTMLExporter(
        template_name="lab",
        embed_images=True,
        extra_loaders=[jinja2.DictLoader({"dli_seq_course.html.j2": _HTML_TEMPLATE})],
        template_file="dli_seq_course.html.j2",
    )
    resources = {"metadata": {"name": path.stem, "path": str(notebook_dir)}}
    body, _ = exporter.from_notebook_node(page, resources=resources)
    path.write_text(body, encoding="utf-8")


def run_notebook(notebook: Path, out_dir: Path, root: Path, timeout: int = 600) -> NotebookResult:
    """Execute one course notebook (4.1-4.5) top to bottom and write its .ipynb and .html.

    The kernel runs in the notebook's folder. Stored outputs are cleared first, so the copy
    in ``out_dir`` holds this run only; ``skip-execution`` cells stay, unexecuted. A notebook
    that stops at an error is still written, up to the failing cell, so it can be read.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
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
    error = None
    start = time.perf_counter()
    try:
        client.execute(env=kernel_env())
    except Exception as err:  # noqa: BLE001 - any failure is reported per notebook, the run goes on
        error = _error_line(err)
    seconds = time.perf_counter() - start

    stem = out_dir / output_stem(notebook, root)
    stem.parent.mkdir(parents=True, exist_ok=True)
    executed, html = stem.with_name(stem.name + ".ipynb"), stem.with_name(stem.name + ".html")
    nbformat.write(nb, executed)
    try:
        export_html(nb, html, notebook_dir)
    except Exception as err:  # noqa: BLE001
        html = None
        error = error or f"HTML export: {_error_line(err)}"
    return NotebookResult(notebook, client.code_cells_executed, seconds, error, executed, html)


def format_summary(results: list[NotebookResult], total_seconds: float) -> str:
    """The table printed at the end of ``make course``: one row per notebook of 4.1-4.5."""
    rows = [("notebook", "cells run", "seconds", "status")]
    for r in results:
        status = "ok" if r.ok else f"FAILED  {r.error}"
        rows.append((str(r.notebook), str(r.cells_run), f"{r.seconds:.1f}", status))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for i, (name, cells, secs, status) in enumerate(rows):
        lines.append(f"{name:<{widths[0]}}  {cells:>{widths[1]}}  {secs:>{widths[2]}}  {status}")
        if i == 0:
            lines.append("-" * (sum(widths) + 4 + 2 + len("status")))
    failed = sum(not r.ok for r in results)
    lines.append("")
    lines.append(f"{len(results)} notebook(s), {failed} failed, total {total_seconds:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every notebook of the course (4.1-4.5 and solutions); 0 if all ran, 1 if any failed."""
    from tqdm import tqdm

    parser = argparse.ArgumentParser(
        prog="python -m dli_seq.course",
        description="Execute the course notebooks headless and write executed copies and HTML pages.")
    parser.add_argument("--notebooks", action="append", metavar="GLOB",
                        help="notebooks to run (repeatable; default: "
                             + " then ".join(DEFAULT_PATTERNS) + ")")
    parser.add_argument("--out", default="build", type=Path, help="output folder (default: build)")
    parser.add_argument("--timeout", default=600, type=int,
                        help="seconds one cell may run before the notebook fails (default: 600)")
    args = parser.parse_args(argv)

    patterns = args.notebooks or list(DEFAULT_PATTERNS)
    notebooks = find_notebooks(patterns)
    if not notebooks:
        print(f"dli_seq.course: no notebooks match {' or '.join(patterns)} "
              f"(looked from {Path.cwd()}). Nothing to run.", file=sys.stderr)
        return 2

    root = Path(os.path.commonpath([str(p.resolve().parent) for p in notebooks]))
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"Running {len(notebooks)} notebook(s) on kernel {KERNEL_NAME!r} with "
          f"DLI_SEQ_MODELS={os.environ.get('DLI_SEQ_MODELS', 'auto')}; output in {args.out}/")
    results = []
    start = time.perf_counter()
    with tqdm(notebooks, desc="course", unit="nb", file=sys.stderr, dynamic_ncols=True) as bar:
        for notebook in bar:
            bar.set_postfix_str(notebook.name)
            result = run_notebook(notebook, args.out, root, timeout=args.timeout)
            results.append(result)
            if not result.ok:
                bar.write(f"FAILED {notebook}: {result.error}", file=sys.stderr)
    print(format_summary(results, time.perf_counter() - start))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
