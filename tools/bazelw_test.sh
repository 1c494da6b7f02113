#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# Tests ./bazelw's setup logic with stub commands on PATH (no real apt-get,
# dpkg-query or bazel is run):
#   1. everything installed        -> runs `bazel ARGS` unchanged
#   2. packages missing, not root  -> prints the exact apt-get line, exits 1
#   3. packages missing, root      -> apt-get installs exactly the missing ones,
#                                     then runs bazel
set -euo pipefail

src=$(readlink -f bazelw)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ws" "$tmp/bin"
cp "$src" "$tmp/ws/bazelw"

# Stubs. INSTALLED lists the packages dpkg-query reports as installed;
# FAKE_UID is what `id -u` prints. Calls are logged to $tmp/calls.
cat > "$tmp/bin/dpkg-query" <<'STUB'
#!/usr/bin/env bash
pkg=${@: -1}
for p in $INSTALLED; do
  [ "$p" = "$pkg" ] && { printf 'install ok installed'; exit 0; }
done
exit 1
STUB
cat > "$tmp/bin/id" <<'STUB'
#!/usr/bin/env bash
echo "$FAKE_UID"
STUB
cat > "$tmp/bin/apt-get" <<'STUB'
#!/usr/bin/env bash
echo "apt-get $*" >> "$CALLS"
STUB
cat > "$tmp/bin/bazel" <<'STUB'
#!/usr/bin/env bash
echo "bazel $*" >> "$CALLS"
STUB
chmod +x "$tmp/bin/"*
export CALLS="$tmp/calls"
all="bazel-bootstrap bazel-rules-java bazel-skylib libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev python3 git pkg-config libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 gnuplot-nox sqlite3 lua5.4 xz-utils redis-server redis-tools time"

run() { PATH="$tmp/bin:/usr/bin:/bin" "$tmp/ws/bazelw" "$@"; }

# 1. Nothing missing.
: > "$CALLS"
INSTALLED="$all" FAKE_UID=1000 run test //foo/... >/dev/null
grep -qx 'bazel test //foo/...' "$CALLS" || { echo "FAIL 1: bazel not run with the same args"; cat "$CALLS"; exit 1; }
! grep -q apt-get "$CALLS" || { echo "FAIL 1: apt-get called with nothing missing"; exit 1; }
echo "ok 1: all installed -> bazel runs"

# 2. Missing, not root.
: > "$CALLS"
set +e
out=$(INSTALLED="bazel-bootstrap bazel-skylib" FAKE_UID=1000 run test //... 2>&1)
code=$?
set -e
[ "$code" -eq 1 ] || { echo "FAIL 2: exit $code, want 1"; exit 1; }
echo "$out" | grep -q 'apt-get install -y --no-install-recommends bazel-rules-java libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev python3 git pkg-config libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 gnuplot-nox sqlite3 lua5.4 xz-utils redis-server redis-tools time' \
  || { echo "FAIL 2: exact apt-get line not printed:"; echo "$out"; exit 1; }
[ ! -s "$CALLS" ] || { echo "FAIL 2: something was run:"; cat "$CALLS"; exit 1; }
echo "ok 2: not root -> prints the apt-get line, exits 1"

# 3. Missing, root.
: > "$CALLS"
INSTALLED="bazel-bootstrap bazel-rules-java bazel-skylib libabsl-dev libgtest-dev python3 git pkg-config libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 gnuplot-nox sqlite3 lua5.4 xz-utils redis-server redis-tools time" FAKE_UID=0 run build //x 2>/dev/null
grep -q 'apt-get install -y -qq --no-install-recommends libgmock-dev libbenchmark-dev$' "$CALLS" \
  || { echo "FAIL 3: wrong install:"; cat "$CALLS"; exit 1; }
tail -n 1 "$CALLS" | grep -qx 'bazel build //x' || { echo "FAIL 3: bazel not run last"; cat "$CALLS"; exit 1; }
echo "ok 3: root -> installs the missing packages, then runs bazel"
