"""The package's layout rules: no module uses another module's underscore names; modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dli_seq"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if ".ipynb_checkpoints" not in p.parts)
MAX_LINES = 420  # "about 400": a module a learner can read in one sitting
DATA_TABLES = {"standins/data"}  # word lists and recorded outputs: long by nature, not code


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([module] if module else []))


def crossings(path: Path) -> list[str]:
    """Every place where ``path`` reaches for another module's _private name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me, is_package = module_name(path), path.name == "__init__.py"
    aliases: dict[str, str] = {}  # local name -> dli_seq module it stands for
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = resolve(me, is_package, node.level, node.module) if node.level else (node.module or "")
            if not source.startswith("dli_seq"):
                continue
            for name in node.names:
                target = f"{source}.{name.name}"
                if name.name.startswith("_") and not name.name.startswith("__") and source != me:
                    found.append(f"{path.name}:{node.lineno} imports {target}")
                aliases[name.asname or name.name] = target
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.name.startswith("dli_seq"):
                    aliases[(name.asname or name.name).split(".")[0]] = name.asname and name.name or "dli_seq"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            target = aliases[node.value.id]
            if node.attr.startswith("_") and not node.attr.startswith("__") and target != me:
                found.append(f"{path.name}:{node.lineno} uses {target}.{node.attr}")
    return found


def test_the_rule_catches_what_it_should(tmp_path):
    """The checker itself: both spellings of a crossing are caught, a module's own names are not."""
    pkg = tmp_path / "dli_seq"
    pkg.mkdir()
    bad = pkg / "bad.py"
    bad.write_text("from .decoding import _inputs\nfrom . import decoding\nx = decoding._eos_set\n"
                   "def _mine():\n    return 1\ny = _mine()\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, pkg
    try:
        assert len(crossings(bad)) == 2
    finally:
        PACKAGE = saved


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_uses_another_modules_private_names(path):
    assert crossings(path) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_readable_in_one_sitting(path):
    relative = path.relative_to(PACKAGE).with_suffix("").as_posix()
    if any(relative.startswith(table) for table in DATA_TABLES):
        pytest.skip("data tables")
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{relative}.py has {lines} lines: split it by what it holds"


def test_the_package_map_names_every_module():
    """dli_seq/__init__.py is the map a newcomer reads first: every module is on it."""
    doc = (PACKAGE / "__init__.py").read_text(encoding="utf-8")
    top = {p.stem if p.suffix else p.name for p in PACKAGE.iterdir()
           if (p.suffix == ".py" and p.stem not in ("__init__", "__main__")) or (p / "__init__.py").is_file()}
    missing = sorted(name for name in top if f"dli_seq.{name}" not in doc and f"{name}/" not in doc)
    assert missing == []


def imported_modules(path: Path) -> set[str]:
    """The dli_seq modules ``path`` imports (first level under dli_seq: 'inputs', 'exercises', ...)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me, is_package = module_name(path), path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = resolve(me, is_package, node.level, node.module) if node.level else (node.module or "")
            names = [source] if node.module else [f"{source}.{n.name}" for n in node.names]
            found |= {n.split(".")[1] for n in names if n.startswith("dli_seq.")}
        elif isinstance(node, ast.Import):
            found |= {n.name.split(".")[1] for n in node.names if n.name.startswith("dli_seq.")}
    return found


def test_modules_import_only_what_the_map_lists_above_them():
    """The map's order is the import order: no module reaches up to one listed below it (no cycles)."""
    import re

    doc = (PACKAGE / "__init__.py").read_text(encoding="utf-8")
    order = re.findall(r"(?:dli_seq\.(\w+)`|``dli_seq/(\w+)/``)", doc)
    order = [a or b for a, b in order]
    rank = {name: i for i, name in enumerate(order)}
    wrong = []
    for path in MODULES:
        top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if top in ("__init__", "__main__"):
            continue
        for used in imported_modules(path) - {top}:
            if rank.get(used, -1) > rank.get(top, -1):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {used}")
    assert wrong == []
