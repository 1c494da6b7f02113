// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/cache_base.h"

#include "alloc_fmt/format.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

void ReportDoubleFree(const void* p) {
  alloc_fmt::Fatal("elfmalloc: free(): double free of %p", p);
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
