#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
#
# ELFMALLOC_SHOW_STATS=1 prints the statistics report at exit, even while
# other threads are still allocating, and the process exits normally.
# Usage: stats_at_exit_test.sh LIBELFMALLOC.so STATS_AT_EXIT_BINARY
set -euo pipefail
lib=$(realpath "$1")
prog=$(realpath "$2")
fail() { echo "FAIL: $*" >&2; exit 1; }

for i in 1 2 3 4 5; do
  set +e
  out=$(ELFMALLOC_SHOW_STATS=1 LD_PRELOAD="$lib" timeout 60 "$prog" 2>err.txt)
  code=$?
  set -e
  [ "$code" -eq 0 ] || { cat err.txt >&2; fail "run $i exited with $code"; }
  [ "$out" = "main done" ] || fail "stdout: $out"
  grep -q '^elfmalloc statistics (elfmalloc, magazine front-end)$' err.txt ||
    { cat err.txt >&2; fail "no report header"; }
  # The 176-byte class row: 5000 objects allocated by main, never freed.
  row=$(grep -E '^ +[0-9]+ +176 ' err.txt) || fail "no 176-byte row"
  read -r _ _ allocated freed live _ <<<"$row"
  [ "$allocated" -ge 5000 ] || fail "176-byte class allocated $allocated"
  [ "$live" -ge 5000 ] || fail "176-byte class live $live (freed $freed)"
  grep -qE '^resident: [0-9]+ KiB now, [0-9]+ KiB at peak$' err.txt ||
    fail "no resident line"
  grep -qE '^thread caches: [0-9]+$' err.txt || fail "no thread line"
done
echo "PASS: report printed at exit 5 times with threads running"
cat err.txt
