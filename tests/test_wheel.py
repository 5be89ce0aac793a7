"""A wheel that works anywhere: built from the tracked files, installed into a fresh venv outside the repo.

`python -m build --wheel` must give a wheel that carries everything ``dli_seq`` needs at run
time: the stand-ins (weights, tokenizers, model cards) and every other tracked file of the
package. The wheel is installed into a new virtual environment in a temporary folder, its
dependencies from the same pins as ``make install`` (requirements/constraints.txt; torch is the
pinned version, taken from a local wheel where pip's configuration names a folder of them, so
pip never picks a torch of its own). Then, from empty folders: ``python -m dli_seq doctor``
finds all four lesson models as stand-ins (exit status 0), and one lesson notebook, copied
alone, runs to the end without an error and shows its figure (an attachment, not a link).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
NOTEBOOK = ROOT / "notebooks" / "04-3_encoders_decoders.ipynb"
MODELS = ("gpt2", "t5-base", "google/flan-t5-large", "microsoft/phi-1_5")

pytestmark = pytest.mark.wheel


def _run(command: list[str], cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(map(str, command))} -> {result.returncode}\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _tracked(prefix: str = "") -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--", prefix or "."], cwd=ROOT, capture_output=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: no list of tracked files")
    return [name for name in listed.stdout.decode("utf-8").split("\0") if name and (ROOT / name).is_file()]


def _pinned(name: str) -> str:
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.split("==")[0].strip().lower() == name:
            return line.split("==")[1].strip()
    raise AssertionError(f"{name} is not pinned in {CONSTRAINTS}")


def _local_torch_wheels(version: str) -> list[Path]:
    """Folders that pip's configuration (or DLI_SEQ_WHEELS) names, holding a torch==version wheel."""
    folders = [os.environ.get("DLI_SEQ_WHEELS", "")]
    config = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
    for line in config.stdout.splitlines():
        if "find-links" in line:
            folders.extend(line.split("=", 1)[1].strip("'\" ").split())
    found = []
    for folder in folders:
        path = Path(folder.removeprefix("file://")) if folder else None
        if path and path.is_dir() and any(path.glob(f"torch-{version}*.whl")):
            found.append(path)
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the tracked files (what a clean clone has)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    for name in _tracked():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    # --no-isolation: the build backend (setuptools, pyproject's build-system) of this interpreter, no download
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp / "dist"), str(source)],
         cwd=tmp)
    wheels = list((tmp / "dist").glob("dli_seq-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_carries_every_file_of_the_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in _tracked("dli_seq") if name not in names]
    assert not missing, f"the wheel lacks {missing}: list them in pyproject.toml's package-data"
    for model in ("gpt2", "t5-base", "flan-t5-large", "phi-1_5"):
        for part in ("model.safetensors", "config.json", "tokenizer_config.json", "README.md"):
            assert f"dli_seq/standins/{model}/{part}" in names, f"{model}/{part}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")], "no compiled files in the wheel"


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict]:
    """A fresh venv outside the repository with the wheel and the pinned dependencies."""
    tmp = tmp_path_factory.mktemp("installed")
    venv.create(tmp / "venv", with_pip=True, clear=True)
    python = tmp / "venv" / "bin" / "python"
    torch = _pinned("torch")
    links = [arg for folder in _local_torch_wheels(torch) for arg in ("--find-links", str(folder))]
    # --no-compile: no .pyc for torch and JupyterLab up front (a large share of the install time)
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile", *links,
          "-c", str(CONSTRAINTS), str(wheel)], cwd=tmp, timeout=900)
    _run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], cwd=tmp)
    home = tmp / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DLI_SEQ_", "HF_", "JUPYTER", "IPYTHON", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), HF_HOME=str(home / "hf"), HF_HUB_OFFLINE="1", DLI_SEQ_MODELS="offline",
               MPLCONFIGDIR=str(home / "mpl"), OMP_NUM_THREADS="1",
               PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    version = _run([str(python), "-c", "import torch; print(torch.__version__)"], cwd=home, env=env).stdout
    assert version.strip().split("+")[0] == torch, f"the fresh venv got torch {version.strip()}, not the pinned {torch}"
    return python, env


def test_doctor_finds_the_stand_ins_from_an_empty_folder(installed, tmp_path):
    python, env = installed
    result = _run([str(python), "-m", "dli_seq", "doctor"], cwd=tmp_path, env=env)
    for model in MODELS:
        line = next((line for line in result.stdout.splitlines() if line.strip().startswith(model + " ")), "")
        assert "stand-in" in line, f"{model}: {line!r}\n{result.stdout}"
        assert str(python.parent.parent) in line and "site-packages" in line, f"{model}: not from the wheel: {line!r}"


def test_a_lesson_notebook_runs_alone_in_an_empty_folder(installed, tmp_path):
    python, env = installed
    copy = tmp_path / NOTEBOOK.name
    shutil.copy2(NOTEBOOK, copy)
    script = ("import sys, nbformat, nbclient; nb = nbformat.read(sys.argv[1], as_version=4); "
              "nbclient.NotebookClient(nb, kernel_name='python3', timeout=300, resources={'metadata': {'path': '.'}})"
              ".execute(); nbformat.write(nb, sys.argv[1])")
    _run([str(python), "-c", script, str(copy)], cwd=tmp_path, env=env, timeout=600)
    nb = nbformat.read(copy, as_version=4)
    errors = [(i, o.get("ename")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert sum(1 for c in nb.cells if c.cell_type == "code" and c.outputs) > 5, "the notebook did not run"
    shown = [c for c in nb.cells if c.cell_type == "markdown" and "](attachment:" in c.source]
    assert shown and all(c.get("attachments") for c in shown), "the figure travels with the notebook"
