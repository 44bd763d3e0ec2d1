#!/usr/bin/env bash
# Runs tests/test_stories.yml through `rasa test` against MODEL with a real action server.
# Any wrong intent, entity or action fails the run (--fail-on-prediction-errors).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/current.tar.gz}
work=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { kill -TERM -- "-$apid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
printf 'action_endpoint:\n  url: "http://127.0.0.1:%s/webhook"\nnlg:\n  type: bot.glue.nlg.LanguageNLG\n' "$port" > "$work/endpoints.yml"
SANIC_HOST=127.0.0.1 setsid .venv/bin/python -m rasa_sdk --actions actions --port "$port" --quiet > "$work/actions.log" 2>&1 &
apid=$!
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
if ! .venv/bin/rasa test core --model "$model" --stories tests/test_stories.yml --endpoints "$work/endpoints.yml" \
     --out "$work/results" --fail-on-prediction-errors > "$work/test.log" 2>&1; then
  grep -vE "tensorflow|oneDNN|cuda|TensorRT|Deprecat|^\s+(from|import|\w+\.)" "$work/test.log" | tail -60 >&2
  [ -f "$work/results/failed_test_stories.yml" ] && cat "$work/results/failed_test_stories.yml" >&2
  echo "test-stories: FAILED" >&2; exit 1
fi
n=$(grep -c "^  - story:" tests/test_stories.yml)
echo "test-stories: $n conversations, every intent, entity and action as expected"
