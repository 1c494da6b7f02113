// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/unwrap.h"

namespace allocators {
namespace alloc_fmt {
namespace internal {

void UnwrapFailed(const char* file, int line, const char* expr) {
  FatalSkipping(1, "%s:%d: ALLOC_UNWRAP(%s) on an empty value", file, line,
                expr);
}

}  // namespace internal
}  // namespace alloc_fmt
}  // namespace allocators
