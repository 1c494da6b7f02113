#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# Runs //bench:compare --quick with glibc and elfmalloc, as `bazel run` would
# in a stand-in workspace (a git checkout with a committed report), and
# checks that the quick run leaves the workspace's info/ untouched, writes
# the report, the CSV and a table row per workload to the scratch directory
# it names, and names the commit measured but no date; that long_churn's
# section and samples are there; that the programs table has the sqlite3
# and python3 rows, each with one output digest for both allocators, and the
# launcher's floor close to /usr/bin/time's; and that the output-agreement
# check names the row and allocator of a differing output. --out is
# honoured.
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
  --threads 1 --allocators glibc,elfmalloc --programs sqlite3,python3 \
  --no-plots > "$tmp/stdout.txt"
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

# long_churn: its table, a RESULT row per allocator and its RSS samples.
grep -q "^## Long churn" "$report" || fail "no long-churn section"
for a in glibc elfmalloc; do
  grep -q "^| $a | .* MiB (.*%) |\$" "$report" || fail "no long-churn row for $a"
  grep -q "^long_churn,8,0,$a," "$csv" || fail "no long_churn CSV row for $a"
  [ "$(grep -c "^$a,0," "$out/info/perf/long_churn.csv")" -ge 5 ] ||
    fail "fewer than 5 long_churn samples for $a"
done
echo "ok: long_churn's table, rows and RSS samples"

# Programs: the rows, one digest per row for both allocators, the launcher.
pcsv="$out/info/perf/programs.csv"
[ -s "$pcsv" ] || fail "no programs CSV"
grep -q "^## Programs" "$report" || fail "no programs section"
for p in sqlite3 python3-compileall python3-objects python3-objects-malloc; do
  grep -q "^| $p | .* | \`[0-9a-f]\{12\}\` |\$" "$report" ||
    fail "no programs row for $p: $(grep "^| $p " "$report")"
  [ "$(grep -c "^$p,0," "$pcsv")" -eq 2 ] || fail "programs CSV rows for $p"
  [ "$(grep "^$p,0," "$pcsv" | cut -d, -f6 | sort -u | wc -l)" -eq 1 ] ||
    fail "$p wrote different outputs: $(grep "^$p," "$pcsv")"
done
floor=$(sed -n 's/^.*Launcher floor: `\/bin\/true` peaks at \([0-9]*\) KiB through `bench\/measure` and at \([0-9]*\) KiB under `\/usr\/bin\/time`\.$/\1 \2/p' "$report")
[ -n "$floor" ] || fail "no launcher floor: $(grep 'Launcher floor' "$report")"
read -r ours theirs <<<"$floor"
[ $((ours - theirs)) -le 512 ] && [ $((theirs - ours)) -le 512 ] ||
  fail "/bin/true peaks at $ours KiB through bench/measure, $theirs KiB under /usr/bin/time"
echo "ok: programs rows agree under both allocators; launcher floor $ours KiB (time: $theirs KiB)"

# The agreement check itself, on a row whose output differs.
msg=$(PYTHONPATH="$(dirname "$compare")" /usr/bin/python3 -c '
import program_runs
try:
  program_runs.check_agreement("sqlite3", [("glibc", 0, "aa"), ("elfmalloc", 0, "aa"), ("mimalloc", 1, "bb")])
except SystemExit as e:
  print(e)
else:
  print("no error")
') || fail "cannot run the agreement check"
echo "$msg" | grep -q "program sqlite3 under mimalloc (repetition 2) wrote different output than under glibc" ||
  fail "the agreement check says: $msg"
echo "ok: a differing output is an error naming the row and the allocator"

BUILD_WORKSPACE_DIRECTORY="$ws" "$compare" --quick --threads 1 \
  --allocators glibc --workloads churn_small --no-programs --no-plots \
  --out "$tmp/out" > "$tmp/stdout2.txt"
grep -q "^| churn_small |" "$tmp/out/info/elfmalloc-performance.md" ||
  fail "--out $tmp/out was not honoured"
! grep -qE "^## (Programs|Long churn)" "$tmp/out/info/elfmalloc-performance.md" ||
  fail "--no-programs / --workloads churn_small still ran programs or long_churn"
diff -r "$tmp/info.before" "$ws/info" > /dev/null ||
  fail "a quick run with --out changed the workspace's info/"
echo "ok: --out is honoured"
