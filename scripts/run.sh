#!/usr/bin/env bash
# Starts the action server, the Rasa server (REST + socket.io, Slack when configured) and the chat
# page, all on localhost. Ctrl-C stops everything it started. `--shell` runs `rasa shell` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && { set -a; . ./.env; set +a; }
RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
WEB_PORT=${WEB_PORT:-8000}
MODEL=${FILMBOT_MODEL:-models/current.tar.gz}
ENDPOINTS=${FILMBOT_ENDPOINTS:-endpoints.yml}
mkdir -p var/log
mode=${1:-}

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f "${CREDS:-}"
  echo "run: stopped"
}
trap cleanup INT TERM EXIT

# Each child in its own process group so Ctrl-C reaches all of its children too.
start() { setsid "$@" & pids+=($!); }

CREDS=var/credentials.$$.yml
.venv/bin/python -m bot credentials > "$CREDS"
api_args=()
if [ -n "${RASA_AUTH_TOKEN:-}" ]; then
  api_args=(--enable-api --auth-token "$RASA_AUTH_TOKEN")
  echo "run: Rasa HTTP API enabled (token from RASA_AUTH_TOKEN)"
else
  echo "run: Rasa HTTP API closed (set RASA_AUTH_TOKEN to open it)"
fi

# Browsers may call Rasa only from these origins (space-separated CORS_ORIGINS; default: the chat page).
read -r -a cors <<< "${CORS_ORIGINS:-http://localhost:$WEB_PORT http://127.0.0.1:$WEB_PORT}"

echo "run: action server on 127.0.0.1:$ACTION_PORT"
start env SANIC_HOST=127.0.0.1 .venv/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" --quiet

if [ "$mode" = "--shell" ]; then
  .venv/bin/rasa shell --model "$MODEL" --endpoints "$ENDPOINTS"
  exit 0
fi

start .venv/bin/rasa run --model "$MODEL" --endpoints "$ENDPOINTS" --credentials "$CREDS" \
  -i 127.0.0.1 -p "$RASA_PORT" --cors "${cors[@]}" \
  "${api_args[@]}" --log-file var/log/rasa.log
if [ -f bot/web.py ]; then
  start .venv/bin/python -m bot web --port "$WEB_PORT" --rasa-url "http://localhost:$RASA_PORT" \
    --endpoints "$ENDPOINTS"
fi

echo "run: loading the model (about 20 s)..."
for _ in $(seq 1 180); do
  curl -sf "http://127.0.0.1:$RASA_PORT/" >/dev/null 2>&1 && break
  sleep 1
done
cat <<MSG
run: ready.
  REST:      curl -s -XPOST localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"a","message":"hej"}'
  socket.io: http://localhost:$RASA_PORT/socket.io/
MSG
[ -f bot/web.py ] && echo "  chat page: http://localhost:$WEB_PORT/"
# The staff page (bot/staff.py) opens only with a token of at least 16 characters.
if [ -f bot/staff.py ] && [ -n "${FILMBOT_STAFF_TOKEN:-}" ]; then
  if [ "${#FILMBOT_STAFF_TOKEN}" -ge 16 ]; then
    echo "  staff page: http://localhost:$WEB_PORT/staff (log in with FILMBOT_STAFF_TOKEN)"
  else
    echo "  staff page: closed (FILMBOT_STAFF_TOKEN is shorter than 16 characters)"
  fi
fi
echo "  Ctrl-C stops everything."
wait -n "${pids[@]}" || true
