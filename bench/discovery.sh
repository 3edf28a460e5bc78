#!/usr/bin/env bash
# Discovery benchmark: how long until a booth lists a peer, on a LAN of network
# namespaces (tests/scenarios/lan.sh; needs root).
#   announced: B starts after A has announced (A up for 5 s); time from B's API
#              answering (its browser started just before) to A in B's list, and from
#              B's process start.
#   just:      the same with A up for only 2 s, so B asks within a second of A's last
#              announcement (RFC 6762's once-a-second multicast limit applies).
#   together:  A and B start at once; time from the start to each listing the other.
#   flood:     B runs while host C multicasts a flood of mDNS announcements
#              (bench/mdns-flood.py: printers, web devices, stranger booths, noise and
#              malformed packets, thousands of distinct names) at each rate in turn;
#              B's CPU use during the flood against the same time idle, how long its
#              /healthz takes meanwhile, and what its bounded inventory holds after.
# Usage: bench/discovery.sh [path/to/boothcloud-node] [rounds] [flood rates, e.g.
# "1000 5000"; "" skips it]. Prints one line per round and the medians, in
# milliseconds (the node's start-up included).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/boothcloud-node}")
rounds=${2:-5}
flood_rates=${3-1000 5000}
source tests/scenarios/lan.sh
p=bcb$$
work=$(mktemp -d)
token=bench-operator-token-0123456789
trap 'lan_cleanup $p; rm -rf "$work"' EXIT
lan_up "$p"
lan_host "$p" a 10.78.0.1
lan_host "$p" b 10.78.0.2
lan_host "$p" c 10.78.0.3
ms() { date +%s%3N; }
start() { # host → pid
  ip netns exec "$p-$1" env BOOTHCLOUD_OPERATOR_TOKEN=$token BOOTHCLOUD_LOG=error \
    "$bin" serve --data-dir "$work/$1-$round" --listen 0.0.0.0:8787 --secrets file >/dev/null 2>&1 &
  echo $!
}
lists() { # host other-host-ip
  ip netns exec "$p-$1" curl -s --max-time 1 -H "Authorization: Bearer $token" http://127.0.0.1:8788/api/v1/ops/devices 2>/dev/null |
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
# A has been up for `$1` seconds when B starts; prints "ms-after-B-answered ms-after-B-started".
after_a() {
  local a b t0 t1 listed
  a=$(start a)
  until ip netns exec "$p-a" curl -sf http://127.0.0.1:8788/healthz >/dev/null 2>&1; do sleep 0.05; done
  sleep "$1"
  t0=$(ms)
  b=$(start b)
  until ip netns exec "$p-b" curl -sf http://127.0.0.1:8788/healthz >/dev/null 2>&1; do sleep 0.005; done
  t1=$(ms)
  listed=$(until_listed b 10.78.0.1 "$t1")
  # The node's own clock: from its browsers starting to A's first sighting (no polling in it).
  local view found since
  view=$(ip netns exec "$p-b" curl -s -H "Authorization: Bearer $token" http://127.0.0.1:8788/api/v1/ops/devices)
  found=$(jq -r '.devices[] | select(.kind == "booth" and (.addresses | index("10.78.0.1"))) | .first_seen' <<<"$view")
  since=$(jq -r '.discovery.browsing_since' <<<"$view")
  kill -TERM "$a" "$b"; wait "$a" "$b" 2>/dev/null || true
  echo "$listed $((listed + t1 - t0)) $(($(date -d "$found" +%s%3N) - $(date -d "$since" +%s%3N)))"
}
discovered=() announced=() from_start=() just=() together=()
for round in $(seq "$rounds"); do
  # Announced: A has been quiet for seconds (its two announcements are over).
  read -r listed started found < <(after_a 5)
  announced+=("$listed"); from_start+=("$started"); discovered+=("$found")
  # Just announced: B asks within a second of A's second announcement. A responder
  # multicasts a record at most once a second (RFC 6762 §6, Avahi and Bonjour alike),
  # so B's first query goes unanswered and B hears A at its retry a second later.
  round=$round-j
  read -r _ _ found < <(after_a 2)
  just+=("$found")
  round=${round%-j}-t
  t0=$(ms)
  a=$(start a); b=$(start b)
  x=$(until_listed a 10.78.0.2 "$t0"); y=$(until_listed b 10.78.0.1 "$t0")
  together+=("$((x > y ? x : y))")
  kill -TERM "$a" "$b"; wait "$a" "$b" 2>/dev/null || true
  round=${round%-t}
  echo "round $round: announced: found ${discovered[-1]} ms after B began looking (B's clock), listed ${announced[-1]} ms after B answered (polled), ${from_start[-1]} ms after B started; just announced: found ${just[-1]} ms after B began looking; together ${together[-1]} ms"
done
echo "median: peer already announced: found $(printf '%s\n' "${discovered[@]}" | median) ms after the node began looking, listed $(printf '%s\n' "${announced[@]}" | median) ms after its API answered ($(printf '%s\n' "${from_start[@]}" | median) ms after its process started); peer announced within the last second: found $(printf '%s\n' "${just[@]}" | median) ms after the node began looking; both started together $(printf '%s\n' "${together[@]}" | median) ms"

[ -n "$flood_rates" ] || exit 0
# CPU seconds (user + system) the process has used, in milliseconds.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }
# How long /healthz takes, median of 20 asks (ms).
healthz_ms() {
  for _ in $(seq 20); do
    ip netns exec "$p-b" curl -s -o /dev/null -w '%{time_total}\n' --max-time 2 http://127.0.0.1:8788/healthz
    sleep 0.1
  done | awk '{print $1 * 1000}' | median
}
round=flood
b=$(start b)
until ip netns exec "$p-b" curl -sf http://127.0.0.1:8788/healthz >/dev/null 2>&1; do sleep 0.05; done
sleep 3
t0=$(ms); c0=$(cpu_ms "$b"); idle_health=$(healthz_ms); sleep 8; c1=$(cpu_ms "$b"); t1=$(ms)
idle=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN {printf "%.1f", 100 * c / t}')
echo "flood: idle node for $((t1 - t0)) ms: CPU ${idle}% of one core, /healthz median ${idle_health} ms"
for rate in $flood_rates; do
  ip netns exec "$p-c" python3 bench/mdns-flood.py --rate "$rate" --seconds 12 >"$work/flood.json" &
  flooder=$!
  sleep 1
  t0=$(ms); c0=$(cpu_ms "$b"); health=$(healthz_ms); sleep 7; c1=$(cpu_ms "$b"); t1=$(ms)
  wait $flooder
  devices=$(ip netns exec "$p-b" curl -s -H "Authorization: Bearer $token" http://127.0.0.1:8788/api/v1/ops/devices)
  busy=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN {printf "%.1f", 100 * c / t}')
  echo "flood: $(jq -c '{rate, packets, by_kind}' "$work/flood.json") → node CPU ${busy}% of one core (idle ${idle}%)," \
    "/healthz median ${health} ms (idle ${idle_health} ms); inventory $(jq '.devices | length' <<<"$devices") devices," \
    "$(jq '.discovery.events_seen' <<<"$devices") mDNS events folded, $(jq '.discovery.refused' <<<"$devices") refused (full)," \
    "node alive: $(ip netns exec "$p-b" curl -sf -o /dev/null -w '%{http_code}' http://127.0.0.1:8788/healthz)"
done
kill -TERM "$b"; wait "$b" 2>/dev/null || true
