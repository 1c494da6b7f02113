#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
#
# check_license_headers.sh ROOT
#
# Fails (exit 1, listing the files) if a source file of ours lacks the line
#   SPDX-License-Identifier: Apache-2.0 OR MIT
# within its first 5 lines. Sources: *.h *.cc *.c *.inc *.sh *.bzl *.py and
# BUILD files, outside third_party/ (system library wrappers) and bazel-*.
set -euo pipefail
root=${1:?usage: check_license_headers.sh ROOT}
cd "$root"

missing=0
while IFS= read -r -d '' f; do
  case "$f" in
    ./third_party/*|./bazel-*) continue ;;
  esac
  if ! head -n 5 "$f" | grep -q 'SPDX-License-Identifier: Apache-2.0 OR MIT'; then
    echo "missing SPDX licence line: ${f#./}"
    missing=$((missing + 1))
  fi
done < <(find . \( -name 'bazel-*' -o -name .git \) -prune -o -type f \
           \( -name '*.h' -o -name '*.cc' -o -name '*.c' -o -name '*.inc' \
              -o -name '*.sh' -o -name '*.bzl' -o -name '*.py' \
              -o -name BUILD -o -name BUILD.bazel -o -name run \) -print0)

if [ "$missing" -gt 0 ]; then
  echo "FAIL: $missing file(s) without the SPDX licence line"
  exit 1
fi
echo "OK: every source file carries the SPDX licence line"
