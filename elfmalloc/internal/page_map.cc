// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/page_map.h"

#include "alloc_fmt/check.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

std::atomic<uint8_t>* PageMap::LeafFor(uintptr_t a, bool create) {
  auto& slot = root_[a >> (kGranuleShift + kLeafBits)];
  std::atomic<uint8_t>* leaf = slot.load(std::memory_order_acquire);
  if (leaf != nullptr || !create) return leaf;
  const mmap_alloc::MapAlloc map;
  void* fresh = map.Alloc(kLeafEntries);  // zero-filled: every tag 0
  if (fresh == nullptr) return nullptr;
  auto* mine = static_cast<std::atomic<uint8_t>*>(fresh);
  if (slot.compare_exchange_strong(leaf, mine, std::memory_order_acq_rel,
                                   std::memory_order_acquire)) {
    return mine;
  }
  map.Dealloc(fresh, kLeafEntries);  // another thread installed one first
  return leaf;
}

bool PageMap::Set(const void* start, size_t bytes, uint8_t tag) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(start);
  ALLOC_DCHECK(a % kGranule == 0 && bytes % kGranule == 0,
               "elfmalloc: PageMap::Set(%p, %zu) is not granule-aligned",
               start, bytes);
  ALLOC_CHECK((a >> kAddressBits) == 0 &&
                  ((a + bytes - 1) >> kAddressBits) == 0,
              "elfmalloc: address %p is beyond the 48-bit page map", start);
  for (uintptr_t g = a; g < a + bytes; g += kGranule) {
    std::atomic<uint8_t>* leaf = LeafFor(g, tag != 0);
    if (leaf == nullptr) {
      if (tag == 0) continue;  // never set, so already 0
      return false;
    }
    leaf[(g >> kGranuleShift) & (kLeafEntries - 1)].store(
        tag, std::memory_order_relaxed);
  }
  return true;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
