#!/usr/bin/env bash
# Starts a controller on the embedded defaults and one local agent enrolled in it, prints
# where the dashboard and the admin key are, and stops both on Ctrl-C. Called by `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."

data=${GRIM_DATA_DIR:-./data}
http=${GRIM_HTTP_ADDR:-127.0.0.1:8080}
agent_addr=${GRIM_AGENT_ADDR:-127.0.0.1:8443}
agent_state="$data/local-agent"

pids=()
stop() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait || true
}
trap stop INT TERM EXIT

# --config= keeps the settings of an installed package (/etc/grim) out of this local run.
bin/grim-controller serve --config= --data-dir "$data" --http-addr "$http" --agent-addr "$agent_addr" &
pids+=($!)

for _ in $(seq 1 100); do
  curl -fsS "http://$http/healthz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "controller exited; see the log above" >&2; exit 1; }
  sleep 0.1
done

export GRIM_URL="http://$http" GRIM_API_KEY_FILE="$data/admin-api-key"
token_args=()
if [ ! -f "$agent_state/agent.json" ]; then
  token=$(bin/grim agents token --ttl 600 2>/dev/null)
  token_args=(--token "$token")
fi
bin/grim-agent run --config= --controller "$agent_addr" --state-dir "$agent_state" --name local \
  "${token_args[@]}" &
pids+=($!)

cat <<MSG

  Grim Reaper is running.
    Dashboard:     http://$http/  (sign in as admin@localhost, password in $data/admin-password)
    Admin API key: $data/admin-api-key
    CLI:           export GRIM_URL=$GRIM_URL GRIM_API_KEY_FILE=$GRIM_API_KEY_FILE
                   bin/grim status; bin/grim agents list
  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
