#!/bin/bash
# Two server builds side by side, run for run: each round runs every row once against each
# binary in turn (a fresh server on core 0, the generator on core 1), so a busy neighbour does
# not favour one side. Prints one line per run: "<row> <side> <figure>"; quote pooled medians.
#   scripts/bench-pairs.sh OLD_SERVER NEW_SERVER [ROUNDS]
# The generator is target/release/warroom-bench (or $BENCH); the rows are the standard suite's
# write and fan-out rows (docs/performance.md). Used for issue 11's "no worse than before".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old=$1 new=$2 rounds=${3:-3}
bench=${BENCH:-$root/target/release/warroom-bench}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
ulimit -n 20000

rows=(
  "writes100|acked_writes_per_s|throughput --receivers 100 --writers 16 --window 64 --duration 10"
  "fanout1000|latency_ms.p99|fanout --receivers 1000 --writers 10 --rate 100 --duration 10 --batch 250"
  "fanout100|latency_ms.p99|fanout --receivers 100 --writers 10 --rate 1000 --duration 10"
)

# run SIDE BINARY ROW: one fresh server, one run of the row; prints the figure.
run() {
  local side=$1 bin=$2 name figure args extra=()
  IFS='|' read -r name figure args <<<"$3"
  # Builds before the connect rate limit (issue 15) have no such flag.
  if "$bin" serve --help | grep -q -- --connect-rate; then extra=(--connect-rate 0); fi
  : >"$tmp/out"
  taskset -c 0 "$bin" serve --db "$tmp/db-$RANDOM$RANDOM" --host 127.0.0.1 --port 0 --api-key k \
    --rate-limit 0 "${extra[@]}" >"$tmp/out" 2>/dev/null &
  pid=$!
  local url=
  for _ in $(seq 200); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/out" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  # shellcheck disable=SC2086
  local result
  result=$(taskset -c 1 "$bench" --url "$url" --key k --pid "$pid" $args 2>/dev/null | tail -1)
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  local value
  value=$(printf '%s' "$result" | python3 -c "import json,sys; d=json.load(sys.stdin); v=d
for k in '$figure'.split('.'): v=v[k]
print(v)")
  echo "$name $side $value"
}

for round in $(seq "$rounds"); do
  for row in "${rows[@]}"; do
    # Alternate which side goes first, round by round.
    if [ $((round % 2)) = 1 ]; then run old "$old" "$row"; run new "$new" "$row"
    else run new "$new" "$row"; run old "$old" "$row"; fi
  done
done
