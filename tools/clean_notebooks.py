#!/usr/bin/env python3
"""Keep the course notebooks (4.1-4.5 and solutions) clean and diff-friendly, like nbdev's CI check.

    python tools/clean_notebooks.py [NOTEBOOK ...]          normalise in place
    python tools/clean_notebooks.py --check [NOTEBOOK ...]  only report; exit 1 on any finding

Without paths it works on ``notebooks/**/*.ipynb``. Normalising means:

* cell metadata loses ``execution``, ``ExecuteTime``, ``collapsed``, ``scrolled`` and ``jupyter``
  (``tags`` and anything else stay; an empty ``tags`` list goes);
* notebook metadata is exactly the kernelspec (``python3`` / "Python 3 (ipykernel)" / python)
  and ``language_info: {"name": "python"}``; widget state and everything else go;
* code cells with outputs are numbered 1, 2, 3, ... in order (``execute_result`` outputs too),
  code cells without outputs get ``execution_count: null``;
* consecutive stream outputs of the same name (stdout, stderr) become one, so streamed text
  never splits mid-word across output blocks (nbval merges them the same way when comparing);
* every figure of ``imgs/`` a markdown cell shows travels with the notebook: a link to it
  (``![alt](../imgs/x.png)``, or an ``<img src="../imgs/x.png" ...>`` tag, which becomes the
  markdown image ``![alt](attachment:x.png)`` so that nbconvert's pages embed it too) is
  rewritten to ``attachment:x.png`` and the cell's attachment is the current ``imgs/x.png``;
  imgs/ stays the single source (``make figures``), and a notebook opened on its own still
  shows its figures;
* nbformat 4.5, cell ids kept (missing or duplicate ids get a deterministic new one), written
  the way JupyterLab writes (1-space indent, sorted keys, UTF-8, trailing newline).

Outputs are kept (nbval compares them), so they are also checked, in both modes, for what
must not be committed: absolute machine paths (also in sources), tracebacks and error outputs,
warnings on stderr, and ANSI escape codes. Each finding is one line ``file: cell N: what``,
with N the 0-based cell index (as in nbval's test names). Exit status 1 if any notebook has a
finding, or with ``--check`` would be rewritten.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dli_seq.course import merge_streams  # one definition, shared with the course runner

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "imgs"  # the figures (tools/make_figures.py); notebooks carry them as attachments
DROP_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled", "jupyter")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
NBFORMAT, NBFORMAT_MINOR = 4, 5

# "/work/", "/tmp/", "/root/", "/home/" (and macOS "/Users/") not inside a URL or a longer path
# ("https://x.org/home/" and "site/tmp/" are fine), and Windows paths such as "C:\Users" or
# "D:\\data\\" (but not LaTeX such as "$f:\mathbb{R}$").
ABSOLUTE_PATH = re.compile(
    r"(?:(?<![\w.:/~-])|file://)/(?:work|tmp|root|home|Users)/"
    r"|(?<![\w$\\{])[A-Z]:\\\\?(?:Users|Windows|Program Files|[\w .-]+\\)")
ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-z])?")
WARNING = re.compile(r"Warning")  # Warning, UserWarning, FutureWarning, DeprecationWarning, ...
TRACEBACK = "Traceback (most recent call last)"
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_MD_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)")
_HTML_IMAGE = re.compile(r"<div>\s*(?P<tag><img\b[^>]*>)\s*</div>|(?P<bare><img\b[^>]*>)")
_ATTR = re.compile(r"""\b(?P<name>src|alt)=(?P<q>["'])(?P<value>.*?)(?P=q)""")
_ATTACHMENT = re.compile(r"attachment:(?P<name>[\w.-]+)")
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Problem:
    """One thing in a committed notebook that must not be there (cell index is 0-based)."""

    path: str
    cell: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}: cell {self.cell}: {self.what}"


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _excerpt(text: str, start: int, width: int = 60) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start: line_end if line_end != -1 else len(text)]
    line = ANSI.sub("", line).strip()
    return line if len(line) <= width else line[: width - 3] + "..."


def _output_texts(output) -> list[tuple[str, str]]:
    """(label, text) for every textual part of one output; images and other binary data are skipped."""
    kind = output.get("output_type")
    if kind == "stream":
        return [(f"{output.get('name', 'stream')} output", _text(output.get("text", "")))]
    if kind == "error":
        parts = [output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])]
        return [("error output", "\n".join(map(str, parts)))]
    texts = []
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/"):
            texts.append((f"{mime} output", _text(value)))
        elif mime.endswith("json"):  # application/json, widget views: small, and may hold paths
            texts.append((f"{mime} output", json.dumps(value, ensure_ascii=False)))
    return texts


