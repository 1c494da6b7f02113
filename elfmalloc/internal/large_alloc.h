// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Large objects (above the largest size class, or aligned beyond what the
// classes give): one mmap_alloc mapping each, with an out-of-band header.
//
// The original put a {tag, base, size} header 2 MiB before every large
// object (an extra 2 MiB of address space each) and found it by rounding
// the freed pointer down, which reads arbitrary memory for a pointer it
// never handed out. Here each object's header record (address, mapped
// bytes, alignment, the size last asked for) lives in a registry: an
// open-addressing hash table keyed by address, in mapped memory, under a spin
// lock. That makes free of a foreign or interior pointer a clean error, makes
// the usable size exact, and costs no memory next to the object. The lock is
// cheap next to the map and unmap every large allocation pays anyway.
//
// Alignment: mappings are page-aligned; larger alignments over-map and trim
// (mmap_alloc), so any power of two is honoured.
//
// Block cache: unmapping a freed block and faulting a fresh one back in
// costs a page fault and a page clear per 4 KiB, which dominates programs
// that keep taking large buffers (glibc avoids it by raising its map
// threshold, tcmalloc by keeping spans). So a freed block of at most
// kLargeCacheMaxBlock bytes is kept, still mapped and resident, in a small
// cache (kLargeCacheEntries blocks, kLargeCacheMaxBytes in all, oldest
// evicted first). An allocation with at most page alignment takes the
// cached block closest in size: as it is if it is at most four times the
// request, shrunk (tail unmapped) if larger, or grown by remapping (which
// moves the resident pages, and may move the block) if smaller but at least
// half the request; a block less than half stays cached for a smaller
// request. Cached
// blocks unused for the decay period (LargeSetDecayMs, the same period as
// the slag pages') are unmapped by the next large-object call, and
// LargeRelease() unmaps them all. A free of a block that is in the cache,
// or among the last 64 freed, is reported as a double free. Zeroed
// requests (calloc) clear only what a cached block held: fresh pages are
// zero already.
//
// Thread-safe.

#ifndef ELFMALLOC_INTERNAL_LARGE_ALLOC_H_
#define ELFMALLOC_INTERNAL_LARGE_ALLOC_H_

#include <cstddef>
#include <cstdint>

#include "alloc_fmt/spin_lock.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// How a large object is laid out and where its memory may come from.
struct LargeAllocOptions {
  // The hardened build: an inaccessible guard page follows the object, and
  // its block is never cached once freed.
  bool hardened = false;
  // The object is a buffer being grown (realloc), which is likely to grow
  // further: when non-zero, the block has room for this many bytes (no
  // less than the request; the pages beyond the request are not touched
  // until used), and a cached block of any size at least the request is
  // handed out whole, so the buffer's next growth needs neither a remap
  // nor new pages.
  size_t grow_room = 0;
  // calloc: the first `size` bytes must read as zero. Pages fresh from the
  // OS already do and are not written, so they stay unresident until used;
  // a block from the cache is cleared where it held data (up to the
  // request), i.e. its old part only if remapping grew it.
  bool zeroed = false;
  // The heap the object belongs to: 0 for the process heap, else a user
  // heap's id. Only calls naming the same owner may free, size or resize
  // it; to any other the object does not exist.
  uintptr_t owner = 0;
};

// The room to give a buffer of `had` usable bytes that grows to `want`:
// half as much again as it had, or `want` if that is more, so that a
// buffer grown step by step is moved or remapped a logarithmic number of
// times. Overflow gives `want`.
constexpr size_t GrowthRoom(size_t had, size_t want) {
  const size_t half_more = had + had / 2;
  return half_more > want && half_more >= had && half_more <= PTRDIFF_MAX
             ? half_more
             : want;
}
static_assert(GrowthRoom(1000, 1001) == 1500 && GrowthRoom(1000, 4000) == 4000);
static_assert(GrowthRoom(~size_t{0} / 2, ~size_t{0} / 2 + 1) ==
              ~size_t{0} / 2 + 1);

// Maps a large object of at least `size` bytes aligned to `align` (0 or a
// power of two); see LargeAllocOptions (with `zeroed`, its first `size`
// bytes read as zero). nullptr with errno ENOMEM on failure (including
// sizes whose rounding would overflow).
void* LargeAlloc(size_t size, size_t align, LargeAllocOptions options);

