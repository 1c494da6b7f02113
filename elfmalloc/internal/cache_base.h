// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// CacheBase<Config>: what both thread-cache front-ends (MagazineCache,
// LocalCache) share. One cache serves one size class for one thread: a
// stack of freed pointers, the object held back from reuse, the iterator
// over the thread's claimed slag, and the SlagAllocator that claims slags.
//
// The allocation path has three steps, and the caller (Heap, or a
// size-specific allocator) runs them in order, so that nothing here calls
// back up:
//   1. TryAlloc(): the inline fast path, from the stack or the claimed
//      slag's current bitset word;
//   2. the front-end's AllocUnrefreshed(): what it still holds without a
//      new slag (the held-back object);
//   3. the front-end's AllocRefreshing(): claims a slag with free objects
//      and allocates from it; nullptr with errno ENOMEM if no memory could
//      be had, after which the caller may free memory elsewhere and retry.
//
// Both front-ends start zeroed and do nothing until the first slow-path
// call: a thread that never uses a class pays nothing for it.
//
// Thread-compatible: each cache belongs to one thread, except that its
// counters may be read from any thread.

#ifndef ELFMALLOC_INTERNAL_CACHE_BASE_H_
#define ELFMALLOC_INTERNAL_CACHE_BASE_H_

#include <errno.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/format.h"
#include "elfmalloc/internal/cache_stack.h"
#include "elfmalloc/internal/hardening.h"
#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/page_map.h"
#include "elfmalloc/internal/slag.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// After a stack cannot be mapped, this many frees go straight to their
// slags before the cache tries to map it again (CacheBase::EnsureStack).
inline constexpr uint32_t kStackRetryFrees = 4096;

// Fatal: "elfmalloc: free(): double free of <p>".
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void ReportDoubleFree(const void* p);

template <typename Config>
class alignas(64) CacheBase {
 public:
  static constexpr bool kHardened = Config::kHardened;

  // Records where to get slags from. Cheap; nothing is allocated until the
  // first slow-path call. `pages` must outlive Shutdown(). With `firsts`
  // (which must outlive the cache too), the cache starts on first stack
  // `index` of it and maps a stack of its full capacity only when it needs
  // more (see FirstStacks).
  void Setup(ClassPool* pool, PageAlloc::Handle* pages, size_t capacity,
             FirstStacks* firsts = nullptr, size_t index = 0) {
    pool_ = pool;
    pages_ = pages;
    want_capacity_ = capacity;
    firsts_ = firsts;
    first_index_ = static_cast<uint32_t>(index);
    check_ = MakeObjectCheck(pool->geom);
  }

  // Hands out constructed objects (a typed pool: ObjectInit).
  static constexpr bool kConstructs = Config::kConstructs;