def find_problems(nb, path: str = "<notebook>") -> list[Problem]:
    """Everything a committed course notebook (4.1-4.5) must not contain, one Problem per finding."""
    problems: list[Problem] = []
    for index, cell in enumerate(nb.get("cells", [])):
        def report(what: str) -> None:
            problems.append(Problem(path, index, what))

        source = _text(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            if m := re.search(r"[\w./-]*\bimgs/[\w.-]+", source):
                report(f"link to {m.group(0)}: a notebook opened on its own cannot show it; put the figure in imgs/ "
                       "and run tools/clean_notebooks.py (it becomes an attachment)")
            missing = sorted({m["name"] for m in _ATTACHMENT.finditer(source)} - set(cell.get("attachments") or {}))
            if missing:
                report(f"shows attachment(s) {', '.join(missing)} that the cell does not carry")
        if m := ABSOLUTE_PATH.search(source):
            report(f"absolute path {m.group(0)!r} in source: {_excerpt(source, m.start())}")
        if ANSI.search(source):
            report("ANSI escape code in source")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                report(f"error output ({output.get('ename', '?')}: {_excerpt(str(output.get('evalue', '')), 0)}); "
                       "re-run the cell, or catch the error and print it")
            for label, text in _output_texts(output):
                if output.get("output_type") != "error" and TRACEBACK in text:
                    report(f"traceback in {label}")
                if m := ABSOLUTE_PATH.search(text):
                    report(f"absolute path {m.group(0)!r} in {label}: {_excerpt(text, m.start())}")
                if ANSI.search(text):
                    report(f"ANSI escape code in {label}")
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    if m := WARNING.search(text):
                        report(f"warning in stderr output: {_excerpt(text, m.start())}")
    return problems


def figure_attachment(name: str, images: Path = IMAGES) -> dict[str, str] | None:
    """The attachment entry ({mime: base64}) for ``imgs/<name>``, or None if it is not a figure there."""
    path = images / name
    mime = _MIME.get(path.suffix.lower())
    if mime is None or not path.is_file() or path.parent.resolve() != images.resolve():
        return None
    return {mime: base64.b64encode(path.read_bytes()).decode("ascii")}


def _figure_name(src: str, folder: Path | None, images: Path) -> str | None:
    """The file name in ``images`` that a relative link ``src`` from ``folder`` points at, if any."""
    if folder is None or re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith("/"):
        return None
    target = (folder / src).resolve()
    return target.name if target.parent == images.resolve() and target.is_file() else None


def embed_figures(source: str, folder: Path | None, images: Path = IMAGES) -> tuple[str, set[str]]:
    """Markdown with its links to figures in ``images`` rewritten as ``attachment:`` images.

    Returns the new source and the names of every figure it shows from ``images`` (old
    attachments included), which the cell must carry.
    """
    def markdown_image(m) -> str:
        name = _figure_name(m["src"], folder, images)
        return m[0] if name is None else f"![{m['alt']}](attachment:{name})"

    def html_image(m) -> str:
        attrs = {a["name"]: a["value"] for a in _ATTR.finditer(m["tag"] or m["bare"])}
        name = _figure_name(attrs.get("src", ""), folder, images)
        return m[0] if name is None else f"![{attrs.get('alt', '')}](attachment:{name})"

    source = _HTML_IMAGE.sub(html_image, _MD_IMAGE.sub(markdown_image, source))
    shown = {m["name"] for m in _ATTACHMENT.finditer(source) if figure_attachment(m["name"], images) is not None}
    return source, shown


def _attach_figures(cell, index: int, folder: Path | None, images: Path, changes: list[str]) -> None:
    source = _text(cell.get("source", ""))
    new_source, shown = embed_figures(source, folder, images)
    if new_source != source:
        cell["source"] = new_source
        changes.append(f"cell {index}: figure links -> attachments")
    attachments = dict(cell.get("attachments") or {})
    for name in sorted(shown):
        current = figure_attachment(name, images)
        if attachments.get(name) != current:
            attachments[name] = current
            changes.append(f"cell {index}: attachment {name} <- imgs/{name}")
    if attachments:
        cell["attachments"] = nbformat.from_dict(attachments)


def _new_cell_id(cell, index: int, taken: set[str]) -> str:
    seed = f"{index}\0{cell.get('cell_type', '')}\0{_text(cell.get('source', ''))}"
    digest = hashlib.sha1(seed.encode("utf-8")).hexdigest()
    for start in range(0, len(digest) - 8):
        candidate = digest[start: start + 8]
        if candidate not in taken:
            return candidate
    return f"cell-{index}-{digest[:8]}"  # pragma: no cover - 30 collisions in a row


def normalise(nb, folder: Path | None = None, images: Path = IMAGES) -> tuple[object, list[str]]:
    """A clean copy of one course notebook (4.1-4.5) and a list of what was changed (empty: was clean).

    ``folder`` is where the notebook lies (its links to ``images`` are resolved from there).
    """
    nb = copy.deepcopy(nb)
    changes: list[str] = []

    if (nb.get("nbformat"), nb.get("nbformat_minor")) != (NBFORMAT, NBFORMAT_MINOR):
        changes.append(f"nbformat {nb.get('nbformat')}.{nb.get('nbformat_minor')} -> 4.5")
        nb["nbformat"], nb["nbformat_minor"] = NBFORMAT, NBFORMAT_MINOR

    metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    if nb.get("metadata") != metadata:
        changes.append("notebook metadata")
        nb["metadata"] = nbformat.from_dict(metadata)

    taken: set[str] = set()
    count = 0
    for index, cell in enumerate(nb.get("cells", [])):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or cell_id in taken:
            cell_id = _new_cell_id(cell, index, taken)
            cell["id"] = cell_id
            changes.append(f"cell {index}: new id")
        taken.add(cell_id)

        meta = cell.setdefault("metadata", nbformat.NotebookNode())
        dropped = [key for key in DROP_CELL_METADATA if key in meta]
        if "tags" in meta and not meta["tags"]:
            dropped.append("tags")
        for key in dropped:
            del meta[key]
        if dropped:
            changes.append(f"cell {index}: metadata {', '.join(dropped)}")

        if cell.get("cell_type") == "markdown":
            _attach_figures(cell, index, folder, images, changes)
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            count += 1
            number = count
        else:
            number = None
        outputs = cell.get("outputs", [])
        merged = merge_streams(outputs)
        if len(merged) != len(outputs):
            cell["outputs"] = merged
            changes.append(f"cell {index}: {len(outputs) - len(merged)} stream output(s) merged")
        if cell.get("execution_count") != number:
            changes.append(f"cell {index}: execution_count {cell.get('execution_count')} -> {number}")
            cell["execution_count"] = number
        for output in cell.get("outputs", []):
            if output.get("output_type") == "execute_result" and output.get("execution_count") != number:
                output["execution_count"] = number
                changes.append(f"cell {index}: execute_result count -> {number}")
    return nb, changes


def dumps(nb) -> str:
    """A course notebook as JupyterLab writes it: 1-space indent, sorted keys, UTF-8, final newline."""
    text = nbformat.writes(nb, version=NBFORMAT)
    return text if text.endswith("\n") else text + "\n"


def process(path: Path, check: bool = False) -> list[str]:
    """Clean one course notebook in place (or, with ``check``, only look); returns report lines."""
    shown = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
        nb = nbformat.reads(raw, as_version=NBFORMAT)
    except Exception as err:  # noqa: BLE001 - an unreadable notebook is a finding like any other
        return [f"{shown}: cannot read: {type(err).__name__}: {err}"]

    clean, changes = normalise(nb, folder=path.resolve().parent)
    try:
        nbformat.validate(clean)
    except nbformat.ValidationError as err:
        return [f"{shown}: not a valid nbformat 4.5 notebook after cleaning: {str(err).splitlines()[0]}"]
    text = dumps(clean)
    lines = []
    if text != raw:
        if check:
            why = "; ".join(changes[:5]) + (f"; ... {len(changes)} changes in all" if len(changes) > 5 else "")
            lines.append(f"{shown}: would be rewritten by tools/clean_notebooks.py ({why or 'formatting'})")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"cleaned {shown}")
    lines.extend(str(p) for p in find_problems(clean, shown))
    return lines


def default_notebooks(root: Path = Path("notebooks")) -> list[Path]:
    """The committed notebooks of the course (4.1-4.5 and solutions), checkpoints excluded."""
    return sorted(p for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def main(argv: list[str] | None = None) -> int:
    """Command line: clean (or ``--check``) the course notebooks; 1 if anything is reported."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/**/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; report and exit 1 on findings")
    args = parser.parse_args(argv)

    paths = args.paths or default_notebooks()
    if not paths:
        print("clean_notebooks: no notebooks found under notebooks/; nothing to do.")
        return 0
    findings = []
    for path in paths:
        findings.extend(process(path, check=args.check))
    for line in findings:
        print(line)
    if findings:
        print(f"clean_notebooks: {len(findings)} finding(s) in {len(paths)} notebook(s).", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
