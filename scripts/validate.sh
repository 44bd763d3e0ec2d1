#!/usr/bin/env bash
# rasa data validate; any warning fails.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(.venv/bin/rasa data validate --domain domain.yml --data data --config config.yml --fail-on-warnings 2>&1) || {
  echo "$out" | grep -vE 'tensorflow|oneDNN|cuda|TensorRT|DeprecationWarning|^\s' >&2
  echo "validate: FAILED" >&2; exit 1; }
if echo "$out" | grep -q "UserWarning"; then
  echo "$out" | grep -A2 "UserWarning" >&2
  echo "validate: warnings found" >&2; exit 1
fi
echo "validate: training data, domain and config valid, no warnings"