  // The allocation fast path: an object from the stack or from the claimed
  // slag's current word; nullptr when both are empty (see the file
  // comment for what comes next).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void* TryAlloc() {
    void* p = FastAlloc();
    if (ABSL_PREDICT_TRUE(p != nullptr)) Bump(allocs_);
    return p;
  }

  // True if `p`, which lies in a slag of this cache's class, is the start
  // of one of its objects (the free-time interior-pointer check). The
  // constants sit in the cache line the free's push writes anyway, so the
  // check costs no table address or line of its own.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool IsObjectStart(const void* p) const {
    return IsObjectOffset(check_, reinterpret_cast<uintptr_t>(p));
  }

  // Returns every cached object and the claimed slag, and gives back the
  // stack. The cache can be used again afterwards (it starts over lazily).
  void Shutdown();

  // True if the cache holds objects or a claimed slag (what Trim() gives
  // back).
  bool HoldsMemory() const {
    return top_ != 0 || held_ != nullptr || slags_.slag() != nullptr;
  }

  // True if `p` is the object this cache holds back as the last one freed
  // (so it is free).
  bool IsLastFreed(const void* p) const {
    return held_ != nullptr &&
           held_ == EncodeCached<kHardened>(const_cast<void*>(p));
  }

  ClassPool* pool() const { return pool_; }
  size_t cached() const { return top_ + (held_ != nullptr); }
  // The most the cache may hold (its stack may still be a smaller first
  // stack).
  size_t capacity() const { return want_capacity_; }
  // True while the cache's stack is its first stack (for tests).
  bool on_first_stack() const {
    return stack_ != nullptr && stack_ == first_stack_;
  }
  // The bytes a refresh claims: one slag.
  size_t slag_bytes() const { return pool_->slag_bytes(); }

  // Objects this cache handed out and took back, ever (statistics). Any
  // thread may read them; only the owner writes.
  uint64_t allocs() const { return allocs_.load(std::memory_order_relaxed); }
  uint64_t frees() const { return frees_.load(std::memory_order_relaxed); }

  // Checks this cache (call on its owning thread): top_ <= cap_, no stack
  // without a mapping, and every cached pointer in `[stack_, stack_ + n)`
  // (and `extra` more at stack_ + extra_at, and the held object) is an
  // object start of a slag of this class whose bit is clear (allocated,
  // not free in the slag) and, for a heap class, tagged in the page map.
  // `limit` is the most the front-end may hold (limit_ or local_cap_).
  // False with `what` set on a violation.
  bool CheckCached(uint32_t limit, uint32_t extra_at, uint32_t extra,
                   const char** what) const;
  // The per-object part of CheckCached, for `n` cached (encoded) pointers
  // kept elsewhere (DepotCache's magazines).
  bool CheckObjects(void* const* objects, size_t n, const char** what) const;

 protected:
  // The statistics counters: a relaxed load and store by the only writer
  // compile to a plain add on the cache line the fast path already holds,
  // yet readers on other threads see no data race.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void Bump(std::atomic<uint64_t>& c) {
    if constexpr (Config::kStats) {
      c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void CountFree() { Bump(frees_); }
  // The logging build's event counters (events.h), kept by the thread's
  // page handle; nothing in other builds.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void CountEvent(Event e, uint64_t k = 1) {
    if constexpr (Config::kEvents) {
      if (EventCounters* c = pages_->events()) c->Add(e, k);
    }
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void* FastAlloc() {
    if constexpr (kHardened) {
      if (top_ == 0) return FromSlag(iter_.NextRandom());
      void* p = HardenedPop(stack_, &top_, &rng_, this);
      CheckCachedObject(*pool_, p);
      return p;
    } else {
      if (ABSL_PREDICT_TRUE(top_ != 0)) {
        CountEvent(Event::kCacheAlloc);
        return stack_[--top_];
      }
      void* p = FromSlag(iter_.Next());
      if (Config::kEvents && p != nullptr) CountEvent(Event::kSlagAlloc);
      return p;
    }
  }
  // An object the claimed slag hands out (or nullptr), constructed first
  // in a typed pool (Config::kConstructs; a cached object already is).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void* FromSlag(void* p) const {
    if constexpr (Config::kConstructs) {
      if (p != nullptr) EnsureConstructed(*pool_, p);
    }
    return p;
  }
  // Caches `p`, which a free gives back. Reuse is delayed by one object:
  // `p` is held back (held_) and the object held so far goes on the stack,
  // so allocations take every other cached object before the last one
  // freed. A stale pointer's second free, "free(p); q = malloc(); free(p)",
  // then finds p still held and is reported (CheckNotLastFreed) instead of
  // freeing q's live block for the next malloc to hand out a second time.
  // The allocation fast path is unchanged; the free's is one store more, on
  // the line it writes anyway. Builds without checks keep plain LIFO reuse.
  // REQUIRES: top_ < the front-end's stack limit.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Push(void* p) {
    if (Config::kChecks && ABSL_PREDICT_FALSE(held_ == nullptr)) {
      CountEvent(Event::kLocalFree);
      held_ = EncodeCached<kHardened>(p);  // the first object held
      return;
    }
    PushBehindHeld(p);
  }
  // Push() for a cache that holds an object already, so the one held goes
  // on the stack without a test (MagazineCache's fast path, whose limit is
  // 0 while nothing is held). REQUIRES: as Push(), and held_ != nullptr
  // when Config::kChecks.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void PushBehindHeld(void* p) {
    CountEvent(Event::kLocalFree);
    if constexpr (!Config::kChecks) {
      stack_[top_++] = EncodeCached<kHardened>(p);
    } else {
      stack_[top_++] = held_;
      held_ = EncodeCached<kHardened>(p);
    }
  }
  // The free fast path of the front-ends with a limit (MagazineCache,
  // DepotCache): counts the free and, while top_ < limit_, caches p behind
  // the held object and returns true; false sends p to the front-end's
  // slow path. kCheckLast: compare p with the held object
  // (CheckNotLastFreed); a caller that has ruled out a double free
  // already passes false.
  template <bool kCheckLast>
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool FreeUnderLimit(void* p) {
    CountFree();
    if (ABSL_PREDICT_TRUE(top_ < limit_)) {
      if constexpr (kCheckLast) CheckNotLastFreed(p);
      PushBehindHeld(p);
      return true;
    }
    return false;
  }
  // The held object, no longer held (nullptr if none): the allocation slow
  // paths hand it out before they take a new slag, so holding it back
  // never costs memory. Fatal (double free) if its slag says it is free.
  void* TakeHeld();
  // The cheap double-free check of the fast path: freeing the object freed
  // last (the common "free twice" bug, also after an allocation between)
  // is fatal. One load of a field in the line the free writes anyway.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void CheckNotLastFreed(const void* p) const {
    if (Config::kChecks &&
        ABSL_PREDICT_FALSE(held_ ==
                           EncodeCached<kHardened>(const_cast<void*>(p)))) {
      ReportDoubleFree(p);
    }
  }

  // Claims a slag with free objects and allocates from it; nullptr (errno
  // ENOMEM) if no memory could be had.
  void* RefreshAndAlloc();
  // Gives the cache a stack if it has none: its first stack if it was given
  // one, else a mapped one (MapStack). False if none could be had.
  bool EnsureStack();
  // Makes a mapped stack of the full capacity the cache's stack (cap_
  // becomes want_capacity_), without touching its contents. False, with
  // the stack unchanged, if it could not be mapped or a map failed within
  // the last kStackRetryFrees calls.
  bool MapStack();
  // Moves the cached pointers from the first stack to a mapped stack of
  // the full capacity; if none can be mapped, the cache stays on its first
  // stack. REQUIRES: CanGrowStack().
  void GrowStack();
  // True if the cache uses its first stack and could grow out of it.
  bool CanGrowStack() const {
    return on_first_stack() && cap_ < want_capacity_;
  }
  void EnsureSlags() {
    if (ABSL_PREDICT_FALSE(!slags_.initialized())) slags_.Init(pool_, pages_);
  }
  // Returns `n` cached (encoded) objects of this class to their slags in
  // bulk.
  void ReturnObjects(void* const* objects, size_t n);
  // Returns every cached object and the claimed slag; keeps the stack.
  void TrimObjectsAndSlag();
  // Records that the stack's first `entries` slots may be written.
  void NoteStackUse(uint32_t entries);
  // Sets limit_ (MagazineCache): pushes may fill that many slots.
  void SetLimit(uint32_t limit) {
    limit_ = limit;
    NoteStackUse(limit);
  }

  // The fields the fast paths touch come first, in one cache line (the
  // class is 64-byte aligned).
  void** stack_ = nullptr;
  uint32_t top_ = 0;
  // MagazineCache: fast-path frees while top_ is below it; <= cap_. Kept
  // at 0 while no object is held (with Config::kChecks), so that the free
  // that starts holding one takes the slow path and the fast path never
  // tests held_ for null.
  uint32_t limit_ = 0;
  void* held_ = nullptr;  // the last object freed, encoded (Push)
  std::atomic<uint64_t> allocs_{0};
  std::atomic<uint64_t> frees_{0};
  ObjectCheck check_{};  // this class's object starts (IsObjectStart)
  // The rest is for slow paths.
  uint32_t cap_ = 0;  // 0 until the stack is mapped
  uint32_t rng_ = 0;  // hardened build: reuse-order randomness
  AllocIter iter_;
  SlagAllocator slags_;
  ClassPool* pool_ = nullptr;
  PageAlloc::Handle* pages_ = nullptr;
  size_t want_capacity_ = 0;
  FirstStacks* firsts_ = nullptr;  // see Setup
  uint32_t first_index_ = 0;
  void** first_stack_ = nullptr;  // first_index_'s, once taken from firsts_
  uint32_t stack_retry_ = 0;      // EnsureStack calls left before a new map try
  // Bytes from the stack mapping's start this cache (or an earlier owner of
  // a spare stack) may have written: what keeping the stack costs.
  size_t stack_touched_ = 0;
};

