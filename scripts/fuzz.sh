#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS each: a few seconds in
# `make test`, minutes in `make fuzz`. Corpora are kept under ~/.cache so runs build on each
# other without committing generated inputs. A crash fails the script and leaves the input in
# fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-5}
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$HOME/.cache/microcat-fuzz-target}
# cargo-fuzz passes instrumentation flags that stable rustc accepts only with this switch; the
# build machines carry just the stable toolchain.
export RUSTC_BOOTSTRAP=1
corpus_root=${FUZZ_CORPUS_DIR:-$HOME/.cache/microcat-fuzz-corpus}

cargo fuzz build --sanitizer none --release
for target in sniff search_query filename json_inputs multipart compliance; do
  mkdir -p "$corpus_root/$target"
  echo "==> fuzz $target for ${seconds}s"
  log="$CARGO_TARGET_DIR/fuzz-$target.log"
  status=0
  cargo fuzz run --sanitizer none --release "$target" "$corpus_root/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|ERROR|panicked|Test unit written" "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "fuzz target $target failed (exit $status); the input is in fuzz/artifacts/$target/" >&2
    exit "$status"
  fi
done
