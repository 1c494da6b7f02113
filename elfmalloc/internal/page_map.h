// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// PageMap: a one-byte tag for every 64 KiB granule of the address space.
//
// free(p) must find out, without trusting p, whether p is a slag object and
// of which size class. The original read a type tag stored at
// round_down(p - 1, 2 MiB), which faults (or silently misroutes) on a
// pointer elfmalloc never handed out. Here every slag's granules carry the
// tag (size class + 1) in a two-level radix map, like tcmalloc's pagemap:
//
//   root_[p >> 34] --> leaf (2^18 bytes, mapped on first use)
//                          leaf[(p >> 16) & (2^18 - 1)] = tag
//
// Tag 0 means "no slag here": a large object (looked up in the large-object
// registry) or a pointer elfmalloc does not own. Slags are at least one
// granule and aligned to their size, so a granule never holds two slags.
// The map covers the 48-bit user address space of x86-64 and AArch64; any
// pointer above it reads as 0.
//
// Memory: the root is 128 KiB of zero-initialised static storage (resident
// only where touched: a page per 8 TiB of address space in use); each leaf
// is 256 KiB of address space, of which only the 4 KiB pages that describe
// mapped slags are ever touched (one page per 256 MiB of slag address
// space).
// Leaves are never freed.
//
// Thread-safety: Get() is wait-free and may run concurrently with Set().
// Tags are relaxed atomics: a thread that frees an object learned of it
// through some synchronising hand-off after the slag's tags were written.

#ifndef ELFMALLOC_INTERNAL_PAGE_MAP_H_
#define ELFMALLOC_INTERNAL_PAGE_MAP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

class PageMap {
 public:
  static constexpr size_t kGranuleShift = 16;  // 64 KiB
  static constexpr size_t kGranule = size_t{1} << kGranuleShift;
  static constexpr size_t kAddressBits = 48;
  static constexpr size_t kLeafBits = 18;
  static constexpr size_t kRootBits = kAddressBits - kGranuleShift - kLeafBits;
  static constexpr size_t kLeafEntries = size_t{1} << kLeafBits;
  static constexpr size_t kRootEntries = size_t{1} << kRootBits;

  constexpr PageMap() = default;
  PageMap(const PageMap&) = delete;
  PageMap& operator=(const PageMap&) = delete;

  // The tag of the granule holding `p`, or 0 if none was set.
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint8_t Get(const void* p) const {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    if (ABSL_PREDICT_FALSE((a >> kAddressBits) != 0)) return 0;
    const std::atomic<uint8_t>* leaf =
        root_[a >> (kGranuleShift + kLeafBits)].load(std::memory_order_acquire);
    if (ABSL_PREDICT_FALSE(leaf == nullptr)) return 0;
    return leaf[(a >> kGranuleShift) & (kLeafEntries - 1)].load(
        std::memory_order_relaxed);
  }

  // Sets the tag of every granule in [start, start + bytes).
  // REQUIRES: start and bytes are multiples of kGranule, the range is below
  // 2^48. Returns false (nothing changed for the granules not yet reached)
  // only if a leaf could not be mapped; clearing (tag 0) never fails.
  bool Set(const void* start, size_t bytes, uint8_t tag);

 private:
  std::atomic<uint8_t>* LeafFor(uintptr_t a, bool create);

  std::atomic<std::atomic<uint8_t>*> root_[kRootEntries] = {};
};

// The tags of a user heap's slags (elfmalloc/heap.h) carry this bit; the
// process heap's do not, so its free() passes them to its slow path, which
// names them, at no cost to its fast path (a sign test instead of a zero
// test).
inline constexpr uint8_t kUserHeapTagBit = 0x80;

// The tags of a SizedHeap's memory (elfmalloc/sized_heap.h), above every
// user-heap class tag: its slags (every granule of one), a free medium
// block's first granule, and a live medium block's first granule (class k
// of at most kSizedMediumClasses is kSizedMediumTag + k).
inline constexpr uint8_t kSizedSlagTag = 0xF0;
inline constexpr uint8_t kSizedMediumFreeTag = 0xF1;
inline constexpr uint8_t kSizedMediumTag = 0xF2;
inline constexpr size_t kSizedMediumClasses = 0x100 - kSizedMediumTag;

// True if `tag` marks a SizedHeap's memory.
constexpr bool IsSizedHeapTag(uint8_t tag) { return tag >= kSizedSlagTag; }

// True if `tag` marks a slag of the process heap: a class index + 1,
// without kUserHeapTagBit.
ABSL_ATTRIBUTE_ALWAYS_INLINE constexpr bool IsProcessTag(uint8_t tag) {
  return static_cast<int8_t>(tag) > 0;
}
static_assert(IsProcessTag(1) && IsProcessTag(0x7f) && !IsProcessTag(0) &&
              !IsProcessTag(kUserHeapTagBit | 1));

// The process-wide map shared by every elfmalloc heap. Constant-initialised
// (no guard, usable before main) and trivially destructible (never torn
// down while other static destructors still free memory).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline PageMap& GlobalPageMap() {
  ABSL_CONST_INIT static PageMap map;
  return map;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_PAGE_MAP_H_
