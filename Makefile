# microcat — the two commands: `make run` (install, build, serve) and `make test` (install,
# start throwaway services, run the whole suite on SQLite and PostgreSQL, clean up).

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/microcat-target
BIN := $(CARGO_TARGET_DIR)/release/microcat

# Everything the build and the tests need, from Debian's registry only.
APT_PACKAGES := build-essential pkg-config clang libclang-dev libpq-dev \
	libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev \
	libavfilter-dev libavdevice-dev ffmpeg libturbojpeg0-dev libheif-dev libheif-examples \
	postgresql chromium chromium-driver fonts-noto-cjk python3 curl ca-certificates nginx-light

.PHONY: deps build run test soak fuzz bench check fmt

deps:
	@scripts/install-deps.sh $(APT_PACKAGES)
	@command -v npm >/dev/null || scripts/install-deps.sh nodejs npm
	@npm ci --ignore-scripts --no-audit --no-fund --silent

build: deps
	cargo build --release --locked

## Build and serve on http://127.0.0.1:8080 with SQLite under data/, media/ and index/.
run: build
	mkdir -p data media index
	$(BIN) serve

## The whole suite: format, lints, docs, unit tests, and the API suite on both databases.
test: deps
	scripts/test.sh

## Long reliability runs: crash loop ×100, 60 s of 100 clients, hostile corpus (both databases),
## three nodes on a Garage of three with a Garage node killed mid-run,
## and every fuzz target for a minute.
soak: deps
	scripts/soak.sh

## Every fuzz target for FUZZ_SECONDS (default 300) each.
fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} scripts/fuzz.sh

## Benchmarks side by side with vips, ImageMagick, ffmpeg, cp, SQLite FTS5, pg_trgm and an
## actix hello world; prints one table and saves target/bench/results.md.
bench: deps
	scripts/bench.sh

check:
	cargo check --all-targets

fmt:
	cargo fmt
