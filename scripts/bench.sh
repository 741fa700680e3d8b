#!/usr/bin/env bash
# The benchmark suite: builds release binaries, runs every scenario of docs/performance.md
# against a fresh server on a temp database (server pinned to core 0, generator to core 1),
# each scenario RUNS times, and writes the table of medians and spreads into
# docs/performance.md between its `bench:results` markers.
#
#   scripts/bench.sh           the standard suite (about 10 minutes), then the --boards and
#                              --waiting sections (about 10 more), updates the docs
#   scripts/bench.sh --boards  one board against 50 (issue 12): sync:full and fan-out, the runs
#                              of the compared rows interleaved; its block of docs/performance.md
#   scripts/bench.sh --waiting agents waiting on task:next (issue 13): latency from a task
#                              becoming ready to its claim, memory and threads per waiting agent
#   scripts/bench.sh --smoke   every scenario for a second or two with tiny sizes, no targets,
#                              docs untouched; fails only if a scenario fails to run (CI)
#   scripts/bench.sh --cluster one instance against two on one PostgreSQL database and one Redis
#                              (fan-out, receivers spread over the instances), updates the table
#                              in docs/scaling.md; needs the services (CLUSTER_DATABASE_URL,
#                              an admin URL whose user may create databases, and
#                              CLUSTER_REDIS_URL; by default the local ones)
#   scripts/bench.sh --peer    side by side with the seeds' stack (issue 14): the standard rows
#                              that both can run, against warroom and against the Node peer of
#                              bench/peer (installed with `npm ci` if missing), the two taking
#                              turns run by run; its block of docs/performance.md, with the table
#                              of ratios (warroom / Node)
#   scripts/bench.sh --peer-smoke  the --peer rows for a second with tiny sizes, docs untouched
#   scripts/bench.sh --commands  prints the standard suite's commands without running them
#
# Environment: RUNS (default 3), SERVER_CPU / GEN_CPU (default 0 / 1), CARGO (default cargo),
# NICE (default -10: on a shared machine, other work yields the two cores to the benchmark;
# without the privilege it runs at normal priority), SKIP_BUILD=1 (use the release build as is),
# CARGO_TARGET_DIR (where the release build is; default target).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

mode=full
dry=0
case "${1:-}" in
  --smoke) mode=smoke ;;
  --cluster) mode=cluster ;;
  --boards) mode=boards ;;
  --waiting) mode=waiting ;;
  --peer) mode=peer ;;
  --peer-smoke) mode=peer-smoke ;;
  --commands) dry=1 ;;
  "") ;;
  *) echo "usage: scripts/bench.sh [--smoke | --cluster | --boards | --waiting | --peer | --peer-smoke | --commands]" >&2; exit 2 ;;
esac

RUNS=${RUNS:-3}
[ "$mode" = smoke ] || [ "$mode" = peer-smoke ] && RUNS=1
CARGO=${CARGO:-cargo}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
KEY=warroom-bench-key
NICE=${NICE:--10}

# Ten thousand sockets need as many descriptors in the server and in the generator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [ "${SKIP_BUILD:-0}" != 1 ] && [ "$dry" = 0 ]; then
  echo "bench: building release binaries"
  "$CARGO" build --release --locked -p warroom -p warroom-bench
fi
target_dir=${CARGO_TARGET_DIR:-$root/target}
server_bin=$target_dir/release/warroom
bench_bin=$target_dir/release/warroom-bench
# How start_server runs a server: warroom, or the Node peer of --peer (as_warroom, as_peer).
as_warroom() {
  server_cmd=("$server_bin" serve)
  server_opts=(--rate-limit 0 --connect-rate 0)
}
as_peer() {
  server_cmd=(node "$root/bench/peer/server.js")
  server_opts=()
}
as_warroom

# Pinning needs taskset and two cores; without them both run unpinned (and the docs say so).
pin_server=() pin_gen=() pinned=0
if [ "$NICE" != 0 ] && nice -n "$NICE" true 2>/dev/null; then
  pin_server=(nice -n "$NICE")
  pin_gen=(nice -n "$NICE")
fi
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pinned=1
  pin_gen+=(taskset -c "$GEN_CPU")
