#!/usr/bin/env bash
# Instructions per request with request timing on and off, counted by callgrind (exact
# and repeatable whatever else the machine does, unlike throughput).
#
#   bench/callgrind-telemetry.sh [PATH...]     (default: /assets/img/hero.jpg /api/v1/catalogue)
#
# For each path and mode, runs the release node under callgrind twice, with 1,000 and
# 5,000 keep-alive requests from one client, and prints (Ir(5000) - Ir(1000)) / 4000:
# the first requests' set-up (a route's histograms are made on its first request)
# cancels out. Only instructions run inside connection tasks are counted
# (--toggle-collect on the task the accept loop spawns per connection: parsing,
# routing, the handler, timing, writing): the node's per-second work (the spend
# ledger's tick, the charts' 10 s sample) runs at valgrind's pace and would otherwise
# land in a per-request figure. Kernel time (the socket calls) is not counted and is
# the same with timing on or off, so on / off here is an upper bound on what timing
# costs a CPU-bound node. Needs valgrind; builds nothing (run `cargo build --release
# --workspace` first).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 1; }

# One run: total instructions of a node that answered N requests for PATH.
one() {
mode=$1; n=$2; path=$3
d=$(mktemp -d)
if [ "$mode" = off ]; then export BOOTHCLOUD_NO_TIMING=true; else unset BOOTHCLOUD_NO_TIMING; fi
BOOTHCLOUD_OPERATOR_TOKEN=operator-token-for-tests valgrind --tool=callgrind --callgrind-out-file=$d/cg.out \
  '--toggle-collect=boothcloud_node::http::serve::serve::{{closure}}::{{closure}}' "$root/target/release/boothcloud-node" serve --data-dir $d --listen 127.0.0.1:0 --secrets file > $d/out 2>$d/err &
pid=$!
for i in $(seq 1 200); do grep -q "listening on" $d/out 2>/dev/null && break; sleep 0.2; done
url=$(head -1 $d/out | sed 's/listening on //')
sleep 3
python3 - "$url" "$n" "$path" <<'PY'
import sys, http.client, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); n = int(sys.argv[2]); path = sys.argv[3]
c = http.client.HTTPConnection(u.hostname, u.port)
for i in range(n):
    c.request("GET", path, headers={"user-agent": "cg"}); r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
kill -TERM $pid; wait $pid || true
grep -h "^summary\|^totals" $d/cg.out* | tail -1 | awk '{print $2}'
rm -rf $d
}

paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(/assets/img/hero.jpg /api/v1/catalogue)
echo "| Path | instructions/request, timing on | off | on / off |"
echo "|---|---:|---:|---:|"
for path in "${paths[@]}"; do
  declare -A per
  for mode in on off; do
    a=$(one $mode 1000 "$path"); b=$(one $mode 5000 "$path")
    per[$mode]=$(( (b - a) / 4000 ))
  done
  echo "| $path | ${per[on]} | ${per[off]} | $(python3 -c "print(f'{${per[on]}/${per[off]}:.3f}')") |"
done
