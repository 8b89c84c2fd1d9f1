#!/usr/bin/env bash
# The gate: fmt, clippy, docs, unit tests, then the API suite, the hostile corpus and the browser suite
# once on SQLite and once on a throwaway PostgreSQL 15 cluster (initdb in a temp folder, loopback only, removed on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/garage.sh
run_started=$(mktemp)
finish() {
  stop_postgres
  stop_garage
  # A CI run is a fresh clone whose own outputs no later run reuses; a developer's are kept.
  [ "${CI:-}" = true ] && scripts/prune-target.sh "$run_started" "${CARGO_TARGET_DIR:-$HOME/.cache/microcat-target}" \
    "${FUZZ_TARGET_DIR:-$HOME/.cache/microcat-fuzz-target}" || true
  rm -f "$run_started"
}
trap finish EXIT

step() { echo; echo "==> $*"; }

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

step "cargo doc (no warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet

step "build tests"
cargo test --locked --no-run

step "Garage (S3) on loopback for the storage tests"
start_garage
export MICROCAT_TEST_S3_ENDPOINT=$GARAGE_S3_ENDPOINT MICROCAT_TEST_S3_BUCKET=$GARAGE_BUCKET
export AWS_ACCESS_KEY_ID=$GARAGE_KEY_ID AWS_SECRET_ACCESS_KEY=$GARAGE_SECRET

step "unit tests, API suite, hostile corpus and browser suite on SQLite"
MICROCAT_TEST_DATABASE=sqlite cargo test --locked

step "API suite, hostile corpus and browser suite on PostgreSQL"
start_postgres
MICROCAT_TEST_DATABASE=postgres MICROCAT_TEST_POSTGRES_URL="$PG_URL" cargo test --locked --test api --test hostile --test browser

step "fuzz targets, briefly"
FUZZ_SECONDS=${FUZZ_SECONDS:-5} scripts/fuzz.sh

echo
echo "all checks passed on sqlite and postgres"
