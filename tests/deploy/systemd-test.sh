#!/usr/bin/env bash
# deploy/warroom.service under a real systemd: a Debian bookworm container booted with
# `systemd-nspawn -b` (systemd as its PID 1), set up as docs/deploy.md, "systemd", says (a system
# user, the binary in /usr/local/bin, the unit in /etc/systemd/system, `systemctl enable --now`),
# then checks:
#
#   - `systemd-analyze verify` says nothing about the unit; `systemd-analyze security` score;
#   - it starts, /api/health answers 200, the dashboard is served, the generated key is in the
#     journal, REST works with that key;
#   - it runs as `warroom` in /var/lib/warroom (mode 700, tasks.db there), with no capabilities,
#     no new privileges, a seccomp filter, / read-only and /var/lib/warroom writable in its
#     mount namespace, /home hidden, a /proc with only its own processes;
#   - killed with SIGKILL, systemd restarts it (Restart=on-failure, RestartSec=2) and it serves again;
#   - `systemctl stop` ends it gracefully: with a WebSocket open, warroom closes it and exits by
#     itself with status 0 on SIGTERM, well before TimeoutStopSec, and is not restarted;
#   - started again, the task created before is still there.
#
# Needs root, systemd-nspawn (apt: systemd-container), debootstrap and Debian's apt mirror (the
# container's rootfs is made once, about a minute, and cached in $WARROOM_SYSTEMD_DIR, default
# /var/tmp/warroom-systemd), and a warroom binary: WARROOM_BIN, else target/release/warroom, else
# target/debug/warroom. Without them it says SKIP and exits 0. The container has its own network
# (--private-network), so port 8080 is never taken on the host; the checks run inside it (nsenter),
# where PIDs are the container's.
#
#   bash tests/deploy/systemd-test.sh          # about 30 s once the rootfs is cached
#
# Not part of `make test`: it needs root and nspawn, which CI machines may not have.
set -uo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "SKIP systemd-test: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (apt-get install systemd-container)"
command -v nsenter >/dev/null || skip "no nsenter (util-linux)"
command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
BIN=${WARROOM_BIN:-}
for b in target/release/warroom target/debug/warroom; do [ -n "$BIN" ] || { [ -x "$b" ] && BIN=$b; }; done
[ -n "$BIN" ] && [ -x "$BIN" ] || skip "no warroom binary (cargo build, or WARROOM_BIN=…)"

DIR=${WARROOM_SYSTEMD_DIR:-/var/tmp/warroom-systemd}
CACHE=$DIR/rootfs
mkdir -p "$DIR"
if [ ! -e "$CACHE/.complete" ]; then
  command -v debootstrap >/dev/null || skip "no debootstrap to make the container (apt-get install debootstrap)"
  echo "systemd-test: debootstrap bookworm with systemd into $CACHE (once, about a minute)"
  rm -rf "$CACHE"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,curl,procps \
    bookworm "$CACHE" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >"$DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$DIR/debootstrap.log"; echo "systemd-test: debootstrap failed"; exit 1; }
  touch "$CACHE/.complete"
fi

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# --- the unit, offline ---------------------------------------------------------------------------
# verify needs the ExecStart binary and the usual targets under --root: a small tree with them.
VROOT=$(mktemp -d /tmp/warroom-verify.XXXXXX)
mkdir -p "$VROOT/etc/systemd/system" "$VROOT/usr/local/bin" "$VROOT/usr/lib/systemd"
cp deploy/warroom.service "$VROOT/etc/systemd/system/"
install -m 755 "$BIN" "$VROOT/usr/local/bin/warroom"
for d in /usr/lib/systemd/system /lib/systemd/system; do
  [ -d "$d/multi-user.target.wants" ] && { cp -a "$d" "$VROOT/usr/lib/systemd/"; break; }
