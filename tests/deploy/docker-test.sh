#!/usr/bin/env bash
# The Dockerfile and docker-compose.yml, run for real on a Docker engine:
#
#   image      `docker build -t warroom .` (unless SKIP_BUILD=1); its size; it runs as uid 10001;
#   container  `docker run` with a volume on /data: /api/health answers, the dashboard is served,
#              the HEALTHCHECK turns `healthy` (timed), the generated key is in `docker logs` and
#              `warroom key` prints it, `docker stop` ends it with exit code 0 (warroom handles
#              SIGTERM as PID 1), a task survives `docker restart` and a new container on the volume;
#   compose    (with --compose) docker-compose.yml with a throw-away env file and project name:
#              `config`, `up -d`, every service healthy, then compose-check.mjs: a change on one
#              instance reaches sockets held by the other, directly and through nginx; PostgreSQL
#              stopped turns the instances unhealthy, started again healthy; `down -v`.
#
# Needs a Docker engine and the images the Dockerfile and docker-compose.yml name, pulled, or made
# locally by tests/deploy/docker-local-bases.sh [--services] where Docker Hub is out of reach; for
# --compose also docker-compose (v1, Debian's package) or the `docker compose` plugin, and the
# protocol suite's socket.io-client (npm --prefix tests/protocol ci). Without an engine it says SKIP
# and exits 0. Containers publish on 127.0.0.1 ports chosen by Docker, so nothing fixed is taken.
#
#   bash tests/deploy/docker-test.sh              # the image and one container
#   bash tests/deploy/docker-test.sh --compose    # and the compose topology
#
# The image build takes minutes (a release build of warroom); the checks after it about a minute.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

skip() { echo "SKIP docker-test: $*"; exit 0; }
command -v docker >/dev/null || skip "no docker CLI"
docker info >/dev/null 2>&1 || skip "no Docker engine answering"
COMPOSE=
[ "${1:-}" = --compose ] && COMPOSE=1

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
finish() { echo "docker-test: $PASS passed, $FAIL failed${1:+ ($1)}"; [ "$FAIL" = 0 ]; exit; }

TAG=${WARROOM_IMAGE:-warroom:latest}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  t0=$(now)
  if nice -n 10 docker build -t "$TAG" . >/tmp/warroom-docker-build.log 2>&1; then
    ok "docker build -t $TAG . ($(since "$t0") s)"
  else
    tail -30 /tmp/warroom-docker-build.log; not_ok "docker build"; finish "no image"
  fi
fi
docker image inspect "$TAG" >/dev/null 2>&1 || { not_ok "image $TAG exists"; finish "no image"; }
size=$(docker image inspect -f '{{.Size}}' "$TAG")
base=$(docker image inspect -f '{{.Size}}' debian:bookworm-slim 2>/dev/null || echo 0)
echo "# image $TAG: $(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }'), of which debian:bookworm-slim $(awk -v s="$base" 'BEGIN { printf "%.1f MB", s / 1e6 }')"
docker history --format '#   {{.Size}}\t{{.CreatedBy}}' "$TAG" | cut -c1-110 | head -12
check "the image runs as uid 10001 (warroom)" \
  [ "$(docker run --rm --entrypoint id "$TAG" -u)/$(docker image inspect -f '{{.Config.User}}' "$TAG")" = "10001/warroom:warroom" ]

# --- one container -----------------------------------------------------------------------------------
NAME=warroom-test-$$ VOL=warroom-test-$$
cleanup() {
  docker rm -f "$NAME" >/dev/null 2>&1
  docker volume rm "$VOL" >/dev/null 2>&1
  [ -n "${PROJECT:-}" ] && compose down -v --remove-orphans >/dev/null 2>&1
  [ -n "${ENVFILE:-}" ] && rm -f "$ENVFILE"
}
trap cleanup EXIT

