#!/usr/bin/env bash
# Trains models/current.tar.gz only when training inputs changed (content hash of config, domain,
# data and the custom NLU components). Usage: scripts/train.sh [--force] [--check] [--out DIR]
# --check: exit 0 if the model is up to date, 1 if it would be retrained (trains nothing).
# A model in var/test-model or models/ trained from the same inputs is copied instead of training again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=models; force=0; check=0
while [ $# -gt 0 ]; do
  case "$1" in --force) force=1;; --check) check=1;; --out) out=$2; shift;; *) echo "unknown option $1" >&2; exit 2;; esac; shift
done
hash=$(cat config.yml domain.yml data/*.yml bot/glue/nlu_components.py requirements.lock | sha256sum | cut -c1-16)
if [ $force = 0 ] && [ -f "$out/current.tar.gz" ] && [ "$(cat "$out/.fingerprint" 2>/dev/null)" = "$hash" ]; then
  echo "train: model up to date ($out/current.tar.gz, inputs $hash), not retraining"
  exit 0
fi
# `make run` right after `make test`: the model `make test` trained from the same inputs is reused.
if [ $force = 0 ] && [ $check = 0 ]; then
  for other in var/test-model models; do
    [ "$other" -ef "$out" ] 2>/dev/null && continue
    if [ -f "$other/current.tar.gz" ] && [ "$(cat "$other/.fingerprint" 2>/dev/null)" = "$hash" ]; then
      mkdir -p "$out"
      cp "$other/current.tar.gz" "$out/current.tar.gz.tmp" && mv "$out/current.tar.gz.tmp" "$out/current.tar.gz"
      echo "$hash" > "$out/.fingerprint"
      echo "train: reusing $other/current.tar.gz, trained from the same inputs ($hash), as $out/current.tar.gz"
      exit 0
    fi
  done
fi
if [ $check = 1 ]; then echo "train: $out/current.tar.gz is missing or out of date (inputs $hash)"; exit 1; fi
mkdir -p "$out"
mkdir -p var/log
log=var/log/train.log
echo "train: training $out/current.tar.gz (inputs $hash; a few minutes, output in $log)"
start=$(date +%s)
if ! PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/rasa train --config config.yml --domain domain.yml \
    --data data --out "$out" --fixed-model-name current --force --quiet >"$log" 2>&1; then
  echo "train: failed after $(( $(date +%s) - start )) s; the end of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
echo "$hash" > "$out/.fingerprint"
echo "train: done in $(( $(date +%s) - start )) s"
