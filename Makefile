# warroom: `make run` serves the dashboard on SQLite; `make test` runs every test.
.PHONY: run test build web web-deps check bench bench-smoke clean

CARGO ?= cargo

run: web
	$(CARGO) run --release -- serve

test:
	bash scripts/test-all.sh

build: web
	$(CARGO) build --release

web: web-deps
	npm --prefix web run build

web-deps:
	@[ -d web/node_modules ] || npm --prefix web ci --no-audit --no-fund

# The benchmark suite (docs/performance.md), then the hostile-load suite in full (60-s floods,
# the issue's counts; docs/security.md) against the release build bench.sh made; and the
# benchmark's seconds-long smoke run.
bench:
	bash scripts/bench.sh
	@[ -d tests/hostile/node_modules ] || npm --prefix tests/hostile ci --no-audit --no-fund
	cd tests/hostile && WARROOM_BIN=$(CURDIR)/target/release/warroom node run.mjs --full

bench-smoke:
	bash scripts/bench.sh --smoke

# Formatting and lints, as CI checks them.
check:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules tests/protocol/node_modules
