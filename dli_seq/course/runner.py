"""Run the whole course (sections 4.1-4.5) headless: the instructor's ``make course``.

    python -m dli_seq.course [--notebooks GLOB ...] [--out build] [--timeout 600] [--jobs N]

Every lesson notebook (``notebooks/04-*.ipynb`` in order, then ``notebooks/solutions/*.ipynb``)
is executed with nbclient on the kernel ``python3``, in the notebook's own folder, as a learner
would run it top to bottom. For each notebook the executed copy and a static HTML page
(:mod:`dli_seq.course.page`) land in ``build/`` (``build/solutions/`` for the solutions), and a
summary table says which notebooks ran cleanly and where each model came from
(``models.source_of``). Exit code: 1 if any notebook failed, 2 on bad use (no notebook matched,
an unusable ``--out``), 130 after Ctrl-C and 143 after SIGTERM (every kernel is ended first).

Cells tagged ``skip-execution`` are not run; they stay in the executed copy, without outputs.
The environment is passed on, so ``DLI_SEQ_MODELS`` (default ``auto``) decides whether the hub
models or the offline stand-ins are used. Notebooks run one more than the cores at a time when every lesson model is
a stand-in (``--jobs`` to choose). Unless set, ``OMP_NUM_THREADS`` is 1 for the kernels: the
models are small, and on a small machine more threads than free cores make OpenMP thrash.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from ..messages import one_line
from .page import export_html, joined_text, merge_streams
from .processes import Stopped, end_tree, ignore_interrupts, interrupts_ignored, stop_on_signals, worker_tree
from .summary import NotebookResult, format_summary

DEFAULT_PATTERNS = ("notebooks/04-*.ipynb", "notebooks/solutions/*.ipynb")
KERNEL_NAME = "python3"
SKIP_TAG = "skip-execution"
# Appended to each notebook's run (and removed again): which lesson models the kernel holds, and
# where each came from, as models.load recorded it (models.source_of; "other" if load did not make it).
PROBE_MARK = "dli-seq-models:"
PROBE_CELL = f"""\
import sys as _s, json as _j
_t, _m = _s.modules.get("torch"), _s.modules.get("dli_seq.models")
print({PROBE_MARK!r}, _j.dumps(sorted({{
    (str(getattr(_v, "dli_seq_hub_id", None) or getattr(_v.config, "_name_or_path", "")),
     str((_m.source_of(_v) if _m is not None else None) or "other"))
    for _n, _v in globals().items()
    if not _n.startswith("_") and _t is not None and isinstance(_v, _t.nn.Module) and hasattr(_v, "config")
    and getattr(_v, "can_generate", lambda: False)()}})))  # whole models, not e.g. model.encoder
