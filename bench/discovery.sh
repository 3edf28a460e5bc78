#!/usr/bin/env bash
# Discovery benchmark: how long until a booth lists a peer, on a LAN of network
# namespaces (tests/scenarios/lan.sh; needs root).
#   announced: B starts after A has announced; time from B's API answering (its
#              browser started just before) to A in B's list, and from B's process start.
#   together:  A and B start at once; time from the start to each listing the other.
# Usage: bench/discovery.sh [path/to/boothcloud-node] [rounds]. Prints one line per
# round and the medians, in milliseconds (the node's start-up included).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/boothcloud-node}")
rounds=${2:-5}
source tests/scenarios/lan.sh
p=bcb$$
work=$(mktemp -d)
token=bench-operator-token-0123456789
trap 'lan_cleanup $p; rm -rf "$work"' EXIT
lan_up "$p"
lan_host "$p" a 10.78.0.1
lan_host "$p" b 10.78.0.2
ms() { date +%s%3N; }
start() { # host → pid
  ip netns exec "$p-$1" env BOOTHCLOUD_OPERATOR_TOKEN=$token BOOTHCLOUD_LOG=error \
    "$bin" serve --data-dir "$work/$1-$round" --listen 0.0.0.0:8787 --secrets file >/dev/null 2>&1 &
  echo $!
}
lists() { # host other-host-ip
  ip netns exec "$p-$1" curl -s --max-time 1 -H "Authorization: Bearer $token" http://127.0.0.1:8787/api/v1/ops/devices 2>/dev/null |
    jq -e --arg ip "$2" '.devices[] | select(.kind == "booth" and (.addresses | index($ip)))' >/dev/null 2>&1
}
until_listed() { # host ip t0 → elapsed ms
  local end=$(($(ms) + 15000))
  until lists "$1" "$2"; do
    [ "$(ms)" -lt $end ] || { echo 99999; return; }
    sleep 0.005
  done
  echo $(($(ms) - $3))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
announced=() from_start=() together=()
for round in $(seq "$rounds"); do
  a=$(start a)
  until lists a 10.78.0.9 || ip netns exec "$p-a" curl -sf http://127.0.0.1:8787/healthz >/dev/null; do sleep 0.05; done
  sleep 2
  t0=$(ms)
  b=$(start b)
  until ip netns exec "$p-b" curl -sf http://127.0.0.1:8787/healthz >/dev/null 2>&1; do sleep 0.005; done
  t1=$(ms)
  listed=$(until_listed b 10.78.0.1 "$t1")
  announced+=("$listed")
  from_start+=("$((listed + t1 - t0))")
  kill -TERM "$a" "$b"; wait "$a" "$b" 2>/dev/null || true
  round=$round-t
  t0=$(ms)
  a=$(start a); b=$(start b)
  x=$(until_listed a 10.78.0.2 "$t0"); y=$(until_listed b 10.78.0.1 "$t0")
  together+=("$((x > y ? x : y))")
  kill -TERM "$a" "$b"; wait "$a" "$b" 2>/dev/null || true
  round=${round%-t}
  echo "round $round: announced ${announced[-1]} ms after B answered (${from_start[-1]} ms after B started), together ${together[-1]} ms"
done
echo "median: peer already announced $(printf '%s\n' "${announced[@]}" | median) ms after the node answered ($(printf '%s\n' "${from_start[@]}" | median) ms after its start); both started together $(printf '%s\n' "${together[@]}" | median) ms"
