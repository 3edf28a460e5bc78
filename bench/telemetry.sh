#!/usr/bin/env bash
# What telemetry costs: ns per recorded request, and the node's throughput with request
# timing on and off in one run (wrk on two hot paths, the traffic simulator flat out).
#
#   bench/telemetry.sh [--rounds N] [--seconds S]     (defaults: 5 rounds of 6 s)
#
# Installs wrk when missing (Debian's package), builds the release binaries, then runs
# `boothcloud-bench telemetry`. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing wrk" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk </dev/null \
    || { "${sudo[@]}" apt-get update </dev/null && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk </dev/null; }
fi

cargo build --release --workspace --locked
target/release/boothcloud-bench telemetry "$@"
