#!/usr/bin/env bash
# Makes sure the services the test suite talks to are up: PostgreSQL on 127.0.0.1:5432
# (trust auth, user postgres) and MariaDB on 127.0.0.1:3306 (root, no password, for the
# database backups to come). Starts each when it does not answer; fails loudly if it cannot.
set -euo pipefail

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "services: $name does not answer" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
psql -h 127.0.0.1 -U postgres -Atc 'select 1' >/dev/null
echo "services: PostgreSQL answers"

if ! mariadb -h 127.0.0.1 -u root -e 'select 1' >/dev/null 2>&1; then
  echo "services: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
wait_for MariaDB mariadb -h 127.0.0.1 -u root -e 'select 1'
echo "services: MariaDB answers"

# quic-go asks for 7 MiB socket buffers; the kernel's default cap is far lower, which
# slows QUIC transfers. Raise the caps where we may (a container may refuse).
sysctl -qw net.core.rmem_max=7500000 net.core.wmem_max=7500000 2>/dev/null ||
  echo "services: could not raise UDP buffer caps; QUIC runs slower"
