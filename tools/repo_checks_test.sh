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
mkdir -p "$tmp/good/mmap_alloc" "$tmp/good/pkg"
printf '%s\n#include <sys/mman.h>\nvoid* f() { return mmap(0, 1, 0, 0, -1, 0); }\n' "$spdx" > "$tmp/good/mmap_alloc/a.cc"
printf '%s\n// mmap( in a comment is fine\nint g();\n' "$spdx" > "$tmp/good/pkg/b.cc"
"$tools/check_platform_isolation.sh" "$tmp/good" >/dev/null
"$tools/check_license_headers.sh" "$tmp/good" >/dev/null
echo "ok: clean planted tree passes both checks"

for call in 'mmap(0, 1, 0, 0, -1, 0)' 'munmap(p, 1)' 'madvise(p, 1, 4)' \
            'mprotect(p, 1, 0)' 'mremap(p, 1, 2, 0)' 'sysconf(_SC_PAGESIZE)' \
            'sysconf( _SC_PAGE_SIZE )' 'getpagesize()'; do
  rm -rf "$tmp/bad"; cp -r "$tmp/good" "$tmp/bad"
  printf '%s\nvoid h(void* p) { (void)%s; }\n' "$spdx" "$call" > "$tmp/bad/pkg/c.cc"
  expect_fail "isolation: $call" "$tools/check_platform_isolation.sh" "$tmp/bad"
done
rm -rf "$tmp/bad"; cp -r "$tmp/good" "$tmp/bad"
printf '%s\n#include <sys/mman.h>\n' "$spdx" > "$tmp/bad/pkg/d.h"
expect_fail "isolation: sys/mman.h" "$tools/check_platform_isolation.sh" "$tmp/bad"

for f in x.h x.cc run.sh defs.bzl BUILD; do
  rm -rf "$tmp/bad"; cp -r "$tmp/good" "$tmp/bad"
  printf 'no licence here\n' > "$tmp/bad/pkg/$f"
  expect_fail "licence: $f" "$tools/check_license_headers.sh" "$tmp/bad"
done

# --- The real tree --------------------------------------------------------------
"$tools/check_platform_isolation.sh" "$ws"
"$tools/check_license_headers.sh" "$ws"
