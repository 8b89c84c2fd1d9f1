#!/usr/bin/env bash
# `make bench`: installs the peers from Debian's packages, builds release binaries, starts a
# throwaway PostgreSQL for the pg_trgm peer, and runs bench/bench.py (one table, also saved
# as target/bench/results.md). Pass section names to run only some:
#   thumbnails poster preview processing upload archive search relevance compliance api
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/microcat-target}"
scripts/install-deps.sh libvips-tools imagemagick ffmpeg wrk sqlite3 postgresql curl python3
cargo build --release --locked --bins --examples
source scripts/postgres.sh
trap stop_postgres EXIT
start_postgres
BENCH_POSTGRES_URL="$PG_URL" python3 bench/bench.py "$@"
