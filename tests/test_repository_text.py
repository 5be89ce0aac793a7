"""The repository speaks of the kit and of what its users need, never of where it was written.

Every tracked text file is read, this one included (the stand-ins' vocabularies and merges are
data, not prose, and are left out). Phrases that describe the machines or circumstances the kit
was developed in (the patterns below: written so that they do not match themselves) are refused,
case-insensitively: say what a user needs instead ("a GPU machine with no network that receives
the repository plus at most 64 MiB of wheels", "not yet measured on a GPU").
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BANNED = re.compile("|".join([
    r"\bwork\s*places?\b",
    r"\bdevice[ -]tools?\b",
    r"\bdevice[ -]calls?\b",
    r"\bGPUs? (?:was |were |is )?lent\b",
    r"\bno GPU (?:was )?lent\b",
    r"\blent (?:a |one |the )?(?:GPU|CUDA|machine)",
    r"\bthe\s+sessions?\s+that\b",
    r"\bcarry\s+limit\b",
    r"\bhappened\s+to\b",
]), re.IGNORECASE)


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: no list of tracked files")
    files = []
    for name in listed.stdout.decode("utf-8").split("\0"):
        path = ROOT / name
        if not name or not path.is_file():
            continue
        if name.startswith("dli_seq/standins/") and path.suffix in (".json", ".txt", ".model", ".safetensors"):
            continue  # vocabularies, merges and weights: data
        files.append(path)
    return files


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None  # binary (images, weights, fonts)
    return data.decode("utf-8", errors="replace")


def find_banned(text: str) -> list[tuple[int, str]]:
    """(line number, phrase) for each banned phrase in ``text``."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in BANNED.finditer(text)]


def spelt(text: str) -> str:
    """The examples below write the banned phrases with "^" for nothing and "_" for a space, so this
    file does not itself contain them ("^" joins two halves of a word, "_" stands between two words)."""
    return text.replace("^", "").replace("_", " ")


@pytest.mark.parametrize("text, found", [
    ("This work^place's device_tool carries at most 64 MiB", ["work^place", "device_tool"]),
    ("No GPU was_lent to the_sessions_that wrote this", ["No GPU was_lent", "the_sessions_that"]),
    ("### GPU table: NOT YET MEASURED (no GPU_lent)", ["no GPU_lent"]),
    ("wraps it for one Device_Call; the CARRY_LIMIT", ["Device_Call", "CARRY_LIMIT"]),
    ("whether a GPU happened_to be available", ["happened_to"]),
    ("A GPU machine with no network that receives the repository plus at most 64 MiB of wheels", []),
    ("Not yet measured on a GPU; the kernel's session is gone; excellent, fraudulent", []),
])
def test_the_phrase_list_catches_what_it_should(text, found):
    assert [phrase for _, phrase in find_banned(spelt(text))] == [spelt(phrase) for phrase in found]


def test_no_tracked_file_describes_where_the_kit_was_written():
    files = _tracked_text_files()
    assert any(p.name == "Makefile" for p in files) and any(p.suffix == ".ipynb" for p in files)
    hits = [f"{path.relative_to(ROOT)}:{line}: {phrase!r}"
            for path in files if (text := _text(path)) is not None for line, phrase in find_banned(text)]
    assert not hits, ("say what a user needs instead of where the kit was written:\n  " + "\n  ".join(hits))
