"""``python -m dli_seq.capacity --measure``: measure the lesson notebooks' kernels and an idle server.

Without ``--measure`` it prints the capacity report, as ``python -m dli_seq capacity`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .measure import MEASURED_JSON, default_notebooks, measure_all
from .report import main as report_main


def main(argv: list[str] | None = None) -> int:
    """Measure (``--measure``) and write the figures, or print the capacity report (sections 4.1-4.5)."""
    argv = sys.argv[1:] if argv is None else argv
    if "--measure" not in argv:
        return report_main(argv)
    parser = argparse.ArgumentParser(prog="python -m dli_seq.capacity --measure",
                                     description="Measure each lesson notebook's kernel and an idle Jupyter "
                                                 "server, one at a time, with the offline stand-ins.")
    parser.add_argument("--measure", action="store_true", required=True)
    parser.add_argument("--notebooks", action="append", type=Path, metavar="NOTEBOOK",
                        help="notebooks to measure (repeatable; default: notebooks/04-*.ipynb)")
    parser.add_argument("--out", type=Path, default=MEASURED_JSON, help=f"where to write (default: {MEASURED_JSON})")
    parser.add_argument("--timeout", type=int, default=600, help="seconds one cell may run (default: 600)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or default_notebooks()
    missing = [str(nb) for nb in notebooks if not nb.is_file()]
    if missing or not notebooks:
        parser.exit(2, f"python -m dli_seq.capacity: no notebook at {', '.join(missing) or 'notebooks/04-*.ipynb'}: "
                       "run from the repository or give --notebooks PATH\n")
    data = measure_all(notebooks, args.timeout, progress=lambda line: print(line, flush=True))
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    failed = [key for key, nb in data["notebooks"].items() if nb["error"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
