#!/usr/bin/env bash
# Benchmarks Grim Reaper against restic on the same generated data set, in one run: builds
# the binaries, installs restic when it is missing, and runs the driver in bench/, which
# prints the tables and writes bench/results/latest-<transport>.json, then measures database
# dumps (bench/results/latest-db.json). Called by `make bench`.
#
#   scripts/bench.sh                 # the default data set (1 GiB)
#   scripts/bench.sh --quick         # 100 MiB, to check the benchmark itself
#   BENCH_SIZE=1GiB scripts/bench.sh # any size; flags go to the driver (--help lists them)
#   BENCH_TRANSPORTS=tcp scripts/bench.sh  # one transport only (default: quic, then tcp;
#                                          # a list is spaces or commas: quic,tcp)
#
# Dropping the page cache between phases needs root; without it every phase runs warm.
set -euo pipefail
cd "$(dirname "$0")/.."

make build

if ! command -v restic >/dev/null 2>&1; then
  echo "restic not found; installing it with apt-get" >&2
  if command -v apt-get >/dev/null 2>&1; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get install -y restic ||
      { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y restic; } ||
      echo "could not install restic; measuring Grim Reaper alone" >&2
  else
    echo "no apt-get; measuring Grim Reaper alone" >&2
  fi
fi

# Both agent transports are measured, each in a run of its own with restic beside it, so
# every ratio compares two tools measured back to back. BENCH_TRANSPORTS picks fewer.
quick=""
for arg in "$@"; do [ "$arg" = "--quick" ] && quick=1; done
[ "${BENCH_QUICK:-}" = "1" ] && quick=1
prefix=latest
[ -n "$quick" ] && prefix=quick
go build -o bin/grim-bench ./bench/cmd/grim-bench
BENCH_TRANSPORTS=${BENCH_TRANSPORTS:-quic tcp}
for transport in ${BENCH_TRANSPORTS//,/ }; do
  echo "=== agent transport: $transport"
  bin/grim-bench --transport "$transport" --out "bench/results/$prefix-$transport.json" "$@"
done

# Database dumps: how much a second backup stores after 1% of the rows changed, on the
# local PostgreSQL and MariaDB servers (each skipped when it does not answer).
# BENCH_DB=0 leaves this out.
if [ "${BENCH_DB:-1}" = "1" ]; then
  echo "=== database dumps"
  go build -o bin/grim-dbbench ./bench/cmd/grim-dbbench
  customers=100000
  [ -n "$quick" ] && customers=20000
  bin/grim-dbbench --customers "$customers" --out "bench/results/$prefix-db.json"
fi
