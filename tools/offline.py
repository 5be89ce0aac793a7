"""Install dli-seq on an offline GPU image without touching its CUDA torch (issue 13).

Two steps, on two machines:

1. Where PyPI is reachable (``make wheelhouse``): ``requirements`` prints the kit's pinned
   dependencies WITHOUT torch; pip downloads them, with everything they need, as wheels for the
   target Python (3.12, manylinux x86_64) into ``wheelhouse/``.
2. On the GPU image, no network (``make install-offline``): ``install`` runs
   ``pip install --no-index --find-links wheelhouse`` with a constraints file that pins torch to
   the version already installed, then installs the kit itself with ``--no-deps`` (editable),
   and checks afterwards that torch is still the very same build.

``subset`` copies part of a wheelhouse to another folder (for a GPU machine that receives the
repository plus at most 64 MiB of wheels): the wheels the image lacks, plus the ones whose pinned version matters
for the kit's results (transformers, tokenizers, ...). ``install --relax-missing`` then keeps a
requirement's pin only where its wheel is at hand, and otherwise accepts the image's version.

Run with the interpreter that should receive the packages: ``python3 tools/offline.py install``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The image's own build; never downloaded, never replaced.
KEEP = {"torch"}
# Always carried in a device subset: the pins that change what the kit computes or prints, the
# build backend of the kit's editable install, and small wheels whose lower bounds are recent
# (transformers wants regex>=2025.10.22, ipython psutil>=7, huggingface-hub 2 click>=8.4.2): pip
# takes a carried wheel only where the image's own version does not satisfy a requirement.
MUST_CARRY = {"setuptools", "transformers", "tokenizers", "sentencepiece", "protobuf", "safetensors", "huggingface-hub",
              "nbval", "ipykernel", "ipywidgets", "nbformat", "nbclient", "jupyter-client", "regex", "psutil", "click"}


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str:
    return canonical(re.split(r"[<>=!~;\[ ]", line.strip(), maxsplit=1)[0])


def pyproject_requirements(extras=(), without=()) -> list[str]:
    """The kit's requirements (plus the given extras) at the exact versions of
    requirements/constraints.txt (pyproject.toml lists ranges), torch and ``without`` left out."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pip vendors the same parser
        from pip._vendor import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    pins = {requirement_name(line): line.strip() for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")}
    drop = KEEP | {canonical(n) for n in without}
    return [pins.get(requirement_name(line), line) for line in lines if requirement_name(line) not in drop]


def wheel_name(path: Path) -> str:
    """Project name of a wheel file (``transformers-5.24.0-py3-none-any.whl`` -> transformers)."""
    return canonical(path.name.split("-", 1)[0])


def installed_torch(python: str) -> dict | None:
    """Version, file and CUDA version of the torch that ``python`` imports (None if it has none)."""
    code = ("import json, torch; print(json.dumps(dict(version=torch.__version__, file=torch.__file__, "
            "cuda=torch.version.cuda)))")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None


def cmd_requirements(args) -> int:
    print("\n".join(pyproject_requirements(args.extras, args.without)))
    return 0


PACKED = "device-wheels.tar.xz"


def pack(wheels: list[Path], archive: Path) -> int:
    """One .tar.xz of the wheels, each re-zipped uncompressed first: xz then compresses the Python
    sources across files (about half the size of the wheels as downloaded). The wheels stay valid:
    RECORD hashes the files inside, not how the zip compressed them."""
    import tarfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive, "w:xz", preset=9) as tar:
        for wheel in wheels:
            stored = Path(tmp) / wheel.name
            with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as dst:
                for info in src.infolist():
                    data = src.read(info)
                    info.compress_type = zipfile.ZIP_STORED
                    dst.writestr(info, data)
            tar.add(stored, arcname=wheel.name)
            stored.unlink()
    return archive.stat().st_size


def unpack(archive: Path, folder: Path) -> Path:
    """The wheels of a :func:`pack` archive, extracted into ``folder``."""
    import tarfile

    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def cmd_subset(args) -> int:
    """Copy what a device run needs: pip resolves the reduced requirement set against the
    wheelhouse (no network), then wheels the image already has are dropped, except MUST_CARRY."""
    source, target = Path(args.wheelhouse).resolve(), Path(args.out)
    listed = "\n".join(line.split("#", 1)[0] for line in args.image_has.read_text().splitlines()) if args.image_has else ""
    present = {canonical(n) for n in listed.split()}
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text("\n".join(pyproject_requirements(args.extras, args.without)) + "\n")
        closure = Path(tmp) / "closure"
        platforms = [x for p in args.platform for x in ("--platform", p)]
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-index", "--find-links", str(source),
                        "--only-binary=:all:", "--implementation", "cp", "--python-version", args.python_version,
                        *platforms, "-d", str(closure), "-r", str(reqs), "setuptools>=77"], check=True)
        target.mkdir(parents=True, exist_ok=True)
        taken, left, wheels = [], [], []
        for wheel in sorted(closure.glob("*.whl")):
            name = wheel_name(wheel)
            if name in present and name not in MUST_CARRY:
                left.append(name)
            else:
                taken.append(name)
                wheels.append(wheel)
        if args.pack:
            total = pack(wheels, target / PACKED)
        else:
            for wheel in wheels:
                shutil.copy2(wheel, target / wheel.name)
            total = sum(w.stat().st_size for w in wheels)
    print(f"{len(taken)} wheels, {total / 2**20:.1f} MiB -> {target}: {' '.join(taken)}")
    print(f"left to the image ({len(left)}): {' '.join(left)}")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True).stdout.split("\0")
    tree = sum((ROOT / f).stat().st_size for f in tracked if f and (ROOT / f).is_file())
    travel = (tree + total) / 2**20
    print(f"the GPU machine would receive about {travel:.1f} MiB (tracked files {tree / 2**20:.1f} MiB + these); "
          f"keep it under 64 MiB{'' if travel < 63 else ': TOO MUCH, leave more to the image'}")
    return 0


