#!/usr/bin/env bash
# Installs the Debian packages the tests use, only when missing: Chromium for the browser test,
# PostgreSQL, Redis and nginx for the scale-out test.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: Debian packages present (chromium, postgresql, redis, nginx), nothing to install"
  exit 0
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "setup-system: installing ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts services on install; the tests start their own on loopback.
for svc in postgresql redis-server nginx; do $SUDO service "$svc" stop >/dev/null 2>&1 || true; done
