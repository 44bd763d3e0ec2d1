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

# Each child in its own process group so Ctrl-C reaches all of its children too. Their own output
# (library warnings, start-up lines) goes to var/log/<name>.out, not to the terminal.
names=()
start() { local name=$1; shift; setsid "$@" >>"var/log/$name.out" 2>&1 & pids+=($!); names+=("$name"); }
# A child that died before "ready": say which, show the end of its log, stop the rest.
check_alive() {
  local i
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "run: ${names[$i]} stopped during start-up; the end of var/log/${names[$i]}.out:" >&2
      tail -n 20 "var/log/${names[$i]}.out" >&2
      exit 1
    fi
  done
}

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
start actions env SANIC_HOST=127.0.0.1 .venv/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" --quiet

if [ "$mode" = "--shell" ]; then
  # rasa shell owns the terminal: library deprecation warnings are silenced, Rasa's log goes to var/log.
  PYTHONWARNINGS=ignore SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=3 \
  .venv/bin/rasa shell --log-file var/log/rasa-shell.log --model "$MODEL" --endpoints "$ENDPOINTS"
  exit 0
fi

start rasa env TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/rasa run --model "$MODEL" --endpoints "$ENDPOINTS" --credentials "$CREDS" \
  -i 127.0.0.1 -p "$RASA_PORT" --cors "${cors[@]}" \
  "${api_args[@]}" --log-file var/log/rasa.log
if [ -f bot/tools/web.py ]; then
  start web .venv/bin/python -m bot web --port "$WEB_PORT" --rasa-url "http://localhost:$RASA_PORT" \
    --endpoints "$ENDPOINTS"
fi

echo "run: loading the model (about 20 s)..."
ready=0
for _ in $(seq 1 180); do
  check_alive
  if curl -sf "http://127.0.0.1:$RASA_PORT/" >/dev/null 2>&1 \
     && curl -sf "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1; then ready=1; break; fi
  sleep 1
done
if [ $ready = 0 ]; then
  echo "run: not ready after 180 s; see var/log/rasa.out and var/log/actions.out" >&2
  exit 1
fi
cat <<MSG
run: ready.
  REST:      curl -s -XPOST localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"a","message":"hej"}'
  socket.io: http://localhost:$RASA_PORT/socket.io/
MSG
[ -f bot/tools/web.py ] && echo "  chat page: http://localhost:$WEB_PORT/"
# The staff page (bot/tools/staff.py) opens only with a token of at least 16 characters.
if [ -f bot/tools/staff.py ] && [ -n "${FILMBOT_STAFF_TOKEN:-}" ]; then
  if [ "${#FILMBOT_STAFF_TOKEN}" -ge 16 ]; then
    echo "  staff page: http://localhost:$WEB_PORT/staff (log in with FILMBOT_STAFF_TOKEN)"
  else
    echo "  staff page: closed (FILMBOT_STAFF_TOKEN is shorter than 16 characters)"
  fi
fi
echo "  logs:      var/log/ (rasa.log, rasa.out, actions.out, web.out)"
echo "  Ctrl-C stops everything."
wait -n "${pids[@]}" || true
