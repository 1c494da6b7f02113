// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/large_alloc.h"

#include <errno.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "alloc_fmt/spin_lock.h"
#include "elfmalloc/internal/options.h"
#include "elfmalloc/internal/page_alloc.h"
#include "mmap_alloc/internal/address_table.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

struct Record {
  uintptr_t addr;    // 0: empty slot
  size_t bytes;      // mapped length (page multiple), guard included
  size_t align;      // alignment asked for (0: page)
  size_t guard;      // bytes of the inaccessible guard at the end (hardened)
  size_t requested;  // the size last asked for (allocation or resize)
  uintptr_t owner;   // LargeAllocOptions::owner (0: the process heap)
};

// A freed block kept mapped for reuse.
struct CachedBlock {
  uintptr_t addr;
  size_t bytes;
  int64_t freed_ms;  // platform::CoarseMonotonicMs() when it was freed
};

// Blocks taken out of the cache to be unmapped once the lock is dropped
// (munmap under a spin lock would stall every other large-object call).
struct Victims {
  CachedBlock blocks[kLargeCacheEntries + 1];
  size_t n = 0;

  void UnmapAll() {
    const mmap_alloc::MapAlloc map;
    for (size_t i = 0; i < n; ++i) {
      map.Dealloc(reinterpret_cast<void*>(blocks[i].addr), blocks[i].bytes);
    }
    n = 0;
  }
};

std::atomic<int64_t> g_decay_ms{kDefaultDecayMs};  // the heap sets it

// The live-object records and the block cache, under one lock.
//
// Records: an AddressTable (mmap_alloc/internal/address_table.h), grown at
// half load (counting the slots reserved for resizes).
class Registry {
 public:
  constexpr Registry() = default;