done
verify_out=$(systemd-analyze verify --root="$VROOT" /etc/systemd/system/warroom.service 2>&1)
verify_rc=$?
[ -z "$verify_out" ] || echo "$verify_out" | sed 's/^/  verify: /'
check "systemd-analyze verify: no error, no warning" [ "$verify_rc" = 0 -a -z "$verify_out" ]
score=$(systemd-analyze security --offline=true --root="$VROOT" /etc/systemd/system/warroom.service 2>/dev/null |
  sed -n 's/.*Overall exposure level for warroom.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
echo "# systemd-analyze security (offline): exposure ${score:-unknown} (0 = most locked down, 10 = least)"
rm -rf "$VROOT"

# --- the container ---------------------------------------------------------------------------------
RUN=$(mktemp -d "$DIR/run.XXXXXX")
cp -a "$CACHE/." "$RUN/"
echo warroom-systemd-test >"$RUN/etc/hostname"
# The steps of docs/deploy.md, "systemd" (the unit's header), as root in the container's rootfs.
chroot "$RUN" useradd --system --home-dir /var/lib/warroom --shell /usr/sbin/nologin warroom
install -m 755 "$BIN" "$RUN/usr/local/bin/warroom"
install -m 644 deploy/warroom.service "$RUN/etc/systemd/system/warroom.service"
mkdir -p "$RUN/home/alice" && echo secret >"$RUN/home/alice/notes"   # ProtectHome must hide it

NSPAWN_LOG=$DIR/nspawn.log
systemd-nspawn -b -D "$RUN" --register=no --keep-unit --private-network --console=passive \
  >"$NSPAWN_LOG" 2>&1 &
NSPAWN=$!
cleanup() {
  if kill -0 "$NSPAWN" 2>/dev/null; then
    [ -n "${LEADER:-}" ] && nsenter -t "$LEADER" -a systemctl poweroff >/dev/null 2>&1
    for _ in $(seq 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
    kill "$NSPAWN" 2>/dev/null; sleep 1; kill -9 "$NSPAWN" 2>/dev/null
  fi
  wait "$NSPAWN" 2>/dev/null
  rm -rf "$RUN"
}
trap cleanup EXIT

LEADER=
for _ in $(seq 100); do
  LEADER=$(pgrep -P "$NSPAWN" | head -1)
  [ -n "$LEADER" ] && [ "$(cat /proc/"$LEADER"/comm 2>/dev/null)" = systemd ] && break
  LEADER=; sleep 0.1
done
[ -n "$LEADER" ] || { cat "$NSPAWN_LOG"; echo "systemd-test: the container did not boot"; exit 1; }
ct() { nsenter -t "$LEADER" -a "$@"; }
state=
for _ in $(seq 600); do   # systemctl answers once systemd has its private socket up
  state=$(ct systemctl is-system-running 2>/dev/null)
  case $state in running|degraded) break ;; esac
  sleep 0.1
done
echo "# container booted: systemd $(ct systemctl --version | awk 'NR==1 {print $2}'), state $state"
check "the container boots to running" [ "$state" = running ]

http() { ct curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" 2>/dev/null; }
wait_health() {  # wait_health SECONDS: 0 once /api/health answers 200
  local end=$(($(date +%s) + $1))
  while [ "$(date +%s)" -lt "$end" ]; do
    [ "$(http http://127.0.0.1:8080/api/health)" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}
prop() { ct systemctl show warroom -p "$1" --value; }

# --- start ---------------------------------------------------------------------------------------
t0=$(now)
ct systemctl enable --now warroom >/dev/null 2>&1
check "systemctl enable --now warroom" [ "$(prop ActiveState)" = active ]
if wait_health 20; then ok "/api/health answers 200, $(since "$t0") s after systemctl enable --now"
else not_ok "/api/health answers 200 within 20 s"; ct journalctl -u warroom --no-pager | tail -20; fi
check "the dashboard (/) is served" [ "$(http http://127.0.0.1:8080/)" = 200 ]
check "the enabled unit is wanted by multi-user.target" \
  [ -L "$RUN/etc/systemd/system/multi-user.target.wants/warroom.service" ]

PID=$(prop MainPID)
finish() { echo "systemd-test: $PASS passed, $FAIL failed${1:+ ($1)}"; [ "$FAIL" = 0 ]; exit; }
[ "${PID:-0}" != 0 ] || { not_ok "warroom has a main process"; finish "stopped early"; }
check "it runs as the user warroom" [ "$(ct ps -o user= -p "$PID" | tr -d ' ')" = warroom ]
check "its working directory is /var/lib/warroom" [ "$(ct readlink /proc/"$PID"/cwd)" = /var/lib/warroom ]
check "/var/lib/warroom is the warroom user's, mode 700" \
  [ "$(ct stat -c '%U %a' /var/lib/warroom)" = "warroom 700" ]
check "the board is /var/lib/warroom/tasks.db, the warroom user's, mode 600" \
  [ "$(ct stat -c '%U %a' /var/lib/warroom/tasks.db 2>/dev/null)" = "warroom 600" ]
STATUS=$(ct cat /proc/"$PID"/status)
check "no capabilities" grep -q '^CapEff:[[:space:]]*0000000000000000$' <<<"$STATUS"
check "no new privileges" grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$STATUS"
check "a seccomp filter" grep -q '^Seccomp:[[:space:]]*2$' <<<"$STATUS"
mnt() { ct nsenter -t "$PID" -m findmnt -n -o OPTIONS --target "$1" | cut -d, -f1; }
check "/ and /usr are read-only for it, /var/lib/warroom writable" \
  [ "$(mnt /)/$(mnt /usr)/$(mnt /var/lib/warroom)" = "ro/ro/rw" ]
check "its /proc shows only its own processes, no kernel files (ProtectProc, ProcSubset)" \
  sh -c "nsenter -t $LEADER -a nsenter -t $PID -m findmnt -n -o OPTIONS /proc | grep -q 'subset=pid' &&
         nsenter -t $LEADER -a nsenter -t $PID -m findmnt -n -o OPTIONS /proc | grep -q 'hidepid=invisible'"
check "/home is hidden from it" [ -z "$(ct nsenter -t "$PID" -m ls -A /home 2>/dev/null)" ]
echo "# open files: $(ct grep 'Max open files' /proc/"$PID"/limits | awk '{print $4 " soft, " $5 " hard"}') (LimitNOFILE=65536)"

KEY=$(ct journalctl -u warroom --no-pager -o cat | sed -n 's/^  \([0-9a-f]\{64\}\)$/\1/p' | head -1)
check "the generated key is printed in the journal" [ -n "$KEY" ]
KEY2=$(ct runuser -u warroom -- warroom key --db /var/lib/warroom/tasks.db 2>/dev/null | tail -1 | tr -d ' ')
check "runuser -u warroom -- warroom key --db … prints the same key" [ -n "$KEY" -a "$KEY2" = "$KEY" ]
code=$(http -X POST http://127.0.0.1:8080/api/tasks -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
  -d '{"title":"survives restarts"}')
check "POST /api/tasks with the key: 201" [ "$code" = 201 ]

# --- crash ---------------------------------------------------------------------------------------
t0=$(now)
ct kill -KILL "$PID"
restarted=
for _ in $(seq 200); do
  NEW=$(prop MainPID) || break
  [ "$NEW" != 0 ] && [ "$NEW" != "$PID" ] && { restarted=1; break; }
  sleep 0.05
done
if [ -n "$restarted" ] && wait_health 20; then
  ok "killed with SIGKILL: restarted by systemd, serving again $(since "$t0") s later (RestartSec=2)"
else not_ok "killed with SIGKILL: restarted by systemd"; fi
check "NRestarts=1" [ "$(prop NRestarts)" = 1 ]

# --- graceful stop ---------------------------------------------------------------------------------
# A WebSocket held open (an Engine.IO connection, as the dashboard's): the stop must close it.
ct sh -c 'curl -s -N --max-time 60 -H "Connection: Upgrade" -H "Upgrade: websocket" \
  -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" \
  "http://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket" >/tmp/ws.out 2>&1 &
  echo $! >/tmp/ws.pid'
for _ in $(seq 100); do ct grep -q sid /tmp/ws.out 2>/dev/null && break; sleep 0.05; done
check "a WebSocket is open before the stop" \
  sh -c "nsenter -t $LEADER -a grep -q sid /tmp/ws.out && nsenter -t $LEADER -a kill -0 \$(nsenter -t $LEADER -a cat /tmp/ws.pid)"
t0=$(now)
ct systemctl stop warroom
took=$(since "$t0")
check "the stop closed the WebSocket" sh -c "! nsenter -t $LEADER -a kill -0 \$(nsenter -t $LEADER -a cat /tmp/ws.pid) 2>/dev/null"
code=$(prop ExecMainCode) status=$(prop ExecMainStatus) result=$(prop Result)
echo "# systemctl stop: ${took} s, Result=$result ExecMainCode=$code ExecMainStatus=$status"
check "systemctl stop: warroom exits by itself with status 0 (code 1 = exited, not killed)" \
  [ "$result" = success -a "$code" = 1 -a "$status" = 0 ]
check "systemctl stop takes less than TimeoutStopSec (15 s)" awk -v t="$took" 'BEGIN { exit !(t < 15) }'
check "the shutdown is logged" sh -c "nsenter -t $LEADER -a journalctl -u warroom --no-pager -o cat | grep -q 'shutting down'"
sleep 3
check "a stopped unit is not restarted" [ "$(prop ActiveState)" = inactive ]

# --- start again -------------------------------------------------------------------------------------
ct systemctl start warroom
if wait_health 20; then
  tasks=$(ct curl -s --max-time 2 http://127.0.0.1:8080/api/tasks -H "X-API-Key: $KEY")
  check "started again: the task created before is still there" grep -q 'survives restarts' <<<"$tasks"
else not_ok "started again: /api/health answers"; fi
score_online=$(ct systemd-analyze security warroom 2>/dev/null |
  sed -n 's/.*Overall exposure level for warroom.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
echo "# systemd-analyze security (in the container, on the running unit): ${score_online:-unknown}"

finish
