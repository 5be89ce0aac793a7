"""Measure what one learner costs on this machine: ``python -m dli_seq.capacity --measure``.

Each lesson notebook (4.1-4.5) runs top to bottom in a fresh kernel, the way ``make course`` runs
it (:mod:`dli_seq.course`: same kernel, environment and skipped cells), with ``DLI_SEQ_MODELS=offline``
and one notebook at a time. After the last cell, before the kernel shuts down, the kernel process
(and any children) is read from ``/proc``: peak memory (``VmHWM``), memory now (``VmRSS``) and CPU
seconds (user + system, children included); wall time runs from the kernel's start to that reading.
An idle ``jupyter lab`` server (what ``jupyterhub-singleuser`` runs for each learner) is started,
asked for its status and the lab page once, and its memory is read a few seconds later.

The figures go to ``dli_seq/capacity_measured.json`` with a description of the machine; the
capacity report (:mod:`dli_seq.capacity.report`) reads them. Linux only (``/proc``).
"""

from __future__ import annotations

import datetime
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from ..course.runner import KERNEL_NAME, SKIP_TAG, error_line, find_notebooks, kernel_env

CHECKOUT = Path(__file__).resolve().parents[2]
MEASURED_JSON = CHECKOUT / "dli_seq" / "capacity_measured.json"
LESSON_NOTEBOOKS = "notebooks/04-*.ipynb"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcessReading:
    """One process and its children, read from /proc: peak and current memory (bytes), CPU seconds."""

    peak_bytes: int  # VmHWM, summed over the process and its live children
    rss_bytes: int   # VmRSS, summed likewise
    cpu_s: float     # user + system time, with the children it has waited for and those still alive
    processes: int


def _status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # the kernel writes kB
    return 0


