# What the maintainer scripts of grim-agent need to know about it.
PKG=grim-agent
UNIT=grim-agent.service
USER_NAME=grim-agent
STATE_DIR=/var/lib/grim-agent
CONFIG=/etc/grim/agent.yaml
RESTORE_DIR=/srv/grim-restore

# extra_dirs makes the one place outside its state that the unit lets restores write.
extra_dirs() { install -d -m 0700 "$RESTORE_DIR"; }

# start_on_install starts a freshly installed agent only when it is already enrolled (a
# reinstall after a removal); a new one waits for `grim-agent enroll`.
start_on_install() {
  if [ -e "$STATE_DIR/agent.json" ]; then
    systemctl start "$UNIT" || true
  else
    echo "$PKG: enrol this host: grim-agent enroll --controller HOST:PORT --token TOKEN"
    echo "$PKG: then: systemctl start $UNIT"
  fi
}

purge_extra() { rmdir "$RESTORE_DIR" 2>/dev/null || true; }
