#!/usr/bin/env bash
# Installs Ray (pinned) into the project-local virtualenv .venv-ray/ for `s2r train --ray` and `s2r sweep --ray`.
# Idempotent: when the pinned versions are already importable it returns in well under a second.
# The single-machine path never needs this; see README "Training on a Ray cluster".
set -euo pipefail
cd "$(dirname "$0")/.."
RAY_VERSION=2.58.0
VENV=.venv-ray
PY=${PYTHON:-python3}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<PYEOF 2>/dev/null
import importlib.metadata as m, sys
ok = m.version("ray") == "$RAY_VERSION" and all(m.version(p) for p in ("msgpack", "numpy", "pyarrow"))
sys.exit(0 if ok else 1)
PYEOF
then
  exit 0
fi
if ! command -v "$PY" >/dev/null; then
  echo "install-ray: $PY not found; install Python 3.9+ (e.g. apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$PY" -m venv "$VENV"; then
  echo "install-ray: '$PY -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
  exit 1
fi
# --retries 0: these machines reach only their configured local wheel index; pip would otherwise retry the
# unreachable default index five times per package, with backoff (minutes in all).
"$VENV/bin/pip" install --quiet --disable-pip-version-check --retries 0 "ray[tune]==$RAY_VERSION" msgpack numpy pyarrow
echo "install-ray: ray $RAY_VERSION installed in $VENV"
