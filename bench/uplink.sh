#!/usr/bin/env bash
# Uplink benchmark: draining a backlog to the regional hub, against the best
# alternative in the same run.
#   drain:  a booth with ≥ N orders queued (kept back with the "offline only" route
#           while a simulated booth sells at full speed) is switched to automatic; the
#           time until its queue is empty, and so the hub's ingest rate (batches of 200,
#           signed, checked, one PostgreSQL transaction each, answered per order).
#   raw:    the same number of rows written straight into PostgreSQL with psql, in
#           the same batches of 200 rows, one transaction each (no HTTP, no JSON, no
#           checks): the ceiling for the hub's ingest.
# Rounds alternate the two sides. The failover times (uplink loss → offline, → relay)
# are measured by tests/scenarios/uplink.sh, in network namespaces with nft.
# Usage: bench/uplink.sh [path/to/boothcloud-node] [rounds] [orders]. Needs root
# (PostgreSQL runs as the postgres user), curl, jq and Debian's postgresql.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/boothcloud-node}")
hubbin=$(dirname "$bin")/boothcloud-hub
rounds=${2:-3}
want=${3:-10000}
work=$(mktemp -d -p "${TMPDIR:-/tmp}")
chmod 755 "$work"
token=bench-operator-token-0123456789
hubkey=bench-hub-key-0123456789-abcdefghijklmnop
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgport=$((20000 + RANDOM % 20000))
hubport=$((pgport + 1))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

