#!/usr/bin/env bash
# Scenario: booths find each other over real mDNS and pair, on a LAN of network
# namespaces made here (see lan.sh; nothing leaves them). Checks, against the real
# binary:
#   - two booths started together find each other and pair (fleet status over the
#     signed peer API);
#   - peer requests signed independently (openssl) are accepted once; a replay, a
#     tampered request, a request signed with another key and an unsigned one are refused;
#   - a booth with no pairing key is listed unpaired and refused, until paired with a
#     pairing code shown on one booth and typed on the other;
#   - booths talk HTTPS, each pinning the CA the other advertises; the plain port refuses
#     operator and peer routes to the LAN and serves the shop and the CA;
#   - a booth whose address changes is updated, not duplicated, and issues itself a
#     certificate for its new address;
#   - the operator's unpair is obeyed by both sides, and pairing again restores it;
#   - a killed booth goes "gone"; a booth that stops says goodbye and goes at once;
#   - Debian's avahi-browse sees our service and TXT, and our node lists a printer
#     advertised with avahi-publish;
#   - a flood of thousands of names of one service type pauses browsing for that type
#     only (bench/mdns-flood.py sends it from a host of the test LAN);
#   - the Devices and Fleet screens show that LAN in Chromium (ui/tests/devices.mjs);
#   - a booth prints to a printer it knows only by its DNS-SD name (Debian's
#     ippeveprinter, announced through Avahi), each ticket followed to completed, and
#     still prints to it after the printer's address changed.
# Needs root (namespaces), iproute2, curl, jq, openssl, avahi-daemon and avahi-utils, and
# for the browser check Chromium and the UI's npm packages (scripts/setup installs them).
set -euo pipefail
bin=$(realpath "${1:?usage: discovery.sh path/to/boothcloud-node}")
here=$(dirname "$(realpath "$0")")
source "$here/lan.sh"
p=bcd$$
work=$(mktemp -d)
token=scenario-operator-token-0123
demo_key=demo-only-pairing-key-change-me-0123456789abcdef
key=scenario-own-pairing-key-0123456789abcdef-kept-here
started_dbus=""
cleanup() {
  ip netns exec "$p-av" avahi-daemon -k 2>/dev/null || true
  lan_cleanup "$p"
  [ -n "$started_dbus" ] && kill "$(cat /run/dbus/pid 2>/dev/null)" 2>/dev/null && rm -f /run/dbus/pid
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "discovery scenario FAILED: $*" >&2
  for f in "$work"/*.err; do echo "--- $f" >&2; tail -n ${SCENARIO_TAIL:-5} "$f" >&2; done
  for h in a b c; do echo "--- fleet seen from $h: $(api "$h" /api/v1/ops/fleet 2>/dev/null | jq -c '[.booths[] | {id, url, paired, reachable, detail}]' 2>/dev/null)" >&2; done
  echo "discovery scenario: 0 passed, 1 failed"
  exit 1
}
passed=0
ok() { passed=$((passed + 1)); echo "  ok: $*"; }

lan_up "$p"
lan_host "$p" a 10.77.0.1
lan_host "$p" b 10.77.0.2
lan_host "$p" c 10.77.0.3
lan_host "$p" av 10.77.0.9

# Fast probes so the scenario runs in seconds; "gone" only after 10 s of silence, so a
# goodbye is told apart from a timeout.
# The demo's key is public and refused: the event gets a key of its own.
"$bin" manifest example | sed 's/^probe_every = .*/probe_every = "1s"/; s/^gone_after = .*/gone_after = "10s"/' |
  sed "s/$demo_key/$key/" >"$work/paired.toml"
grep -q "^key = \"$key\"" "$work/paired.toml" || fail "could not set the event's pairing key"
sed 's/^name = "Stand 14 laptop"/name = "Stand 15 laptop"/' "$work/paired.toml" >"$work/b.toml"
sed 's/^name = "Stand 14 laptop"/name = "Stand 16 tablet"/; /^key = /d' "$work/paired.toml" >"$work/unkeyed.toml"
grep -q '^key = ' "$work/unkeyed.toml" && fail "could not remove the pairing key from the manifest"

declare -A pid
start() { # host manifest
  # Not through in_host: a backgrounded function is a subshell, and its pid is not the node's.
  ip netns exec "$p-$1" env BOOTHCLOUD_OPERATOR_TOKEN="$token" BOOTHCLOUD_LOG=${SCENARIO_LOG:-warn} \
    "$bin" serve --data-dir "$work/$1" --manifest "$2" --listen 0.0.0.0:8787 --secrets file >"$work/$1.out" 2>"$work/$1.err" &
  pid[$1]=$!
}
api() { # host path [curl args...]
  local h=$1 path=$2
  shift 2
  # HTTPS, trusting the booth's own CA (the file it writes for scripts), as curl checks it.
  in_host "$p" "$h" curl -s --max-time 5 --cacert "$work/$h/tls/booth-ca.pem" -H "Authorization: Bearer $token" "$@" "https://127.0.0.1:8787$path"
}
wait_for() { # seconds description command...
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || fail "$what (not within ${limit}s)"
    sleep 0.2
  done
}
up() { api "$1" /healthz | jq -e '.status == "ok"'; }
device() { # host id → the device entry for that booth
  api "$1" /api/v1/ops/devices | jq -c --arg id "$2" '[.devices[] | select(.booth.id == $id)]'
}
# The booth's entry in a host's fleet view, or null. (Never empty output: jq -e passes
# on no input at all, which would make every check below vacuous.)
fleet_booth() { api "$1" /api/v1/ops/fleet | jq -c --arg id "$2" '[.booths[] | select(.id == $id)][0]'; }
paired_in() { fleet_booth "$1" "$2" | jq -e '. != null and .paired and .reachable'; }
unpaired_in() { fleet_booth "$1" "$2" | jq -e '. != null and (.paired | not)'; }

start a "$work/paired.toml"
start b "$work/b.toml"
wait_for 10 "booth A starts" up a
wait_for 10 "booth B starts" up b
A=$(api a /api/v1/peer/hello | jq -r .id)
B=$(api b /api/v1/peer/hello | jq -r .id)
[ -n "$A" ] && [ "$A" != "$B" ] || fail "no node ids ($A, $B)"

# 1. Found and paired, both ways.
found() { device "$1" "$2" | jq -e 'length == 1 and .[0].kind == "booth" and .[0].state == "alive"'; }
wait_for 10 "A finds B" found a "$B"
wait_for 10 "A pairs with B" paired_in a "$B"
wait_for 10 "B pairs with A" paired_in b "$A"
fleet_booth a "$B" | jq -e '.status.name == "Stand 15 laptop" and (.status.queue_depth | type == "number") and .found_by == "lan"' >/dev/null ||
  fail "A's fleet view of B lacks B's status: $(fleet_booth a "$B")"
probed() { device a "$B" | jq -e '.[0].addresses[0] == "10.77.0.2" and .[0].rtt_ms > 0 and .[0].paired == true and .[0].booth.fingerprint != ""'; }
wait_for 5 "A probes B and shows it paired: $(device a "$B")" probed
ok "two booths started together find each other and pair"

# 1b. Over HTTPS, each pinning the CA the other advertises; the plain port serves the
#     network only enrollment and the shop.
b_ca=$(openssl x509 -in "$work/b/tls/booth-ca.pem" -outform DER | sha256sum | cut -d' ' -f1)
device a "$B" | jq -e --arg ca "$b_ca" '.[0].booth.ca == $ca' >/dev/null || fail "B's mDNS record does not carry its CA's fingerprint: $(device a "$B")"
[ "$(in_host "$p" b curl -s -o /dev/null -w '%{http_code}' https://10.77.0.1:8787/healthz)" = 000 ] || fail "a client that does not trust A's CA connected"
plain_ops=$(in_host "$p" b curl -s -w ' %{http_code}' -H "Authorization: Bearer $token" http://10.77.0.1:8788/api/v1/ops/status)
[ "${plain_ops##* }" = 403 ] && echo "${plain_ops% *}" | jq -e '.error.code == "https_required"' >/dev/null || fail "the plain port served the operator API to the LAN: $plain_ops"
[ "$(in_host "$p" b curl -s -o /dev/null -w '%{http_code}' http://10.77.0.1:8788/api/v1/peer/status)" = 403 ] || fail "the plain port answered a peer route"
[ "$(in_host "$p" b curl -s -o /dev/null -w '%{http_code}' http://10.77.0.1:8788/api/v1/catalogue)" = 200 ] || fail "the plain port did not serve the shop's catalogue"
in_host "$p" b curl -s http://10.77.0.1:8788/ca.pem | cmp -s - "$work/a/tls/booth-ca.pem" || fail "the plain port's /ca.pem is not A's CA"
[ "$(in_host "$p" b curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://10.77.0.1:8788/)" = "308 https://10.77.0.1:8787/" ] || fail "the dashboard on the plain port is not sent to HTTPS"
ok "HTTPS between booths with the advertised CA pinned; the plain port refuses operator and peer routes to the LAN and serves the shop and the CA"

# 2. Signed requests, made by openssl rather than by our own code.
sign() { # key method target from to ts nonce → header
  local body_hash mac
  body_hash=$(printf '' | sha256sum | cut -d' ' -f1)
  mac=$(printf 'boothcloud-peer-v1\n%s\n%s\n%s\n%s\n%s\n%s\n%s' "$2" "$3" "$body_hash" "$4" "$5" "$6" "$7" |
    openssl dgst -sha256 -hmac "$1" -r | cut -d' ' -f1)
  echo "v1 from=$4 to=$5 ts=$6 nonce=$7 mac=$mac"
}
peer_get() { # header [path] → "status"
  in_host "$p" b curl -s -o "$work/answer" -D "$work/headers" -w '%{http_code}' --cacert "$work/a/tls/booth-ca.pem" -H "X-Boothcloud-Signature: $1" "https://10.77.0.1:8787${2:-/api/v1/peer/status}"
}
now=$(date +%s)
nonce=$(openssl rand -hex 16)
good=$(sign "$key" GET /api/v1/peer/status "$B" "$A" "$now" "$nonce")
[ "$(peer_get "$good")" = 200 ] || fail "a correctly signed request was refused: $(cat "$work/answer")"
jq -e --arg a "$A" '.id == $a' "$work/answer" >/dev/null || fail "the status is not A's: $(cat "$work/answer")"
proof=$(grep -i '^x-boothcloud-proof:' "$work/headers" | tr -d '\r' | cut -d' ' -f2)
mac=${good##*mac=}
expected=$(printf 'boothcloud-peer-v1-answer\n%s\n200\n%s' "$mac" "$(sha256sum <"$work/answer" | cut -d' ' -f1)" | openssl dgst -sha256 -hmac "$key" -r | cut -d' ' -f1)
[ "$proof" = "$expected" ] || fail "the answer's proof does not check out ($proof vs $expected)"
[ "$(peer_get "$good")" = 401 ] && jq -e '.error.code == "peer_request_replayed"' "$work/answer" >/dev/null || fail "a replay was not refused: $(cat "$work/answer")"
fresh=$(sign "$key" GET /api/v1/peer/status "$B" "$A" "$now" "$(openssl rand -hex 16)")
[ "$(peer_get "$fresh" '/api/v1/peer/status?x=1')" = 401 ] && jq -e '.error.code == "peer_signature_invalid"' "$work/answer" >/dev/null ||
  fail "a request for another target with the same signature was not refused: $(cat "$work/answer")"
signed=$(sign "$key" GET /api/v1/peer/status "$B" "$A" "$now" "$(openssl rand -hex 16)")
# The MAC's last digit changed (to 0, or to 1 where it was 0 already).
tampered="${signed%?}0"
[ "$tampered" != "$signed" ] || tampered="${signed%?}1"
[ "$(peer_get "$tampered")" = 401 ] || fail "a tampered signature was not refused"
stranger=$(sign "another-event-pairing-key-0123456789abcdef" GET /api/v1/peer/status "$B" "$A" "$now" "$(openssl rand -hex 16)")
[ "$(peer_get "$stranger")" = 401 ] || fail "a request signed with another key was not refused"
for_b=$(sign "$key" GET /api/v1/peer/status "$B" "$B" "$now" "$(openssl rand -hex 16)")
[ "$(peer_get "$for_b")" = 401 ] || fail "a request meant for another node was not refused"
old=$(sign "$key" GET /api/v1/peer/status "$B" "$A" "$((now - 120))" "$(openssl rand -hex 16)")
[ "$(peer_get "$old")" = 401 ] && jq -e '.error.code == "peer_signature_expired"' "$work/answer" >/dev/null || fail "a stale request was not refused"
[ "$(in_host "$p" b curl -s -o /dev/null -w '%{http_code}' --cacert "$work/a/tls/booth-ca.pem" https://10.77.0.1:8787/api/v1/peer/status)" = 401 ] || fail "an unsigned request was not refused"
ok "signed requests: accepted once with a valid proof; replayed, tampered, foreign, misaddressed, stale and unsigned ones refused"

# 3. A booth with no pairing key: unpaired, refused, then paired with a pairing code.
start c "$work/unkeyed.toml"
wait_for 10 "booth C starts" up c
C=$(api c /api/v1/peer/hello | jq -r .id)
listed_unpaired() { device "$1" "$2" | jq -e 'length == 1 and .[0].paired == false'; }
wait_for 10 "A lists C as unpaired" listed_unpaired a "$C"
wait_for 10 "C lists A as unpaired" unpaired_in c "$A"
fleet_booth c "$A" | jq -e '.detail | test("no pairing key")' >/dev/null || fail "C does not say why A is unpaired: $(fleet_booth c "$A")"
code=$(api a /api/v1/ops/pairing-code -X POST | jq -r .code)
[[ "$code" =~ ^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$ ]] || fail "no pairing code shown: $code"
wrong=$(api c "/api/v1/ops/peers/$A/pair" -X POST -H 'content-type: application/json' -d '{"code":"0000-0000-0000-0000"}')
jq -e '.error.code == "booth_refused"' <<<"$wrong" >/dev/null || fail "a wrong code was not refused: $wrong"
paired=$(api c "/api/v1/ops/peers/$A/pair" -X POST -H 'content-type: application/json' -d "{\"code\":\"$(tr 'A-Z' 'a-z' <<<"$code")\"}")
jq -e '.paired' <<<"$paired" >/dev/null || fail "pairing with the code failed: $paired"
api c /api/v1/ops/devices | jq -e '.discovery.key_source == "pairing_code"' >/dev/null || fail "C does not hold the key from the code"
wait_for 10 "A pairs with C once C holds the key" paired_in a "$C"
again=$(api c "/api/v1/ops/peers/$A/pair" -X POST -H 'content-type: application/json' -d "{\"code\":\"$code\"}")
jq -e '.error.code == "booth_refused"' <<<"$again" >/dev/null || fail "a used code worked twice: $again"
ok "a booth with no key is unpaired and refused, then paired with a one-time pairing code"

# 4. B's address changes (a new lease: the old address goes, a new one comes): updated,
# not duplicated.
in_host "$p" b ip addr del 10.77.0.2/24 dev eth0
in_host "$p" b ip addr add 10.77.0.12/24 dev eth0
moved() { device a "$B" | jq -e 'length == 1 and (.[0].addresses | index("10.77.0.12") != null and index("10.77.0.2") == null) and .[0].moves >= 1'; }
wait_for 15 "A sees B's new address" moved
paired_at_new_address() { fleet_booth a "$B" | jq -e '.paired and .reachable and (.url | contains("10.77.0.12"))'; }
wait_for 15 "A still pairs with B at its new address" paired_at_new_address
[ "$(api a /api/v1/ops/devices | jq --arg id "$B" '[.devices[] | select(.booth.id == $id)] | length')" = 1 ] || fail "B is listed twice"
# B issued itself a certificate for its new address (A's pairing above went over it).
new_cert_ok() { in_host "$p" a curl -sf --max-time 5 --cacert "$work/b/tls/booth-ca.pem" https://10.77.0.12:8787/healthz; }
wait_for 10 "B's certificate covers its new address" new_cert_ok
sans=$(in_host "$p" a openssl s_client -connect 10.77.0.12:8787 -servername 10.77.0.12 </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName)
grep -q 'IP Address:10.77.0.12' <<<"$sans" && ! grep -q 'IP Address:10.77.0.2$\|IP Address:10.77.0.2,' <<<"$sans" || fail "B's certificate does not follow its address: $sans"
ok "a booth's address change updates its entry, no duplicate, and its certificate follows"

# 5. The operator unpairs B on A: both sides stop, until paired again.
api a "/api/v1/ops/peers/$B/unpair" -X POST | jq -e '.unpaired' >/dev/null || fail "unpair failed"
unpaired_in a "$B" >/dev/null || fail "A still shows B paired"
refused_by_a() { fleet_booth b "$A" | jq -e '. != null and (.paired | not) and (.detail | test("unpaired"))'; }
wait_for 10 "B sees that A refuses it" refused_by_a
api a "/api/v1/ops/peers/$B/pair" -X POST -H 'content-type: application/json' -d '{}' | jq -e '.paired' >/dev/null || fail "pairing B again failed"
wait_for 10 "B pairs with A again" paired_in b "$A"
ok "unpair is obeyed by both sides; pair restores it"

# 6. Debian's avahi sees our service; our node sees avahi's printer.
if ! dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId >/dev/null 2>&1; then
  mkdir -p /run/dbus
  rm -f /run/dbus/pid /run/dbus/system_bus_socket
  dbus-daemon --system --fork
  started_dbus=1
fi
# A pid file left by an avahi-daemon that was killed would stop this one starting.
pgrep -x avahi-daemon >/dev/null || rm -f /run/avahi-daemon/pid
in_host "$p" av avahi-daemon --no-drop-root --no-chroot --no-rlimits -D 2>"$work/avahi.err" || fail "avahi-daemon did not start: $(cat "$work/avahi.err")"
avahi_sees_a() { in_host "$p" av avahi-browse -rpt _boothcloud._tcp | grep -a '^=' | grep -a "id=$A" | grep -a 'event=' | grep -aq ';10.77.0.1;'; }
wait_for 10 "avahi-browse resolves booth A with its TXT" avahi_sees_a
in_host "$p" av avahi-publish -s "Booth receipt printer" _ipp._tcp 631 "ty=Receipt printer" >/dev/null 2>&1 &
sees_printer() { api a /api/v1/ops/devices | jq -e '.devices[] | select(.kind == "printer" and .name == "Booth receipt printer" and .txt.ty == "Receipt printer" and .addresses[0] == "10.77.0.9")'; }
wait_for 15 "A lists avahi's printer" sees_printer
ok "avahi-browse sees our service; our node sees a printer published with avahi-publish"

# 7. A flood of names — thousands of "web devices" within seconds, from one host — pauses
# browsing for that type only: the booth stays bounded and answering, and a printer that
# appears meanwhile is still found.
lan_host "$p" fl 10.77.0.8
in_host "$p" fl python3 "$here/../../bench/mdns-flood.py" --rate 2000 --seconds 4 --kinds web --subnet 10.77.0 >"$work/flood.json" ||
  fail "the flood generator failed"
paused_web() { api c /api/v1/ops/devices | jq -e '.discovery.paused | map(.service_type) == ["_http._tcp"]'; }
wait_for 10 "C pauses browsing for web devices" paused_web
api c /api/v1/ops/devices | jq -e '(.devices | length) <= 512 and .discovery.paused[0].names > 256' >/dev/null ||
  fail "C's inventory went past its bound, or the flood was not counted"
in_host "$p" av avahi-publish -s "Second receipt printer" _ipp._tcp 631 >/dev/null 2>&1 &
sees_second() { api c /api/v1/ops/devices | jq -e '.devices[] | select(.kind == "printer" and .name == "Second receipt printer")'; }
wait_for 15 "C still finds a new printer while web devices are paused" sees_second
ok "a flood of names pauses only the flooded type; the booth stays bounded and still finds printers"

# 8. The same in the browser: A's Devices screen lists paired B and Avahi's printer found
# over mDNS and says web devices are paused; its Fleet screen shows B. (Chromium runs
# inside A's namespace: the dashboard is A's own, at 127.0.0.1 there.)
paused_on_a() { api a /api/v1/ops/devices | jq -e '.discovery.paused | map(.service_type) | index("_http._tcp")'; }
wait_for 10 "A pauses web devices too" paused_on_a
mkdir -p "$here/../../target/artifacts"
(cd "$here/../../ui" && in_host "$p" a node tests/devices.mjs https://127.0.0.1:8787/ "$token" "Stand 15 laptop" "Booth receipt printer" \
  "$(realpath "$here/../../target/artifacts")/devices-lan-1280x800.png") >"$work/browser.out" 2>&1 ||
  { cat "$work/browser.out" >&2; fail "the Devices and Fleet screens did not show the LAN"; }
sed 's/^/  /' "$work/browser.out"
ok "the Devices and Fleet screens show the booth, the printer and the paused kind in Chromium"

# 9. Printing to a printer named only by its DNS-SD instance: Debian's ippeveprinter,
# announced through Avahi on host av. A's manifest gains it (reloaded live); an order's
# ticket is followed to completed; the printer's address changes (a new lease), and the
# next ticket reaches it at the new one.
mkdir -p "$work/spool"
ip netns exec "$p-av" ippeveprinter -p 8631 -d "$work/spool" -k -c /bin/true "Scenario printer" >"$work/ippeve.out" 2>&1 &
printf '\n[[printers]]\nname = "prep"\ndns_sd = "Scenario printer._ipp._tcp"\nrole = "tickets"\n' >>"$work/paired.toml"
api a /api/v1/ops/manifest/reload -X POST | jq -e '.' >/dev/null || fail "A did not take its manifest with a printer"
sell() { # key → order id (quote and order, as a phone does)
  local q
  q=$(in_host "$p" a curl -s --max-time 5 --cacert "$work/a/tls/booth-ca.pem" -H 'content-type: application/json' \
    -d '{"lines":[{"sku":"TOTE","qty":1}]}' https://127.0.0.1:8787/api/v1/quotes | jq -r .token)
  in_host "$p" a curl -s --max-time 5 --cacert "$work/a/tls/booth-ca.pem" -H 'content-type: application/json' \
    -H "idempotency-key: $1" -d "{\"quote_token\":\"$q\",\"payment\":{\"method\":\"pay_at_pickup\"}}" \
    https://127.0.0.1:8787/api/v1/orders | jq -r .order_id
}
printed() { api a "/api/v1/ops/print-jobs?order=$1" | jq -e '[.[] | select(.kind == "ticket" and .state == "confirmed")] | length == 1'; }
printer_at() { api a /api/v1/ops/devices | jq -e --arg ip "$1" '.devices[] | select(.kind == "printer" and .name == "Scenario printer" and (.addresses | index($ip)))'; }
wait_for 20 "A finds the DNS-SD printer" printer_at 10.77.0.9
first=$(sell scenario-print-1)
[ -n "$first" ] && [ "$first" != null ] || fail "A took no order"
wait_for 30 "the first ticket completed at the printer found by name" printed "$first"
api a /api/v1/ops/printers | jq -e '.[0].identity | startswith("urn:uuid:")' >/dev/null || fail "the printer is not known by its printer-uuid"
in_host "$p" av ip addr del 10.77.0.9/24 dev eth0
in_host "$p" av ip addr add 10.77.0.19/24 dev eth0
wait_for 20 "A sees the printer's new address" printer_at 10.77.0.19
second=$(sell scenario-print-2)
wait_for 40 "the next ticket completed at the printer's new address" printed "$second"
[ "$(find "$work/spool" -name '*.pwg' | wc -l)" = 2 ] || fail "the printer did not hold exactly the two tickets: $(ls "$work/spool")"
ok "a printer named by DNS-SD prints each ticket once, and still prints after its address changed"

# 10. A killed booth goes gone after the silence; a booth that stops says goodbye.
kill -KILL "${pid[b]}"
gone_b() { device a "$B" | jq -e '.[0].state == "gone"'; }
wait_for 20 "A marks the killed B gone" gone_b
device c "$B" | jq -e 'length <= 1' >/dev/null || fail "C lists B twice"
ok "a killed booth goes gone"
kill -TERM "${pid[a]}"
t0=$SECONDS
gone_a() { device c "$A" | jq -e '.[0].state == "gone"'; }
wait_for 5 "C sees A's goodbye" gone_a
[ $((SECONDS - t0)) -lt 10 ] || fail "A's goodbye was not seen before the 10 s timeout"
wait "${pid[a]}" || fail "A did not stop cleanly"
ok "a stopping booth withdraws its advertisement at once"

echo "discovery scenario: $passed passed, 0 failed"
