#!/bin/sh
# Runs inside the throwaway container that TestUnitsUnderSystemd boots, as the boot's
# systemd.run command, and writes what it sees to /opt/grim-out for the test to check.
# It installs the controller's package, whose postinst starts grim-controller.service;
# runs the install line that POST /api/agents/tokens gives (the dashboard's "Add a
# host"), which installs the agent from the controller and starts grim-agent.service;
# backs up files of several owners with that agent and restores them; then stops both
# units and purges both packages.
set -eu
in=/opt/grim-test
pkgs=/opt/grim-pkgs
out=/opt/grim-out
exec >"$out/driver.log" 2>&1
set -x
journals() {
  for unit in grim-controller grim-agent; do
    journalctl --no-pager -o cat -u "$unit.service" >"$out/$unit-journal.txt" 2>&1 || true
  done
}
trap journals EXIT

# retry N COMMAND...: runs COMMAND every 0.2 s until it succeeds, N times at most.
retry() {
  n=$1
  shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt "$n" ] || return 1
    sleep 0.2
  done
}

# facts UNIT: what systemd says of the unit and the kernel of its running process.
facts() {
  pid=$(systemctl show -p MainPID --value "$1.service")
  systemctl show "$1.service" -p ActiveState -p User -p NoNewPrivileges -p ProtectSystem \
    -p PrivateTmp -p CapabilityBoundingSet -p AmbientCapabilities >"$out/$1-unit.txt"
  grep -E '^(Uid|Gid|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status" \
    >"$out/$1-status.txt"
  cp "/proc/$pid/mountinfo" "$out/$1-mountinfo.txt"
  id -u "$(systemctl show -p User --value "$1.service")" >"$out/$1-uid"
}

# listing DIR: type, owner, group and mode of everything below DIR, then the digest of
# every file's content.
listing() {
  (cd "$1" && find . -printf '%p %y %U %G %m\n' | sort && find . -type f -exec sha256sum {} + |
    sort -k 2)
}

# The container's dpkg database is this machine's under an overlay. Its stat overrides
# name groups of this machine's /etc, which the container's fresh /etc lacks, and dpkg
# refuses to run with them; they concern none of our files.
: >/var/lib/dpkg/statoverride

# 1. The controller's package, as an operator installs it: the postinst starts the unit.
dpkg -i "$pkgs"/grim-controller_*.deb
systemctl is-enabled grim-controller.service
export GRIM_URL=http://127.0.0.1:8080
retry 300 curl -fsS "$GRIM_URL/healthz"
facts grim-controller
set +x # the admin key stays out of the log
GRIM_API_KEY=$(cat /var/lib/grim/admin-api-key)
export GRIM_API_KEY

# 2. The install line, from the route behind the dashboard's "Add a host", run as it is.
curl -fsS -X POST -H "Authorization: Bearer $GRIM_API_KEY" \
  -H 'Content-Type: application/json' -d '{}' "$GRIM_URL/api/agents/tokens" >"$out/token.json"
line=$(sed -n 's/.*"install_command": *"\([^"]*\)".*/\1/p' "$out/token.json")
printf '%s\n' "$line" >"$out/install-line"
set -x
PATH="$in/bin:$PATH" sh -c "$line" >"$out/install.txt" 2>&1
retry 300 sh -c 'grim --json agents list | grep -q "\"status\": \"online\""'
grim --json agents list >"$out/agents.json"
facts grim-agent

# 3. Files of root and of another user, set-user-ID and set-group-ID ones among them,
# backed up and restored by the agent's unit. chmod comes after chown, which clears
# those bits.
src=/srv/data
install -d -m 0755 "$src"
install -d -m 0700 "$src/root-only"
printf 'secret\n' >"$src/root-only/key"
chmod 0600 "$src/root-only/key"
printf '#!/bin/sh\n' >"$src/root-suid"
chmod 4755 "$src/root-suid"
install -d -m 2770 -o 1234 -g 2345 "$src/shared"
printf 'theirs\n' >"$src/shared/notes"
chown 1234:2345 "$src/shared/notes"
chmod 0640 "$src/shared/notes"
printf 'run me\n' >"$src/shared/tool"
chown 1234:2345 "$src/shared/tool"
chmod 6750 "$src/shared/tool"
ln -s notes "$src/shared/link"
chown -h 1234:2345 "$src/shared/link"
listing "$src" >"$out/source.txt"

grim --json backup create --wait "$src" >"$out/backup.json"
backup=$(sed -n 's/^ *"id": *"\([^"]*\)".*/\1/p' "$out/backup.json" | head -n 1)
grim --json restore create "$backup" --to /srv/grim-restore/r1 --wait >"$out/restore.json"
listing /srv/grim-restore/r1 >"$out/restored.txt"

# 4. Both units stop cleanly on SIGTERM, and a purge under systemd takes all away.
systemctl stop grim-agent.service grim-controller.service
for unit in grim-agent grim-controller; do
  systemctl show "$unit.service" -p Result -p ExecMainStatus >>"$out/$unit-unit.txt"
done
dpkg --purge grim-agent grim-controller
for p in /usr/bin/grim-agent /usr/bin/grim-controller /var/lib/grim /var/lib/grim-agent \
  /etc/grim; do
  if [ -e "$p" ]; then echo "left: $p" >>"$out/after-purge.txt"; fi
done
for u in grim grim-agent; do
  if getent passwd "$u" >/dev/null; then echo "left: user $u" >>"$out/after-purge.txt"; fi
done
touch "$out/done"
