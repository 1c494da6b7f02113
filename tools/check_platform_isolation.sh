#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# check_platform_isolation.sh ROOT
#
# Every operating-system service goes through the platform contract
# (platform/platform.h). Fails (exit 1, listing file:line) if a C/C++ source
# outside ROOT/platform/:
#
#  * anywhere (tests included) maps memory or asks for the page size (mmap,
#    munmap, mremap, madvise, mprotect, getpagesize, sysconf(_SC_PAGESIZE),
#    <sys/mman.h>), opens a /proc file itself, or tests for a sanitizer
#    itself (__SANITIZE_ADDRESS__, __has_feature(thread_sanitizer), ...;
#    platform/testing/ has the /proc reader and sanitizers.h);
#  * in library code (not a test, test helper, fuzzer, benchmark, probe or
#    bench workload) calls any other OS service the contract covers: the
#    clock, sleeping, random bytes, threads, signal masks and handlers, fork handlers,
#    thread keys, yielding, the CPU count, stack walks and symbol lookup,
#    the environment, or file I/O.
#
# `//` comments and the text of string literals are ignored, so prose and
# messages may mention the calls.
set -euo pipefail
root=${1:?usage: check_platform_isolation.sh ROOT}
cd "$root"

# Checked everywhere.
everywhere='(\b(mmap|mmap64|munmap|mremap|madvise|posix_madvise|mprotect|getpagesize)[[:space:]]*\()|(sysconf[[:space:]]*\([[:space:]]*_SC_PAGE_?SIZE)|(#[[:space:]]*include[[:space:]]*<sys/mman\.h>)|(__SANITIZE_(ADDRESS|THREAD)__)|(__has_feature[[:space:]]*\([[:space:]]*(address|thread)_sanitizer)'
# Opening a /proc file (checked with string literals kept).
proc='(\b(fopen|open|openat|opendir|ifstream)[[:space:]]*\([[:space:]]*"/proc/)|(ifstream[[:space:]]+[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\([[:space:]]*"/proc/)'

# Checked in library code only.
library='(\b(clock_gettime|gettimeofday|nanosleep|clock_nanosleep|usleep|getrandom|getentropy|pthread_create|pthread_sigmask|sigprocmask|sigaction|signal|pthread_atfork|pthread_key_create|pthread_setspecific|sched_yield|sched_getaffinity|getpid|gettid|getenv|secure_getenv|sysconf|fopen|openat|_Unwind_Backtrace|backtrace|dladdr|dl_iterate_phdr)[[:space:]]*\()|(\bopen[[:space:]]*\([^)]*O_)|((^|[^A-Za-z0-9_>])::(read|write|close)[[:space:]]*\()|(\benviron\b)|(#[[:space:]]*include[[:space:]]*<(pthread|signal|sched|sys/random|csignal|unwind|dlfcn|execinfo)(\.h)?>)'

# Test code: tests, test helpers, fuzzers, benchmarks, the scenario probe,
# the bench workloads and the conformance-suite package.
is_test_code() {
  case "$1" in
    *_test.cc|*_test.c|*_benchmark.cc|*/testing/*|*/fuzz/*|*/scenarios/*|\
    ./bench/*|./object_alloc_test/*|./tools/*)
      return 0 ;;
  esac
  return 1
}

hits=0
report() {  # report FILE PATTERN WHAT [KEEP_STRINGS]
  local out strip='s/"([^"\\]|\\.)*"/""/g'
  [ -z "${4:-}" ] || strip=''
  out=$(sed -E -e 's://.*$::' -e "$strip" "$1" | grep -nE "$2" || true)
  if [ -n "$out" ]; then
    while IFS= read -r line; do
      echo "$3 outside platform/: ${1#./}:$line"
      hits=$((hits + 1))
    done <<<"$out"
  fi
}

while IFS= read -r -d '' f; do
  case "$f" in
    ./platform/*|./third_party/*|./bazel-*) continue ;;
  esac
  report "$f" "$everywhere" "platform call"
  report "$f" "$proc" "/proc read" keep-strings
  if ! is_test_code "$f"; then
    report "$f" "$library" "OS service"
  fi
done < <(find . \( -name 'bazel-*' -o -name .git \) -prune -o -type f \
           \( -name '*.h' -o -name '*.cc' -o -name '*.c' -o -name '*.inc' \) -print0)

if [ "$hits" -gt 0 ]; then
  echo "FAIL: $hits OS call(s) outside platform/ (use platform/platform.h)"
  exit 1
fi
echo "OK: OS services only in platform/"
