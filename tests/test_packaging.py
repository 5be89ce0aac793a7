"""The course installs the same way everywhere: pins agree, are exact, and are what runs here.

pyproject.toml (pip, ``make install``) and environment.yml (conda) must list the same exact
``name==version`` pins, and the interpreter running the tests must have those versions, so a
learner's notebooks behave like the instructor's. Also: CI and the README use ``make test``.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;,]+)\s*$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project.get("dependencies", [])) + list(project.get("optional-dependencies", {}).get("test", []))


def _environment_pip_requirements() -> list[str]:
    """The pip: section of environment.yml (PyYAML if present, else the simple `- entry` lines)."""
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    try:
        import yaml
    except ModuleNotFoundError:
        return _pip_lines_without_yaml(text)
    for dep in yaml.safe_load(text).get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            return [str(entry) for entry in dep["pip"]]
    return []


def _pip_lines_without_yaml(text: str) -> list[str]:
    entries, in_pip, pip_indent = [], False, 0
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if re.match(r"^\s*-\s*pip\s*:\s*$", line):
            in_pip, pip_indent = True, indent
        elif in_pip and indent > pip_indent and line.lstrip().startswith("-"):
            entries.append(line.lstrip()[1:].strip())
        elif in_pip and indent <= pip_indent:
            in_pip = False
    return entries


def _is_local_install(entry: str) -> bool:
    return entry.startswith("-e ") or entry in (".", "-e.")


def _pins(requirements: list[str]) -> dict[str, tuple[str, str]]:
    """{canonical name: (name as written, version)}; unpinned entries are left to the pinning test."""
    pins = {}
    for req in requirements:
        if m := PIN.match(req):
            pins[_canonical(m["name"])] = (m["name"], m["version"])
    return pins


def test_every_dependency_is_pinned_exactly():
    unpinned = [r for r in _pyproject_requirements() if not PIN.match(r)]
    unpinned += [f"environment.yml: {r}" for r in _environment_pip_requirements()
                 if not _is_local_install(r) and not PIN.match(r)]
    assert not unpinned, f"pin these with ==: {unpinned}"


def test_pyproject_and_environment_yml_pin_the_same_versions():
    pyproject, environment = _pyproject_requirements(), _environment_pip_requirements()
    assert environment, "environment.yml has no pip: section"
    assert any(_is_local_install(e) for e in environment), "environment.yml should install the kit (`- -e .`)"
    py, env = _pins(pyproject), _pins(environment)
    assert len(py) == len(pyproject), "a package is listed twice in pyproject.toml"
    assert len(env) == len([e for e in environment if not _is_local_install(e)]), \
        "a package is listed twice in environment.yml"
    only_py = sorted(f"{n}=={v}" for k, (n, v) in py.items() if k not in env)
    only_env = sorted(f"{n}=={v}" for k, (n, v) in env.items() if k not in py)
    differ = sorted(f"{py[k][0]}: pyproject {py[k][1]} vs environment.yml {env[k][1]}"
                    for k in py.keys() & env.keys() if py[k][1] != env[k][1])
    assert not (only_py or only_env or differ), (
        f"only in pyproject.toml: {only_py}; only in environment.yml: {only_env}; different: {differ}")


def _installed_matches(installed: str, pinned: str) -> bool:
    from packaging.specifiers import SpecifierSet

    # "==2.13.0" accepts "2.13.0+cpu": a local build label (PyTorch's CPU/CUDA wheels) is the same release.
    return SpecifierSet(f"=={pinned}").contains(installed, prereleases=True)


def test_pins_are_what_this_interpreter_has_installed():
    problems = []
    for _, (name, version) in sorted(_pins(_pyproject_requirements()).items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}=={version} is not installed")
            continue
        if not _installed_matches(installed, version):
            problems.append(f"{name}=={version} is pinned but {installed} is installed")
    assert not problems, "; ".join(problems) + ". Run `make install` (or re-create .venv) to match the pins."


def test_ci_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert ci.is_file(), ".ci/run is missing"
    commands = [line.strip() for line in ci.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert any(re.match(r"^(exec\s+)?make\s+(.*\s)?test(\s|$)", c) for c in commands), ".ci/run must call `make test`"


def test_readme_shows_the_two_commands():
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.skip("README.md not written yet")
    text = readme.read_text(encoding="utf-8")
    for command in ("make lab", "make test"):
        assert re.search(rf"(?<![\w-]){re.escape(command)}(?![\w-])", text), f"README.md should show `{command}`"


def test_environment_yml_fallback_parser_agrees_with_yaml():
    yaml = pytest.importorskip("yaml")
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert _pip_lines_without_yaml(text) == _environment_pip_requirements()
    assert yaml  # the fallback is what runs where PyYAML is absent
