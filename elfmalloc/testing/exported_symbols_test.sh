#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# The shared library must export exactly the malloc family, the 20
# replaceable operator new/delete functions and the C extension API
# (elfmalloc_*; include/elfmalloc.h), plus the ELF bookkeeping symbols the
# linker always defines; and it must need no library but the C library (a C
# program it is preloaded into must not load the C++ runtime:
# malloc_bind/internal/cxx_runtime.h).
#
# Usage: exported_symbols_test.sh LIBRARY EXPECTED_LIST
set -euo pipefail
lib=$1
expected=$2
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sort)
if diff <(sort "$expected") <(echo "$actual"); then
  echo "ok: $(echo "$actual" | wc -l) exported functions, as listed in $expected"
else
  echo "FAIL: exported functions differ from $expected (< expected, > actual)"
  exit 1
fi
needed=$(readelf -d "$lib" | awk '/\(NEEDED\)/ {print $NF}' | tr -d '[]')
if [ "$needed" != "libc.so.6" ]; then
  echo "FAIL: $lib needs more than libc.so.6: $(echo $needed)"
  exit 1
fi
echo "ok: needs only libc.so.6"