else
  echo "bench: taskset or a second core is missing: server and generator run unpinned" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/warroom-bench.XXXXXX")
results= commands= report_args=()
server_urls=() server_pids=() server_url= server_pid=
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "${cluster_db:-}" ]; then drop_cluster_state; fi
  rm -rf "$work"
}
trap cleanup EXIT

# quote WORD: the word as a shell reads it back (single-quoted unless plainly safe).
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,+@-]+$ ]]; then printf '%s' "$1"
  else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}

# log_command WORD...: notes a command for the docs, in a form that can be rerun by hand: the
# running servers' URLs and PIDs become $URL, $SERVER_PID (the first) and $URL_2… (the others).
log_command() {
  local word line= i names=
  for word in "$@"; do line+="$(quote "$word") "; done
  for i in "${!server_pids[@]}"; do
    local suffix=
    [ "$i" -gt 0 ] && suffix=_$((i + 1))
    names+="s|${server_urls[i]:-none}\\b|\$URL$suffix|g; s|--pid ${server_pids[i]}\\b|--pid \$SERVER_PID$suffix|g; "
  done
  [ -n "${cluster_db:-}" ] && names+="s|$cluster_db|\$DB|g; "
  printf '%s\n' "${line% }" | sed "${names}s|$target_dir/|target/|g; s|$root/||g; s|$work/db-[0-9]*|\$TMP/db-N|g; s|$work|\$TMP|g" >>"$commands"
}

