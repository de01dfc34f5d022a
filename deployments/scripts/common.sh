# Shared by the maintainer scripts of the grim-agent and grim-controller packages. nfpm
# puts this file's text in front of each script, which sets PKG, UNIT, USER_NAME,
# STATE_DIR and CONFIG before it.
#
# The scripts serve dpkg and rpm: dpkg passes words (configure, remove, upgrade, purge),
# rpm passes the number of installed versions after the step (0 erase, 1 install,
# 2 upgrade). They must work where systemd is not running (containers, chroots, image
# builds): then they only enable the unit, which systemctl can do offline.

systemd_running() { [ -d /run/systemd/system ]; }
have_systemctl() { command -v systemctl >/dev/null 2>&1; }

ensure_user() {
  getent passwd "$USER_NAME" >/dev/null 2>&1 && return 0
  if command -v systemd-sysusers >/dev/null 2>&1 &&
    systemd-sysusers "/usr/lib/sysusers.d/$PKG.conf" 2>/dev/null &&
    getent passwd "$USER_NAME" >/dev/null 2>&1; then
    return 0
  fi
  useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "Grim Reaper $PKG" "$USER_NAME"
}

# install_config copies the packaged defaults to /etc once; the file is the operator's
# (and `grim-agent enroll`'s) from then on, so an upgrade never touches or asks about it.
install_config() {
  [ -e "$CONFIG" ] && return 0
  install -d -m 0755 /etc/grim
  install -m 0644 "/usr/share/grim/$(basename "$CONFIG")" "$CONFIG"
}

make_state_dir() {
  install -d -m 0700 -o "$USER_NAME" -g "$USER_NAME" "$STATE_DIR"
}

enable_unit() {
  have_systemctl || return 0
  if systemd_running; then systemctl daemon-reload || true; fi
  systemctl enable "$UNIT" >/dev/null 2>&1 || echo "$PKG: could not enable $UNIT" >&2
}

stop_unit() {
  have_systemctl && systemd_running || return 0
  systemctl stop "$UNIT" || true
}

disable_unit() {
  have_systemctl || return 0
  systemctl disable "$UNIT" >/dev/null 2>&1 || true
  if systemd_running; then systemctl daemon-reload || true; fi
}

restart_if_running() {
  have_systemctl && systemd_running || return 0
  systemctl try-restart "$UNIT" || true
}

purge_state() {
  rm -rf "$STATE_DIR"
  rm -f "$CONFIG"
  rmdir /etc/grim 2>/dev/null || true
  if getent passwd "$USER_NAME" >/dev/null 2>&1; then
    userdel "$USER_NAME" >/dev/null 2>&1 || true
  fi
  getent group "$USER_NAME" >/dev/null 2>&1 && groupdel "$USER_NAME" >/dev/null 2>&1 || true
}
