#!/bin/bash
# The server's instruction count for one fixed fan-out workload, under valgrind's callgrind: a
# figure the machine's other load cannot move (wall-clock pairs on a shared 2-core machine can
# spread wider than the difference between two builds).
#   scripts/count-instructions.sh SERVER [SECONDS] [RECEIVERS] [RATE]
# A fresh server; RECEIVERS sockets and 10 writers sending RATE updates a second for SECONDS
# (default 10 s, 100 receivers, 100/s: 100,000 deliveries); then SIGTERM. Prints the bench's
# delivery count and callgrind's total. Compare two builds with the same arguments, each run
# at least twice: the count depends a little on timing (events found queued per wake-up).
# The generator is target/release/warroom-bench (or $BENCH).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server=$1 seconds=${2:-10} receivers=${3:-100} rate=${4:-100}
bench=${BENCH:-$root/target/release/warroom-bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ulimit -n 20000
extra=()
# Builds before the connect rate limit (issue 15) have no such flag.
if "$server" serve --help | grep -q -- --connect-rate; then extra=(--connect-rate 0); fi
valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out" "$server" serve --db "$tmp/db" \
  --host 127.0.0.1 --port 0 --api-key k --rate-limit 0 "${extra[@]}" >"$tmp/out" 2>"$tmp/err" &
pid=$!
url=
for _ in $(seq 600); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/out" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { echo "the server did not start" >&2; kill "$pid"; exit 1; }
"$bench" fanout --url "$url" --key k --receivers "$receivers" --writers 10 --rate "$rate" \
  --duration "$seconds" --batch 50 2>"$tmp/bench.err" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print("delivered", d["delivered"], "of", d["expected"])'
sleep 1
kill -TERM "$pid"
wait "$pid" || true
grep -E '^summary:' "$tmp/callgrind.out" | sed 's/^summary:/instructions:/'