mkdir -p "$work/pg" && chown postgres:postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -A trust -U postgres -D "$work/pg/data" >/dev/null
runuser -u postgres -- "$pgbin/postgres" -D "$work/pg/data" -k "$work/pg" -p $pgport -c listen_addresses=127.0.0.1 >/dev/null 2>&1 &
pids+=($!)
psql_() { psql -h 127.0.0.1 -p $pgport -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
until psql_ -tAc 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
BOOTHCLOUD_HUB_KEY=$hubkey BOOTHCLOUD_LOG=error "$hubbin" --database-url "postgres://postgres@127.0.0.1:$pgport/postgres" \
  --listen 127.0.0.1:$hubport >/dev/null 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$hubport/healthz" >/dev/null; do sleep 0.1; done

ops() { curl -sf -H "Authorization: Bearer $token" "$@"; }
# A booth syncing to the hub as BOOTH, on PORT, in the background ($! is its pid): no
# offline caps (the backlog is the point).
start_booth() {
  local booth=$1 port=$2
  "$bin" manifest example | sed "s|^upstream = \"https://hub.*|upstream = \"http://127.0.0.1:$hubport/api/v1/\"|;
    s|^# booth = .*|booth = \"$booth\"|; s|^# credential = .*|credential = \"$(BOOTHCLOUD_HUB_KEY=$hubkey "$hubbin" credential "$booth")\"|;
    /^max_order = /d; /^max_exposure = /d; /^max_queue_age = /d" >"$work/$booth.toml"
  BOOTHCLOUD_OPERATOR_TOKEN=$token BOOTHCLOUD_LOG=error BOOTHCLOUD_NO_DISCOVERY=true \
    "$bin" serve --data-dir "$work/$booth" --manifest "$work/$booth.toml" --listen 127.0.0.1:"$port" \
    --listen-http 127.0.0.1:"$((port + 1))" --secrets file >/dev/null 2>&1 &
  pids+=($!)
}

echo "drain ≥ $want queued orders to the hub vs the same rows into PostgreSQL with psql (orders/s)"
drain=() raw=()
for round in $(seq 1 "$rounds"); do
  # A fresh booth each round, with its own id at the hub.
  # HTTPS on port, plain on port + 1 (the benchmark talks to it over loopback).
  port=$((hubport + 2 * round))
  booth=bench-$round
  start_booth "$booth" "$port"
  node=$!
  url=http://127.0.0.1:$((port + 1))
  until ops "$url/api/v1/ops/uplink" | jq -e '.mode == "online"' >/dev/null 2>&1; do sleep 0.1; done
  ops -X PUT -H 'content-type: application/json' -d '{"route":"offline_only"}' "$url/api/v1/ops/uplink/route" >/dev/null
  "$bin" simulate --target "$url" --kiosks 16 --phones 0 --pace 0 --burst-every 0s --duration 600s >/dev/null 2>&1 &
  sim=$!
  until [ "$(ops "$url/api/v1/ops/uplink" | jq .queue_depth)" -ge "$want" ]; do sleep 0.2; done
  kill $sim; wait $sim 2>/dev/null || true
  n=$(ops "$url/api/v1/ops/uplink" | jq .queue_depth)
  t0=$(ms)
  ops -X PUT -H 'content-type: application/json' -d '{"route":"auto"}' "$url/api/v1/ops/uplink/route" >/dev/null
  until [ "$(ops "$url/api/v1/ops/uplink" | jq .queue_depth)" = 0 ]; do sleep 0.02; done
  t1=$(ms)
  stored=$(psql_ -tAc "SELECT COUNT(*) FROM hub_orders WHERE booth_id = '$booth'")
  [ "$stored" = "$n" ] || { echo "the hub has $stored of $n orders ($(ops "$url/api/v1/ops/uplink" | jq .quarantined) quarantined)" >&2; exit 1; }
  kill $node; wait $node 2>/dev/null || true

  # The same number of rows, straight into PostgreSQL, 200 to a transaction.
  psql_ -c "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS raw_orders (LIKE hub_orders INCLUDING ALL); TRUNCATE raw_orders" >/dev/null
  awk -v n="$n" -v r="$round" 'BEGIN {
    for (i = 0; i < n; i++) {
      if (i % 200 == 0) { if (i) print ";"; printf "INSERT INTO raw_orders (order_id, booth_id, event_id, currency, subtotal, discount, total, lines, payment, created_at, digest) VALUES " }
      else printf ","
      printf "(\x27raw-%d-%08d-0000-7000-8000-000000000000\x27, \x27raw\x27, \x27harbour-lights-2026\x27, \x27EUR\x27, 1800, 0, 1800, \x27[{\"sku\":\"TOTE\",\"qty\":2,\"unit_price\":900,\"total\":1800}]\x27, \x27card\x27, now(), \x2700000000000000000000000000000000\x27)\n", r, i
    }
    print ";"
  }' >"$work/raw.sql"
  t2=$(ms)
  psql_ -f "$work/raw.sql" >/dev/null
  t3=$(ms)
  a=$(awk -v n="$n" -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", n / t * 1000}')
  b=$(awk -v n="$n" -v t=$((t3 - t2)) 'BEGIN {printf "%.0f", n / t * 1000}')
  echo "  round $round: $n orders drained in $((t1 - t0)) ms = $a/s | psql $((t3 - t2)) ms = $b/s"
  drain+=("$a"); raw+=("$b")
done
md=$(printf '%s\n' "${drain[@]}" | median); mr=$(printf '%s\n' "${raw[@]}" | median)
echo "drain median: $md orders/s through the hub, $mr rows/s with psql, ratio $(awk -v a="$md" -v b="$mr" 'BEGIN {printf "%.2f", a / b}')"

# The hub's ingest with several booths draining at once (one hub, one database).
booths=${BOOTHS:-3}
echo "hub ingest: $booths booths drain ≥ $((want / booths)) orders each at the same moment"
urls=()
for b in $(seq 1 "$booths"); do
  port=$((hubport + 20 + 2 * b))
  start_booth "many-$b" "$port"
  urls+=("http://127.0.0.1:$((port + 1))")
done
depth() { ops "$1/api/v1/ops/uplink" | jq .queue_depth; }
for url in "${urls[@]}"; do
  until ops "$url/api/v1/ops/uplink" | jq -e '.mode == "online"' >/dev/null 2>&1; do sleep 0.1; done
  ops -X PUT -H 'content-type: application/json' -d '{"route":"offline_only"}' "$url/api/v1/ops/uplink/route" >/dev/null
  "$bin" simulate --target "$url" --kiosks 16 --phones 0 --pace 0 --burst-every 0s --duration 600s >/dev/null 2>&1 &
  sim=$!
  until [ "$(depth "$url")" -ge $((want / booths)) ]; do sleep 0.2; done
  kill $sim; wait $sim 2>/dev/null || true
done
total=0
for url in "${urls[@]}"; do total=$((total + $(depth "$url"))); done
t0=$(ms)
for url in "${urls[@]}"; do
  ops -X PUT -H 'content-type: application/json' -d '{"route":"auto"}' "$url/api/v1/ops/uplink/route" >/dev/null &
done
wait_all() { for url in "${urls[@]}"; do [ "$(depth "$url")" = 0 ] || return 1; done; }
until wait_all; do sleep 0.02; done
t1=$(ms)
stored=$(psql_ -tAc "SELECT COUNT(*) FROM hub_orders WHERE booth_id LIKE 'many-%'")
[ "$stored" = "$total" ] || { echo "the hub has $stored of $total orders" >&2; exit 1; }
echo "hub ingest: $total orders from $booths booths in $((t1 - t0)) ms = $(awk -v n="$total" -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", n / t * 1000}') orders/s"