  bool Insert(const Record& r) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    if ((count_ + reserved_ + 1) * 2 > table_.capacity() && !table_.Grow()) {
      return false;
    }
    AddLocked(r);
    return true;
  }

  // Takes the record of `addr` out for a resize, keeping its room in the
  // table reserved, so that PutBack cannot fail. The record must be out
  // before the mapping moves: the range the move vacates can be mapped by
  // another thread at once, and its record (same address) must not meet
  // this stale one. False if `addr` has no record.
  bool TakeForResize(uintptr_t addr, Record* out) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    if (!RemoveLocked(addr, out)) return false;
    ++reserved_;
    return true;
  }

  // Ends TakeForResize with the object's record after the resize (or the
  // old one if it failed).
  void PutBack(const Record& r) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    --reserved_;
    AddLocked(r);
  }

  // Frees live object `addr` of `owner`: caches its block, or hands it to
  // `victims` to unmap. Also moves expired and excess cached blocks to
  // `victims`. Another owner's object is kInvalid and stays live.
  LargeFreeResult Free(uintptr_t addr, uintptr_t owner, Victims* victims)
      ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    Record r;
    size_t at;
    if (table_.Find(addr, &at) && table_[at].owner != owner) {
      return LargeFreeResult::kInvalid;
    }
    if (!RemoveLocked(addr, &r)) {
      return RecentlyFreedLocked(addr) ? LargeFreeResult::kDoubleFree
                                       : LargeFreeResult::kInvalid;
    }
    recent_[recent_next_++ % kRecent] = addr;
    const int64_t decay = g_decay_ms.load(std::memory_order_relaxed);
    const int64_t now = platform::CoarseMonotonicMs();
    if (r.guard == 0 && decay != 0 && r.bytes <= kLargeCacheMaxBlock) {
      if (cache_count_ == kLargeCacheEntries) EvictLocked(0, victims);
      cache_[cache_count_++] = CachedBlock{addr, r.bytes, now};
      cache_bytes_ += r.bytes;
      while (cache_bytes_ > kLargeCacheMaxBytes) EvictLocked(0, victims);
    } else {
      victims->blocks[victims->n++] = CachedBlock{addr, r.bytes, now};
    }
    ExpireLocked(decay, now, victims);
    return LargeFreeResult::kFreed;
  }

  // Takes the cached block whose size is closest to `bytes` (preferring
  // one at least that large). False if the cache is empty. Also moves
  // expired blocks to `victims`.
  bool TakeCached(size_t bytes, CachedBlock* out, Victims* victims)
      ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    ExpireLocked(g_decay_ms.load(std::memory_order_relaxed),
                 platform::CoarseMonotonicMs(), victims);
    if (cache_count_ == 0) return false;
    size_t best = 0;
    for (size_t i = 1; i < cache_count_; ++i) {
      if (Better(cache_[i].bytes, cache_[best].bytes, bytes)) best = i;
    }
    // A block less than half the request is left for a smaller one: growing
    // it would fault most of the request in anyway, and take it from the
    // request that would reuse it whole (a vector doubling from 256 KiB to
    // 4 MiB faulted every block on every pass).
    if (cache_[best].bytes < bytes / 2) return false;
    *out = cache_[best];
    RemoveCachedLocked(best);
    return true;
  }

  // The live object whose end (its guard, when hardened, or the first page
  // after its mapping) holds `addr`. Called from a fault handler, so it
  // only tries the lock, a bounded number of times: false if the lock
  // stayed taken or no object ends there.
  bool FindEndingAt(uintptr_t addr, Record* out) ABSL_LOCKS_EXCLUDED(lock_)
      ABSL_NO_THREAD_SAFETY_ANALYSIS {  // TryLock in a loop
    int tries = 0;
    while (!lock_.TryLock()) {
      if (++tries == 1000) return false;
    }
    const size_t page = mmap_alloc::PageSize();
    bool found = false;
    for (size_t i = 0; i < table_.capacity() && !found; ++i) {
      const Record& r = table_[i];
      if (r.addr == 0) continue;
      const uintptr_t end = r.addr + r.bytes - r.guard;
      if (addr >= end && addr - end < (r.guard != 0 ? r.guard : page)) {
        *out = r;
        found = true;
      }
    }
    lock_.Unlock();
    return found;
  }

  bool IsRecentlyFreed(uintptr_t addr) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    return RecentlyFreedLocked(addr);
  }

  // Moves every cached block to `victims`.
  void DrainCache(Victims* victims) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    while (cache_count_ > 0) EvictLocked(0, victims);
  }

  // Moves the cached blocks unused for `idle_ms` (-1: none) to `victims`.
  void ExpireCache(int64_t idle_ms, Victims* victims)
      ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    ExpireLocked(idle_ms, platform::CoarseMonotonicMs(), victims);
  }

  size_t cached_bytes() ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    return cache_bytes_;
  }

  bool Lookup(uintptr_t addr, Record* out) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    size_t i;
    if (!table_.Find(addr, &i)) return false;
    *out = table_[i];
    return true;
  }

  size_t OwnedBytes(uintptr_t owner, size_t* count) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    size_t bytes = 0, n = 0;
    for (size_t i = 0; i < table_.capacity(); ++i) {
      if (table_[i].addr != 0 && table_[i].owner == owner) {
        bytes += table_[i].bytes;
        ++n;
      }
    }
    *count = n;
    return bytes;
  }

  // Takes up to `max` live objects of `owner` out of the table into `out`;
  // returns how many.
  size_t TakeOwned(uintptr_t owner, Record* out, size_t max)
      ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    size_t n = 0;
    for (size_t i = 0; i < table_.capacity() && n < max; ++i) {
      if (table_[i].addr != 0 && table_[i].owner == owner) {
        out[n++] = table_[i];
      }
    }
    Record r;
    for (size_t k = 0; k < n; ++k) RemoveLocked(out[k].addr, &r);
    return n;
  }

  size_t bytes() ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    return bytes_;
  }
  SpinLock* lock() { return &lock_; }

  size_t count() ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    return count_;
  }

  // Checks the records and the cache (see LargeCheckInvariants).
  bool Check(const char** what) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    if (reserved_ != 0) {
      *what = "large record still out for a resize";
      return false;
    }
    const size_t page = mmap_alloc::PageSize();
    size_t n = 0, total = 0;
    for (size_t i = 0; i < table_.capacity(); ++i) {
      const Record& r = table_[i];
      if (r.addr == 0) continue;
      ++n;
      total += r.bytes;
      size_t at;
      if (!table_.Find(r.addr, &at) || at != i) {
        *what = "large record not reachable from its hash home";
        return false;
      }
      if ((r.addr & (page - 1)) != 0 || r.bytes == 0 ||
          (r.bytes & (page - 1)) != 0 ||
          (r.align != 0 && (r.addr & (r.align - 1)) != 0)) {
        *what = "large record not page-aligned or misaligned";
        return false;
      }
      for (size_t k = 0; k < cache_count_; ++k) {
        const CachedBlock& c = cache_[k];
        if (c.addr < r.addr + r.bytes && r.addr < c.addr + c.bytes) {
          *what = "cached large block overlaps a live large object";
          return false;
        }
      }
    }
    if (n != count_ || total != bytes_) {
      *what = "large-object count or bytes differ from the records";
      return false;
    }
    size_t cached = 0;
    for (size_t k = 0; k < cache_count_; ++k) cached += cache_[k].bytes;
    if (cache_count_ > kLargeCacheEntries || cached != cache_bytes_) {
      *what = "large-block cache count or bytes inconsistent";
      return false;
    }
    return true;
  }

 private:
  // True if `addr` is not live but was freed lately: still in the block
  // cache, or among the last kRecent large frees (whose blocks may be
  // unmapped). Names double frees and realloc of freed blocks.
  bool RecentlyFreedLocked(uintptr_t addr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    for (size_t i = 0; i < cache_count_; ++i) {
      if (cache_[i].addr == addr) return true;
    }
    for (uintptr_t a : recent_) {
      if (a == addr) return true;
    }
    return false;
  }

  // True if a cached block of `a` bytes serves a request of `want` bytes
  // better than one of `b` bytes: big enough beats too small, then the
  // closer size wins.
  static bool Better(size_t a, size_t b, size_t want) {
    if ((a >= want) != (b >= want)) return a >= want;
    const size_t da = a >= want ? a - want : want - a;
    const size_t db = b >= want ? b - want : want - b;
    return da < db;
  }

  bool RemoveLocked(uintptr_t addr, Record* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    size_t i;
    if (!table_.Find(addr, &i)) return false;
    *out = table_[i];
    table_.Erase(i);
    --count_;
    bytes_ -= out->bytes;
    return true;
  }

  // Removes cache entry i, keeping the rest in freeing order (oldest first).
  void RemoveCachedLocked(size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    cache_bytes_ -= cache_[i].bytes;
    for (size_t j = i + 1; j < cache_count_; ++j) cache_[j - 1] = cache_[j];
    --cache_count_;
  }

  void EvictLocked(size_t i, Victims* victims)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    victims->blocks[victims->n++] = cache_[i];
    RemoveCachedLocked(i);
  }

  // Evicts the blocks freed at least `decay` ms before `now` (the oldest
  // come first). A negative decay keeps everything.
  void ExpireLocked(int64_t decay, int64_t now, Victims* victims)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    if (decay < 0) return;
    while (cache_count_ > 0 && now - cache_[0].freed_ms >= decay &&
           victims->n < kLargeCacheEntries) {
      EvictLocked(0, victims);
    }
  }

  // Places live object `r` and counts it. REQUIRES: room in the table.
  void AddLocked(const Record& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    table_.Place(r);
    ++count_;
    bytes_ += r.bytes;
  }

  SpinLock lock_;
  mmap_alloc::internal::AddressTable<Record, 512> table_
      ABSL_GUARDED_BY(lock_);
  size_t count_ ABSL_GUARDED_BY(lock_) = 0;
  size_t reserved_ ABSL_GUARDED_BY(lock_) = 0;  // records out for a resize
  size_t bytes_ ABSL_GUARDED_BY(lock_) = 0;
  CachedBlock cache_[kLargeCacheEntries] ABSL_GUARDED_BY(lock_) = {};
  size_t cache_count_ ABSL_GUARDED_BY(lock_) = 0;
  size_t cache_bytes_ ABSL_GUARDED_BY(lock_) = 0;
  static constexpr size_t kRecent = 64;
  uintptr_t recent_[kRecent] ABSL_GUARDED_BY(lock_) = {};
  size_t recent_next_ ABSL_GUARDED_BY(lock_) = 0;
};

