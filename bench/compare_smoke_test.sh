#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# Runs //bench:compare --quick with glibc and elfmalloc, as `bazel run` would
# in a stand-in workspace (a git checkout with a committed report), and
# checks that the quick run leaves the workspace's info/ untouched, writes
# the report, the CSV and a table row per workload to the scratch directory
# it names, and names the commit measured but no date. --out is honoured.
set -euo pipefail
compare=$1
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/compare.XXXXXX")
fail() { echo "FAIL: $*"; exit 1; }

ws="$tmp/workspace"
mkdir -p "$ws/info/perf"
echo "committed report" > "$ws/info/elfmalloc-performance.md"
echo "committed csv" > "$ws/info/perf/results.csv"
git -C "$ws" init -q
git -C "$ws" add info
git -C "$ws" -c user.name=t -c user.email=t@example.com commit -qm report
head=$(git -C "$ws" rev-parse --short HEAD)
cp -r "$ws/info" "$tmp/info.before"

mkdir "$tmp/scratch"
BUILD_WORKSPACE_DIRECTORY="$ws" TMPDIR="$tmp/scratch" "$compare" --quick \
  --threads 1 --allocators glibc,elfmalloc --no-plots > "$tmp/stdout.txt"
diff -r "$tmp/info.before" "$ws/info" > /dev/null ||
  fail "a quick run changed the workspace's info/"
out=$(sed -n 's/^--quick: writing to \(.*\) (only a full run .*$/\1/p' "$tmp/stdout.txt")
[ -n "$out" ] || { cat "$tmp/stdout.txt"; fail "the quick run names no directory"; }
case "$out" in
  "$tmp/scratch"/*) ;;
  *) fail "the quick run wrote to $out, not to a fresh temporary directory" ;;
esac
report="$out/info/elfmalloc-performance.md"
csv="$out/info/perf/results.csv"
[ -s "$report" ] || { cat "$tmp/stdout.txt"; fail "no report in $out"; }
[ -s "$csv" ] || fail "no CSV in $out"
grep -q "wrote $report" "$tmp/stdout.txt" || fail "stdout does not name $report"
for w in threadtest_small threadtest_medium shbench larson prodcons xmalloc \
         cache_thrash cache_scratch churn_small realloc_growth large_blocks \
         containers; do
  grep -q "^| $w |" "$report" || fail "no row for $w"
  [ "$(grep -c "^$w,1,0," "$csv")" -eq 2 ] || fail "CSV rows for $w"
done
grep -q "Geometric means at 1 thread" "$report" || fail "no geomeans"
grep -q "^Produced by \`.*--quick.*\` at commit $head\.\$" "$report" ||
  fail "the report does not name commit $head: $(grep '^Produced' "$report")"
! grep -qE '[0-9]{4}-[0-9]{2}-[0-9]{2}|UTC' "$report" ||
  fail "the report carries a date: $(grep -E '[0-9]{4}-[0-9]{2}-[0-9]{2}|UTC' "$report")"
echo "ok: a quick run writes report, CSV and 12 workload rows to $out only"

BUILD_WORKSPACE_DIRECTORY="$ws" "$compare" --quick --threads 1 \
  --allocators glibc --workloads churn_small --no-plots --out "$tmp/out" \
  > "$tmp/stdout2.txt"
grep -q "^| churn_small |" "$tmp/out/info/elfmalloc-performance.md" ||
  fail "--out $tmp/out was not honoured"
diff -r "$tmp/info.before" "$ws/info" > /dev/null ||
  fail "a quick run with --out changed the workspace's info/"
echo "ok: --out is honoured"
