# The verbs a person needs. Every target installs what it needs first.
CARGO     ?= cargo
COMPONENT := target/wasm32-wasip2/release/order_core.wasm

.PHONY: setup build release test api-contract demo bench bench-calls bench-memory bench-serve-memory bench-multi-host lint fmt docs package sim console-screenshots

setup:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

## build: the component (release, small), then the host that embeds it
build: setup
	$(CARGO) build -p order-core --target wasm32-wasip2 --release
	@echo "component: $(COMPONENT) ($$(wc -c < $(COMPONENT)) bytes)"
	$(CARGO) build -p order-host

## release: the host users run, built for speed (profile dist: opt-level 3,
## thin LTO) with the component inside: target/dist/order-host. The same as
## `cargo install --locked --path host --profile dist` after the component is built.
## CI does not build it (a second profile would double the build).
release: setup
	$(CARGO) build -p order-core --target wasm32-wasip2 --release
	$(CARGO) build -p order-host --profile dist
	@echo "host: target/dist/order-host ($$(wc -c < target/dist/order-host) bytes)"

## test: lint, domain unit tests, host tests, end-to-end tests through the
## component (against a throwaway PostgreSQL server that scripts/pg-test.sh
## starts, or the one ORDER_TEST_POSTGRES names), then the same component
## embedded in Node.js through jco (with the conformance kit and the
## package), and as a Worker in workerd; then the API contract against a
## live server: /openapi.json validated and fuzzed (scripts/api-contract.py);
## the web console in Chromium (installed when missing) through playwright-core
test: build lint
	scripts/pg-test.sh $(CARGO) test --workspace --all-targets
	python3 scripts/api-contract.py
	tests/console/run.sh test
	cd tests/js && npm ci --no-audit --no-fund && npm test
	cd edge && npm ci --no-audit --no-fund && npm test

## console-screenshots: the pictures of the web console in docs/console/,
## taken in Chromium on seeded data (installs chromium when missing)
console-screenshots: build
	tests/console/run.sh screenshots

## api-contract: only the contract check of `make test` (a virtualenv with
## openapi-spec-validator and schemathesis under target/api-contract, a live
## server on 127.0.0.1, bounded in examples and time)
api-contract: build
	python3 scripts/api-contract.py

## package: the component for embedders, one versioned npm tarball (the
## transpiled module with TypeScript types, the .wasm, wit/, the conformance
## kit) in target/package/
package: build
	cd tests/js && npm ci --no-audit --no-fund && node scripts/package.js

## demo: the three journeys (place, track, return) against a SQLite file
demo: build
	$(CARGO) run -q -p order-host -- --store target/demo/orders.db demo --fresh

## bench: the figures of docs/performance.md with the host users run:
## the whole lifecycle on memory and SQLite, the native baseline, call
## latencies, storage per order, RSS (make bench BENCH_FLAGS='--orders 5000 --json')
BENCH_FLAGS ?=
bench: release
	target/dist/order-host bench $(BENCH_FLAGS)

## bench-calls: criterion's figures of single calls into the component
bench-calls: build
	$(CARGO) bench -p order-host

## bench-memory: resident memory of the simulated backends over 100,000
## orders' calls, then of `order-host load` over 20,000 orders (memory store)
bench-memory: build
	$(CARGO) run -q -p order-host --example sim_memory -- 100000
	$(CARGO) run -q -p order-host -- --store memory load --orders 20000 --concurrency 4 --cancel-every 5

## bench-serve-memory: resident memory of one `serve` (SQLite, --sim-state)
## over ORDERS orders placed through POST /orders (default 100,000)
ORDERS ?= 100000
bench-serve-memory: build
	python3 scripts/bench-serve-memory.py --orders $(ORDERS)

## bench-multi-host: 1, 2 and 3 hosts on one (throwaway) PostgreSQL, a table
## of throughput and latency (docs/performance.md)
bench-multi-host: build
	scripts/pg-test.sh python3 scripts/bench-multi-host.py

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p order-runtime --no-default-features --all-targets -- -D warnings
	$(CARGO) clippy -p order-core --target wasm32-wasip2 -- -D warnings

fmt:
	$(CARGO) fmt --all

## docs: regenerate the WIT reference, the API's JSON enums and shapes, the guest's
## shared enums with their conversions (tests fail when one is stale)
docs:
	$(CARGO) run -q -p order-e2e --bin wit-docs -- --out docs/wit-reference.md
	$(CARGO) run -q -p order-e2e --bin wit-docs -- --rust-enums --out crates/server/src/dto/enums.rs
	$(CARGO) run -q -p order-e2e --bin wit-docs -- --rust-records --out crates/server/src/dto/records.rs
	$(CARGO) run -q -p order-e2e --bin wit-docs -- --domain-enums --out guest/src/domain/cases.rs
	$(CARGO) run -q -p order-e2e --bin wit-docs -- --guest-conversions --out guest/src/bindings/cases.rs

## sim: the long run of the model-based simulation of the saga and the
## application layer, bounded in time (make sim SECONDS=300); prints seeds
## and operations per second, and the shrunk reproducer of a failing seed
SECONDS ?= 300
sim:
	SIM_SECONDS=$(SECONDS) SIM_FIRST_SEED=$${SIM_FIRST_SEED:-100000} $(CARGO) test -p order-core --release --test sim random_histories -- --nocapture
