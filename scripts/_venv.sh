# Sourced by scripts/run and scripts/test: create .venv and install the pinned requirements when they changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is required (found: $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..."
  "$PYTHON" -m venv .venv
fi
REQS="$1"
STAMP=".venv/.installed-$(basename "$REQS")"
if [ ! -f "$STAMP" ] || [ -n "$(find requirements*.txt -newer "$STAMP" 2>/dev/null)" ]; then
  echo "Installing $REQS into .venv ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQS"
  touch "$STAMP"
fi
