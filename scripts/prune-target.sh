#!/usr/bin/env bash
# Removes this project's own build outputs that the run which just finished did not touch.
# Every fresh clone sits at a new path, so cargo hashes our crates differently and leaves one
# full set of test, example and fuzz binaries per clone in the shared cache (~2 GB each run);
# dependencies keep their hashes and stay cached. Usage: prune-target.sh STAMP DIR…
# (STAMP: a file created before the run started).
set -euo pipefail
stamp=$1; shift
own='libmicrocat-*|microcat-*|api-*|browser-*|search_query-*|json_inputs-*|multipart-*|sniff-*|filename-*|compliance-*|*_bench-*|hello_actix-*'
for dir in "$@"; do
  [ -d "$dir" ] || continue
  while IFS= read -r -d '' f; do
    case "${f##*/}" in
      $own) rm -rf -- "$f" ;;
    esac
  done < <(find "$dir" -mindepth 3 -maxdepth 4 \( -path '*/deps/*' -o -path '*/examples/*' -o -path '*/.fingerprint/*' \) ! -newer "$stamp" -print0)
  rm -rf "$dir"/debug/incremental "$dir"/*/release/incremental
done