url() { echo "http://127.0.0.1:$(docker port "$NAME" 8080/tcp | head -1 | sed 's/.*://')"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@"; }
wait_code() {  # wait_code SECONDS URL: 0 once URL answers 200
  local end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do [ "$(code "$2")" = 200 ] && return 0; sleep 0.1; done
  return 1
}
health() { docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null; }
wait_healthy() {  # wait_healthy SECONDS CONTAINER
  local end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do [ "$(health "$2")" = healthy ] && return 0; sleep 0.2; done
  return 1
}

t0=$(now)
docker run -d --name "$NAME" -p 127.0.0.1::8080 -v "$VOL:/data" "$TAG" >/dev/null
U=$(url)
if wait_code 30 "$U/api/health"; then ok "docker run: /api/health answers 200 after $(since "$t0") s"
else not_ok "docker run: /api/health answers"; docker logs "$NAME" 2>&1 | tail -20; finish "not serving"; fi
if wait_healthy 60 "$NAME"; then ok "HEALTHCHECK: healthy $(since "$t0") s after docker run (interval 10 s)"
else not_ok "HEALTHCHECK: healthy within 60 s (it says $(health "$NAME"))"
  docker inspect -f '{{json .State.Health}}' "$NAME"; fi
page=$(curl -s --max-time 2 "$U/")
check "the dashboard is served and built in (/ has the app's script)" grep -q '<script' <<<"$page"
check "warroom (PID 1) runs as uid 10001" [ "$(docker exec "$NAME" stat -c %u /proc/1)" = 10001 ]
check "DATABASE_PATH is in the volume (/data/tasks.db, uid 10001)" \
  [ "$(docker exec "$NAME" stat -c '%u' /data/tasks.db 2>/dev/null)" = 10001 ]
KEY=$(docker logs "$NAME" 2>/dev/null | sed -n 's/^  \([0-9a-f]\{64\}\)$/\1/p' | head -1)
check "the generated key is in docker logs" [ -n "$KEY" ]
check "docker exec … warroom key prints it again" [ "$(docker exec "$NAME" warroom key 2>/dev/null | tail -1)" = "$KEY" ]
check "POST /api/tasks with the key: 201" [ "$(code -X POST "$U/api/tasks" -H "X-API-Key: $KEY" \
  -H 'Content-Type: application/json' -d '{"title":"kept in the volume"}')" = 201 ]

t0=$(now)
docker stop "$NAME" >/dev/null
echo "# docker stop: $(since "$t0") s"
check "docker stop: warroom exits by itself with code 0 on SIGTERM (as PID 1)" \
  [ "$(docker inspect -f '{{.State.ExitCode}}' "$NAME")" = 0 ]
docker start "$NAME" >/dev/null
U=$(url)
wait_code 30 "$U/api/health"
check "after docker stop/start the task is still there" \
  grep -q 'kept in the volume' <<<"$(curl -s --max-time 2 "$U/api/tasks" -H "X-API-Key: $KEY")"
docker rm -f "$NAME" >/dev/null
docker run -d --name "$NAME" -p 127.0.0.1::8080 -v "$VOL:/data" "$TAG" >/dev/null
U=$(url)
wait_code 30 "$U/api/health"
check "a new container on the same volume has the task and the same key" \
  grep -q 'kept in the volume' <<<"$(curl -s --max-time 2 "$U/api/tasks" -H "X-API-Key: $KEY")"
docker rm -f "$NAME" >/dev/null; docker volume rm "$VOL" >/dev/null

[ -n "$COMPOSE" ] || finish

# --- compose -------------------------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then DC=(docker compose)
elif command -v docker-compose >/dev/null; then DC=(docker-compose)
else not_ok "a compose: neither docker compose nor docker-compose"; finish; fi
PROJECT=warroomtest$$
ENVFILE=$(mktemp)
printf 'WAAAH_API_KEY=%s\nPOSTGRES_PASSWORD=%s\nWARROOM_PORT=127.0.0.1:0\n' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$ENVFILE"
KEY=$(sed -n 's/^WAAAH_API_KEY=//p' "$ENVFILE")
compose() { "${DC[@]}" -p "$PROJECT" --env-file "$ENVFILE" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" "$@"; }
echo "# compose: $("${DC[@]}" version 2>/dev/null | head -1)"
check "compose config is valid" compose config -q
t0=$(now)
if compose up -d >/tmp/warroom-compose-up.log 2>&1; then ok "compose up -d ($(since "$t0") s, nginx waits for both instances healthy)"
else not_ok "compose up -d"; tail -20 /tmp/warroom-compose-up.log; finish; fi
cid() { compose ps -q "$1"; }
for s in postgres redis warroom-a warroom-b; do
  check "$s is healthy" wait_healthy 90 "$(cid "$s")"
done
check "proxy is running" [ "$(docker inspect -f '{{.State.Running}}' "$(cid proxy)")" = true ]
ip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(cid "$1")"; }
A_URL="http://$(ip warroom-a):8080" B_URL="http://$(ip warroom-b):8080"
PROXY_URL="http://127.0.0.1:$(docker port "$(cid proxy)" 8080/tcp | head -1 | sed 's/.*://')"
check "only the proxy publishes a port" \
  [ -z "$(for s in postgres redis warroom-a warroom-b; do docker port "$(cid "$s")"; done)" ]
check "/api/health through nginx" wait_code 10 "$PROXY_URL/api/health"
if [ -d tests/protocol/node_modules/socket.io-client ]; then
  if PROXY_URL=$PROXY_URL A_URL=$A_URL B_URL=$B_URL KEY=$KEY PROTOCOL_DIR=$ROOT/tests/protocol \
     node --test --test-reporter=tap tests/deploy/compose-check.mjs >/tmp/warroom-compose-check.log 2>&1; then
    ok "compose-check.mjs: $(grep -c '^ok ' /tmp/warroom-compose-check.log) checks across the instances"
  else not_ok "compose-check.mjs"; cat /tmp/warroom-compose-check.log; fi
  grep -E '^# warroom-[ab] health:' /tmp/warroom-compose-check.log
else not_ok "compose-check.mjs needs npm --prefix tests/protocol ci"; fi
check "the instances log JSON lines (LOG_JSON)" sh -c "docker logs $(cid warroom-a) 2>&1 | grep -q '^{'"
# The HEALTHCHECK follows the store: PostgreSQL stopped, /api/health answers 503 and the instances
# turn unhealthy after 3 failed checks; PostgreSQL back, healthy again.
unhealthy() { local end=$(($(date +%s) + $1)); while [ "$(date +%s)" -lt "$end" ]; do
  [ "$(health "$2")" = unhealthy ] && return 0; sleep 0.5; done; return 1; }
t0=$(now)
compose stop postgres >/dev/null 2>&1
if unhealthy 90 "$(cid warroom-a)"; then ok "postgres stopped: warroom-a unhealthy after $(since "$t0") s"
else not_ok "postgres stopped: warroom-a unhealthy within 90 s (it says $(health "$(cid warroom-a)"))"; fi
check "  … and /api/health answers 503" [ "$(code "$A_URL/api/health")" = 503 ]
t0=$(now)
compose start postgres >/dev/null 2>&1
if wait_healthy 90 "$(cid warroom-a)" && wait_healthy 30 "$(cid warroom-b)"; then
  ok "postgres started again: both instances healthy after $(since "$t0") s"
else not_ok "postgres started again: both instances healthy within 90 s"; fi
t0=$(now)
compose down -v >/dev/null 2>&1
echo "# compose down -v: $(since "$t0") s"
PROJECT=
finish
