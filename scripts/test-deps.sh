#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: for the package tests
# systemd-nspawn (systemd-container), systemd-analyze (systemd), setpriv (util-linux),
# curl, dpkg itself and rpm (to read the .rpm packages); for the dashboard's browser tests
# chromium. Called by .ci/run; needs root and apt.
set -euo pipefail

need=()
for pair in systemd-nspawn:systemd-container systemd-analyze:systemd setpriv:util-linux \
  curl:curl dpkg-deb:dpkg rpm:rpm chromium:chromium; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "test-deps: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: missing ${need[*]}; the tests that need them will skip or fail" >&2
  exit 0
fi
echo "test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
