// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Prints one line to stdout and one to stderr through alloc_fmt, the way
// the original's print demo used its four print macros (C++ has no
// newline-adding variant: the format says "\n"). `demo_test.sh` runs it.

#include "alloc_fmt/format.h"

int main() {
  allocators::alloc_fmt::Print(1, "alloc_fmt prints to stdout: %d %s\n", 1,
                               "line");
  allocators::alloc_fmt::Print(2, "alloc_fmt prints to stderr: %d %s\n", 2,
                               "line");
  return 0;
}
