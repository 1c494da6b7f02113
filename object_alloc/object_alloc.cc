// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc/object_alloc.h"

#include "alloc_fmt/format.h"

namespace allocators {
namespace object_alloc {

void DefaultOom(Layout layout) {
  alloc_fmt::Fatal("object allocator out of memory (size %zu, align %zu)",
                   layout.size, layout.align);
}

}  // namespace object_alloc
}  // namespace allocators
