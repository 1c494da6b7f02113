#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# Runs real programs with and without LD_PRELOAD=<library> and requires
# identical output: a python3 script stressing dicts, strings and threads;
# sort of a 50 MB file; git init/commit/log; gcc compiling a C file; and a
# C++ program using every operator new/delete form.
#
# Usage: preload_test.sh LIBRARY OPERATORS_DEMO
set -euo pipefail

lib=$(realpath "$1")
demo=$(realpath "$2")
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/preload.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
fail=0

# compare NAME COMMAND...: runs COMMAND plain and preloaded, diffs stdout.
compare() {
  local name=$1; shift
  "$@" > "plain.$name" 2> "plain.$name.err" || { echo "FAIL $name: plain run failed"; cat "plain.$name.err"; fail=1; return; }
  LD_PRELOAD="$lib" "$@" > "preload.$name" 2> "preload.$name.err" || { echo "FAIL $name: preloaded run failed"; cat "preload.$name.err"; fail=1; return; }
  if cmp -s "plain.$name" "preload.$name"; then
    echo "ok   $name ($(wc -c < "plain.$name") bytes of output)"
  else
    echo "FAIL $name: outputs differ"; diff "plain.$name" "preload.$name" | head -5; fail=1
  fi
}

# The library must really be in the process.
if ! LD_PRELOAD="$lib" /usr/bin/python3 -c 'import sys; sys.exit(0 if "libelfmalloc" in open("/proc/self/maps").read() else 1)'; then
  echo "FAIL: $lib is not mapped into a preloaded process"; exit 1
fi

cat > stress.py <<'PY'
import hashlib, threading
def work(seed, out):
    d = {}
    for i in range(200000):
        k = "k%d-%d" % (seed, i % 5000)
        d[k] = d.get(k, "") + str(i)[-3:]
        if i % 7 == 0:
            d.pop("k%d-%d" % (seed, (i * 31) % 5000), None)
    s = "".join(sorted(d.values()))
    out[seed] = hashlib.sha256(s.encode()).hexdigest()
out = {}
ts = [threading.Thread(target=work, args=(t, out)) for t in range(4)]
for t in ts: t.start()
for t in ts: t.join()
big = [bytes(range(256)) * (i % 64 + 1) for i in range(20000)]
print(sorted(out.items()), sum(map(len, big)))
PY
compare python /usr/bin/python3 stress.py

/usr/bin/python3 -c '
import random
r = random.Random(42)
with open("big.txt", "w") as f:
    n = 0
    while n < 50 * 1000 * 1000:
        line = "%016x %s\n" % (r.getrandbits(64), "x" * r.randrange(40))
        f.write(line); n += len(line)
'
compare sort env LC_ALL=C sort -S 64M big.txt

export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t \
  GIT_COMMITTER_EMAIL=t@example.com GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' \
  GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' HOME="$work"
git_session() (  # a subshell: the cd stays inside
  d=$(mktemp -d "$work/git.XXXXXX")
  cd "$d"
  git init -q -b main .
  for i in 1 2 3; do
    seq 1 $((i * 1000)) > "file$i.txt"
    git add "file$i.txt"
    git commit -q -m "commit $i"
  done
  git log --format='%H %s'
  git rev-parse 'HEAD^{tree}'
)
compare git git_session

cat > prog.c <<'C'
#include <stdio.h>
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int main(void) { printf("%d\n", fib(20)); return 0; }
C
gcc_session() {
  gcc -O2 -c prog.c -o prog.o
  gcc prog.o -o prog
  ./prog
  sha256sum prog.o | cut -d' ' -f1
}
compare gcc gcc_session

compare operators "$demo"

exit $fail
