#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
#
# Installs elfmalloc into PREFIX:
#   PREFIX/lib/libelfmalloc.so, libelfmalloc-l.so   LD_PRELOAD or -lelfmalloc
#   PREFIX/lib/libelfmalloc.a                       static -lelfmalloc
#   PREFIX/include/elfmalloc.h                      the C extension API
#   PREFIX/lib/pkgconfig/elfmalloc.pc               pkg-config elfmalloc
#
# Usage (the files come from //:install's args; you give PREFIX):
#   ./bazelw run //:install -- PREFIX
#   install.sh FILE... PREFIX
# FILEs are recognised by name: libelfmalloc.so, libelfmalloc-l.so,
# libelfmalloc.a, libelfmalloc.a.linkopts (flags for Libs.private) and
# elfmalloc.h. A relative PREFIX is taken from the directory `bazel run`
# was started in.
set -euo pipefail

if [ $# -lt 2 ] || [ "${!#}" = --help ] || [ "${!#}" = -h ]; then
  echo "usage: ./bazelw run //:install -- PREFIX" >&2
  exit 2
fi
prefix=${!#}
files=("${@:1:$#-1}")
case "$prefix" in
  /*) ;;
  *) prefix=${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix ;;
esac

so= so_local= archive= linkopts= header=
for f in "${files[@]}"; do
  case "$(basename "$f")" in
    libelfmalloc.so) so=$f ;;
    libelfmalloc-l.so) so_local=$f ;;
    libelfmalloc.a) archive=$f ;;
    libelfmalloc.a.linkopts) linkopts=$f ;;
    elfmalloc.h) header=$f ;;
    *) echo "install.sh: unexpected file $f" >&2; exit 2 ;;
  esac
done
for v in so so_local archive linkopts header; do
  [ -n "${!v}" ] || { echo "install.sh: no $v among the files" >&2; exit 2; }
done

version=$(sed -n 's/^#define ELFMALLOC_VERSION_STRING "\(.*\)"$/\1/p' "$header")
[ -n "$version" ] || { echo "install.sh: no version in $header" >&2; exit 1; }

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
prefix=$(cd "$prefix" && pwd -P)
install -m 0755 "$so" "$prefix/lib/libelfmalloc.so"
install -m 0755 "$so_local" "$prefix/lib/libelfmalloc-l.so"
install -m 0644 "$archive" "$prefix/lib/libelfmalloc.a"
install -m 0644 "$header" "$prefix/include/elfmalloc.h"

# The archive is C++: a static link also needs the C++ runtime, and the
# flags the archive's dependencies declare.
private="-lstdc++ $(tr '\n' ' ' < "$linkopts")"
cat > "$prefix/lib/pkgconfig/elfmalloc.pc" <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: elfmalloc
Description: elfmalloc, a scalable multi-threaded malloc replacement
Version: $version
URL: https://github.com/ezrosent/allocators-rs
Libs: -L\${libdir} -lelfmalloc
Libs.private: ${private% }
Cflags: -I\${includedir}
PC
chmod 0644 "$prefix/lib/pkgconfig/elfmalloc.pc"

echo "installed elfmalloc $version into $prefix:"
for f in lib/libelfmalloc.so lib/libelfmalloc-l.so lib/libelfmalloc.a \
         include/elfmalloc.h lib/pkgconfig/elfmalloc.pc; do
  echo "  $prefix/$f"
done
