#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, or explains what to install and exits 1.
# Order: $PYTHON310 override, python3.10 on PATH, pyenv's installed 3.10.x versions.
set -u
is310() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
if [ -n "${PYTHON310:-}" ]; then
  if is310 "$PYTHON310"; then echo "$PYTHON310"; exit 0; fi
  echo "PYTHON310=$PYTHON310 is not a Python 3.10 interpreter." >&2; exit 1
fi
if p=$(command -v python3.10 2>/dev/null) && is310 "$p"; then echo "$p"; exit 0; fi
roots=""
command -v pyenv >/dev/null 2>&1 && roots="$(pyenv root 2>/dev/null)"
roots="$roots ${PYENV_ROOT:-} $HOME/.pyenv"
for r in $roots; do
  for p in $(ls -d "$r"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do
    if is310 "$p"; then echo "$p"; exit 0; fi
  done
done
echo "Python 3.10 is required (Rasa 3.6 does not run on 3.11+): install it, e.g. 'pyenv install 3.10.13', or set PYTHON310=/path/to/python3.10." >&2
exit 1
