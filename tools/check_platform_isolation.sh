#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# check_platform_isolation.sh ROOT
#
# Fails (exit 1, listing file:line) if a C/C++ source outside ROOT/mmap_alloc/
# calls mmap, munmap, mremap, madvise, mprotect, getpagesize or
# sysconf(_SC_PAGESIZE / _SC_PAGE_SIZE), or includes <sys/mman.h>. Page mapping is mmap_alloc's job
# alone; everything else asks mmap_alloc (see mmap_alloc/README.md).
# `//` comments are ignored, so prose may mention the calls.
set -euo pipefail
root=${1:?usage: check_platform_isolation.sh ROOT}
cd "$root"

pattern='(\b(mmap|mmap64|munmap|mremap|madvise|posix_madvise|mprotect|getpagesize)[[:space:]]*\()|(sysconf[[:space:]]*\([[:space:]]*_SC_PAGE_?SIZE)|(#[[:space:]]*include[[:space:]]*<sys/mman\.h>)'

hits=0
while IFS= read -r -d '' f; do
  case "$f" in
    ./mmap_alloc/*|./third_party/*|./bazel-*) continue ;;
  esac
  # Strip // comments, keep line numbers.
  out=$(sed -e 's://.*$::' "$f" | grep -nE "$pattern" || true)
  if [ -n "$out" ]; then
    while IFS= read -r line; do
      echo "platform call outside mmap_alloc/: ${f#./}:$line"
      hits=$((hits + 1))
    done <<<"$out"
  fi
done < <(find . \( -name 'bazel-*' -o -name .git \) -prune -o -type f \
           \( -name '*.h' -o -name '*.cc' -o -name '*.c' -o -name '*.inc' \) -print0)

if [ "$hits" -gt 0 ]; then
  echo "FAIL: $hits platform call(s) outside mmap_alloc/"
  exit 1
fi
echo "OK: platform calls only in mmap_alloc/"
