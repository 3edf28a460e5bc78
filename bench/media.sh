#!/usr/bin/env bash
# Media benchmark, against the best alternative in the same run:
#   upload:    a file sent to the node over tus on loopback (curl: one POST, one PATCH
#              streaming the file; the node fsyncs before it acknowledges) vs a plain
#              copy of the same file on the same disk with fsync (dd conv=fsync).
#   transcode: a 30 s 1280x720 clip to the 480p preset through the node's job queue
#              (POST to "done", one long poll `?wait=60`: queue, ffprobe, ffmpeg, fsync, rename) vs
#              the very same ffmpeg command (the job's own `command`) run by hand, and
#              by hand followed by the fsync the node does before it says "done".
# Rounds alternate the two sides. Usage: bench/media.sh [path/to/boothcloud-node]
# [rounds] [upload MiB]. Prints each round and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/boothcloud-node}")
rounds=${2:-5}
mib=${3:-512}
work=$(mktemp -d -p "${TMPDIR:-/tmp}")
token=bench-operator-token-0123456789
port=$((20000 + RANDOM % 20000))
# The plain port (HTTPS port + 1), which serves this machine everything over loopback.
url=http://127.0.0.1:$((port + 1))
BOOTHCLOUD_OPERATOR_TOKEN=$token BOOTHCLOUD_LOG=error BOOTHCLOUD_NO_DISCOVERY=true \
  "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:$port --secrets file >/dev/null 2>&1 &
node=$!
trap 'kill $node 2>/dev/null; wait $node 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf "$url/api/v1/status" >/dev/null; do sleep 0.1; done
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ops() { curl -sf -H "Authorization: Bearer $token" "$@"; }
upload_token=$(ops -X POST -H 'content-type: application/json' -d '{"label":"bench","max_uploads":1000}' "$url/api/v1/ops/upload-tokens" | jq -r .token)

echo "making a ${mib} MiB file and a 30 s 720p clip…"
head -c $((mib << 20)) /dev/urandom > "$work/file.bin"
ffmpeg -loglevel error -y -f lavfi -i testsrc=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 30 \
  -c:v libx264 -preset ultrafast -c:a aac -shortest "$work/clip.mp4"

tus_upload() { # file → upload id
  local size loc
  size=$(stat -c %s "$1")
  loc=$(curl -sf -D - -o /dev/null -X POST -H "Authorization: Bearer $upload_token" -H 'Tus-Resumable: 1.0.0' \
    -H "Upload-Length: $size" "$url/api/v1/uploads/" | tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
  curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $upload_token" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
    -H 'Content-Type: application/offset+octet-stream' -H 'Expect:' -T "$1" "$url$loc"
  echo "${loc##*/}"
}

echo "upload, ${mib} MiB: MB/s (tus to the node | dd conv=fsync)"
tus=() copy=()
for round in $(seq 1 "$rounds"); do
  t0=$(ms); id=$(tus_upload "$work/file.bin"); t1=$(ms)
  ops -X DELETE "$url/api/v1/ops/uploads/$id" >/dev/null
  t2=$(ms); dd if="$work/file.bin" of="$work/copy.bin" bs=4M conv=fsync status=none; t3=$(ms)
  rm -f "$work/copy.bin"
  a=$(awk -v b=$((mib << 20)) -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", b / t / 1000}')
  b=$(awk -v b=$((mib << 20)) -v t=$((t3 - t2)) 'BEGIN {printf "%.0f", b / t / 1000}')
  echo "  round $round: $a | $b"
  tus+=("$a"); copy+=("$b")
done
mt=$(printf '%s\n' "${tus[@]}" | median); mc=$(printf '%s\n' "${copy[@]}" | median)
echo "upload median: tus $mt MB/s, plain copy $mc MB/s, ratio $(awk -v a="$mt" -v b="$mc" 'BEGIN {printf "%.2f", a / b}')"

clip=$(tus_upload "$work/clip.mp4")
job() { # → job JSON when done
  local id
  id=$(ops -X POST -H 'content-type: application/json' -d "{\"upload_id\":\"$clip\",\"preset\":\"480p\"}" "$url/api/v1/ops/transcodes" | jq -r .id)
  # One long poll (the node answers when the job ends): nothing else competes with
  # ffmpeg for the two cores while it runs, as on a booth.
  while :; do
    j=$(ops "$url/api/v1/ops/transcodes/$id?wait=60")
    case $(jq -r .state <<<"$j") in done) echo "$j"; return ;; queued|running) ;; *) echo "job failed: $j" >&2; exit 1 ;; esac
  done
}
first=$(job)
mapfile -t cmd < <(jq -r '.command[]' <<<"$first")
cmd[-1]="$work/by-hand.mp4"
ops -X DELETE "$url/api/v1/ops/transcodes/$(jq -r .id <<<"$first")/output" >/dev/null
echo "transcode, 30 s 720p → 480p: ms (through the node, POST to done | job's wall_ms | ffmpeg by hand | by hand + fsync)"
node_ms=() wall_ms=() hand_ms=() synced_ms=()
by_hand() { # → "ms-ffmpeg ms-with-fsync"
  local a b c
  a=$(ms); ffmpeg "${cmd[@]}" >/dev/null; b=$(ms)
  python3 -c 'import os, sys; f = os.open(sys.argv[1], os.O_RDONLY); os.fsync(f)' "$work/by-hand.mp4"; c=$(ms)
  echo "$((b - a)) $((c - a))"
}
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    t0=$(ms); j=$(job); t1=$(ms); read -r h s < <(by_hand)
  else
    read -r h s < <(by_hand); t0=$(ms); j=$(job); t1=$(ms)
  fi
  ops -X DELETE "$url/api/v1/ops/transcodes/$(jq -r .id <<<"$j")/output" >/dev/null
  rm -f "$work/by-hand.mp4"
  echo "  round $round: $((t1 - t0)) | $(jq -r .wall_ms <<<"$j") | $h | $s"
  node_ms+=($((t1 - t0))); wall_ms+=("$(jq -r .wall_ms <<<"$j")"); hand_ms+=("$h"); synced_ms+=("$s")
done
mn=$(printf '%s\n' "${node_ms[@]}" | median); mw=$(printf '%s\n' "${wall_ms[@]}" | median)
mh=$(printf '%s\n' "${hand_ms[@]}" | median); msy=$(printf '%s\n' "${synced_ms[@]}" | median)
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f%%", (a / b - 1) * 100}'; }
echo "transcode median: node $mn ms (job wall $mw ms); by hand $mh ms, overhead $(pct "$mn" "$mh"); by hand + fsync $msy ms, overhead $(pct "$mn" "$msy")"
