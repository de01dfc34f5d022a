#!/usr/bin/env bash
# Installs the Debian packages the package tests need when they are missing:
# systemd-nspawn (systemd-container), systemd-analyze (systemd), setpriv (util-linux),
# curl, dpkg itself and rpm (to read the .rpm packages). Called by .ci/run; needs root and
# apt.
set -euo pipefail

need=()
for pair in systemd-nspawn:systemd-container systemd-analyze:systemd setpriv:util-linux \
  curl:curl dpkg-deb:dpkg rpm:rpm; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "test-deps: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: missing ${need[*]}; the package tests will skip" >&2
  exit 0
fi
echo "test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