// The whole allocation path of front-end `fe` (a MagazineCache or
// LocalCache) used on its own, as size-specific allocators do: Heap runs
// the same steps itself, with the idle sweep and reclaim-and-retry between
// them. nullptr (errno ENOMEM) if no memory could be had.
template <typename FE>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void* AllocFrom(FE& fe) {
  void* p = fe.TryAlloc();
  if (ABSL_PREDICT_FALSE(p == nullptr)) {
    p = fe.AllocUnrefreshed();
    if (p == nullptr) p = fe.AllocRefreshing();
  }
  return p;
}

// --- Slow paths ------------------------------------------------------------

template <typename Config>
void* CacheBase<Config>::RefreshAndAlloc() {
  EnsureSlags();
  // A refreshed slag always has a free object (it was kept or pushed with at
  // least `cutoff` >= 1, or is a whole page); two tries cover a slag whose
  // objects another thread's bulk free had not yet published.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!slags_.Refresh(&iter_)) return nullptr;
    if (void* p = FromSlag(kHardened ? iter_.NextRandom() : iter_.Next())) {
      CountEvent(Event::kSlagAlloc);
      return p;
    }
  }
  errno = ENOMEM;
  return nullptr;
}

template <typename Config>
bool CacheBase<Config>::EnsureStack() {
  if (stack_ != nullptr) return true;
  if (first_stack_ == nullptr && firsts_ != nullptr) {
    first_stack_ = firsts_->Get(first_index_);
  }
  if (first_stack_ != nullptr) {
    stack_ = first_stack_;
    cap_ = static_cast<uint32_t>(want_capacity_ < kFirstStackEntries
                                     ? want_capacity_
                                     : kFirstStackEntries);
    return true;
  }
  return MapStack();
}

