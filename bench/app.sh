#!/usr/bin/env bash
# The desktop app's cold start and memory, in a real window under Xvfb.
#
#   bench/app.sh [runs]        (default 9; needs `cargo build --release --workspace`)
#
# - Cold start: from exec of target/release/boothcloud (fresh data folder, embedded demo
#   manifest) to the dashboard's first live render, seen as the app's
#   "dashboard rendered" line. Median of the runs.
# - Memory after one minute of live updates (the dashboard takes a snapshot a second):
#   RSS and PSS summed over the app and its WebKit processes. PSS counts shared pages
#   once per process share, so it is the honest total; RSS double-counts shared libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-9}
app=target/release/boothcloud
[ -x "$app" ] || { echo "build first: cargo build --release --workspace" >&2; exit 1; }

# As on a booth laptop: a session bus with an unlocked keyring (in a throw-away
# folder), so the app reads its secrets from the OS keyring as it would at a booth.
if [ -z "${BOOTHCLOUD_BENCH_INNER:-}" ]; then
  export BOOTHCLOUD_BENCH_INNER=1
  keyrings=$(mktemp -d)
  trap 'rm -rf "$keyrings"' EXIT
  XDG_DATA_HOME="$keyrings" xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- sh -c \
    'echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$0" "$@"' "$0" "$@"
  exit
fi

tree() { # a pid and all its descendants
  local p=$1; echo "$p"
  for c in $(pgrep -P "$p" || true); do tree "$c"; done
}

stamp() { # copies the app's output to $1 and writes the time of the first render to $1.rendered
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$1"
    case $line in "dashboard rendered"*) [ -e "$1.rendered" ] || date +%s%N >"$1.rendered" ;; esac
  done
}

start_app() { # $1: output file; sets $pid
  local home; home=$(mktemp -d)
  BOOTHCLOUD_DATA_DIR="$home/data" XDG_CONFIG_HOME="$home/config" \
    BOOTHCLOUD_LISTEN=127.0.0.1:0 BOOTHCLOUD_LOG=warn \
    "$app" > >(stamp "$1") 2>/dev/null &
  pid=$!
}

stop_app() {
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

times=()
for i in $(seq "$runs"); do
  out=$(mktemp)
  t0=$(date +%s%N)
  start_app "$out"
  # The reader stamps the render line as it arrives; this loop only waits for the stamp
  # (a tight poll would compete with the app for this machine's two cores).
  until [ -s "$out.rendered" ]; do
    kill -0 "$pid" 2>/dev/null || { echo "the app exited: $(cat "$out")" >&2; exit 1; }
    (( ($(date +%s%N) - t0) / 1000000 < 30000 )) || { echo "no render in 30 s" >&2; stop_app; exit 1; }
    sleep 0.1
  done
  ms=$(( ($(<"$out.rendered") - t0) / 1000000 ))
  inside=$(grep -o 'rendered [0-9]* ms' "$out" | grep -o '[0-9]*')
  store=$(grep -o '^secrets: [a-z-]*' "$out" | cut -d' ' -f2)
  echo "run $i: first live render ${ms} ms after exec (${inside} ms after main; secrets in ${store})"
  times+=("$ms")
  stop_app
  rm -f "$out" "$out.rendered"
done
read -r median fastest slowest < <(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)], a[1], a[NR]}')

out=$(mktemp)
start_app "$out"
until [ -s "$out.rendered" ]; do sleep 0.1; done
sleep 60
rss=0; pss=0; procs=0
for p in $(tree "$pid"); do
  # The app and its WebKit processes; not the reader that stamps the app's output.
  grep -qE '^(boothcloud|WebKit)' "/proc/$p/comm" 2>/dev/null || continue
  r=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
  s=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
  rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0})); procs=$((procs + 1))
done
stop_app

echo
echo "| measure | figure | target |"
echo "|---|---|---|"
echo "| app cold start to first live dashboard (median of $runs, exec to render) | ${median} ms (fastest ${fastest}, slowest ${slowest}) | < 1000 ms |"
echo "| memory after 60 s of live updates, app + WebKit ($procs processes), PSS | $((pss / 1024)) MB | < 250 MB |"
echo "| same, RSS summed (counts shared libraries once per process) | $((rss / 1024)) MB | |"