"""


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
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        parts = [str(checkout)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("OMP_NUM_THREADS", "1")  # small models, maybe busy cores: one thread per kernel
    env.setdefault("MKL_NUM_THREADS", env["OMP_NUM_THREADS"])
    return env


def error_line(err: BaseException) -> str:
    """Why a course notebook (4.1-4.5) failed, in one line: the cell's exception, not nbclient's wrapper."""
    ename, evalue = getattr(err, "ename", None), getattr(err, "evalue", None)
    if ename:
        lines = [line.strip() for line in f"{ename}: {evalue}".splitlines() if line.strip()] if evalue else [ename]
        return lines[0]
    return one_line(err)


def probe_models(outputs: list) -> list[str]:
    """The probe cell's answer as ``"<hub id>: <source>"`` per model the kernel held (4.2-4.5 runs).

    The source is what ``models.load`` recorded on the model (``models.source_of``): local-folder,
    hub-cache, hub or stand-in; a model made some other way is ``"other"``.
    """
    for output in outputs:
        text = joined_text(output.get("text", ""))
        if output.get("output_type") == "stream" and PROBE_MARK in text:
            try:
                pairs = json.loads(text.split(PROBE_MARK, 1)[1].strip().splitlines()[0])
            except (ValueError, IndexError):
                return []
            return [f"{name}: {source}" for name, source in pairs if name]
    return []


def _read_notebook(notebook: Path):
    """The notebook, or a one-line reason why it is not a valid one."""
    import nbformat

    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - not JSON, not a notebook, unreadable: all reported
        return None, f"not a valid notebook ({error_line(err)})"
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
    probe = nbformat.v4.new_code_cell(PROBE_CELL)
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
            error = error_line(err)
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
        models = probe_models(probe.outputs)
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
        error = error or f"HTML export: {error_line(err)}"
    return NotebookResult(notebook, cells_run, seconds, error, executed, page, models)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number > 0, got {value}")
    return value


def overwrite_problem(out: Path, notebooks: list[Path], root: Path) -> str | None:
    """Why ``--out`` would overwrite a course notebook (4.1-4.5) or fill its folder (None if it would not).

    The executed copies are ``<out>/<stem>.ipynb``: with ``--out`` the notebooks' own folder, or one
    where a copy lands on a lesson notebook, they would replace the notebooks themselves.
    """
    target = out.resolve()
    if target in {nb.resolve().parent for nb in notebooks}:
        return (f"--out {out} is the folder of the notebooks being run: the executed copies would overwrite "
                "them. Give another folder (default: build).")
    sources = {nb.resolve() for nb in notebooks + find_notebooks(list(DEFAULT_PATTERNS))}
    for nb in notebooks:
        stem = target / output_stem(nb, root)
        if stem.with_name(stem.name + ".ipynb").resolve() in sources:
            return (f"--out {out}: the executed copy of {nb} would overwrite the notebook "
                    f"{stem.with_name(stem.name + '.ipynb')}. Give another folder (default: build).")
    return None


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
                        help="notebooks run at once (default: the cores + 1 when every lesson model is a "
                             "stand-in, else 1: real models may not fit twice in memory)")
    args = parser.parse_args(argv)

    patterns = args.notebooks or list(DEFAULT_PATTERNS)
    notebooks = find_notebooks(patterns)
    if not notebooks:
        print(f"dli_seq.course: no notebooks match {' or '.join(patterns)} "
              f"(looked from {Path.cwd()}). Nothing to run.", file=sys.stderr)
        return 2
    root = Path(os.path.commonpath([str(p.resolve().parent) for p in notebooks]))
    problem = overwrite_problem(args.out, notebooks, root) or check_out_dir(args.out)
    if problem:
        print(f"dli_seq.course: {problem}", file=sys.stderr)
        return 2

    env = kernel_env()
    jobs = min(args.jobs or default_jobs(), len(notebooks))
    print(f"Running {len(notebooks)} notebook(s), {jobs} at a time, on kernel {KERNEL_NAME!r} with "
          f"DLI_SEQ_MODELS={os.environ.get('DLI_SEQ_MODELS', 'auto')}, OMP_NUM_THREADS={env['OMP_NUM_THREADS']}; "
          f"output in {args.out}/", flush=True)
    start = time.perf_counter()
    results, stopped = run_all(notebooks, args.out, root, args.timeout, jobs)
    print(format_summary([results[nb] for nb in notebooks], time.perf_counter() - start))
    if stopped is not None:
        print(f"Stopped ({stopped}): the running notebooks were interrupted, queued ones not started; "
              "every kernel was shut down.", file=sys.stderr)
        return stopped.exit_code
    return 0 if all(r.ok for r in results.values()) else 1


def run_all(notebooks: list[Path], out: Path, root: Path, timeout: int, jobs: int):
    """Run the course notebooks (4.1-4.5), ``jobs`` at a time: (results by notebook, Stopped or None).

    Ctrl-C or SIGTERM stops the run at once: queued notebooks do not start, every worker and
    kernel is ended (see :mod:`dli_seq.course.processes`), and the notebooks that were running
    are marked "interrupted". A second Ctrl-C meanwhile exits immediately.
    """
    from tqdm import tqdm

    results: dict[Path, NotebookResult] = {}
    queued, running = list(notebooks), {}
    stopped: Stopped | None = None
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=ignore_interrupts)

    def start_next() -> None:  # one notebook per idle worker: a queued notebook is never half-started
        with interrupts_ignored():  # a worker starts with Ctrl-C ignored: Ctrl-C is the runner's
            future = pool.submit(run_notebook, queued[0], out, root, timeout)
            running[future] = queued.pop(0)  # leaves the queue only once it has really started

    with tqdm(total=len(notebooks), desc="course", unit="nb", file=sys.stderr, dynamic_ncols=True) as bar, \
            stop_on_signals():
        try:
            while queued and len(running) < jobs:
                start_next()
            while running:
                for done in wait(running, return_when=FIRST_COMPLETED).done:
                    notebook = running.pop(done)
                    try:
                        result = done.result()
                    except Exception as err:  # noqa: BLE001 - a worker that died is one failed notebook
                        result = NotebookResult(notebook, 0, 0.0, f"runner: {error_line(err)}")
                    results[notebook] = result
                    bar.set_postfix_str(notebook.name)
                    bar.update()
                    if not result.ok:
                        bar.write(f"FAILED {notebook}: {result.error}", file=sys.stderr)
                    if queued:
                        start_next()
        except Stopped as stop:  # a second Ctrl-C from here on exits at once (processes.exit_now)
            stopped = stop
            tree = worker_tree()
            pool.shutdown(wait=False, cancel_futures=True)
            end_tree(tree)
        finally:
            pool.shutdown(wait=stopped is None, cancel_futures=True)
    for notebook in running.values():
        results[notebook] = NotebookResult(notebook, 0, 0.0, stopped="interrupted")
    for notebook in queued:
        results[notebook] = NotebookResult(notebook, 0, 0.0, stopped="not started")
    for notebook in notebooks:  # a signal between two bookkeeping steps: still one row per notebook
        results.setdefault(notebook, NotebookResult(notebook, 0, 0.0, stopped="interrupted"))
    return results, stopped


def default_jobs() -> int:
    """Notebooks run at once by ``make course``: one more than the cores when every lesson model
    is a stand-in, else 1.

    The stand-ins are small and each kernel uses one thread; a kernel also waits (starting, between
    cells, while its page is written), so one notebook more than there are cores keeps every core
    busy (on 2 cores: 55 s for the course with 3 at a time, 69 s with 2). Two kernels holding the
    real Flan-T5 and Phi-1.5 may not fit in memory (or on a small GPU): then one at a time.
    """
    from ..models import REGISTRY, resolve

    cores = os.cpu_count() or 1
    if cores < 2:
        return 1
    try:
        all_standins = all(resolve(name).is_standin for name in REGISTRY)
    except Exception:  # noqa: BLE001 - e.g. DLI_SEQ_MODELS=hub without network: the notebooks will say why
        return 1
    return cores + 1 if all_standins else 1


if __name__ == "__main__":
    sys.exit(main())
