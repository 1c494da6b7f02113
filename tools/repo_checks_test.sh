#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# Runs the repository checks on the real source tree, and first proves that
# each check fails on a tree with a planted violation (so a check that can no
# longer fail is itself caught).
#
# The source tree is found by resolving the WORKSPACE symlink in runfiles back
# to the checkout. The test is tagged "external" (never cached), because the
# files it inspects are not declared inputs.
set -euo pipefail

ws=$(dirname "$(readlink -f WORKSPACE)")
tools="$ws/tools"
[ -x "$tools/check_platform_isolation.sh" ] || { echo "cannot find the source tree"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect_fail() {  # expect_fail NAME CMD...
  local name=$1; shift
  if "$@" >"$tmp/out" 2>&1; then
    echo "FAIL: $name: the check passed on a planted violation"
    cat "$tmp/out"
    exit 1
  fi
  echo "ok: $name fails as it should: $(head -n 1 "$tmp/out")"
}

# --- Planted violations -------------------------------------------------------
spdx='// SPDX-License-Identifier: Apache-2.0 OR MIT'
mkdir -p "$tmp/good/platform" "$tmp/good/pkg/testing"
printf '%s\n#include <sys/mman.h>\nvoid* f() { return mmap(0, 1, 0, 0, -1, 0); }\n' "$spdx" > "$tmp/good/platform/a.cc"
printf '%s\n// mmap( and getenv( in a comment are fine\nint g() { return Fatal("madvise(%%p) failed"); }\nstruct B { B& read(bool); };\nB& B::read(bool) { return *this; }\n' "$spdx" > "$tmp/good/pkg/b.cc"
# Tests may use other OS services (fork, getenv, ...); not mapping or /proc.
printf '%s\nint t() { return getenv("X") != 0 && getpid() > 0; }\n' "$spdx" > "$tmp/good/pkg/b_test.cc"
printf '%s\nint u() { return clock_gettime(0, 0); }\n' "$spdx" > "$tmp/good/pkg/testing/u.h"
"$tools/check_platform_isolation.sh" "$tmp/good" >/dev/null
"$tools/check_license_headers.sh" "$tmp/good" >/dev/null
echo "ok: clean planted tree passes both checks"

plant() {  # plant FILE LINE: a tree with LINE added to pkg/FILE
  rm -rf "$tmp/bad"; cp -r "$tmp/good" "$tmp/bad"
  printf '%s\n%s\n' "$spdx" "$2" > "$tmp/bad/pkg/$1"
}

# Anywhere, tests included.
for call in 'mmap(0, 1, 0, 0, -1, 0)' 'munmap(p, 1)' 'madvise(p, 1, 4)' \
            'mprotect(p, 1, 0)' 'mremap(p, 1, 2, 0)' 'sysconf(_SC_PAGESIZE)' \
            'sysconf( _SC_PAGE_SIZE )' 'getpagesize()' \
            'fopen("/proc/self/maps", "r")' 'open("/proc/self/status", 0)'; do
  for file in c.cc c_test.cc; do
    plant "$file" "void h(void* p) { (void)$call; }"
    expect_fail "isolation: $call in $file" "$tools/check_platform_isolation.sh" "$tmp/bad"
  done
done
plant d.h '#include <sys/mman.h>'
expect_fail "isolation: sys/mman.h" "$tools/check_platform_isolation.sh" "$tmp/bad"
plant e_test.cc '#if defined(__SANITIZE_ADDRESS__)'
expect_fail "isolation: a sanitizer test of its own" "$tools/check_platform_isolation.sh" "$tmp/bad"
plant e_test.cc '#if __has_feature(thread_sanitizer)'
expect_fail "isolation: __has_feature(thread_sanitizer)" "$tools/check_platform_isolation.sh" "$tmp/bad"

# Library code only.
for call in 'clock_gettime(1, 0)' 'nanosleep(0, 0)' 'getrandom(p, 8, 0)' \
            'pthread_create(0, 0, 0, 0)' 'pthread_sigmask(0, 0, 0)' \
            'sigaction(11, 0, 0)' 'signal(11, 0)' \
            'pthread_atfork(0, 0, 0)' 'pthread_key_create(0, 0)' \
            'sched_yield()' 'sched_getaffinity(0, 0, 0)' 'getpid()' \
            'getenv("X")' 'environ' 'sysconf(_SC_NPROCESSORS_ONLN)' \
            'open(path, O_RDONLY)' '::read(0, p, 1)' '::write(2, p, 1)' \
            '_Unwind_Backtrace(0, 0)' 'backtrace(0, 8)' 'dladdr(p, 0)'; do
  plant c.cc "void h(void* p, const char* path) { (void)$call; }"
  expect_fail "isolation: $call in library code" "$tools/check_platform_isolation.sh" "$tmp/bad"
done
for header in pthread.h signal.h sched.h sys/random.h csignal unwind.h dlfcn.h \
              execinfo.h; do
  plant d.h "#include <$header>"
  expect_fail "isolation: <$header> in library code" "$tools/check_platform_isolation.sh" "$tmp/bad"
done

for f in x.h x.cc run.sh defs.bzl BUILD; do
  rm -rf "$tmp/bad"; cp -r "$tmp/good" "$tmp/bad"
  printf 'no licence here\n' > "$tmp/bad/pkg/$f"
  expect_fail "licence: $f" "$tools/check_license_headers.sh" "$tmp/bad"
done

# --- The real tree --------------------------------------------------------------
"$tools/check_platform_isolation.sh" "$ws"
"$tools/check_license_headers.sh" "$ws"
