#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and
# runs each for a bounded time. Any crash, leak or sanitizer report fails.
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
build=$top/build-fuzz
CC=clang CXX=clang++ cmake -S "$top" -B "$build" -DLTRACK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
status=0
for t in "$build"/tests/fuzz/*_fuzz; do
  name=$(basename "$t")
  corpus=$build/corpus/$name
  mkdir -p "$corpus"
  seeds=$top/tests/fuzz/seeds/${name%_fuzz}
  echo "== $name for ${secs}s"
  if ! "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "$corpus" $( [ -d "$seeds" ] && echo "$seeds" ) 2>"$build/$name.log"; then
    tail -n 60 "$build/$name.log"
    echo "FAIL: $name"
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done' "$build/$name.log" | tail -n 2 || true
    echo "ok: $name"
  fi
done
exit $status
