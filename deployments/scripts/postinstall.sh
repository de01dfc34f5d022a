# postinstall: dpkg passes "configure [OLD-VERSION]", rpm 1 (install) or 2 (upgrade).
case "${1:-}" in
  configure) old=${2:-} ;;
  1) old= ;;
  2) old=upgrade ;;
  *) exit 0 ;;
esac
ensure_user
install_config
make_state_dir
extra_dirs
enable_unit
if [ -n "$old" ]; then
  restart_if_running
elif have_systemctl && systemd_running; then
  start_on_install
fi
