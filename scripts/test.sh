#!/usr/bin/env bash
# Everything `make test` runs, in order. Fails on the first failing step and says which.
set -euo pipefail
cd "$(dirname "$0")/.."
export FILMBOT_TEST_MODEL="$PWD/var/test-model/current.tar.gz"
export TF_CPP_MIN_LOG_LEVEL=3
start=$(date +%s)
step() { echo; echo "=== test: $* ($(( $(date +%s) - start )) s)"; }

step "registry check"
.venv/bin/python -m bot registry check

step "rasa data validate"
scripts/validate.sh

step "training run into a scratch folder (var/test-model)"
mkdir -p var/test-model
scripts/train.sh --force --out var/test-model | tee var/test-model/train-output.txt   # tests count its lines

step "pytest (unit, actions, end-to-end REST/socket.io/Slack/browser)"
.venv/bin/python -m pytest -q -p no:cacheprovider tests

step "held-out NLU test set (intent accuracy and place-entity F1 >= 95 %)"
.venv/bin/python -m bot nlu-report --model "$FILMBOT_TEST_MODEL" --min-intent-accuracy 0.95 --min-entity-f1 0.95 --quiet

step "conversation tests (rasa test, --fail-on-prediction-errors)"
scripts/test_stories.sh "$FILMBOT_TEST_MODEL"

if [ -x scripts/test_scale.sh ]; then
  step "scale-out (PostgreSQL + Redis + 2 Rasa + nginx)"
  scripts/test_scale.sh
fi
echo; echo "=== test: all passed in $(( $(date +%s) - start )) s"
