#!/usr/bin/env bash
# Make sure the real services the test suite talks to are up: PostgreSQL on 127.0.0.1:5432
# (trust auth, database "test"), NATS with JetStream on 127.0.0.1:4222, and a headless
# Chromium for the browser-facing pages.
set -euo pipefail

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# LightGBM (the risk extra) loads the OpenMP runtime from Debian's libgomp1.
if ! ldconfig -p 2>/dev/null | grep -q 'libgomp\.so\.1'; then
  echo "ci: installing Debian libgomp1 for LightGBM"
  apt_install libgomp1
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "ci: installing PostgreSQL"
    apt_install postgresql
  fi
  echo "ci: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! pg_up; then
  echo "ci: PostgreSQL is not reachable on 127.0.0.1:5432" >&2
  exit 1
fi
# A fresh install has neither trust auth over TCP nor the test database; make both exist.
if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n1)
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main reload
  fi
  su postgres -c "psql -tc \"select 1 from pg_database where datname='test'\"" | grep -q 1 \
    || su postgres -c "createdb test"
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "ci: installing Debian chromium + chromium-driver for the browser tests"
  apt_install chromium chromium-driver
fi

# NATS with JetStream on 127.0.0.1:4222 for the event relay tests.
nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
if ! nats_up; then
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
    echo "ci: installing Debian nats-server"
    apt_install nats-server
  fi
  echo "ci: starting nats-server with JetStream"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server || echo /usr/sbin/nats-server)" \
    -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 30); do nats_up && break; sleep 1; done
fi
if ! nats_up; then
  echo "ci: NATS is not reachable on 127.0.0.1:4222" >&2
  exit 1
fi

# Contract intake (R12): a CJK font for the synthetic contract photos. The rapidocr,
# onnxruntime and opencv-python-headless wheels link only libstdc++ and zlib (checked with
# ldd), which every Debian Python image has, so no other package is needed.
if ! fc-list 2>/dev/null | grep -qi 'wqy-microhei'; then
  echo "ci: installing fonts-wqy-microhei for the contract intake tests"
  apt_install fonts-wqy-microhei fontconfig
fi