# start_server ARGS...: one more server (warroom, or the peer after as_peer) on a new temp
# database and a free port (`--port 0`; the port is read back from the URL the server prints). Its URL and PID are appended to
# server_urls and server_pids; server_url and server_pid are the first server's.
start_server() {
  local n=${#server_pids[@]}
  local db=$work/db-$RANDOM$RANDOM out=$work/server-$n.out pin=("${pin_server[@]}")
  [ "$pinned" = 1 ] && pin+=(taskset -c "${server_cpu:-$SERVER_CPU}")
  local cmd=("${pin[@]}" "${server_cmd[@]}" --db "$db" --host 127.0.0.1 --port 0
    --api-key "$KEY" "${server_opts[@]}" "$@")
  log_command "${cmd[@]}"
  if [ "$dry" = 1 ]; then
    server_urls+=(http://127.0.0.1:0) server_pids+=(0) server_url=${server_urls[0]} server_pid=0
    return 0
  fi
  : >"$out"
  RUST_LOG=warn "${cmd[@]}" >"$out" 2>>"$work/server.log" &
  local pid=$! url= i
  server_pids+=("$pid")
  for i in $(seq 200); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out" 2>/dev/null | head -1 || true)
    if [ -n "$url" ]; then
      server_urls+=("$url") server_url=${server_urls[0]} server_pid=${server_pids[0]}
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "bench: the server did not start; its log:" >&2
  tail -20 "$work/server.log" >&2
  exit 1
}

stop_servers() {
  local pid
  if [ "$dry" = 0 ]; then
    for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  fi
  server_urls=() server_pids=() server_url= server_pid=
}

# record LABEL COMMAND...: runs one measurement; its last stdout line is the result.
record() {
  local label=$1; shift
  local cmd=("$@" --label "$label")
  log_command "${cmd[@]}"
  [ "$dry" = 1 ] && return 0
  local out
  if ! out=$("${cmd[@]}" | tail -1) || [ -z "$out" ]; then
    echo "bench: $label failed" >&2
    exit 1
  fi
  printf '%s\n' "$out" >>"$results"
  echo "bench: $label: $out" | cut -c1-300
}

# scenario LABEL [SERVER ARGS... --] BENCH ARGS...: RUNS runs, each on a fresh server.
scenario() {
  local label=$1; shift
  local server_args=()
  if [[ " $* " == *" -- "* ]]; then
    while [ "$1" != "--" ]; do server_args+=("$1"); shift; done
    shift
  fi
  local run
  for run in $(seq "$RUNS"); do
    [ "$dry" = 0 ] && echo "bench: $label, run $run of $RUNS"
    start_server "${server_args[@]}"
    record "$label" "${pin_gen[@]}" "$bench_bin" --url "$server_url" --key "$KEY" \
      --pid "$server_pid" "$@"
    stop_servers
  done
}

# section NAME: the scenarios that follow record their results and commands apart (each section
# is one block of the docs), from this moment and this load average.
section() {
  results=$work/results-$1.jsonl commands=$work/commands-$1.txt
  : >"$results"
  : >>"$commands"
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  started=$(date -u '+%Y-%m-%d %H:%M UTC')
}

if [ "$mode" = smoke ]; then
  section smoke
  scenario "fanout (smoke)" fanout --receivers 20 --writers 2 --rate 50 --duration 1
  scenario "throughput (smoke)" throughput --receivers 10 --writers 2 --window 4 --duration 1
  scenario "connections (smoke)" connections --count 100 --batch 50 --hold 0.5
  scenario "rest (smoke)" rest --concurrency 4 --duration 1 --tasks 20
  scenario "sync (smoke)" sync --tasks 50 --runs 5
  scenario "sync, 3 boards (smoke)" sync --tasks 20 --boards 3 --runs 5
  scenario "fanout, 3 boards, 2 busy (smoke)" fanout --receivers 5 --writers 1 --rate 20 --duration 1 \
    --boards 3 --busy-boards 2 --tasks 5
  scenario "waiting (smoke)" waiting --agents 5 --tasks 20 --interval-ms 10
  scenario "waiting, unblock (smoke)" waiting --agents 5 --tasks 10 --interval-ms 10 --unblock
  scenario "waiters (smoke)" waiters --count 20 --hold 0.3
  record "startup (smoke)" "${pin_gen[@]}" "$bench_bin" startup --server-bin "$server_bin" \
    --tasks 300 --runs 1 --server-cpu "$SERVER_CPU"
  echo
  "$bench_bin" report "$results"
  echo "bench: smoke run complete: $(wc -l <"$results") scenarios ran"
  exit 0
fi

# command_list FILE...: what the suite ran, each distinct command once, as it can be rerun by hand.
command_list() {
  echo "ulimit -n $(ulimit -n)"
  echo "$CARGO build --release --locked -p warroom -p warroom-bench"
  echo "# each run starts fresh servers (\$URL… is read back from their output, \$SERVER_PID… is theirs)"
  awk '!seen[$0]++' "$@"
}

# write_results DOC MARKER INTRO: the table of medians, the commands and the raw lines, between
# DOC's `MARKER:start` and `MARKER:end` comments (appended to DOC when they are missing).
write_results() {
  local doc=$1 marker=$2 intro=$3
  local load_after commit cpu_model memory block=$work/block.md
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  commit=$(git rev-parse --short HEAD)
  [ -n "$(git status --porcelain -- src Cargo.toml Cargo.lock bench)" ] && commit="$commit (with uncommitted changes)"
  cpu_model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
  memory=$(free -h | awk '/^Mem:/ {print $2}')
  {
    echo "<!-- $marker:start (written by scripts/bench.sh; edit outside these markers) -->"
    echo "Measured $started on commit \`$commit\`: $(nproc) cores of $cpu_model, $memory of memory,"
    echo "Linux $(uname -r). $intro"
    echo "Load average (1, 5, 15 min) before the suite: $load_before; after: $load_after."
    echo "Each row: the median of $RUNS runs, each on fresh servers and databases."
    echo
    "$bench_bin" report "${report_args[@]}" "$results"
    echo
    echo "<details><summary>The exact commands (\$TMP is the suite's temp folder)</summary>"
    echo
    echo '```sh'
    command_list "$commands"
    echo '```'
    echo "</details>"
    echo
    echo "<details><summary>Raw result lines</summary>"
    echo
    echo '```json'
    cat "$results"
    echo '```'
    echo "</details>"
    echo "<!-- $marker:end -->"
  } >"$block"
  if [ -f "$doc" ] && grep -q "$marker:start" "$doc"; then
    awk -v block="$block" -v start="$marker:start" -v end="$marker:end" '
      index($0, start) { while ((getline line < block) > 0) print line; skip = 1; next }
      index($0, end)   { skip = 0; next }
      !skip { print }
    ' "$doc" >"$work/doc.md"
    cp "$work/doc.md" "$doc"
  else
    { echo; cat "$block"; } >>"$doc"
  fi
  echo "bench: results written to $doc"
}

if [ "$mode" = cluster ]; then
  section cluster
  CLUSTER_DATABASE_URL=${CLUSTER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
  CLUSTER_REDIS_URL=${CLUSTER_REDIS_URL:-redis://127.0.0.1:6379}
  command -v psql >/dev/null && command -v redis-cli >/dev/null ||
    { echo "bench: --cluster needs psql and redis-cli" >&2; exit 1; }

  # new_cluster_state: a new database beside CLUSTER_DATABASE_URL's and a new Redis prefix.
  new_cluster_state() {
    cluster_db=warroom_bench_$$_$RANDOM
    cluster_prefix=$cluster_db
    cluster_url=${CLUSTER_DATABASE_URL%/*}/$cluster_db
    psql -q "$CLUSTER_DATABASE_URL" -c "CREATE DATABASE $cluster_db" >/dev/null
  }
  drop_cluster_state() {
    psql -q "$CLUSTER_DATABASE_URL" -c "DROP DATABASE IF EXISTS $cluster_db WITH (FORCE)" >/dev/null || true
    redis-cli -u "$CLUSTER_REDIS_URL" --scan --pattern "$cluster_prefix*" |
      xargs -r redis-cli -u "$CLUSTER_REDIS_URL" DEL >/dev/null || true
    cluster_db=
  }

  # cluster_scenario LABEL CORES BENCH ARGS...: RUNS runs, each on fresh servers sharing a new
  # database and Redis prefix, one on each core of CORES ("0", "0 0", "0 1"); writers on the
  # first, receivers spread over all of them.
  cluster_scenario() {
    local label=$1 cores=($2); shift 2
    local run i pids receivers server_cpu instances=${#cores[@]}
    for run in $(seq "$RUNS"); do
      echo "bench: $label, run $run of $RUNS"
      new_cluster_state
      for server_cpu in "${cores[@]}"; do
        start_server --database-url "$cluster_url" --redis-url "$CLUSTER_REDIS_URL" --redis-prefix "$cluster_prefix"
      done
      pids=() receivers=()
      for i in "${!server_pids[@]}"; do
        pids+=(--pid "${server_pids[i]}")
        if ((instances > 1)); then receivers+=(--receiver-url "${server_urls[i]}"); fi
      done
      record "$label" "${pin_gen[@]}" "$bench_bin" --url "$server_url" --key "$KEY" "${pids[@]}" \
        "$@" "${receivers[@]}"
      stop_servers
      drop_cluster_state
    done
  }

  fanout=(fanout --receivers 1000 --writers 10 --rate 100 --duration 10 --batch 250)
  scenario "fan-out 1,000 x 100/s: one instance, SQLite" "${fanout[@]}"
  cluster_scenario "fan-out 1,000 x 100/s: one instance, PostgreSQL + Redis" "$SERVER_CPU" "${fanout[@]}"
  cluster_scenario "fan-out 1,000 x 100/s: two instances on one core" "$SERVER_CPU $SERVER_CPU" "${fanout[@]}"
  cluster_scenario "fan-out 1,000 x 100/s: two instances, a core each" "$SERVER_CPU $GEN_CPU" "${fanout[@]}"
  write_results docs/scaling.md bench:cluster \
    "Servers on core $SERVER_CPU (the second instance too, but for \"a core each\": core $GEN_CPU), generator on core $GEN_CPU; PostgreSQL and Redis unpinned, loopback."
  exit 0
fi

# Issue 14: the standard rows both servers can run, each against warroom and against the
# seeds' stack (bench/peer), the two taking turns run by run and, from one round to the next,
# taking turns at going first, so that neither gets the machine's quieter moments.
# peer_suite smoke: the same with tiny sizes, a second or two a row.
peer_suite() {
  local run size=${1:-full}
  local rows=(
    "durable writes, 50 receivers|throughput --receivers 50 --writers 16 --window 64 --duration 10"
    "durable writes, 100 receivers|throughput --receivers 100 --writers 16 --window 64 --duration 10"
    "fan-out: 1,000 receivers, 100 updates/s|fanout --receivers 1000 --writers 10 --rate 100 --duration 10 --batch 250"
    "fan-out: 100 receivers, 1,000 updates/s|fanout --receivers 100 --writers 10 --rate 1000 --duration 10"
    "idle connections: 10,000|connections --count 10000 --batch 500 --hold 5"
  )
  if [ "$size" = smoke ]; then
    rows=(
      "durable writes, 10 receivers|throughput --receivers 10 --writers 2 --window 4 --duration 1"
      "fan-out: 20 receivers, 50 updates/s|fanout --receivers 20 --writers 2 --rate 50 --duration 1"
      "idle connections: 100|connections --count 100 --batch 50 --hold 0.5"
    )
  fi
  for run in $(seq "$RUNS"); do
    local row order=(warroom peer)
    ((run % 2)) || order=(peer warroom)
    for row in "${rows[@]}"; do
      local label=${row%%|*} args server
      read -ra args <<<"${row#*|}"
      for server in "${order[@]}"; do
        if [ "$server" = warroom ]; then
          as_warroom; RUNS=1 scenario "$label (warroom)" "${args[@]}"
        else
          as_peer; RUNS=1 scenario "$label (Node peer)" "${args[@]}"
        fi
      done
    done
  done
  as_warroom
}

# The standard suite: one board, the rows of "Against the targets".
standard_suite() {
  scenario "fan-out: 1,000 receivers, 100 updates/s" \
    fanout --receivers 1000 --writers 10 --rate 100 --duration 10 --batch 250 \
    --target 'latency_ms.p99<10' --target 'misses==0'
  scenario "fan-out: 100 receivers, 1,000 updates/s" \
    fanout --receivers 100 --writers 10 --rate 1000 --duration 10 \
    --target 'latency_ms.p99<10' --target 'misses==0'
  scenario "durable writes, 100 receivers" \
    throughput --receivers 100 --writers 16 --window 64 --duration 10 \
    --target 'acked_writes_per_s>=10000'
  scenario "idle connections: 10,000" \
    connections --count 10000 --batch 500 --hold 5 \
    --target 'failed==0' --target 'still_open==10000' --target 'rss_per_connection_kib<=20'
  scenario "sync:full of 1,000 tasks" \
    sync --tasks 1000 --runs 100 --target 'auth_to_sync_ms.p50<5'
  scenario "REST, 32 concurrent" \
    rest --concurrency 32 --duration 10 --tasks 100
  for run in $(seq "$RUNS"); do
    [ "$dry" = 0 ] && echo "bench: start-up, run $run of $RUNS"
    record "start-up with 100,000 tasks" "${pin_gen[@]}" "$bench_bin" startup \
      --server-bin "$server_bin" --tasks 100000 --runs 1 --seed-db "$work/seed-100k.db" \
      --server-cpu "$SERVER_CPU" --target 'spawn_to_health_ms.p50<300'
  done

  # What bounds the targets that are missed: the same scenarios with one thing changed.
  scenario "durable writes, no receivers" \
    throughput --receivers 0 --writers 16 --window 64 --duration 10
  scenario "writes, 100 receivers, --durability normal" --durability normal -- \
    throughput --receivers 100 --writers 16 --window 64 --duration 10
  scenario "fan-out: 1,000 receivers, 100 updates/s, subscribed to task:*:updated" \
    fanout --receivers 1000 --writers 10 --rate 100 --duration 10 --batch 250 \
    --subscribe 'task:*:updated'
}

# Issue 12: what 49 more boards of 200 tasks, with their own receivers, cost one board's
# sync:full and fan-out. The compared rows take turns run by run, so that a change of the
# machine's load between them does not read as a difference between them.
boards_suite() {
  local run
  for run in $(seq "$RUNS"); do
    RUNS=1 scenario "sync:full of 200 tasks, 1 board" sync --tasks 200 --boards 1 --runs 200
    RUNS=1 scenario "sync:full of 200 tasks, 50 boards of 200" sync --tasks 200 --boards 50 --runs 200
  done
  for run in $(seq "$RUNS"); do
    RUNS=1 scenario "fan-out: 1 board of 200 tasks, 100 receivers, 100 updates/s" \
      fanout --boards 1 --tasks 200 --receivers 100 --writers 10 --rate 100 --duration 10
    RUNS=1 scenario "fan-out: 50 boards of 200 tasks, 100 receivers each, 100 updates/s on main" \
      fanout --boards 50 --tasks 200 --receivers 100 --writers 10 --rate 100 --duration 10 --batch 250
    RUNS=1 scenario "fan-out: 50 boards of 200 tasks, 100 receivers each, 2 updates/s on each" \
      fanout --boards 50 --busy-boards 50 --tasks 200 --receivers 100 --writers 1 --rate 2 \
      --duration 10 --batch 250
    # The same pair without an fsync per commit, which is most of the latency above on a
    # shared disk: what is left is the fan-out, where the boards could cost something.
    RUNS=1 scenario "fan-out: 1 board of 200 tasks, 100 receivers, 100 updates/s, --durability normal" \
      --durability normal -- \
      fanout --boards 1 --tasks 200 --receivers 100 --writers 10 --rate 100 --duration 10
    RUNS=1 scenario "fan-out: 50 boards of 200 tasks, 100 receivers each, 100 updates/s on main, --durability normal" \
      --durability normal -- \
      fanout --boards 50 --tasks 200 --receivers 100 --writers 10 --rate 100 --duration 10 --batch 250
  done
}

# Issue 13: agents waiting on task:next { wait: 60 }.
waiting_suite() {
  scenario "waiting: 50 agents, a task created every 20 ms" \
    waiting --agents 50 --tasks 500 --interval-ms 20 --target 'unclaimed==0' --target 'claimed_twice==0'
  scenario "waiting: 50 agents, a blocker moved to DONE every 20 ms" \
    waiting --agents 50 --tasks 500 --interval-ms 20 --unblock --target 'unclaimed==0' --target 'claimed_twice==0'
  scenario "waiting agents: 100, idle then waiting 60 s" \
    waiters --count 100 --hold 2 --target 'leases_held==0' --target 'answered_during_hold==0'
  scenario "waiting agents: 1,000, idle then waiting 60 s" \
    waiters --count 1000 --hold 2 --target 'leases_held==0' --target 'answered_during_hold==0'
}

where="Server on core $SERVER_CPU, generator on core $GEN_CPU, loopback."
if [ "$mode" = peer ] || [ "$mode" = peer-smoke ]; then
  command -v node >/dev/null || { echo "bench: --peer needs Node.js (and npm)" >&2; exit 1; }
  [ -d bench/peer/node_modules ] || npm --prefix bench/peer ci --no-audit --no-fund
  report_args=(--ratio warroom "Node peer")
  section peer
  if [ "$mode" = peer-smoke ]; then
    peer_suite smoke
    echo
    "$bench_bin" report "${report_args[@]}" "$results"
    exit 0
  fi
  peer_suite
  versions=$(node -p "['express', 'socket.io', 'better-sqlite3'].map(p =>
    p + ' ' + require('./bench/peer/node_modules/' + p + '/package.json').version).join(', ')")
  write_results docs/performance.md bench:peer "$where Each row against warroom (release build)
and against the Node peer (bench/peer/server.js: Node $(node --version), $versions), the two
taking turns run by run."
  exit 0
fi
if [ "$dry" = 1 ]; then
  section 1-standard; standard_suite
  section 2-boards; boards_suite
  section 3-waiting; waiting_suite
  command_list "$work"/commands-*.txt
  exit 0
fi
if [ "$mode" = full ]; then
  section standard
  standard_suite
  write_results docs/performance.md bench:results "$where"
fi
if [ "$mode" = full ] || [ "$mode" = boards ]; then
  section boards
  boards_suite
  write_results docs/performance.md bench:boards "$where"
fi
if [ "$mode" = full ] || [ "$mode" = waiting ]; then
  section waiting
  waiting_suite
  write_results docs/performance.md bench:waiting "$where"
fi
