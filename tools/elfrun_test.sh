#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
#
# Tests tools/elfrun without Bazel: ELFRUN_LIB points it at the libraries
# built as this test's data. Checks the environment it sets (LD_PRELOAD,
# the ELFMALLOC_* flags), that programs run preloaded with unchanged output
# and exit status, --verbose and --stats output, --local, --depot,
# --secure, --help and usage errors.
#
# Usage: elfrun_test.sh ELFRUN LIBELFMALLOC_SO LIBELFMALLOC_L_SO
#                       LIBELFMALLOC_SECURE_SO LIBELFMALLOC_DEPOT_SO
set -euo pipefail

elfrun=$(realpath "$1")
lib=$(realpath "$2")
lib_local=$(realpath "$3")
lib_secure=$(realpath "$4")
lib_depot=$(realpath "$5")
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/elfrun.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
unset LD_PRELOAD ELFMALLOC_VERBOSE ELFMALLOC_SHOW_STATS ELFMALLOC_SECURE

fail() { echo "FAIL: $*"; exit 1; }

# 1. `elfrun env` shows LD_PRELOAD with the library, and nothing else added.
out=$(ELFRUN_LIB="$lib" "$elfrun" env)
grep -qx "LD_PRELOAD=$lib" <<<"$out" || fail "env does not show LD_PRELOAD=$lib: $(grep LD_PRELOAD)" <<<"$out"
! grep -q '^ELFMALLOC_' <<<"$out" || fail "ELFMALLOC_* set without flags"
echo "ok: elfrun env shows LD_PRELOAD=$lib"

# An existing LD_PRELOAD is kept, after elfmalloc.
out=$(LD_PRELOAD=/nonexistent/other.so ELFRUN_LIB="$lib" "$elfrun" env 2>/dev/null)
grep -qx "LD_PRELOAD=$lib:/nonexistent/other.so" <<<"$out" || fail "existing LD_PRELOAD not kept: $(grep LD_PRELOAD)" <<<"$out"
echo "ok: an existing LD_PRELOAD comes after elfmalloc"

# 2. The flags.
out=$(ELFRUN_LIB="$lib" "$elfrun" --stats --secure --verbose env 2>/dev/null)
for v in ELFMALLOC_SHOW_STATS=1 ELFMALLOC_SECURE=1 ELFMALLOC_VERBOSE=1; do
  grep -qx "$v" <<<"$out" || fail "$v not set by its flag"
done
echo "ok: --stats, --secure and --verbose set their variables"

# 3. Programs run preloaded: same output, library mapped, exit status kept.
seq 200000 | shuf --random-source=<(yes) > input.txt
sort -n input.txt > plain.txt
ELFRUN_LIB="$lib" "$elfrun" sort -n input.txt > preloaded.txt
cmp -s plain.txt preloaded.txt || fail "sort output differs under elfrun"
echo "ok: sort output matches ($(wc -l < plain.txt) lines)"

script='import sys; m = open("/proc/self/maps").read(); print(sorted(set(l.split()[-1].rsplit("/", 1)[-1] for l in m.splitlines() if "libelfmalloc" in l)))'
got=$(ELFRUN_LIB="$lib" "$elfrun" python3 -c "$script")
[ "$got" = "['libelfmalloc.so']" ] || fail "python3 maps show $got"
echo "ok: python3 runs with libelfmalloc.so mapped"

set +e
ELFRUN_LIB="$lib" "$elfrun" sh -c 'exit 7'
code=$?
set -e
[ "$code" -eq 7 ] || fail "exit status $code, want 7"
echo "ok: the command's exit status is elfrun's"

# elfmalloc itself says it is active (ELFMALLOC_VERBOSE is wired).
err=$(ELFRUN_LIB="$lib" "$elfrun" --verbose true 2>&1 >/dev/null)
grep -q '^elfmalloc: .*(elfmalloc, magazine front-end) active in process' <<<"$err" || fail "no start-up line: $err"
echo "ok: --verbose: $err"

# --stats: the statistics report is printed when the program exits.
err=$(ELFRUN_LIB="$lib" "$elfrun" --stats true 2>&1 >/dev/null)
grep -q 'elfmalloc statistics' <<<"$err" || fail "--stats printed no report: $err"
echo "ok: --stats prints the statistics report at exit"

# 4. --local picks libelfmalloc-l.so from an ELFRUN_LIB directory.
mkdir libs
ln -s "$lib" libs/libelfmalloc.so
ln -s "$lib_local" libs/libelfmalloc-l.so
ln -s "$lib_secure" libs/libelfmalloc-secure.so
ln -s "$lib_depot" libs/libelfmalloc-depot.so
err=$(ELFRUN_LIB="$work/libs" "$elfrun" --local --verbose true 2>&1 >/dev/null)
grep -q '(elfmalloc-l, local front-end) active' <<<"$err" || fail "--local did not preload the LocalCache library: $err"
err=$(ELFRUN_LIB="$work/libs" "$elfrun" --verbose true 2>&1 >/dev/null)
grep -q '(elfmalloc, magazine front-end) active' <<<"$err" || fail "default did not preload the MagazineCache library: $err"
echo "ok: --local selects libelfmalloc-l.so"
err=$(ELFRUN_LIB="$work/libs" "$elfrun" --depot --verbose true 2>&1 >/dev/null)
grep -q '(elfmalloc-depot, depot front-end) active' <<<"$err" || fail "--depot did not preload the DepotCache library: $err"
echo "ok: --depot selects libelfmalloc-depot.so"
# The hardened build names itself in the start-up line and the report.
err=$(ELFRUN_LIB="$work/libs" "$elfrun" --secure --verbose --stats true 2>&1 >/dev/null)
grep -q '(elfmalloc-secure, magazine front-end, hardened) active' <<<"$err" || fail "--secure: no hardened start-up line: $err"
grep -q '^elfmalloc statistics (elfmalloc-secure, magazine front-end, hardened)$' <<<"$err" || fail "--secure: the report does not name the build: $err"
! grep -q 'has no effect' <<<"$err" || fail "--secure: the hardened library says ELFMALLOC_SECURE has no effect"
echo "ok: --secure selects libelfmalloc-secure.so, which names itself"

# 5. --help, usage errors, a missing library.
help=$("$elfrun" --help)
grep -q '^usage: elfrun' <<<"$help" || fail "--help prints no usage"
for o in --local --depot --secure --verbose --stats --help ELFRUN_LIB; do
  grep -q -- "$o" <<<"$help" || fail "--help does not describe $o"
done
! grep -qi 'not wired' <<<"$help" || fail "--help calls a wired option unwired"
set +e
"$elfrun" >/dev/null 2>&1; c1=$?
"$elfrun" --bogus true >/dev/null 2>&1; c2=$?
ELFRUN_LIB=/nonexistent.so "$elfrun" true >/dev/null 2>&1; c3=$?
set -e
[ "$c1" -eq 2 ] || fail "no command: exit $c1, want 2"
[ "$c2" -eq 2 ] || fail "unknown option: exit $c2, want 2"
[ "$c3" -eq 1 ] || fail "missing library: exit $c3, want 1"
echo "ok: --help, usage errors (2) and a missing library (1)"
