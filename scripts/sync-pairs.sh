#!/bin/bash
# sync:full with one board against 50 (issue 12), run for run: two release servers on core 0
# (one with `main` of 200 tasks, one with 50 boards of 200), seeded once, then PAIRS rounds of
# 300 sequential connects to each in turn from core 1. Prints one line per round:
# "<p50 ms, 1 board> <p50 ms, 50 boards>" (namespace connect → last byte of sync:full).
# Pairing runs in turn keeps a busy neighbour from favouring one side; quote the pooled medians.
#   cargo build --release -p warroom -p warroom-bench && PAIRS=20 scripts/sync-pairs.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release/warroom bench=$root/target/release/warroom-bench
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
serve() { taskset -c 0 "$bin" serve --db "$tmp/$1.db" --port "$2" --api-key k --rate-limit 0 --connect-rate 0 >"$tmp/$1.log" 2>&1 & pids+=($!); }
serve one 18941
serve fifty 18942
sleep 2
p50() { taskset -c 1 "$bench" sync --url "http://127.0.0.1:$1" --key k --boards "$2" --tasks 200 --runs "$3" 2>/dev/null |
  grep -o '"auth_to_sync_ms":{[^}]*}' | grep -o '"p50":[0-9.]*' | cut -d: -f2; }
p50 18941 1 1 >/dev/null
p50 18942 50 1 >/dev/null
for _ in $(seq 1 "${PAIRS:-20}"); do
  echo "$(p50 18941 1 300) $(p50 18942 50 300)"
done
