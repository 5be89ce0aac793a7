"""pytest plugin: the peak GPU memory of each notebook that nbval runs (`make test-gpu`, issue 13).

    PYTHONPATH=tests/gpu pytest --nbval -p nbval_gpu_memory notebooks

nbval runs each notebook in its own kernel, a separate process, so the numbers must come from
inside it: an IPython startup file (in a temporary IPYTHONDIR) registers a ``post_run_cell``
hook that writes ``torch.cuda.max_memory_allocated()`` / ``max_memory_reserved()`` to the file
named by ``DLI_SEQ_GPU_MEMORY_FILE`` after every cell (the last write is the notebook's peak;
nbval kills the kernel, so an atexit handler would never run). The plugin gives each notebook
its own file before its kernel starts, prints a table at the end and, when
``DLI_SEQ_GPU_MEMORY_REPORT`` names a file, writes the numbers there as JSON.
A kernel that never touched CUDA says so ("CUDA not used").
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

STARTUP = '''\
import json as _json, os as _os, sys as _sys

def _dli_seq_gpu_memory(*_):
    path = _os.environ.get("DLI_SEQ_GPU_MEMORY_FILE")
    if not path:
        return
    torch = _sys.modules.get("torch")
    record = dict(cuda=False)
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        record = dict(cuda=True, device=torch.cuda.get_device_name(),
                      max_allocated=torch.cuda.max_memory_allocated(), max_reserved=torch.cuda.max_memory_reserved())
    with open(path, "w") as f:
        _json.dump(record, f)

get_ipython().events.register("post_run_cell", _dli_seq_gpu_memory)
'''

_folder = tempfile.TemporaryDirectory(prefix="dli-seq-gpu-memory-")
_files: dict[str, Path] = {}  # notebook path -> its record file


def pytest_configure(config):
    root = Path(_folder.name)
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-dli-seq-gpu-memory.py").write_text(STARTUP)
    os.environ["IPYTHONDIR"] = str(root / "ipython")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a notebook's first cell (when nbval starts its kernel), point the kernel at a fresh file."""
    notebook = str(getattr(item.parent, "path", item.fspath))
    if notebook.endswith(".ipynb") and notebook not in _files:
        _files[notebook] = Path(_folder.name) / f"{len(_files)}.json"
        os.environ["DLI_SEQ_GPU_MEMORY_FILE"] = str(_files[notebook])


def _records() -> dict[str, dict]:
    out = {}
    for notebook, path in _files.items():
        name = os.path.relpath(notebook)
        out[name] = json.loads(path.read_text()) if path.is_file() else dict(cuda=None)
    return out


def pytest_terminal_summary(terminalreporter):
    records = _records()
    if not records:
        return
    terminalreporter.section("peak GPU memory per notebook (torch allocator, inside each kernel)")
    for name, r in records.items():
        if r.get("cuda"):
            line = (f"{name}: max allocated {r['max_allocated'] / 2**20:.0f} MiB, "
                    f"max reserved {r['max_reserved'] / 2**20:.0f} MiB on {r['device']}")
        else:
            line = f"{name}: {'CUDA not used' if r.get('cuda') is False else 'no record (kernel did not run a cell)'}"
        terminalreporter.write_line(line)
    if report := os.environ.get("DLI_SEQ_GPU_MEMORY_REPORT"):
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        Path(report).write_text(json.dumps(records, indent=2) + "\n")
