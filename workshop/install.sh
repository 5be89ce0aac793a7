#!/usr/bin/env bash
# Install the classroom into PREFIX (default /opt/dli-seq): `make workshop-install` runs this.
#
#   PREFIX/venv     Python for the hub AND every learner's server and kernel. Built from the system's
#                   /usr/bin/python3 so that every Unix user can run it (a Python under /root cannot).
#   PREFIX/proxy    configurable-http-proxy, from workshop/package-lock.json (npm ci: exact versions)
#   PREFIX/course   the course learners copy at sign-in: notebooks/ and imgs/ (read-only for them)
#   PREFIX/models   the shared lesson models (`python -m dli_seq fetch` fills it; read-only for learners)
#   PREFIX/hub      the hub's own state: database, secrets, passwords (root only)
#
# Safe to run again: a re-run updates the kit and the course (learners' copies are merged at their
# next server start, never overwritten).
set -euo pipefail

PREFIX=${1:-/opt/dli-seq}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${WORKSHOP_PYTHON:-/usr/bin/python3}

if [ "$(id -u)" != 0 ]; then
  echo "make workshop needs root: it creates a Unix user for every learner. Run it with sudo." >&2
  exit 1
fi
for tool in "$PYTHON" npm useradd; do
  command -v "$tool" >/dev/null || { echo "missing $tool: install it first (see README, Running a workshop)." >&2; exit 1; }
done

umask 022
mkdir -p "$PREFIX"/{proxy,models}
install -d -m 0700 "$PREFIX/hub"

echo "[1/4] Python environment in $PREFIX/venv (from $PYTHON)"
test -x "$PREFIX/venv/bin/python" || "$PYTHON" -m venv "$PREFIX/venv"
PIP=("$PREFIX/venv/bin/python" -m pip --quiet)
"${PIP[@]}" install --upgrade pip
# The kit from its tracked files (what a clean clone has), never from a half-built tree.
SRC=$(mktemp -d)
trap 'rm -rf "$SRC"' EXIT
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$REPO" ls-files -z --cached --others --exclude-standard | (cd "$REPO" && xargs -0 cp --parents -t "$SRC" 2>/dev/null || true)
else
  cp -a "$REPO/." "$SRC/"
fi
"${PIP[@]}" install -c "$REPO/requirements/constraints.txt" "$SRC[workshop]" 2> >(grep -v "is ignored: it is neither" >&2)
"${PIP[@]}" install --no-deps --force-reinstall "$SRC"
mkdir -p "$PREFIX/venv/share/jupyter/lab/settings"
cp "$REPO/tools/jupyterlab-overrides.json" "$PREFIX/venv/share/jupyter/lab/settings/overrides.json"

echo "[2/4] configurable-http-proxy in $PREFIX/proxy"
cp "$REPO/workshop/package.json" "$REPO/workshop/package-lock.json" "$PREFIX/proxy/"
(cd "$PREFIX/proxy" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

echo "[3/4] the course in $PREFIX/course"
rm -rf "$PREFIX/course.new"
mkdir -p "$PREFIX/course.new"
cp -r "$REPO/notebooks" "$REPO/imgs" "$PREFIX/course.new/"
find "$PREFIX/course.new" -name .ipynb_checkpoints -prune -exec rm -rf {} +
rm -f "$PREFIX/course.new/notebooks/INSTRUCTORS.md"  # the instructor's notes stay with the instructor
rm -rf "$PREFIX/course.old"
[ -d "$PREFIX/course" ] && mv "$PREFIX/course" "$PREFIX/course.old"
mv "$PREFIX/course.new" "$PREFIX/course"
rm -rf "$PREFIX/course.old"

echo "[4/4] permissions: everything but $PREFIX/hub readable by learners, writable by root only"
chmod -R a+rX,go-w "$PREFIX/venv" "$PREFIX/proxy" "$PREFIX/course" "$PREFIX/models"
chmod 0755 "$PREFIX"
echo "Installed. Start the hub with: make workshop"