ABSL_CONST_INIT Registry g_registry;

// Fits cached block `b` to a request of `*bytes` (page multiple): used as
// it is when at most four times the request, or at any size for a buffer
// being grown (`*bytes` becomes its size: keeping resident pages is cheaper
// than faulting them in again when the object grows or the next request is
// bigger), shrunk when larger, grown (possibly moved) when smaller. Returns
// the block, with `*dirty` set to the bytes at its start that may hold old
// data (the tail a remap adds is fresh, hence zero), or nullptr with `b`
// unmapped and `*dirty` untouched if it could not be fitted.
void* ReuseBlock(const CachedBlock& b, bool growing, size_t* bytes,
                 size_t* dirty) {
  const mmap_alloc::MapAlloc map;
  void* p = reinterpret_cast<void*>(b.addr);
  const size_t want = *bytes;
  if (b.bytes >= want) {
    if (growing || b.bytes / 4 <= want ||
        !map.ShrinkInPlace(p, b.bytes, want)) {
      *bytes = b.bytes;  // the slack stays usable
    }
    *dirty = *bytes;
    return p;
  }
  void* q = map.Realloc(p, b.bytes, want);
  if (q == nullptr) {
    map.Dealloc(p, b.bytes);
  } else {
    *dirty = b.bytes;
  }
  return q;
}

}  // namespace

