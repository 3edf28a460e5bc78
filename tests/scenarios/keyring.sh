#!/usr/bin/env bash
# Scenario: secrets live in a real OS keyring (gnome-keyring over the Secret Service API).
# Runs the real binary inside a private D-Bus session with an unlocked gnome-keyring and
# checks: the node reports the OS keyring; the signing key and operator token are in the
# keyring and not on disk; a restart reuses the same signing key (a quote from the first
# run buys an order in the second); `operator-token` prints the token the node accepts.
set -euo pipefail
bin=${1:?usage: keyring.sh path/to/boothcloud-node}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_DATA_HOME="$work/xdg"
mkdir -p "$XDG_DATA_HOME"

timeout 120 dbus-run-session -- bash -s "$bin" "$work" <<'INNER'
set -euo pipefail
bin=$1; work=$2; data="$work/data"
pid=""
fail() { echo "keyring scenario FAILED: $*" >&2; exit 1; }
# Never leave a node behind, whatever happens.
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; true' EXIT
echo -n scenario-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null

start() {
  "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 --secrets keyring >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 100); do grep -q '^listening on ' "$work/out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$work/out")
  [ -n "$url" ] || { cat "$work/err" >&2; fail "node did not start"; }
}
stop() { kill -TERM "$pid"; wait "$pid" || fail "node exited badly after SIGTERM"; pid=""; }

start
grep -q '^secrets: os-keyring$' "$work/out" || fail "node is not using the OS keyring: $(cat "$work/out")"
# secret-tool prints the raw secret too, so read its output as text with -a.
entries=$(secret-tool search --all service boothcloud 2>&1 | grep -a 'username = ' || true)
grep -q 'username = quote-signing-key@' <<<"$entries" || fail "signing key not in the keyring: $entries"
grep -q 'username = operator-token@' <<<"$entries" || fail "operator token not in the keyring: $entries"
grep -q 'username = booth-ca@' <<<"$entries" || fail "the booth CA's key is not in the keyring: $entries"
grep -q 'PRIVATE KEY' "$data/tls/booth-ca.pem" && fail "the CA's key was written beside its certificate"
[ ! -e "$data/secrets" ] || fail "secrets were written to disk although the keyring works"
quote=$(curl -sf --cacert "$data/tls/booth-ca.pem" -XPOST "$url/api/v1/quotes" -H 'content-type: application/json' -d '{"lines":[{"sku":"TOTE","qty":1}]}')
token=$(printf '%s' "$quote" | jq -r .token)
stop

start
code=$(curl -s --cacert "$data/tls/booth-ca.pem" -o "$work/order" -w '%{http_code}' -XPOST "$url/api/v1/orders" -H 'content-type: application/json' \
  -H 'Idempotency-Key: keyring-scenario' -d "{\"quote_token\":\"$token\",\"payment\":{\"method\":\"pay_at_pickup\"}}")
[ "$code" = 201 ] || fail "a quote from before the restart was refused ($code: $(cat "$work/order")): the signing key was not kept"
optoken=$("$bin" operator-token --data-dir "$data" --secrets keyring 2>/dev/null)
code=$(curl -s --cacert "$data/tls/booth-ca.pem" -o /dev/null -w '%{http_code}' "$url/api/v1/ops/status" -H "Authorization: Bearer $optoken")
[ "$code" = 200 ] || fail "the operator token from the keyring was refused ($code)"
stop
echo "keyring scenario: 1 passed, 0 failed"
INNER
