"""The course installs the same way everywhere, and the kit states what it supports.

pyproject.toml lists RANGES (oldest tested version up to the next major); the exact versions the
course is recorded with live in requirements/constraints.txt, which ``make install`` and CI use
and environment.yml (conda) repeats. Checked here: every pin lies in its range, the two pin lists
agree, the interpreter running the tests has those versions, requirements/oldest.txt (``make
test-oldest``) installs the lower bounds, and CI runs both ``make test`` and ``make test-oldest``.
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


def _requirement_lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.split("#")[0].strip()]


CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
OLDEST = ROOT / "requirements" / "oldest.txt"


def _ranges() -> dict[str, tuple[str, "SpecifierSet"]]:
    from packaging.requirements import Requirement

    reqs = [Requirement(r) for r in _pyproject_requirements()]
    return {_canonical(r.name): (r.name, r.specifier) for r in reqs}


def _next_major(version: str) -> str:
    from packaging.version import Version

    v = Version(version)
    return f"0.{v.minor + 1}" if v.major == 0 else f"{v.major + 1}"


def test_dependencies_are_ranges_from_a_tested_version_to_the_next_major():
    from packaging.version import Version

    problems, pins = [], _pins(_requirement_lines(CONSTRAINTS))
    for key, (name, spec) in _ranges().items():
        lower = [s.version for s in spec if s.operator == ">="]
        upper = [s.version for s in spec if s.operator == "<"]
        if len(spec) != 2 or len(lower) != 1 or len(upper) != 1:
            problems.append(f"{name}{spec}: want '>=oldest,<next major'")
            continue
        # both ends are tested: the lower bound by `make test-oldest`, the pinned version by `make test`
        allowed = {Version(_next_major(lower[0]))} | ({Version(_next_major(pins[key][1]))} if key in pins else set())
        if Version(upper[0]) not in allowed:
            problems.append(f"{name}{spec}: the upper bound should be one of {sorted(map(str, allowed))}")
    assert not problems, "; ".join(problems)


def test_constraints_pin_every_dependency_inside_its_range():
    ranges, pins = _ranges(), _pins(_requirement_lines(CONSTRAINTS))
    assert all(PIN.match(line) for line in _requirement_lines(CONSTRAINTS)), "constraints.txt: exact pins only"
    assert sorted(pins) == sorted(ranges), (
        f"constraints.txt and pyproject.toml list other packages: {sorted(set(pins) ^ set(ranges))}")
    outside = [f"{name}=={version} not in {ranges[key][1]}" for key, (name, version) in pins.items()
               if not ranges[key][1].contains(version, prereleases=True)]
    assert not outside, "; ".join(outside)


def test_environment_yml_pins_the_constraints():
    environment = _environment_pip_requirements()
    assert environment, "environment.yml has no pip: section"
    assert any(_is_local_install(e) for e in environment), "environment.yml should install the kit (`- -e .`)"
    unpinned = [e for e in environment if not _is_local_install(e) and not PIN.match(e)]
    assert not unpinned, f"environment.yml: pin these with ==: {unpinned}"
    env, pins = _pins(environment), _pins(_requirement_lines(CONSTRAINTS))
    assert len(env) == len([e for e in environment if not _is_local_install(e)]), \
        "a package is listed twice in environment.yml"
    differ = sorted(f"{k}: constraints {pins.get(k, ('', None))[1]} vs environment.yml {env.get(k, ('', None))[1]}"
                    for k in env.keys() | pins.keys() if env.get(k, ("", None))[1] != pins.get(k, ("", None))[1])
    assert not differ, "; ".join(differ)


def test_make_install_uses_the_constraints():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"pip install[^\n]*-c requirements/constraints\.txt[^\n]*-e", makefile)
    assert re.search(r"^\$\(STAMP\):.*requirements/constraints\.txt", makefile, re.M), \
        "the install stamp should depend on the constraints"


def _installed_matches(installed: str, pinned: str) -> bool:
    from packaging.specifiers import SpecifierSet

    # "==2.13.0" accepts "2.13.0+cpu": a local build label (PyTorch's CPU/CUDA wheels) is the same release.
    return SpecifierSet(f"=={pinned}").contains(installed, prereleases=True)


def test_pins_are_what_this_interpreter_has_installed():
    problems = []
    for _, (name, version) in sorted(_pins(_requirement_lines(CONSTRAINTS)).items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}=={version} is not installed")
            continue
        if not _installed_matches(installed, version):
            problems.append(f"{name}=={version} is pinned but {installed} is installed")
    assert not problems, "; ".join(problems) + ". Run `make install` (or re-create .venv) to match the pins."


def test_oldest_requirements_are_the_lower_bounds():
    """`make test-oldest` must test what pyproject.toml claims: the lower bound of each range it pins."""
    from packaging.version import Version

    ranges, oldest = _ranges(), _pins(_requirement_lines(OLDEST))
    for core in ("torch", "transformers", "tokenizers", "huggingface-hub", "safetensors"):
        assert core in oldest, f"requirements/oldest.txt should pin {core}"
    problems = []
    for key, (name, version) in oldest.items():
        if key not in ranges:
            continue  # test tools
        lower = next(s.version for s in ranges[key][1] if s.operator == ">=")
        if Version(lower) != Version(version):
            problems.append(f"{name}: oldest.txt has {version}, pyproject.toml's lower bound is {lower}")
    assert not problems, "; ".join(problems)


def test_readme_states_the_supported_range():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    name, spec = _ranges()["transformers"]
    lower = next(s.version for s in spec if s.operator == ">=")
    assert re.search(rf"transformers[^\n]*{re.escape(lower)}", text), "README.md should state transformers' range"


def test_ci_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert ci.is_file(), ".ci/run is missing"
    commands = [line.strip() for line in ci.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert any(re.match(r"^(exec\s+)?make\s+(.*\s)?test(\s|$)", c) for c in commands), ".ci/run must call `make test`"
    assert any(re.match(r"^(exec\s+)?make\s+(.*\s)?test-oldest(\s|$)", c) for c in commands), \
        ".ci/run must call `make test-oldest`"


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