void* LargeAlloc(size_t size, size_t align, LargeAllocOptions options) {
  const bool hardened = options.hardened;
  const size_t page = mmap_alloc::PageSize();
  if (size == 0) size = 1;
  // Refuse what no mapping can satisfy before rounding can overflow.
  if (size > PTRDIFF_MAX || align > (size_t{1} << 40)) {
    errno = ENOMEM;
    return nullptr;
  }
  const size_t room =
      options.grow_room > size && options.grow_room <= PTRDIFF_MAX
          ? options.grow_room
          : size;
  size_t bytes = (room + page - 1) & ~(page - 1);
  const size_t map_align = align > page ? align : 0;
  const mmap_alloc::MapAlloc map;
  void* p = nullptr;
  size_t dirty = 0;  // bytes at p's start that may hold old data
  const size_t guard = hardened ? page : 0;
  if (hardened) {
    // One inaccessible page after the object, so a linear overflow faults;
    // no cached blocks (a freed object's pages go back to the kernel at
    // once, so a use after free faults too).
    p = map.Alloc(bytes + guard, map_align);
    if (p == nullptr) return nullptr;
    map.Protect(static_cast<char*>(p) + bytes, guard, 0);
    bytes += guard;
  } else if (map_align == 0 && bytes <= kLargeCacheMaxBlock) {
    Victims victims;
    CachedBlock b{};
    const bool hit = g_registry.TakeCached(bytes, &b, &victims);
    victims.UnmapAll();
    if (hit) {
      p = ReuseBlock(b, options.grow_room != 0, &bytes, &dirty);
    }
  }
  if (p == nullptr) p = map.Alloc(bytes, map_align);
  if (p == nullptr) return nullptr;
  if (!g_registry.Insert(Record{reinterpret_cast<uintptr_t>(p), bytes,
                                map_align, guard, size, options.owner})) {
    map.Dealloc(p, bytes);
    errno = ENOMEM;
    return nullptr;
  }
  // Fresh pages are zero already: clearing them would make them resident.
  if (options.zeroed && dirty != 0) {
    std::memset(p, 0, dirty < size ? dirty : size);
  }
  return p;
}

LargeFreeResult LargeFree(void* p, uintptr_t owner) {
  Victims victims;
  const LargeFreeResult result =
      g_registry.Free(reinterpret_cast<uintptr_t>(p), owner, &victims);
  victims.UnmapAll();
  return result;
}

bool LargeFindOverflowed(const void* addr, LargeOverflow* out) {
  Record r;
  if (!g_registry.FindEndingAt(reinterpret_cast<uintptr_t>(addr), &r)) {
    return false;
  }
  out->block = reinterpret_cast<void*>(r.addr);
  out->requested = r.requested;
  out->offset = reinterpret_cast<uintptr_t>(addr) - r.addr;
  return true;
}

bool LargeIsRecentlyFreed(const void* p) {
  return g_registry.IsRecentlyFreed(reinterpret_cast<uintptr_t>(p));
}

size_t LargeCachedBytes() { return g_registry.cached_bytes(); }

void LargeSetDecayMs(int64_t ms) {
  g_decay_ms.store(ms, std::memory_order_relaxed);
  if (ms == 0) LargeRelease();
}

size_t LargeRelease() {
  Victims victims;
  g_registry.DrainCache(&victims);
  const size_t n = victims.n;
  victims.UnmapAll();
  return n;
}

void LargeDecay() {
  Victims victims;
  g_registry.ExpireCache(g_decay_ms.load(std::memory_order_relaxed), &victims);
  victims.UnmapAll();
}

