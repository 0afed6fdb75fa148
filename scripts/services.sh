#!/usr/bin/env bash
# Make sure the services the test suite talks to are installed and running:
# PostgreSQL (127.0.0.1:5432, trust for local connections) and Redis (127.0.0.1:6379).
# Installs them with apt-get when missing; starts them when stopped. Idempotent.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# --- Redis -------------------------------------------------------------------------------
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null

# --- PostgreSQL --------------------------------------------------------------------------
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt_install postgresql; fi
if ! pg_up; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then apt_install postgresql; version=$(ls /etc/postgresql | sort -V | tail -n 1); fi
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nlocal all all trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 100); do pg_up && break; sleep 0.2; done
fi
pg_up
# A cluster the package started itself (systemd on a VM) asks for passwords on 127.0.0.1: give
# local connections trust, as above, and reload it.
if ! psql -h 127.0.0.1 -U postgres -w -tAc "select 1" >/dev/null 2>&1; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  as_root sed -i '1i host all all 127.0.0.1/32 trust\nlocal all all trust' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  sleep 1
fi
psql -h 127.0.0.1 -U postgres -w -tAc "select 1" >/dev/null
echo "services: redis and postgresql are up"

# --- Chromium for the browser tests (Debian's package: Playwright drives it, no browser download).
# The headless shell: the build Playwright runs headless, at about a third of the full browser's CPU.
if [ ! -x /usr/bin/chromium-headless-shell ]; then
  apt_install chromium-headless-shell
fi
echo "services: chromium at /usr/bin/chromium-headless-shell"
