package downloads

import (
	"bytes"
	"text/template"
)

// Script returns install.sh for hosts that reach the controller's API at baseURL. It
// installs the agent package that fits the host (dpkg or rpm, amd64 or arm64) from the
// controller, enrols it with the --controller and --token it is given unless it is
// enrolled already, and starts the service when systemd runs. It holds no secret.
//
// TODO: the script and the package are trusted as far as the URL they come from; a
// package checksum carried in the join token would let the script check what it fetched.
func (s *Site) Script(baseURL string) []byte {
	var b bytes.Buffer
	// The template is fixed and its only value is a quoted word; it cannot fail.
	_ = scriptTemplate.Execute(&b, shellQuote(baseURL+"/downloads"))
	return b.Bytes()
}

var scriptTemplate = template.Must(template.New(ScriptName).Parse(`#!/bin/sh
# Installs the Grim Reaper agent from its controller and enrols it.
#   sh install.sh --controller HOST:PORT --token TOKEN [--name NAME]
set -eu
base={{.}}
controller= token= name=
while [ $# -gt 0 ]; do
  case "$1" in
    --controller) controller=$2; shift 2 ;;
    --token) token=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$controller" ] || [ -z "$token" ]; then
  echo "install.sh: --controller and --token are required" >&2; exit 2
fi
if [ "$(id -u)" != 0 ]; then echo "install.sh: run as root" >&2; exit 1; fi

case "$(uname -m)" in
  x86_64|amd64) deb=amd64 rpm=x86_64 ;;
  aarch64|arm64) deb=arm64 rpm=aarch64 ;;
  *) echo "install.sh: no agent package for $(uname -m)" >&2; exit 1 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {
  if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$2" "$1"
  else wget -q -O "$2" "$1"; fi
}
if command -v dpkg >/dev/null 2>&1; then
  fetch "$base/grim-agent_$deb.deb" "$tmp/grim-agent.deb"
  dpkg -i "$tmp/grim-agent.deb"
elif command -v rpm >/dev/null 2>&1; then
  fetch "$base/grim-agent_$rpm.rpm" "$tmp/grim-agent.rpm"
  rpm -U --replacepkgs "$tmp/grim-agent.rpm"
else
  echo "install.sh: neither dpkg nor rpm found" >&2; exit 1
fi

# A host that is enrolled already keeps its identity: the line then only upgrades.
if [ -e /var/lib/grim-agent/agent.json ]; then
  echo "install.sh: enrolled already; the package is upgraded and the token left unused"
else
  set -- --controller "$controller" --token "$token"
  if [ -n "$name" ]; then set -- "$@" --name "$name"; fi
  grim-agent enroll "$@"
fi
if [ -d /run/systemd/system ]; then
  systemctl enable grim-agent.service
  systemctl restart grim-agent.service
else
  echo "install.sh: systemd is not running; start 'grim-agent run' with your init system"
fi
`))
