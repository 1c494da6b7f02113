// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/backing.h"

#include <cstddef>
#include <new>
#include <optional>

#include "alloc_fmt/check.h"
#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc/object_alloc.h"

namespace allocators {
namespace slab_alloc {

using object_alloc::Layout;

HeapObjectAlloc::HeapObjectAlloc(Layout layout) : layout_(layout) {
  ALLOC_CHECK(layout.IsValid(),
              "slab_alloc: invalid heap block layout (size %zu, align %zu)",
              layout.size, layout.align);
}

void* HeapObjectAlloc::Alloc() {
  return ::operator new(layout_.size, std::align_val_t(layout_.align),
                        std::nothrow);
}

void HeapObjectAlloc::Dealloc(void* p) {
  ::operator delete(p, layout_.size, std::align_val_t(layout_.align));
}

std::optional<HeapObjectAlloc> HeapBacking::GetAligned(Layout layout) const {
  if (layout.size > mmap_alloc::PageSize()) return std::nullopt;
  return HeapObjectAlloc(layout);
}

HeapObjectAlloc HeapBacking::GetLarge(Layout layout) const {
  return HeapObjectAlloc(layout);
}

std::optional<mmap_alloc::MapAlloc> MmapBacking::GetAligned(
    Layout layout) const {
  if (layout.size != mmap_alloc::PageSize()) return std::nullopt;
  return mmap_alloc::MapAllocBuilder()
      .obj_size(layout.size)
      .obj_align(layout.align)
      .Build();
}

mmap_alloc::MapAlloc MmapBacking::GetLarge(Layout layout) const {
  return mmap_alloc::MapAllocBuilder()
      .obj_size(layout.size)
      .obj_align(layout.align)
      .Build();
}

}  // namespace slab_alloc
}  // namespace allocators
