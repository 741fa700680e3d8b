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

# The benchmark suite (docs/performance.md), then the dashboard's figures in Chromium at 1,000
# and 5,000 cards, its first visits, keyboard moves, others' moves and reloads
# (docs/performance.md, "Dashboard at 1,000 cards"), moves to the top of a long column on the
# server alone (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), then the hostile-load
# suite in full (60-s floods, the issue's counts; docs/security.md), all against the release
# build bench.sh made (the dashboard built first, as it is embedded); and the benchmark's
# seconds-long smoke run.
bench: web
	bash scripts/bench.sh
	cd web && WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/board-1000.mjs 5
	cd web && CARDS=5000 WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/board-1000.mjs 3
	cd web && WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/first-load.mjs 12
	cd web && WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/key-moves.mjs 2
	cd web && WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/remote-moves.mjs 2
	cd web && WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/moves-to-top.mjs 2
	@[ -z "$$TEST_DATABASE_URL" ] || (cd web && DATABASE_URL=$$TEST_DATABASE_URL WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/moves-to-top.mjs 2)
	cd web && WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/reloads.mjs 2
	cd web && WARROOM_BIN=$(CURDIR)/target/release/warroom node bench/idle.mjs 3
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
