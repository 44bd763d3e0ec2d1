#!/usr/bin/env bash
# Scale-out test (`make test-scale`, also the last step of `make test`): PostgreSQL + Redis + one action
# server + two Rasa instances running endpoints.prod.yml + nginx round robin, all on loopback with
# throw-away data (tests/scale/scale_check.py). Prints the report (RSS of the Rasa processes, timings).
# FILMBOT_TEST_MODEL: model to use (default: var/test-model/current.tar.gz, trained when missing/outdated).
# FILMBOT_SCALE_KEEP=1 keeps the temp folder (logs, nginx.conf) for inspection. Extra arguments go to pytest.
# FILMBOT_SCALE_STOCK_LOCK=1 runs Rasa's own RedisLockStore instead of bot.glue.lock_store (the dead-ticket check
# then fails with a 503 after 60 s: the reason for bot/glue/lock_store.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3
start=$(date +%s)

for cmd in redis-server; do command -v "$cmd" >/dev/null || { echo "test-scale: $cmd missing: run make setup-system" >&2; exit 1; }; done
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "test-scale: nginx missing: run make setup-system" >&2; exit 1; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "test-scale: PostgreSQL missing: run make setup-system" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "test-scale: runs PostgreSQL as the postgres user, so it needs root" >&2; exit 1; }

if [ -z "${FILMBOT_TEST_MODEL:-}" ] || [ ! -f "$FILMBOT_TEST_MODEL" ]; then
  scripts/train.sh --out var/test-model
  export FILMBOT_TEST_MODEL="$PWD/var/test-model/current.tar.gz"
fi

# Every process the test starts gets its own process group; their ids are listed in this file while they
# run, so the trap can stop them even if pytest itself is killed.
export FILMBOT_SCALE_WORKDIR; FILMBOT_SCALE_WORKDIR=$(mktemp -d /tmp/filmbot-scale.XXXXXX)
export FILMBOT_SCALE_PIDFILE="$FILMBOT_SCALE_WORKDIR.pgids"
export FILMBOT_SCALE_REPORT="$PWD/var/test-scale/report.json"
: > "$FILMBOT_SCALE_PIDFILE"
rm -f "$FILMBOT_SCALE_REPORT"
cleanup() {
  local rc=$? g left=()
  trap - EXIT INT TERM
  if [ -s "$FILMBOT_SCALE_PIDFILE" ]; then
    while read -r g; do [ -n "$g" ] && kill -0 -- "-$g" 2>/dev/null && left+=("$g"); done < "$FILMBOT_SCALE_PIDFILE"
    if [ ${#left[@]} -gt 0 ]; then
      echo "test-scale: stopping leftover process groups ${left[*]}" >&2
      for g in "${left[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
      sleep 3
      for g in "${left[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
    fi
  fi
  rm -f "$FILMBOT_SCALE_PIDFILE"
  if [ -n "${FILMBOT_SCALE_KEEP:-}" ]; then echo "test-scale: kept $FILMBOT_SCALE_WORKDIR"; else rm -rf "$FILMBOT_SCALE_WORKDIR"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rc=0
timeout -k 30 900 .venv/bin/python -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning \
  tests/scale/scale_check.py "$@" || rc=$?
if [ -f "$FILMBOT_SCALE_REPORT" ]; then
  echo "test-scale: report $FILMBOT_SCALE_REPORT"
  .venv/bin/python - "$FILMBOT_SCALE_REPORT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for key, v in sorted(r.get("rss_kib", {}).items()):
    print(f"  RSS {key:22s} {v['VmRSS'] / 1024:7.0f} MiB (peak {v['VmHWM'] / 1024:.0f} MiB)")
load = r.get("load", {})
if load:
    print(f"  load: {load['messages']} messages in {load['seconds']} s, B killed at {load['killed_B_after_s']} s, "
          f"lost {len(load['lost'])}, nginx retries {len(load['nginx_retried_requests'])}, "
          f"repeated messages {load.get('repeated_user_messages')}")
    print(f"  per upstream during load: {load['requests_per_upstream']}")
print(f"  after B rejoined: {r.get('after_rejoin_requests_per_upstream')}")
print(f"  stack start {r.get('startup_s')} s, B restart {r.get('restart_B_s')} s")
PY
fi
echo "test-scale: $([ $rc = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
exit $rc
