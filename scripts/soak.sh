#!/usr/bin/env bash
# The long reliability runs: the crash loop with many more kills, the 100-client load for 60 s
# and the hostile corpus, on SQLite and on a throwaway PostgreSQL; three microcat nodes on a
# Garage of three with one Garage node killed mid-run; then every fuzz target for a minute.
# Numbers are printed by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/garage.sh
trap 'stop_garage; stop_postgres' EXIT

export MICROCAT_TEST_CRASH_KILLS=${MICROCAT_TEST_CRASH_KILLS:-100}
export MICROCAT_TEST_LOAD_SECS=${MICROCAT_TEST_LOAD_SECS:-60}
reliability=(crash:: load::)

echo "==> reliability suite on SQLite (kills: $MICROCAT_TEST_CRASH_KILLS, load: ${MICROCAT_TEST_LOAD_SECS}s)"
MICROCAT_TEST_DATABASE=sqlite cargo test --locked --test api -- --nocapture --test-threads=1 "${reliability[@]}"
MICROCAT_TEST_DATABASE=sqlite cargo test --locked --test hostile -- --nocapture --test-threads=1

start_postgres
echo "==> reliability suite on PostgreSQL"
MICROCAT_TEST_DATABASE=postgres MICROCAT_TEST_POSTGRES_URL="$PG_URL" \
  cargo test --locked --test api -- --nocapture --test-threads=1 "${reliability[@]}"
MICROCAT_TEST_DATABASE=postgres MICROCAT_TEST_POSTGRES_URL="$PG_URL" \
  cargo test --locked --test hostile -- --nocapture --test-threads=1

echo "==> three nodes behind nginx on a Garage of three (replication 3), one Garage node killed mid-run"
start_garage_cluster
MICROCAT_TEST_DATABASE=postgres MICROCAT_TEST_POSTGRES_URL="$PG_URL" \
  MICROCAT_TEST_S3_ENDPOINT="$GARAGE_S3_ENDPOINT" MICROCAT_TEST_S3_BUCKET="$GARAGE_BUCKET" \
  AWS_ACCESS_KEY_ID="$GARAGE_KEY_ID" AWS_SECRET_ACCESS_KEY="$GARAGE_SECRET" \
  MICROCAT_SOAK_SECS="${MICROCAT_SOAK_SECS:-120}" \
  cargo test --locked --test api -- --nocapture --test-threads=1 garage_soak::
stop_garage

FUZZ_SECONDS=${FUZZ_SECONDS:-60} scripts/fuzz.sh
