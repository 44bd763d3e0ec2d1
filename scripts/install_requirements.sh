#!/usr/bin/env bash
# Installs requirements.lock into the given Python (a venv's): the one install step of scripts/setup.sh
# (make setup, CI) and of the Dockerfile. Usage: scripts/install_requirements.sh PYTHON
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:?usage: scripts/install_requirements.sh PYTHON}
"$py" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.2"
"$py" -m pip install --quiet --disable-pip-version-check --prefer-binary -r requirements.lock