template <typename Config>
bool CacheBase<Config>::MapStack() {
  // After a failed map, the next kStackRetryFrees frees go straight to
  // their slags without asking again: out of address space, a failing map
  // on every free would make freeing millions of objects take minutes.
  if (stack_retry_ != 0) {
    --stack_retry_;
    return false;
  }
  void* mem = TakeStack(pool_, StackMapBytes(want_capacity_), &stack_touched_);
  if (mem == nullptr) {
    stack_retry_ = kStackRetryFrees;
    return false;
  }
  stack_ =
      reinterpret_cast<void**>(static_cast<char*>(mem) + StackOffset(pool_));
  cap_ = static_cast<uint32_t>(want_capacity_);
  return true;
}

template <typename Config>
void CacheBase<Config>::GrowStack() {
  void** const first = stack_;
  if (!MapStack()) return;
  std::memcpy(stack_, first, top_ * sizeof(void*));
  NoteStackUse(top_);
}

template <typename Config>
void CacheBase<Config>::NoteStackUse(uint32_t entries) {
  if (stack_ == first_stack_) return;  // the owner's memory
  const size_t touched = StackOffset(pool_) + size_t{entries} * sizeof(void*);
  if (touched > stack_touched_) stack_touched_ = touched;
}

template <typename Config>
void CacheBase<Config>::ReturnObjects(void* const* objects, size_t n) {
  if (n == 0) return;
  EnsureSlags();
  CountEvent(Event::kBulkRemoteFree, n);
  // Direct-mapped coalescing table: one cell per (slag, bitset word). The
  // original sized it at 2x the magazine (up to 3 MiB); a small table on the
  // stack catches the common case (objects of a few slags, freed in runs)
  // and a collision just flushes the older cell early.
  struct Cell {
    Slag* slag;
    size_t word;
    uint64_t mask;
  };
  constexpr size_t kCells = 64;
  // Only the cells whose bit is set in `used` are valid: zeroing the table
  // and scanning every cell would cost more than the objects themselves for
  // the small returns of a magazine at its minimum limit.
  Cell cells[kCells];
  uint64_t used = 0;
  Cell none{nullptr, 0, 0};
  ClassPool* const pool = pool_;
  const SlagGeometry& g = pool->geom;
  const uintptr_t slag_mask = g.slag_bytes - 1;
  // Objects usually come back in runs from one bitset word (allocation
  // order), so the cell of the previous object is tried first; and when an
  // object is the one right after the previous, in the same word and not
  // past the last object, its bit is the previous one's shifted by
  // bits_per_object: no geometry to compute or check (a magazine trimmed
  // after a run of allocations and frees in order is all such objects).
  Cell* last = &none;
  uintptr_t next_addr = 0;  // the object after the previous one
  uint64_t next_mask = 0;   // its bit in last->word; 0: none
  const size_t bpo = g.bits_per_object;
  const size_t n_bits = g.n_objects * bpo;
  // The bit, in the same `word`, of the object after the one at `mask`; 0
  // past bit 63 or past the last object (the general path decides then).
  const auto next_in_word = [bpo, n_bits](size_t word, uint64_t mask) {
    const size_t bit =
        word * kBitsPerWord + static_cast<size_t>(__builtin_ctzll(mask)) + bpo;
    return bpo < kBitsPerWord && bit < n_bits ? mask << bpo : uint64_t{0};
  };
  Slag* checked = nullptr;  // the last slag whose pool was verified
  for (size_t i = 0; i < n; ++i) {
    void* p = DecodeCached<kHardened>(objects[i]);
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    if (a == next_addr && next_mask != 0) {
      if (ABSL_PREDICT_FALSE((last->mask & next_mask) != 0)) {
        ReportDoubleFree(p);
      }
      last->mask |= next_mask;
      next_addr += g.object_size;
      next_mask = next_in_word(last->word, next_mask);
      continue;
    }
    Slag* s = reinterpret_cast<Slag*>(a & ~slag_mask);
    if (s != checked) {
      if (ABSL_PREDICT_FALSE(s->pool != pool)) {
        alloc_fmt::Fatal(
            "elfmalloc: free(): pointer from another heap or size class %p", p);
      }
      checked = s;
    }
    BitPos pos;
    if (ABSL_PREDICT_FALSE(!BitAt(g, a & slag_mask, &pos))) {
      alloc_fmt::Fatal("elfmalloc: free(): invalid pointer %p", p);
    }
    next_addr = a + g.object_size;
    next_mask = next_in_word(pos.word, pos.mask);
    if (last->slag == s && last->word == pos.word) {
      if (ABSL_PREDICT_FALSE((last->mask & pos.mask) != 0)) {
        ReportDoubleFree(p);
      }
      last->mask |= pos.mask;
      continue;
    }
    const size_t h = (((reinterpret_cast<uintptr_t>(s) >> 18) + pos.word) *
                      0x9E3779B97F4A7C15u) >>
                     (64 - 6);
    static_assert(kCells == 64, "the hash keeps 6 bits");
    Cell& c = cells[h];
    last = &c;
    const uint64_t bit = uint64_t{1} << h;
    if ((used & bit) != 0) {
      if (c.slag == s && c.word == pos.word) {
        if (ABSL_PREDICT_FALSE((c.mask & pos.mask) != 0)) {
          ReportDoubleFree(p);
        }
        c.mask |= pos.mask;
        continue;
      }
      slags_.BulkFree(c.slag, c.word, c.mask);
    }
    used |= bit;
    c = Cell{s, pos.word, pos.mask};
  }
  for (; used != 0; used &= used - 1) {
    const Cell& c = cells[__builtin_ctzll(used)];
    slags_.BulkFree(c.slag, c.word, c.mask);
  }
}

