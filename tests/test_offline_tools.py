"""tools/offline.py (issue 13): the requirement list without torch, the packed wheel archive, clear errors.

The real install from a wheelhouse was checked by hand (tests/README.md, GPU section): it needs
a downloaded wheelhouse, too slow and too network-bound for the test suite.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import offline  # noqa: E402


def test_requirements_leave_torch_out_and_keep_the_pins():
    lines = offline.pyproject_requirements(extras=["test"])
    names = [offline.requirement_name(line) for line in lines]
    assert "torch" not in names
    assert "transformers==5.24.0" in lines and "nbval==0.11.0" in lines
    assert "jupyterlab" not in [offline.requirement_name(x) for x in offline.pyproject_requirements(without=["JupyterLab"])]
    assert "pytest" not in [offline.requirement_name(x) for x in offline.pyproject_requirements()]


def test_names_are_canonical():
    assert offline.canonical("Jupyter_Client") == "jupyter-client"
    assert offline.wheel_name(Path("huggingface_hub-2.4.0-py3-none-any.whl")) == "huggingface-hub"
    assert offline.requirement_name("protobuf==7.36.2") == "protobuf"


def _fake_wheel(folder: Path, name: str, version: str = "1.0") -> Path:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}/__init__.py", "x = 1\n" * 200)
        z.writestr(f"{name}-{version}.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n")
    return path


def test_packed_archive_gives_back_the_same_files(tmp_path):
    wheels = [_fake_wheel(tmp_path, "alpha"), _fake_wheel(tmp_path, "beta")]
    archive = tmp_path / offline.PACKED
    assert offline.pack(wheels, archive) == archive.stat().st_size
    out = offline.unpack(archive, tmp_path / "out")
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as a, zipfile.ZipFile(out / wheel.name) as b:
            assert sorted(a.namelist()) == sorted(b.namelist())
            assert all(a.read(n) == b.read(n) for n in a.namelist())
            assert all(i.compress_type == zipfile.ZIP_STORED for i in b.infolist())  # xz compresses across files


def test_install_without_wheels_says_what_to_do(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "offline.py"), "install", "--wheelhouse", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "make wheelhouse" in done.stderr


def test_install_refuses_an_interpreter_without_torch(tmp_path):
    _fake_wheel(tmp_path, "alpha")
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "offline.py"), "install", "--wheelhouse", str(tmp_path),
                           "--python", str(python)], capture_output=True, text=True)
    assert done.returncode != 0 and "cannot import torch" in done.stderr


@pytest.mark.parametrize("target", ["wheelhouse", "install-offline", "wheelhouse-device", "test-gpu"])
def test_make_targets_exist(target):
    done = subprocess.run(["make", "-n", target, "GPU_PY=python3"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
