#!/usr/bin/env bash
# Creates .venv from a Python 3.10 interpreter and installs requirements.lock when it changed.
# Idempotent: a second run installs nothing and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  PY=$(scripts/find_python.sh)
  echo "setup: creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
  echo "setup: $VENV is not Python 3.10; remove it ('rm -rf $VENV') and run again." >&2
  exit 1
fi
want=$(sha256sum requirements.lock | cut -c1-16)
have=$(cat "$VENV/.installed" 2>/dev/null || true)
if [ "$want" = "$have" ]; then
  echo "setup: Python packages up to date (requirements.lock $want), nothing to install"
else
  echo "setup: installing requirements.lock ($want) into $VENV"
  scripts/install_requirements.sh "$VENV/bin/python"
  echo "$want" > "$VENV/.installed"
fi
# npm packages of the chat page (web/), again only when web/package-lock.json changed.
if [ -f web/package-lock.json ]; then
  want=$(sha256sum web/package-lock.json | cut -c1-16)
  have=$(cat web/node_modules/.installed 2>/dev/null || true)
  if [ "$want" = "$have" ]; then
    echo "setup: npm packages up to date (web/package-lock.json $want)"
  elif ! command -v npm >/dev/null; then
    echo "setup: npm not found: the chat page (web/) needs Node.js 20 + npm; skipping" >&2
  else
    echo "setup: installing web/package-lock.json ($want) into web/node_modules"
    npm ci --prefix web --no-audit --no-fund --loglevel=error
    echo "$want" > web/node_modules/.installed
  fi
fi
