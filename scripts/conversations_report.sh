#!/usr/bin/env bash
# `make conversations-report`: runs tests/conversations/cases_*.yaml against the bot and prints per-category
# pass rates, the figures with their bars and every failing conversation (scripts/conversations_report.py).
# Without --url it trains models/current.tar.gz if needed and starts its own action server + Rasa.
# Usage: scripts/conversations_report.sh [--url http://localhost:5005] [--only ID_OR_CATEGORY] [--cases FILE]
#        [--model PATH] [--workers N] [--all]      (make conversations-report ARGS="--only multi_turn")
# Exit status: 0 all bars met, 1 below a bar, 2 bot unreachable / nothing to run.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3
own_stack=1; has_model=0
for arg in "$@"; do
  case "$arg" in
    --url|--url=*) own_stack=0;;
    --model|--model=*) has_model=1;;
    -h|--help) own_stack=0;;
  esac
done
if [ $own_stack = 1 ] && [ $has_model = 0 ]; then
  scripts/train.sh
  set -- --model models/current.tar.gz "$@"
fi
exec .venv/bin/python scripts/conversations_report.py "$@"