template <typename Config>
void* CacheBase<Config>::TakeHeld() {
  void* const p = DecodeCached<kHardened>(held_);
  held_ = nullptr;
  if (p == nullptr) return nullptr;
  CountEvent(Event::kCacheAlloc);
  if constexpr (kHardened) CheckCachedObject(*pool_, p);
  // Like the objects a full stack returns (ReturnObjects), the held object
  // leaves the cache on a slow path, so it is checked against its slag:
  // its bit is clear while it is cached, because the cache owns it. A set
  // bit means it was also freed elsewhere, typically by another thread
  // whose cache gave it back. One load of a bitset word.
  if (Config::kChecks && IsFreeInSlag(*pool_, p)) ReportDoubleFree(p);
  return p;
}

template <typename Config>
void CacheBase<Config>::TrimObjectsAndSlag() {
  if (held_ != nullptr) {
    ReturnObjects(&held_, 1);
    held_ = nullptr;
  }
  if (top_ != 0) {
    ReturnObjects(stack_, top_);
    top_ = 0;
  }
  slags_.Shutdown(&iter_);
}

template <typename Config>
void CacheBase<Config>::Shutdown() {
  if (held_ != nullptr) {
    ReturnObjects(&held_, 1);
    held_ = nullptr;
  }
  if (stack_ != nullptr) {
    ReturnObjects(stack_, top_);
    if (stack_ != first_stack_) {
      ReturnStack(pool_, reinterpret_cast<char*>(stack_) - StackOffset(pool_),
                  StackMapBytes(want_capacity_), stack_touched_);
    }
    stack_ = nullptr;
    stack_touched_ = 0;
    top_ = 0;
    cap_ = 0;
  }
  slags_.Shutdown(&iter_);
}