def _cpu_ticks(pid: int, with_waited_children: bool) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])  # stat fields 14-17
    return utime + stime + ((cutime + cstime) if with_waited_children else 0)


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant, from ``/proc/<pid>/task/*/children`` (a kernel of 4.1-4.5, a server)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def read_process(pid: int) -> ProcessReading:
    """Memory and CPU of ``pid`` and its children now (a 4.1-4.5 kernel before shutdown, an idle server)."""
    if not Path(f"/proc/{pid}/status").is_file():
        raise OSError(f"no process {pid} in /proc: measuring needs Linux and a running process")
    pids = process_tree(pid)
    peak = rss = ticks = 0
    for i, each in enumerate(pids):
        try:
            peak += _status_bytes(each, "VmHWM")
            rss += _status_bytes(each, "VmRSS")
            ticks += _cpu_ticks(each, with_waited_children=i == 0)
        except OSError:
            continue  # a child that ended meanwhile: its time is in the parent's waited-for children
    return ProcessReading(peak, rss, ticks / CLOCK_TICKS, len(pids))


@dataclass
class NotebookMeasurement:
    """One lesson notebook (4.1-4.5) run in a fresh kernel: the kernel's memory and CPU at the end."""

    notebook: str
    cells_run: int
    kernel_peak_bytes: int
    kernel_rss_end_bytes: int
    cpu_s: float
    wall_s: float
    error: str | None = None


def measure_notebook(notebook: Path, timeout: int = 600, env: dict[str, str] | None = None) -> NotebookMeasurement:
    """Run one course notebook (4.1-4.5) top to bottom in a fresh kernel and read the kernel before it ends.

    A reading is taken as each cell starts, i.e. once the cell before it has finished; a last cell
    (``pass``) is appended so that the last reading comes after everything the notebook ran, just
    before the kernel shuts down. A notebook that stops at an error keeps the reading taken before
    the failing cell, with the error.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("pass  # capacity: the kernel is read before this cell"))
    readings: list[tuple[float, ProcessReading]] = []

    def before_cell(cell, cell_index) -> None:  # noqa: ARG001 - nbclient passes both
        readings.append((time.perf_counter(), read_process(client.km.provisioner.pid)))

    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME, skip_cells_with_tag=SKIP_TAG,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"], on_cell_execute=before_cell,
                            resources={"metadata": {"path": str(notebook.resolve().parent)}})
    error = None
    start = time.perf_counter()
    with tempfile.TemporaryFile() as kernel_log:
        try:
            client.execute(env=env or measure_env(), stderr=kernel_log)
        except Exception as err:  # noqa: BLE001 - reported with the figures of the cells that ran
            error = error_line(err)
    if not readings:
        return NotebookMeasurement(str(notebook), 0, 0, 0, 0.0, time.perf_counter() - start,
                                   error or "no cell completed")
    at, last = readings[-1]
    try:
        notebook = notebook.resolve().relative_to(CHECKOUT)  # as the repository names it
    except ValueError:
        pass
    cells_run = client.code_cells_executed - (1 if error is None else 0)  # not the appended cell
    return NotebookMeasurement(str(notebook), cells_run, last.peak_bytes, last.rss_bytes,
                               round(last.cpu_s, 2), round(at - start, 2), error)


def measure_env() -> dict[str, str]:
    """The kernels' environment for measuring: ``make course``'s (one torch thread), with the offline stand-ins."""
    env = kernel_env()
    env["DLI_SEQ_MODELS"] = "offline"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_idle_server(settle_s: float = 5.0, timeout: float = 120.0) -> dict:
    """Start ``jupyter lab`` (no browser, localhost), open its lab page once, wait, and read its memory.

    This is the per-learner server of the classroom (``jupyterhub-singleuser`` is the same Jupyter
    server with the same lab extension). Returns its idle RSS and peak, in bytes.
    """
    port, token = _free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=os.path.join(tmp, "runtime"))
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={tmp}"] + (["--allow-root"] if os.geteuid() == 0 else [])
        with tempfile.TemporaryFile() as log:
            server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
            try:
                base = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + timeout
                while True:
                    if server.poll() is not None:
                        log.seek(0)
                        tail = log.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                        raise RuntimeError(f"jupyter lab exited with code {server.returncode}: {' '.join(tail)}")
                    try:
                        with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as reply:
                            if reply.status == 200:
                                break
                    except OSError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s")
                    time.sleep(0.5)
                for path in ("/lab", "/api/kernelspecs", "/lab/api/settings"):
                    with urllib.request.urlopen(f"{base}{path}?token={token}", timeout=30) as reply:
                        reply.read()
                time.sleep(settle_s)
                reading = read_process(server.pid)
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
    return {"command": "jupyter lab (idle, lab page opened once)", "rss_bytes": reading.rss_bytes,
            "peak_bytes": reading.peak_bytes, "jupyterlab": _version("jupyterlab"),
            "jupyter_server": _version("jupyter_server")}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    """The measuring machine as a user would describe it (workshop sizing): cores, RAM, CPU, GPU, versions, date."""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").is_file() else ""
    total_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), 0)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
               platform.processor() or "unknown")
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"date": datetime.date.today().isoformat(), "cores": os.cpu_count() or 1, "load_average_1min": load,
            "ram_bytes": total_kb * 1024, "cpu": cpu, "gpu": gpu, "os": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "torch": _version("torch"),
            "transformers": _version("transformers"), "models": "offline stand-ins (DLI_SEQ_MODELS=offline)",
            "omp_num_threads": measure_env()["OMP_NUM_THREADS"], "notebooks_at_a_time": 1}


def section_key(notebook: Path) -> str:
    """``notebooks/04-2_gpt_decoder_generation.ipynb`` -> ``"04-2"``: the key of a section's figures."""
    return notebook.stem.split("_", 1)[0]


def measure_all(notebooks: list[Path], timeout: int = 600, progress=print) -> dict:
    """Measure the idle server, then each notebook (4.1-4.5), one at a time; the figures as a JSON-ready dict."""
    described = machine()  # before measuring: the load average says how busy the machine was
    progress("idle jupyter lab server ...")
    server = measure_idle_server()
    progress(f"  RSS {server['rss_bytes'] / 2**20:.0f} MiB")
    figures = {}
    for notebook in notebooks:
        progress(f"{notebook} ...")
        result = measure_notebook(notebook, timeout)
        progress(f"  peak {result.kernel_peak_bytes / 2**20:.0f} MiB, {result.cpu_s:.1f} CPU-s, "
                 f"{result.wall_s:.1f} s wall" + (f", FAILED: {result.error}" if result.error else ""))
        figures[section_key(notebook)] = asdict(result)
    return {"machine": described, "server": server, "notebooks": figures}


def default_notebooks() -> list[Path]:
    """The lesson notebooks 4.1-4.5 of this checkout (not the solutions)."""
    return find_notebooks([str(CHECKOUT / LESSON_NOTEBOOKS)])