void LargeYield() {
  const int64_t decay = g_decay_ms.load(std::memory_order_relaxed);
  if (decay < 0) return;
  Victims victims;
  g_registry.ExpireCache(decay < kLargeYieldIdleMs ? decay : kLargeYieldIdleMs,
                         &victims);
  victims.UnmapAll();
}

size_t LargeFreeOwned(uintptr_t owner) {
  const mmap_alloc::MapAlloc map;
  Record batch[64];
  size_t total = 0;
  while (const size_t n = g_registry.TakeOwned(owner, batch, 64)) {
    for (size_t i = 0; i < n; ++i) {
      map.Dealloc(reinterpret_cast<void*>(batch[i].addr), batch[i].bytes);
    }
    total += n;
  }
  return total;
}

size_t LargeOwnedBytes(uintptr_t owner, size_t* count) {
  return g_registry.OwnedBytes(owner, count);
}

size_t LargeUsableSize(const void* p, uintptr_t owner) {
  Record r;
  if (!g_registry.Lookup(reinterpret_cast<uintptr_t>(p), &r) ||
      r.owner != owner) {
    return 0;
  }
  return r.bytes - r.guard;
}

bool LargeSizes(const void* p, size_t* usable, size_t* requested,
                uintptr_t owner) {
  Record r;
  if (!g_registry.Lookup(reinterpret_cast<uintptr_t>(p), &r) ||
      r.owner != owner) {
    return false;
  }
  *usable = r.bytes - r.guard;
  *requested = r.requested;
  return true;
}

void* LargeResize(void* p, size_t size) {
  const size_t page = mmap_alloc::PageSize();
  if (size > PTRDIFF_MAX) return nullptr;
  Record r;
  if (!g_registry.TakeForResize(reinterpret_cast<uintptr_t>(p), &r)) {
    return nullptr;
  }
  // A hardened object's mapping ends in its guard page (LargeAlloc).
  const size_t guard = r.guard;
  const size_t usable = r.bytes - guard;
  // Kept as it is when it fits and the caller grows it (or it shrinks to
  // no less than half): a buffer grown step by step keeps its room to grow.
  // A hardened object keeps its guard page right after the request.
  if (guard == 0 && size <= usable &&
      (size >= r.requested || size * 2 > usable)) {
    r.requested = size;
    g_registry.PutBack(r);
    return p;
  }
  // Growing beyond the block: GrowthRoom. The pages beyond the request are
  // not touched until used.
  const size_t want =
      guard == 0 && size > usable ? GrowthRoom(usable, size) : size;
  const size_t bytes = ((want + page - 1) & ~(page - 1)) + guard;
  if (bytes == r.bytes) {
    r.requested = size;
    g_registry.PutBack(r);
    return p;
  }
  const mmap_alloc::MapAlloc map;
  char* const old_guard = static_cast<char*>(p) + r.bytes - guard;
  // The old guard becomes object memory (or is cut off); a new one goes at
  // the new end. If the resize fails, the old one is put back.
  if (guard != 0 &&
      !map.Protect(old_guard, guard, mmap_alloc::kPermReadWrite)) {
    g_registry.PutBack(r);
    return nullptr;
  }
  void* q = nullptr;
  if (bytes < r.bytes) {
    if (map.ShrinkInPlace(p, r.bytes, bytes)) q = p;
  } else if (map.GrowInPlace(p, r.bytes, bytes)) {
    q = p;
  } else if (r.align == 0) {
    q = map.Realloc(p, r.bytes, bytes);  // may move; page alignment kept
  }
  if (guard != 0) {
    if (q == nullptr) {
      map.Protect(old_guard, guard, mmap_alloc::kPermNone);
    } else {
      map.Protect(static_cast<char*>(q) + bytes - guard, guard,
                  mmap_alloc::kPermNone);
    }
  }
  if (q == nullptr) {
    g_registry.PutBack(r);
    return nullptr;
  }
  g_registry.PutBack(Record{reinterpret_cast<uintptr_t>(q), bytes, r.align,
                            guard, size, r.owner});
  return q;
}

SpinLock* LargeRegistryLock() { return g_registry.lock(); }

size_t LargeBytes() { return g_registry.bytes(); }
size_t LargeCount() { return g_registry.count(); }

bool LargeCheckInvariants(const char** what) { return g_registry.Check(what); }

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