template <typename Config>
bool CacheBase<Config>::CheckCached(uint32_t limit, uint32_t extra_at,
                                    uint32_t extra, const char** what) const {
  if (stack_ == nullptr) {
    if (top_ != 0 || cap_ != 0 || extra != 0 || held_ != nullptr) {
      *what = "cache holds pointers but has no stack";
      return false;
    }
    return true;
  }
  if (!(top_ <= limit && limit <= cap_ && extra_at + extra <= cap_)) {
    *what = "cache top/limit/capacity out of order";
    return false;
  }
  if (!CheckObjects(stack_, top_, what) ||
      !CheckObjects(stack_ + extra_at, extra, what)) {
    return false;
  }
  return held_ == nullptr || CheckObjects(&held_, 1, what);
}

template <typename Config>
bool CacheBase<Config>::CheckObjects(void* const* objects, size_t n,
                                     const char** what) const {
  const SlagGeometry& g = pool_->geom;
  const uintptr_t slag_mask = g.slag_bytes - 1;
  for (size_t k = 0; k < n; ++k) {
    const void* p = DecodeCached<kHardened>(objects[k]);
    BitPos pos;
    if (p == nullptr || SlagOf(p, g.slag_bytes)->pool != pool_ ||
        !BitAt(g, reinterpret_cast<uintptr_t>(p) & slag_mask, &pos)) {
      *what = "cached pointer is not an object of the cache's class";
      return false;
    }
    if (pool_->map_tag != 0 && GlobalPageMap().Get(p) != pool_->map_tag) {
      *what = "cached pointer not tagged with its class in the page map";
      return false;
    }
    if (IsFreeInSlag(*pool_, p)) {
      *what = "cached pointer is also free in its slag";
      return false;
    }
  }
  return true;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_CACHE_BASE_H_
