# What the maintainer scripts of grim-controller need to know about it.
PKG=grim-controller
UNIT=grim-controller.service
USER_NAME=grim
STATE_DIR=/var/lib/grim
CONFIG=/etc/grim/controller.yaml

extra_dirs() { :; }
start_on_install() {
  systemctl start "$UNIT" || true
  echo "$PKG: the admin API key is in $STATE_DIR/admin-api-key"
}
purge_extra() { :; }
