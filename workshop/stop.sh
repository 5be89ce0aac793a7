#!/usr/bin/env bash
# Stop the whole classroom (`make workshop-stop`): the hub, the proxy and every learner's server.
# Ctrl-C on `make workshop` stops only the hub, on purpose: learners keep working through a restart.
# Learners' files stay in their homes; their next sign-in starts a fresh server.
set -uo pipefail
PREFIX=${1:-/opt/dli-seq}
STATE="$PREFIX/hub"
stop() {  # stop() PID WHAT: SIGTERM, up to 30 s to finish, then SIGKILL
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 60); do kill -0 "$1" 2>/dev/null || { echo "stopped $2"; return 0; }; sleep 0.5; done
  kill -KILL "$1" 2>/dev/null; echo "killed $2 (it did not stop within 30 s)"
}
for name in jupyterhub proxy; do
  [ -f "$STATE/$name.pid" ] && stop "$(cat "$STATE/$name.pid")" "$name"
  rm -f "$STATE/$name.pid"
done
members=$(getent group dli-seq-learners | cut -d: -f4 | tr , ' ')
for user in $members; do
  if pkill -TERM -u "$user" -f "dli_seq.workshop.singleuser|jupyterhub-singleuser|ipykernel_launcher" 2>/dev/null; then
    echo "stopped $user's server"
  fi
done
pkill -TERM -f "$PREFIX/venv/bin/python -m jupyterhub_idle_culler" 2>/dev/null || true
pkill -TERM -f "$PREFIX/venv/bin/python -m dli_seq.workshop.progress_page" 2>/dev/null || true
exit 0
