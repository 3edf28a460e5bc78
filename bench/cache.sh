#!/usr/bin/env bash
# The asset cache against nginx, and its hit ratio on a booth-like request mix.
#
#   bench/cache.sh [--runs N] [--seconds S]     (defaults: 3 rounds of 8 s per case)
#
# Installs what it needs when missing (Debian's nginx-light and wrk), builds the
# release binaries, then runs
#   boothcloud-bench cache       nginx proxy_cache vs the node, same origin, wrk on loopback
#   boothcloud-bench hit-ratio   a seeded storefront trace replayed after warm-up
# Safe to run again: nothing is installed twice, every run uses fresh temp folders.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing ${need[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" </dev/null \
    || { "${sudo[@]}" apt-get update </dev/null && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" </dev/null; }
fi

cargo build --release --workspace --locked
target/release/boothcloud-bench cache "$@"
echo
target/release/boothcloud-bench hit-ratio
