# postremove: dpkg passes "remove", "purge" or "upgrade", rpm 0 (erase) or 1 (upgrade).
# Only a purge takes the state, the settings and the user away; rpm has no purge, so an
# rpm erase keeps them, as a dpkg remove does.
case "${1:-}" in
  purge) purge_state; purge_extra ;;
esac
