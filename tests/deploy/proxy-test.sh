#!/usr/bin/env bash
# Tests deploy/nginx.conf for real: nginx in front of two warroom instances, driven with the official
# socket.io-client and fetch (tests/deploy/proxy-check.mjs). SQLite instances by default; with
# TEST_DATABASE_URL and TEST_REDIS_URL, two instances on a fresh PostgreSQL database and a random Redis
# prefix (both removed after). Installs nginx with apt if it is missing. Ends with "N passed, N failed".
#
#   bash tests/deploy/proxy-test.sh            # WARROOM_BIN=… to test another binary
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
BIN=${WARROOM_BIN:-$root/target/debug/warroom}
tmp=$(mktemp -d /tmp/warroom-proxy-test.XXXXXX)
chmod 755 "$tmp"   # nginx's workers (another user when run as root) write request bodies below it
pids=()
dbname=""
prefix=""

finish() {
  local rc=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "$prefix" ]; then
    redis-cli -u "$TEST_REDIS_URL" --scan --pattern "$prefix:*" | xargs -r redis-cli -u "$TEST_REDIS_URL" DEL >/dev/null
  fi
  if [ -n "$dbname" ]; then psql -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null; fi
  rm -rf "$tmp"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

fail() {
  echo "proxy-test: $*"
  for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
  echo "0 passed, 1 failed"
  exit 1
}

# --- what the test needs ---------------------------------------------------------------------------
[ -x "$BIN" ] || fail "no warroom binary at $BIN (cargo build, or set WARROOM_BIN)"
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "proxy-test: installing nginx-light"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's package starts nginx on port 80 where it can; a policy-rc.d that says no prevents that.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1; fi
  # nginx-light is Debian 12's small build; later releases have only nginx.
  { apt-get update -qq && { apt-get install -y -qq nginx-light || apt-get install -y -qq nginx; }; } >"$tmp/apt.log" 2>&1
  [ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || fail "could not install nginx (apt's log above)"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -d tests/protocol/node_modules/socket.io-client ] || npm --prefix tests/protocol ci --no-audit --no-fund >"$tmp/npm.log" 2>&1 \
  || fail "npm --prefix tests/protocol ci failed"

# Three free ports on 127.0.0.1 (bound and released by Node, used right after).
read -r port_a port_b port_proxy < <(node -e '
  const net = require("net"); const ports = [];
  const next = () => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { ports.push(s.address().port);
    s.close(() => ports.length < 3 ? next() : console.log(ports.join(" "))); }); };
  next();')
key=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

# --- the store: two SQLite files, or one fresh PostgreSQL database and a Redis prefix --------------
store_args_a=(--db "$tmp/a.db")
store_args_b=(--db "$tmp/b.db")
mode="SQLite (one file per instance)"
if [ -n "${TEST_DATABASE_URL:-}" ] && [ -n "${TEST_REDIS_URL:-}" ]; then
  dbname="warroom_proxy_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  prefix="warroom-proxy-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  psql -q "$TEST_DATABASE_URL" -c "CREATE DATABASE $dbname" >"$tmp/psql.log" 2>&1 || { dbname=""; fail "cannot create a database with TEST_DATABASE_URL"; }
  # The same URL with the database name replaced (query options kept).
  db_url=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$TEST_DATABASE_URL" "$dbname")
  store_args_a=(--database-url "$db_url" --redis-url "$TEST_REDIS_URL" --redis-prefix "$prefix")
  store_args_b=("${store_args_a[@]}")
  mode="PostgreSQL $dbname + Redis prefix $prefix"
fi
echo "proxy-test: $mode; instances on :$port_a and :$port_b, nginx on :$port_proxy"

# --- two instances ---------------------------------------------------------------------------------
start_instance() { # NAME PORT STORE-ARGS...
  local name=$1 port=$2; shift 2
  env -u PORT -u HOST -u DATABASE_PATH -u DATABASE_URL -u REDIS_URL -u REDIS_PREFIX \
    WAAAH_API_KEY="$key" "$BIN" serve --host 127.0.0.1 --port "$port" --rate-limit 0 "$@" \
    >"$tmp/warroom-$name.log" 2>&1 &
  pids+=($!)
  eval "pid_$name=$!"
}
wait_healthy() { # URL
  for _ in $(seq 150); do
    curl -fsS -o /dev/null --max-time 1 "$1/api/health" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
start_instance a "$port_a" "${store_args_a[@]}"
# On PostgreSQL the first instance runs the migrations; the second waits its turn on a lock anyway.
start_instance b "$port_b" "${store_args_b[@]}"
wait_healthy "http://127.0.0.1:$port_a" || fail "instance a did not become healthy"
wait_healthy "http://127.0.0.1:$port_b" || fail "instance b did not become healthy"

# --- nginx, from the template ----------------------------------------------------------------------
# deploy/nginx.conf is the single source: only the upstream addresses and the listening port change,
# plus where this unprivileged run keeps its temporary files.
conf="$tmp/nginx.conf"
sed -e "s/server warroom-a:8080/server 127.0.0.1:$port_a/" \
    -e "s/server warroom-b:8080/server 127.0.0.1:$port_b/" \
    -e "s/^\( *\)listen 8080;/\1listen 127.0.0.1:$port_proxy;/" \
    -e "s|^http {|http {\n    client_body_temp_path $tmp/body; proxy_temp_path $tmp/proxy;\n    fastcgi_temp_path $tmp/fastcgi; uwsgi_temp_path $tmp/uwsgi; scgi_temp_path $tmp/scgi;|" \
    deploy/nginx.conf >"$conf"
if grep -qE 'warroom-[ab]:8080|listen 8080;' "$conf"; then fail "deploy/nginx.conf no longer has the lines this test replaces"; fi
"$NGINX" -t -q -p "$tmp/" -c "$conf" -e "$tmp/nginx-error.log" -g "pid $tmp/nginx.pid;" >"$tmp/nginx-t.log" 2>&1 \
  || fail "nginx -t rejects the rendered deploy/nginx.conf: $(cat "$tmp/nginx-t.log")"
"$NGINX" -p "$tmp/" -c "$conf" -e "$tmp/nginx-error.log" -g "daemon off; pid $tmp/nginx.pid;" \
  >"$tmp/nginx-access.log" 2>&1 &
pids+=($!)
wait_healthy "http://127.0.0.1:$port_proxy" || fail "nginx did not answer on :$port_proxy"

# --- the checks ------------------------------------------------------------------------------------
PROXY_URL="http://127.0.0.1:$port_proxy" A_URL="http://127.0.0.1:$port_a" B_URL="http://127.0.0.1:$port_b" \
  A_PID="$pid_a" B_PID="$pid_b" KEY="$key" PROTOCOL_DIR="$root/tests/protocol" \
  timeout 50 node --test --test-reporter=spec tests/deploy/proxy-check.mjs | tee "$tmp/checks.out"
node_rc=${PIPESTATUS[0]}
# The runner's summary: "ℹ pass 7", "ℹ fail 0" (scripts/test-all.sh reads these too).
passed=$(grep -E '^ℹ pass [0-9]+' "$tmp/checks.out" | grep -Eo '[0-9]+' | tail -n 1); passed=${passed:-0}
failed=$(grep -E '^ℹ (fail|cancelled) [0-9]+' "$tmp/checks.out" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
if [ "$node_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a crash or the timeout
if [ "$failed" -ne 0 ]; then
  for f in "$tmp"/warroom-*.log "$tmp/nginx-error.log"; do echo "--- $f"; tail -n 20 "$f"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
