#!/usr/bin/env bash
# Scenario: two booths and the regional hub (on a real PostgreSQL) in network
# namespaces made here (see lan.sh), the uplink cut and restored with nft rules inside
# a booth's namespace (packets to the hub dropped, as a dead venue link does). Checks,
# against the real binary:
#   - a booth with a dead uplink relays through its paired neighbour; the hub gets each
#     of its orders once, under its own booth id, carried by the neighbour;
#   - with both uplinks dead, both booths go offline and keep selling within the
#     offline caps (an order over the per-order cap is refused); on recovery every order
#     is at the hub exactly once;
#   - a flapping link loses and duplicates nothing;
#   - a quarantined order does not hold up the rest;
#   - the hub killed and restarted in the middle of a drain loses nothing.
# Prints the time from uplink loss to relaying and to offline mode (for BENCHMARKS.md).
# Needs root (namespaces), iproute2, nftables, curl, jq, sqlite3 and PostgreSQL.
set -euo pipefail
bin=$(realpath "${1:?usage: uplink.sh path/to/boothcloud-node}")
hubbin=$(dirname "$bin")/boothcloud-hub
here=$(dirname "$(realpath "$0")")
source "$here/lan.sh"
p=bcu$$
work=$(mktemp -d)
chmod 755 "$work"
token=scenario-operator-token-0123
hubkey=scenario-hub-key-0123456789-abcdefghijklmnop
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cleanup() {
  lan_cleanup "$p"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "uplink scenario FAILED: $*" >&2
  for f in "$work"/*.err; do echo "--- $f" >&2; tail -n ${SCENARIO_TAIL:-8} "$f" >&2; done
  echo "uplink scenario: $passed passed, 1 failed"
  exit 1
}
passed=0
ok() { passed=$((passed + 1)); echo "  ok: $*"; }
ms() { date +%s%3N; }

lan_up "$p"
lan_host "$p" a 10.78.0.1
lan_host "$p" b 10.78.0.2
lan_host "$p" hub 10.78.0.10

# PostgreSQL in the hub's namespace (as the postgres user: it refuses root).
mkdir -p "$work/pg"
chown postgres:postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -A trust -U postgres --no-sync -D "$work/pg/data" >/dev/null
ip netns exec "$p-hub" runuser -u postgres -- "$pgbin/postgres" -D "$work/pg/data" -k "$work/pg" -p 5432 \
  -c listen_addresses=127.0.0.1 >"$work/pg.out" 2>"$work/pg.err" &
disown # killed with its namespace at the end, without a job report
psql_hub() { ip netns exec "$p-hub" psql -h 127.0.0.1 -p 5432 -U postgres -tAc "$1"; }

declare -A pid
start_hub() {
  ip netns exec "$p-hub" env BOOTHCLOUD_HUB_KEY="$hubkey" BOOTHCLOUD_LOG=${SCENARIO_LOG:-warn} \
    "$hubbin" --database-url postgres://postgres@127.0.0.1:5432/postgres --listen 0.0.0.0:8790 >"$work/hub.out" 2>>"$work/hub.err" &
  pid[hub]=$!
  disown
}
credential() { BOOTHCLOUD_HUB_KEY="$hubkey" "$hubbin" credential "$1"; }
manifest() { # booth-id name
  # The demo's pairing key is public and refused: the event gets a key of its own.
  "$bin" manifest example | sed "s/^probe_every = \"5s\"/probe_every = \"1s\"/; s/^max_order = .*/max_order = 5000/; s/^name = \"Stand 14 laptop\"/name = \"$2\"/" |
    sed "s/^key = \"demo-only-pairing-key-change-me-0123456789abcdef\"/key = \"scenario-own-pairing-key-0123456789abcdef-kept-here\"/" |
    sed "s|^upstream = \"https://hub.*|upstream = \"http://10.78.0.10:8790/api/v1/\"\nbooth = \"$1\"\ncredential = \"$(credential "$1")\"|" \
    >"$work/$1.toml"
}
start() { # host
  ip netns exec "$p-$1" env BOOTHCLOUD_OPERATOR_TOKEN="$token" BOOTHCLOUD_LOG=${SCENARIO_LOG:-warn} \
    "$bin" serve --data-dir "$work/$1" --manifest "$work/$1.toml" --listen 0.0.0.0:8787 --secrets file >"$work/$1.out" 2>"$work/$1.err" &
  pid[$1]=$!
  disown
}
api() { # host path [curl args...]
  local h=$1 path=$2
  shift 2
  in_host "$p" "$h" curl -s --max-time 5 -H "Authorization: Bearer $token" "$@" "http://127.0.0.1:8788$path"
}
link() { api "$1" /api/v1/ops/uplink; }
wait_for() { # seconds description command...
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || fail "$what (not within ${limit}s): $(link a | jq -c '{mode, uplink, detail, queue_depth}' 2>/dev/null)"
    sleep 0.05
  done
}
mode_is() { link "$1" | jq -e --arg m "$2" '.mode == $m'; }
drained() { link "$1" | jq -e '.queue_depth == 0'; }
cut() { in_host "$p" "$1" nft -f - <<NFT
table inet uplinkcut {
  chain out { type filter hook output priority 0; policy accept; ip daddr 10.78.0.10 drop; }
}
NFT
}
restore() { in_host "$p" "$1" nft delete table inet uplinkcut 2>/dev/null || true; }
buy() { # host count tag [sku qty method] → prints nothing; fails on any refusal
  # Customers' phones: they order ahead and pay at pickup (the demo's `payments.phones`).
  local h=$1 n=$2 tag=$3 sku=${4:-TOTE} qty=${5:-1} method=${6:-pay_at_pickup} i qt code
  for ((i = 0; i < n; i++)); do
    qt=$(in_host "$p" "$h" curl -s --max-time 5 -H 'content-type: application/json' \
      -d "{\"lines\":[{\"sku\":\"$sku\",\"qty\":$qty}]}" http://127.0.0.1:8788/api/v1/quotes | jq -r .token)
    code=$(in_host "$p" "$h" curl -s -o "$work/order.json" -w '%{http_code}' --max-time 5 -H 'content-type: application/json' \
      -H "idempotency-key: $tag-$i" -d "{\"quote_token\":\"$qt\",\"payment\":{\"method\":\"$method\"}}" http://127.0.0.1:8788/api/v1/orders)
    [ "$code" = 201 ] || fail "order $tag-$i at $h answered $code: $(cat "$work/order.json")"
  done
}
at_hub() { psql_hub "SELECT COUNT(*) || '/' || COUNT(DISTINCT order_id) FROM hub_orders WHERE booth_id = '$1'"; }

manifest booth-a "Stand A"
manifest booth-b "Stand B"
mv "$work/booth-a.toml" "$work/a.toml"
mv "$work/booth-b.toml" "$work/b.toml"
wait_for 30 "PostgreSQL starts" psql_hub "SELECT 1"
start_hub
start a
start b
wait_for 20 "A online" mode_is a online
wait_for 20 "B online" mode_is b online
can_relay() { link a | jq -e '.relay_candidates | length == 1'; }
wait_for 20 "A sees B able to relay" can_relay

# 1. A's uplink dies; B's works: A relays through B.
buy a 20 warmup
wait_for 20 "A drains while online" drained a
t0=$(ms)
cut a
wait_for 10 "A relays through B" mode_is a relay
relay_ms=$(($(ms) - t0))
buy a 100 relayed
wait_for 30 "A drains through B" drained a
[ "$(at_hub booth-a)" = "120/120" ] || fail "hub has $(at_hub booth-a) of A's 120 orders"
[ "$(psql_hub "SELECT COUNT(*) FROM hub_orders WHERE booth_id = 'booth-a' AND relayed_by = 'booth-b'")" = 100 ] ||
  fail "the relayed orders are not marked as carried by B"
ok "a booth with a dead uplink relays through its peer in ${relay_ms} ms; the hub has each order once, as A's"

# 2. Both uplinks dead: both offline, selling within the caps; all delivered once after.
t0=$(ms)
cut b
wait_for 10 "B offline" mode_is b offline
offline_ms=$(($(ms) - t0))
wait_for 10 "A offline (no one can relay)" mode_is a offline
buy a 60 outage-a
buy b 60 outage-b
qt=$(in_host "$p" a curl -s -H 'content-type: application/json' -d '{"lines":[{"sku":"TOTE","qty":6}]}' http://127.0.0.1:8788/api/v1/quotes | jq -r .token)
# A card payment is taken by one of the booth's own kiosks, enrolled by the lead.
kiosk=$(in_host "$p" a curl -s -H 'content-type: application/json' -H "authorization: Bearer $token" \
  -d '{"name":"till"}' http://127.0.0.1:8788/api/v1/ops/kiosks | jq -r .token)
big=$(in_host "$p" a curl -s -H 'content-type: application/json' -H 'idempotency-key: big' -H "x-boothcloud-kiosk: $kiosk" \
  -d "{\"quote_token\":\"$qt\",\"payment\":{\"method\":\"card\"}}" http://127.0.0.1:8788/api/v1/orders)
echo "$big" | jq -e '.error.code == "offline_limit"' >/dev/null || fail "an order over the offline cap was taken: $big"
restore a
restore b
wait_for 30 "A drains after recovery" drained a
wait_for 30 "B drains after recovery" drained b
[ "$(at_hub booth-a)" = "180/180" ] && [ "$(at_hub booth-b)" = "60/60" ] || fail "after recovery the hub has A $(at_hub booth-a), B $(at_hub booth-b)"
ok "uplink loss to offline in ${offline_ms} ms; offline caps enforced; every order at the hub exactly once after recovery"

# 3. Flapping: A's link cut and restored every half second while it sells.
(
  for i in $(seq 1 20); do
    if [ $((i % 2)) = 1 ]; then cut a; else restore a; fi
    sleep 0.5
  done
  restore a
) &
flapper=$!
buy a 100 flap
wait "$flapper"
wait_for 40 "A drains after flapping" drained a
[ "$(at_hub booth-a)" = "280/280" ] || fail "after flapping the hub has $(at_hub booth-a) of A's 280 orders"
ok "a flapping link loses and duplicates nothing ($(link a | jq .mode_changes) mode changes in total)"

# 4. A poisonous order does not block the others.
cut a
cut b
wait_for 10 "A offline" mode_is a offline
buy a 20 poison
bad=$(sqlite3 "$work/a/boothcloud.db" "SELECT order_id FROM orders WHERE idempotency_key = 'poison-7'")
sqlite3 -cmd ".timeout 5000" "$work/a/boothcloud.db" "UPDATE orders SET total = total + 1 WHERE order_id = '$bad'"
restore a
restore b
one_quarantined() { link a | jq -e '.queue_depth == 0 and .quarantined == 1'; }
wait_for 30 "A drains, one quarantined" one_quarantined
[ "$(at_hub booth-a)" = "299/299" ] || fail "with one order quarantined the hub has $(at_hub booth-a) of 299"
ok "a quarantined order does not hold up the other 19"

# 5. The hub dies in the middle of a drain and comes back.
cut a
not_direct() { link a | jq -e '.uplink == "down"'; }
wait_for 10 "A's uplink down" not_direct
api a /api/v1/ops/uplink/route -X PUT -H 'content-type: application/json' -d '{"route":"regional"}' >/dev/null
buy a 400 backlog
restore a
draining() { link a | jq -e '.queue_depth < 400'; }
wait_for 20 "A starts draining" draining
kill -KILL "${pid[hub]}"
sleep 1
start_hub
wait_for 60 "A drains after the hub's restart" drained a
[ "$(at_hub booth-a)" = "699/699" ] || fail "after the hub's restart the hub has $(at_hub booth-a) of 699"
ok "the hub killed mid-drain and restarted loses and duplicates nothing"

echo "figures: uplink loss → relay ${relay_ms} ms; uplink loss → offline ${offline_ms} ms"
echo "uplink scenario: $passed passed, 0 failed"
