#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# demo_test.sh PRINT_DEMO ASSERT_DEMO: the demos print what they should.
# Each assert_demo case passes ("ok: <case>" on stdout, exit 0) or prints
# exactly its one line on stderr and aborts (SIGABRT, exit status 134).
set -uo pipefail
print_demo=${1:?usage: demo_test.sh PRINT_DEMO ASSERT_DEMO}
assert_demo=${2:?usage: demo_test.sh PRINT_DEMO ASSERT_DEMO}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$print_demo" >"$tmp/out" 2>"$tmp/err" || fail "print_demo exited $?"
[ "$(cat "$tmp/out")" = "alloc_fmt prints to stdout: 1 line" ] ||
  fail "print_demo stdout: $(cat "$tmp/out")"
[ "$(cat "$tmp/err")" = "alloc_fmt prints to stderr: 2 line" ] ||
  fail "print_demo stderr: $(cat "$tmp/err")"

dchecks=$("$assert_demo" --dchecks)
at='alloc_fmt/assert_demo\.cc:[0-9]+: '
# expect CASE PASSES|REGEX: REGEX is the whole of stderr.
expect() {
  local name=$1 want=$2 rc
  "$assert_demo" "$name" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$want" = PASSES ]; then
    [ "$rc" = 0 ] && [ "$(cat "$tmp/out")" = "ok: $name" ] && [ ! -s "$tmp/err" ] ||
      fail "$name: expected to pass; exit $rc, stdout '$(cat "$tmp/out")', stderr '$(cat "$tmp/err")'"
  else
    [ "$rc" = 134 ] || fail "$name: expected an abort (134), got exit $rc"
    [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qE "^$want\$" "$tmp/err" ||
      fail "$name: stderr '$(cat "$tmp/err")' is not the one line /$want/"
    [ ! -s "$tmp/out" ] || fail "$name: printed '$(cat "$tmp/out")' on stdout"
  fi
}
# A DCHECK case fails as its CHECK twin where DCHECKs are on, else passes.
dexpect() {
  if [ "$dchecks" = on ]; then expect "$1" "$2"; else expect "$1" PASSES; fi
}

expect check "${at}CHECK failed: 1 \+ 1 == 3"
expect check_fmt "${at}CHECK failed: 1 \+ 1 == 3: arithmetic is broken"
expect check_fmt_args "${at}CHECK failed: two == 3: two is 2, not three"
dexpect dcheck "${at}CHECK failed: 1 \+ 1 == 3"
dexpect dcheck_fmt "${at}CHECK failed: 1 \+ 1 == 3: arithmetic is broken"
dexpect dcheck_fmt_args "${at}CHECK failed: two == 3: two is 2, not three"
expect check_eq "${at}CHECK failed: 1 \+ 1 == 3 \(2 vs 3\)"
expect check_ne "${at}CHECK failed: 2 != 1 \+ 1 \(2 vs 2\)"
expect check_lt "${at}CHECK failed: 3 < 2 \(3 vs 2\)"
expect check_le "${at}CHECK failed: 3 <= 2 \(3 vs 2\)"
expect check_gt "${at}CHECK failed: 2 > 3 \(2 vs 3\)"
expect check_ge "${at}CHECK failed: 2 >= 3 \(2 vs 3\)"
dexpect dcheck_eq "${at}CHECK failed: 1 \+ 1 == 3 \(2 vs 3\)"
dexpect dcheck_ne "${at}CHECK failed: 2 != 1 \+ 1 \(2 vs 2\)"
expect check_pointers "${at}CHECK failed: &a == static_cast<int\*>\(nullptr\) \(0x[0-9a-f]+ vs 0x0\)"
expect check_signed "${at}CHECK failed: -1 == 1 \(-1 vs 1\)"
expect unwrap_some PASSES
expect unwrap_none "${at}ALLOC_UNWRAP\(None\(\)\) on an empty value"
expect expect_some PASSES
expect expect_none "${at}no answer to the question"
expect unwrap_pointer PASSES
expect unwrap_null "${at}ALLOC_UNWRAP\(Null\(\)\) on an empty value"
expect expect_pointer PASSES
expect expect_null "${at}no int at 0x[0-9a-f]+"
expect unwrap_lvalue PASSES
expect fatal "fatal: code 3"

# An unknown case is refused with exit status 2.
"$assert_demo" no_such_case >/dev/null 2>&1
[ $? = 2 ] || fail "an unknown case was not refused"

[ "$failures" = 0 ] && echo "ok: both demos" || exit 1
