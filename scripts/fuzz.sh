#!/usr/bin/env bash
# Fuzzes every command payload and REST body for a bounded time (CI: 60 s): the property test in
# tests/fuzz_inputs.rs, run in batches of PROPTEST_CASES cases with fresh seeds until FUZZ_SECONDS
# have passed. A failure is shrunk, saved in tests/proptest-regressions/fuzz_inputs.txt (commit
# it: every later run replays it first) and fails this script.
#
#   scripts/fuzz.sh                 # 60 s
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#   FUZZ_DEBUG=1 scripts/fuzz.sh    # also print every refusal's message
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
export PROPTEST_CASES="${PROPTEST_CASES:-256}"
# Build first, so the time bound is spent fuzzing, not compiling.
cargo test --locked --test fuzz_inputs --no-run
exec cargo test --locked --test fuzz_inputs -- --nocapture
