#!/usr/bin/env bash
# Runs the public conformance kit (shared/conformance beside this checkout, or beside the local repository it was
# cloned from, as a clean clone in a temporary directory is) against a fresh warroom server started
# by this folder's harness (server.mjs: temp database, free port, random key), then stops the server.
# Exit code: the kit's. Usage: tests/protocol/run-kit.sh [kit test files...]   (WARROOM_BIN picks the binary)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
kit="${WARROOM_KIT:-$top/../shared/conformance}"
origin="$(git -C "$top" config --get remote.origin.url 2>/dev/null || true)"
if [ -z "${WARROOM_KIT:-}" ] && [ ! -x "$kit/run.sh" ] && [ -d "$origin" ]; then
  kit="$(cd "$origin" && pwd)/../shared/conformance"
fi
if [ ! -x "$kit/run.sh" ]; then
  echo "conformance kit not found at $kit (set WARROOM_KIT)" >&2
  exit 2
fi

out="$(mktemp)"
node "$here/server.mjs" >"$out" &
pid=$!
stop() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid"
  fi
  rm -f "$out"
}
trap stop EXIT

# The harness prints "WARROOM_URL=… WARROOM_KEY=…" once the server answers /api/health.
for _ in $(seq 1 300); do
  line="$(head -n 1 "$out")"
  [ -n "$line" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the server did not start" >&2
    exit 2
  fi
  sleep 0.05
done
if [ -z "${line:-}" ]; then
  echo "the server did not start within 15 s" >&2
  exit 2
fi
export "${line%% *}" "${line##* }"

"$kit/run.sh" "$@"
rc=$?
exit "$rc"
