# The verbs a person needs. Every target installs what it needs first.
CARGO     ?= cargo
COMPONENT := target/wasm32-wasip2/release/order_core.wasm

.PHONY: setup build test demo bench lint fmt docs

setup:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

## build: the component (release, small), then the host that embeds it
build: setup
	$(CARGO) build -p order-core --target wasm32-wasip2 --release
	@echo "component: $(COMPONENT) ($$(wc -c < $(COMPONENT)) bytes)"
	$(CARGO) build -p order-host

## test: lint, domain unit tests, host tests, end-to-end tests through the
## component, then the same component embedded in Node.js through jco
test: build lint
	$(CARGO) test --workspace --all-targets
	cd tests/js && npm ci --no-audit --no-fund && npm test

## demo: the three journeys (place, track, return) against a SQLite file
demo: build
	$(CARGO) run -q -p order-host -- --store target/demo/orders.db demo --fresh

bench: build
	$(CARGO) bench -p order-host

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p order-core --target wasm32-wasip2 -- -D warnings

fmt:
	$(CARGO) fmt --all

## docs: regenerate the WIT reference and the API's JSON enums (tests fail
## when either is stale)
docs:
	$(CARGO) run -q -p order-e2e --bin wit-docs -- --out docs/wit-reference.md
	$(CARGO) run -q -p order-e2e --bin wit-docs -- --rust-enums --out host/src/http/dto/enums.rs
