#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# Runs //bench:compare --quick with glibc and elfmalloc and checks that the
# report, the CSV and a table row per workload are produced.
set -euo pipefail
compare=$1
out=$(mktemp -d "${TEST_TMPDIR:-/tmp}/compare.XXXXXX")
"$compare" --quick --threads 1 --allocators glibc,elfmalloc --out "$out" \
  --no-plots > "$out/stdout.txt"
report="$out/info/elfmalloc-performance.md"
csv="$out/info/perf/results.csv"
[ -s "$report" ] || { echo "FAIL: no report"; cat "$out/stdout.txt"; exit 1; }
[ -s "$csv" ] || { echo "FAIL: no CSV"; exit 1; }
for w in threadtest_small threadtest_medium shbench larson prodcons xmalloc \
         cache_thrash cache_scratch churn_small realloc_growth large_blocks \
         containers; do
  grep -q "^| $w |" "$report" || { echo "FAIL: no row for $w"; exit 1; }
  [ "$(grep -c "^$w,1,0," "$csv")" -eq 2 ] || { echo "FAIL: CSV rows for $w"; exit 1; }
done
grep -q "Geometric means at 1 thread" "$report" || { echo "FAIL: no geomeans"; exit 1; }
echo "ok: report, CSV and 12 workload rows"
