#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
#
# //:install end to end, without Bazel inside the test: runs the install
# script into a temporary PREFIX, then compiles a C program outside Bazel
# with `cc $(pkg-config --cflags --libs elfmalloc)` and checks that
#   - linked against PREFIX/lib/libelfmalloc.so (LD_LIBRARY_PATH), its
#     malloc is elfmalloc: it prints elfmalloc_version(), asks elfmalloc for
#     the size of a block malloc returned (elfmalloc aborts on a pointer it
#     did not hand out), and frees an interior pointer, which elfmalloc
#     reports with its own message;
#   - linked statically against PREFIX/lib/libelfmalloc.a, the same holds
#     with no libelfmalloc.so at run time.
#
# Usage: install_test.sh INSTALL_SH FILE...
set -euo pipefail

install_sh=$(realpath "$1")
shift
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "FAIL: $*"; exit 1; }

for tool in cc pkg-config nm; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (./bazelw installs pkg-config)"
done

# 1. Install.
"$install_sh" "$@" "$prefix"
for f in lib/libelfmalloc.so lib/libelfmalloc-l.so lib/libelfmalloc.a \
         include/elfmalloc.h lib/pkgconfig/elfmalloc.pc; do
  [ -s "$prefix/$f" ] || fail "$prefix/$f not installed"
done
grep -qx "prefix=$prefix" "$prefix/lib/pkgconfig/elfmalloc.pc" || fail "prefix not substituted in elfmalloc.pc"
echo "ok: installed into $prefix"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
version=$(pkg-config --modversion elfmalloc)
[ "$version" = "$(sed -n 's/^#define ELFMALLOC_VERSION_STRING "\(.*\)"$/\1/p' "$prefix/include/elfmalloc.h")" ] \
  || fail "pkg-config version $version differs from the header's"
[ "$(pkg-config --variable=libdir elfmalloc)" = "$prefix/lib" ] || fail "libdir"
echo "ok: pkg-config elfmalloc $version: $(pkg-config --cflags --libs elfmalloc)"

cat > "$work/prog.c" <<'C'
#include <elfmalloc.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  char* p = malloc(100);
  if (p == NULL) return 1;
  memset(p, 1, 100);
  /* elfmalloc aborts here if p came from another malloc. */
  size_t usable = elfmalloc_usable_size(p);
  printf("elfmalloc %s usable %d %d\n", elfmalloc_version(), usable >= 100,
         usable == malloc_usable_size(p));
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "interior") == 0) {
    volatile size_t offset = 16; /* hidden from the compiler's warning */
    free(p + offset);
  }
  free(p);
  return 0;
}
C
want="elfmalloc $version usable 1 1"

check_program() {  # check_program NAME BINARY [ENV...]
  local name=$1 bin=$2; shift 2
  local out
  out=$(env "$@" "$bin") || fail "$name: exit $?"
  [ "$out" = "$want" ] || fail "$name: printed '$out', want '$want'"
  set +e
  out=$(env "$@" "$bin" interior 2>&1)
  local code=$?
  set -e
  [ "$code" -ne 0 ] || fail "$name: freeing an interior pointer did not abort"
  grep -q 'elfmalloc: free(): invalid pointer 0x' <<<"$out" || fail "$name: no elfmalloc message: $out"
  echo "ok: $name: $want; interior free aborts with elfmalloc's message"
}

# 2. Shared: exactly the command line users will type.
# shellcheck disable=SC2046
cc -o "$work/prog_shared" "$work/prog.c" $(pkg-config --cflags --libs elfmalloc)
check_program shared "$work/prog_shared" LD_LIBRARY_PATH="$prefix/lib"
# ldd's output is captured first: with pipefail, `ldd | grep -q` fails
# whenever grep exits before ldd has written everything (SIGPIPE).
deps=$(LD_LIBRARY_PATH="$prefix/lib" ldd "$work/prog_shared")
grep -q "$prefix/lib/libelfmalloc.so" <<<"$deps" \
  || fail "prog_shared does not load $prefix/lib/libelfmalloc.so"
if "$work/prog_shared" >/dev/null 2>&1; then
  fail "prog_shared ran without LD_LIBRARY_PATH: it cannot be using $prefix/lib"
fi

# 3. Static: -lelfmalloc picks the archive, not the .so next to it, under
# -Bstatic; what follows it in `pkg-config --static --libs` (Libs.private)
# must be all the archive needs.
static_libs=$(pkg-config --static --libs elfmalloc)
private=${static_libs#*-lelfmalloc}
echo "static link: -Wl,-Bstatic -lelfmalloc -Wl,-Bdynamic$private -lpthread"
# shellcheck disable=SC2046,SC2086
cc -o "$work/prog_static" "$work/prog.c" $(pkg-config --cflags elfmalloc) \
  -L"$prefix/lib" -Wl,-Bstatic -lelfmalloc -Wl,-Bdynamic $private -lpthread
static_deps=$(ldd "$work/prog_static" 2>&1 || true)
if grep -q libelfmalloc <<<"$static_deps"; then
  fail "prog_static needs a libelfmalloc shared library"
fi
symbols=$(nm "$work/prog_static")
grep -q ' T elfmalloc_version$' <<<"$symbols" || fail "elfmalloc_version not linked into prog_static"
grep -q ' T malloc$' <<<"$symbols" || fail "malloc not defined in prog_static"
check_program static "$work/prog_static"
