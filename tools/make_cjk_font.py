"""Make the Chinese font shipped in ``dli_seq/fonts/``: a subset of Noto Sans CJK SC (SIL OFL 1.1).

Figures drawn at run time (the mask explorer, the KV-cache timing plot) and the figures in
``imgs/`` take their Chinese glyphs from this file, so they never depend on the fonts a machine
has. The subset keeps:

* every CJK or fullwidth character written anywhere in ``dli_seq/``, ``notebooks/`` and ``tools/``;
* the common simplified characters: GB 2312 level 1 (3,755 hanzi) and its symbol rows 1-9;
* printable ASCII.

The family is renamed "DLI Seq Sans SC" so matplotlib never mixes it up with a full Noto Sans CJK
installed on the system. The output is the same bytes for the same input (no timestamps).

Usage (Debian: ``apt-get install fonts-noto-cjk`` gives the source font)::

    python tools/make_cjk_font.py
    python tools/make_cjk_font.py --source /path/to/NotoSansCJK-Regular.ttc
"""

from __future__ import annotations

import argparse
import unicodedata
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_FAMILY = "Noto Sans CJK SC"
OUTPUT = ROOT / "dli_seq" / "fonts" / "DLISeqSansSC-Regular.otf"
FAMILY = "DLI Seq Sans SC"
SCANNED = ("dli_seq", "notebooks", "tools")
SCANNED_SUFFIXES = {".py", ".ipynb", ".md", ".txt", ".json", ".cfg", ".toml"}


def is_cjk_or_fullwidth(ch: str) -> bool:
    """Characters a Latin font does not have: East Asian wide or fullwidth."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def used_characters(root: Path = ROOT) -> set[str]:
    """Every CJK / fullwidth character in the package, the notebooks and the tools."""
    found: set[str] = set()
    for folder in SCANNED:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in SCANNED_SUFFIXES and path.is_file() and "fonts" not in path.parts:
                text = path.read_text(encoding="utf-8", errors="ignore")
                found.update(ch for ch in text if is_cjk_or_fullwidth(ch))
    return found


def gb2312_characters(rows=(*range(1, 10), *range(16, 56))) -> set[str]:
    """GB 2312 rows (1-9: symbols, 16-55: level-1 hanzi), decoded with Python's gb2312 codec."""
    chars = set()
    for row in rows:
        for cell in range(1, 95):
            try:
                chars.add(bytes([0xA0 + row, 0xA0 + cell]).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # unassigned cells
    return chars


def wanted_characters(root: Path = ROOT) -> set[str]:
    return used_characters(root) | gb2312_characters() | {chr(c) for c in range(0x20, 0x7F)}


def source_font(path: Path) -> TTFont:
    """The Simplified Chinese member of the Noto Sans CJK collection (or the file itself)."""
    if path.suffix.lower() == ".ttc":
        for font in TTCollection(str(path), recalcTimestamp=False).fonts:
            if font["name"].getDebugName(1) == SOURCE_FAMILY:
                return font
        raise SystemExit(f"make_cjk_font: no {SOURCE_FAMILY!r} in {path}")
    return TTFont(str(path), recalcTimestamp=False)


def rename(font: TTFont, family: str) -> None:
    """Give the subset its own family name (ids 1, 3, 4, 6, 16, 17) so it cannot shadow a full install."""
    postscript = family.replace(" ", "") + "-Regular"
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (4,):
            record.string = f"{family} Regular"
        elif record.nameID in (3, 6):
            record.string = postscript
        elif record.nameID == 17:
            record.string = "Regular"
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        top.FullName, top.FamilyName = f"{family} Regular", family


def make(source: Path = SOURCE, output: Path = OUTPUT) -> Path:
    """Write the subset font and its license next to it; return the font's path."""
    font = source_font(source)
    chars = sorted(ch for ch in wanted_characters() if ord(ch) in font.getBestCmap())
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # matplotlib renders without hints; saves about a tenth
    options.recalc_timestamp = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(ch) for ch in chars])
    subsetter.subset(font)
    rename(font, FAMILY)
    output.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(output))
    notice = font["name"].getDebugName(0) or ""
    license_text = (ROOT / "tools" / "OFL-1.1.txt").read_text(encoding="utf-8")
    (output.parent / "LICENSE-OFL.txt").write_text(
        f"{output.name}: a subset of Noto Sans CJK SC Regular ({len(chars)} characters), family renamed\n"
        f"\"{FAMILY}\", made by tools/make_cjk_font.py.\n\n{notice}\n\n{license_text}", encoding="utf-8")
    return output


def _cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help=f"the Noto Sans CJK font (default: {SOURCE})")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the subset")
    args = parser.parse_args(argv)
    path = make(args.source, args.output)
    print(f"{path}  {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    _cli()