def cmd_install(args) -> int:
    python, wheelhouse = args.python, Path(args.wheelhouse).resolve()
    if wheelhouse.is_file():  # a packed subset (make wheelhouse-device)
        unpacked = tempfile.TemporaryDirectory()
        wheelhouse = unpack(wheelhouse, Path(unpacked.name))
    if not any(wheelhouse.glob("*.whl")):
        sys.exit(f"No wheels in {wheelhouse}: run `make wheelhouse` on a machine that reaches PyPI and copy the folder here.")
    before = installed_torch(python)
    if before is None and not args.allow_no_torch:
        sys.exit(f"{python} cannot import torch: install the image's CUDA torch first (this step never installs torch).")
    print(f"torch before: {before}")
    have = {wheel_name(w) for w in wheelhouse.glob("*.whl")}
    lines = []
    for line in pyproject_requirements(args.extras, args.without):
        name = requirement_name(line)
        if args.relax_missing and name not in have:
            print(f"  {name}: no wheel carried, the image's version is used (pin {line!r} relaxed)")
            lines.append(name)
        else:
            lines.append(line)
    with tempfile.TemporaryDirectory() as tmp:
        reqs, cons = Path(tmp) / "requirements.txt", Path(tmp) / "constraints.txt"
        reqs.write_text("\n".join(lines) + "\n")
        # Pin torch to the installed build: should anything ask for another torch, pip stops
        # with a conflict instead of replacing the image's CUDA build.
        cons.write_text(f"torch=={before['version']}\n" if before else "")
        pip = [python, "-m", "pip", "install", "--no-index", "--find-links", str(wheelhouse),
               "--disable-pip-version-check", "--no-cache-dir"]
        print("+", " ".join(pip + ["-c", str(cons), "-r", str(reqs)]), flush=True)
        subprocess.run(pip + ["-c", str(cons), "-r", str(reqs)], check=True)
        # The kit itself: its pyproject pins torch==<course version>; --no-deps keeps the image's.
        subprocess.run(pip + ["--no-deps", "-e", str(ROOT)], check=True)
    after = installed_torch(python)
    print(f"torch after:  {after}")
    if before is not None and before != after:
        sys.exit(f"torch changed during the offline install: {before} -> {after}")
    check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True)
    # The one expected complaint: the kit pins the course's torch, the image keeps its own.
    other = [line for line in check.stdout.splitlines()
             if line.strip() and not re.match(r"dli-seq .* requires torch", line, re.I)]
    print(check.stdout.strip() or "pip check: no broken requirements")
    if other and args.strict_check:
        sys.exit("pip check found broken requirements besides the kit's torch pin (see above).")
    print("offline install done; torch untouched.")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("requirements", help="print the kit's pinned requirements without torch")
    p.add_argument("--extras", nargs="*", default=["test"])
    p.add_argument("--without", nargs="*", default=[])
    p.set_defaults(fn=cmd_requirements)
    p = sub.add_parser("subset", help="copy the wheels an image lacks (plus the kit's key pins) to another folder")
    p.add_argument("--wheelhouse", default=str(ROOT / "wheelhouse"))
    p.add_argument("--out", required=True)
    p.add_argument("--image-has", type=Path, help="file listing the image's installed project names")
    p.add_argument("--extras", nargs="*", default=["test"])
    p.add_argument("--without", nargs="*", default=[])
    p.add_argument("--python-version", default="3.12")
    p.add_argument("--platform", action="append", default=[])
    p.add_argument("--pack", action="store_true", help=f"write one {PACKED} instead of loose wheels")
    p.set_defaults(fn=cmd_subset)
    p = sub.add_parser("install", help="pip install from the wheelhouse, no network, torch kept")
    p.add_argument("--wheelhouse", default=str(ROOT / "wheelhouse"), help="a folder of wheels, or a packed .tar.xz")
    p.add_argument("--python", default=sys.executable, help="interpreter to install into (default: this one)")
    p.add_argument("--extras", nargs="*", default=["test"])
    p.add_argument("--without", nargs="*", default=[])
    p.add_argument("--relax-missing", action="store_true",
                   help="accept the image's version where the wheelhouse has no wheel for a requirement")
    p.add_argument("--strict-check", action="store_true", help="fail when pip check finds other broken requirements")
    p.add_argument("--allow-no-torch", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(fn=cmd_install)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
