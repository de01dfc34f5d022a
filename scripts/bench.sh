#!/usr/bin/env bash
# Benchmarks Grim Reaper against restic on the same generated data set, in one run: builds
# the binaries, installs restic when it is missing, and runs the driver in bench/, which
# prints the tables and writes bench/results/latest.json. Called by `make bench`.
#
#   scripts/bench.sh                 # the default data set (1 GiB)
#   scripts/bench.sh --quick         # 100 MiB, to check the benchmark itself
#   BENCH_SIZE=1GiB scripts/bench.sh # any size; flags go to the driver (--help lists them)
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

exec go run ./bench/cmd/grim-bench "$@"