enum class LargeFreeResult {
  kFreed,       // p was a live large object; it is cached or unmapped
  kDoubleFree,  // p is a block freed lately (LargeIsRecentlyFreed)
  kInvalid,     // p is not the start of any large object elfmalloc knows
};

// Frees large object `p` of `owner`: caches it or unmaps it. Changes
// nothing unless the result is kFreed.
LargeFreeResult LargeFree(void* p, uintptr_t owner = 0);

// Unmaps every live large object of `owner` (a user heap being destroyed);
// returns how many. Their blocks are not cached.
size_t LargeFreeOwned(uintptr_t owner);

// The bytes mapped for the live large objects of `owner`, and their number
// in `*count` (a scan of the registry: for statistics).
size_t LargeOwnedBytes(uintptr_t owner, size_t* count);

// True if `p` is not a live large object but is a block freed lately (in
// the cache, or among the last 64 large frees): for diagnostics.
bool LargeIsRecentlyFreed(const void* p);

// A fault just past the end of a live large object (in the unmapped page
// after it, or in its guard page when hardened): the object, the size it
// was asked for, and how far past its start the fault is.
struct LargeOverflow {
  void* block;
  size_t requested;
  size_t offset;
};

// Fills `out` if `addr` lies in the page after a live large object's end
// (or in its guard). For fault handlers: it only tries the registry's
// lock, and returns false if that stays taken. Async-signal-safe.
bool LargeFindOverflowed(const void* addr, LargeOverflow* out);

// The usable size of large object `p` (its page-rounded size), or 0 if p is
// not the start of a live large object of `owner`.
size_t LargeUsableSize(const void* p, uintptr_t owner = 0);

// The usable size of large object `p` and the size it was last allocated
// or resized to. False if p is not a live large object of `owner`.
bool LargeSizes(const void* p, size_t* usable, size_t* requested,
                uintptr_t owner = 0);

// Resizes large object `p` to at least `size` bytes if that can be done by
// remapping (alignment at most a page, or growing/shrinking in place).
// Returns the (possibly moved) object, or nullptr if it cannot (p unchanged;
// the caller copies); the object keeps its owner. The block is kept as it
// is while the caller grows within it, or shrinks to no less than half of
// it; one that must grow grows to GrowthRoom, so that step-by-step growth
// remaps rarely. A hardened object is fitted to the request instead, and
// its guard page moves to the new end. REQUIRES: p is a live large object
// of the caller's heap, size > 0.
void* LargeResize(void* p, size_t size);

// The registry's lock, for the fork handlers (fork.h).
SpinLock* LargeRegistryLock();

// Bytes currently mapped for live large objects, and their number.
size_t LargeBytes();
size_t LargeCount();
// Bytes of freed blocks kept mapped in the cache.
size_t LargeCachedBytes();

// Cached blocks unused for `ms` milliseconds are unmapped (-1: kept until
// LargeRelease(); 0: nothing is cached).
void LargeSetDecayMs(int64_t ms);

// Unmaps every cached block now; returns how many.
size_t LargeRelease();

// Unmaps the cached blocks unused for the decay period (what every free
// and cache lookup also does), for the background decay thread.
void LargeDecay();

// Unmaps the cached blocks unused for kLargeYieldIdleMs or more, unless the
// decay period is -1 (keep until LargeRelease). The heap calls it before it
// maps memory for slags: a block that sat unused while the program went on
// to need new memory is memory the program has stopped using, and keeping
// it resident until the decay period ends raises the program's peak.
void LargeYield();
inline constexpr int64_t kLargeYieldIdleMs = 10;

// Checks the registry under its lock: every record is findable from its
// hash home, page-aligned (and aligned as asked), count and bytes match the
// records, the cache's bytes match its entries and no cached block overlaps
// a live object. False, with a one-line description in `what`, on a
// violation. Safe while other threads run.
bool LargeCheckInvariants(const char** what);

inline constexpr size_t kLargeCacheEntries = 16;
inline constexpr size_t kLargeCacheMaxBlock = size_t{32} << 20;
inline constexpr size_t kLargeCacheMaxBytes = size_t{64} << 20;

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_LARGE_ALLOC_H_
