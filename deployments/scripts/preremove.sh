# preremove: dpkg passes "remove" or "upgrade", rpm 0 (erase) or 1 (upgrade). An upgrade
# leaves the service running; postinstall restarts it on the new binary.
case "${1:-}" in
  remove|0) stop_unit; disable_unit ;;
esac
