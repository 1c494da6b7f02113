// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// bsalloc's size classes. Exposed for bsalloc's own tests.

#ifndef BSALLOC_INTERNAL_CLASSES_H_
#define BSALLOC_INTERNAL_CLASSES_H_

#include <cstddef>
#include <cstdint>

#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace bsalloc {
namespace internal {

// The original's class limits: requests below 1 KiB and below 18 KiB. Every
// object is its own mapping, so the object actually occupies these sizes
// rounded up to whole pages; the classes are defined on the rounded sizes so
// that the whole mapping is usable (see README, "Deviations").
inline constexpr size_t kSmallLimit = 1024;
inline constexpr size_t kMediumLimit = 18 * 1024;

// Cache slots per class (the original's values).
inline constexpr size_t kSmallSlots = 8;
inline constexpr size_t kMediumSlots = 4;

enum ClassKind { kSmall, kMedium, kDirect };

struct Class {
  ClassKind kind;
  size_t bytes;  // size of the mapping; 0 if `size` cannot be rounded up
};

inline size_t RoundUpToPage(size_t size) {
  const size_t page = mmap_alloc::PageSize();
  if (size > SIZE_MAX - (page - 1)) return 0;
  return (size + page - 1) & ~(page - 1);
}

// Maps a request size to its class. Size 0 is served as 1 byte.
inline Class ClassOf(size_t size) {
  const size_t small = RoundUpToPage(kSmallLimit);
  const size_t medium = RoundUpToPage(kMediumLimit);
  if (size <= small) return {kSmall, small};
  if (size <= medium) return {kMedium, medium};
  return {kDirect, RoundUpToPage(size)};
}

// Occupied slots in a class's cache (racy snapshot; 0 for kDirect).
size_t CachedBlocks(ClassKind kind);

// Empties both caches, unmapping every cached block. Returns how many blocks
// were released. Safe to call concurrently with everything else (blocks
// cached meanwhile simply stay cached).
size_t ReleaseCachedBlocks();

}  // namespace internal
}  // namespace bsalloc
}  // namespace allocators

#endif  // BSALLOC_INTERNAL_CLASSES_H_
