#!/usr/bin/env bash
# The project image's entry point (Dockerfile): one image, a role per container.
#   rasa     the Rasa server (REST, socket.io; Slack when configured) on $RASA_PORT (5005)
#   actions  the action server on $ACTION_PORT (5055)
#   web      the page server: chat page and staff page on $WEB_PORT (8000), Rasa at $RASA_URL
#   health   exit 0 when the role this container runs answers (the image's HEALTHCHECK)
#   run ...  `rasa run ...` as Rasa's own image takes it (the Helm chart's arguments): the Rasa role
# Settings come from the environment (deploy/README.md): FILMBOT_ENDPOINTS (default endpoints.prod.yml),
# FILMBOT_MODEL (default models/current.tar.gz, trained into the image), the variables that file names;
# FILMBOT_HOST (0.0.0.0), FILMBOT_CREDENTIALS (default: made by `python -m bot credentials`).
set -euo pipefail
cd "$(dirname "$0")/.."
role=${1:-rasa}; shift || true
PY=${FILMBOT_PYTHON:-.venv/bin/python}
ENDPOINTS=${FILMBOT_ENDPOINTS:-endpoints.prod.yml}
MODEL=${FILMBOT_MODEL:-models/current.tar.gz}
HOST=${FILMBOT_HOST:-0.0.0.0}
RUN_DIR=${FILMBOT_RUN_DIR:-/tmp/filmbot}
mkdir -p "$RUN_DIR"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3} PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}
case "$role" in
  rasa)
    echo rasa > "$RUN_DIR/role"
    creds=${FILMBOT_CREDENTIALS:-}          # a credentials file, else the channels the environment enables
    if [ -z "$creds" ]; then creds="$RUN_DIR/credentials.yml"; "$PY" -m bot credentials > "$creds"; fi
    exec "$PY" -m rasa run --model "$MODEL" --endpoints "$ENDPOINTS" --credentials "$creds" \
      -i "$HOST" -p "${RASA_PORT:-5005}" "$@" ;;
  actions)
    echo actions > "$RUN_DIR/role"
    SANIC_HOST=$HOST exec "$PY" -m rasa_sdk --actions actions --port "${ACTION_PORT:-5055}" "$@" ;;
  web)
    echo web > "$RUN_DIR/role"
    exec "$PY" -m bot web --host "$HOST" --port "${WEB_PORT:-8000}" --rasa-url "${RASA_URL:-http://rasa:5005}" \
      --endpoints "$ENDPOINTS" "$@" ;;
  run)
    echo rasa > "$RUN_DIR/role"
    exec "$PY" -m rasa run "$@" ;;
  health)
    case "$(cat "$RUN_DIR/role" 2>/dev/null || echo rasa)" in
      rasa) url="http://127.0.0.1:${RASA_PORT:-5005}/" ;;
      actions) url="http://127.0.0.1:${ACTION_PORT:-5055}/health" ;;
      web) url="http://127.0.0.1:${WEB_PORT:-8000}/" ;;
    esac
    exec "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)" "$url" ;;
  *)
    echo "container: unknown role '$role' (rasa, actions, web or health)" >&2; exit 2 ;;
esac
