#!/usr/bin/env bash
# `make bench`: installs the peers from Debian's packages, builds release binaries, starts a
# throwaway PostgreSQL for the pg_trgm peer, and runs bench/bench.py (one table, also saved
# as target/bench/results.md). Pass section names to run only some:
#   thumbnails poster preview processing upload s3upload archive search relevance compliance api cluster
# Garage (built once, see scripts/garage.sh) serves the S3 rows.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/microcat-target}"
scripts/install-deps.sh libvips-tools imagemagick ffmpeg wrk sqlite3 postgresql curl python3 python3-boto3 nginx-light
cargo build --release --locked --bins --examples
source scripts/postgres.sh
source scripts/garage.sh
trap 'stop_garage; stop_postgres' EXIT
start_postgres
# Garage only for the sections that store in it (its first build takes about 15 minutes).
needs_garage() {
  [ $# -eq 0 ] && return 0
  for section in "$@"; do [[ $section == s3upload || $section == cluster ]] && return 0; done
  return 1
}
if needs_garage "$@"; then start_garage; fi
BENCH_POSTGRES_URL="$PG_URL" BENCH_S3_ENDPOINT="${GARAGE_S3_ENDPOINT:-}" BENCH_S3_BUCKET="$GARAGE_BUCKET" \
  AWS_ACCESS_KEY_ID="$GARAGE_KEY_ID" AWS_SECRET_ACCESS_KEY="$GARAGE_SECRET" python3 bench/bench.py "$@"
