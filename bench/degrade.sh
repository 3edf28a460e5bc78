#!/usr/bin/env bash
# What degrading buys the essential routes: the simulator's p50/p95/p99 under bursts of
# visitors while chart images and scrapes compete for the CPU, at `normal` and at
# `essential` (alternating), with how much back-office work was done or shed.
#
#   bench/degrade.sh [--rounds N] [--seconds S] [--loops L]   (defaults: 3 rounds of 12 s, 4 loops)
#
# Builds the release binaries, then runs `boothcloud-bench degrade`. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --locked
target/release/boothcloud-bench degrade "$@"
