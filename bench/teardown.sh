#!/usr/bin/env bash
# What teardown costs at the end of a busy event: the release node with N orders taken
# offline (contact details on each), torn down with an export folder, step by step;
# against the same export and wipe done by hand with rusqlite on a copy of the database.
#
#   bench/teardown.sh [--orders N] [--rounds R]   (defaults: 10000 orders, 3 rounds)
#
# Builds the release binaries, then runs `boothcloud-bench teardown`. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --locked
target/release/boothcloud-bench teardown "$@"
