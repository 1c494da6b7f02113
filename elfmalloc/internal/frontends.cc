// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/frontends.h"

#include <errno.h>

#include "alloc_fmt/format.h"
#include "elfmalloc/internal/page_map.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

void* CacheBase::AllocSlow() {
  // First, before this cache touches its slags or page handle: the sweep
  // may shut down the thread's other caches, which share the handle.
  if (sweep_ != nullptr) {
    sweep_->refreshed_bytes += pool_->slag_bytes();
    if (sweep_->refreshed_bytes >= kIdleSweepBytes) {
      sweep_->refreshed_bytes = 0;
      sweep_->run(sweep_->arg, this);
    }
  }
  EnsureSlags();
  // A refreshed slag always has a free object (it was kept or pushed with at
  // least `cutoff` >= 1, or is a whole page); two tries cover a slag whose
  // objects another thread's bulk free had not yet published.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!slags_.Refresh(&iter_)) return nullptr;
    if (void* p = iter_.Next()) return p;
  }
  errno = ENOMEM;
  return nullptr;
}

namespace {

// Each class's stack starts at a different cache line of its first page.
// Page-aligned stacks would put the hot top entries of every class (in
// small-object churn, all near the bottom) in the same L1 set, and loads
// from one would 4K-alias with stores to another.
constexpr size_t kStackColors = 64;
constexpr size_t kStackColorBytes = 64;

// Where the stack starts in its mapping: at its colour.
size_t StackOffset(const ClassPool* pool) {
  return (pool->map_tag % kStackColors) * kStackColorBytes;
}

size_t StackMapBytes(size_t capacity) {
  return capacity * sizeof(void*) + kStackColors * kStackColorBytes;
}

// A spare stack of `bytes` for `pool` (StackSpares), with the bytes its
// earlier owners may have written in *touched; nullptr if none.
void* TakeSpareStack(ClassPool* pool, size_t bytes, size_t* touched) {
  StackSpares* spares = pool->spares;
  if (spares == nullptr) return nullptr;
  SpinLockHolder h(&spares->lock);
  for (uint32_t i = pool->n_spare_stacks; i-- > 0;) {
    SpareStack& s = pool->spare_stacks[i];
    if (s.map_bytes != bytes) continue;
    void* mem = s.mem;
    *touched = s.touched;
    spares->touched_bytes -= s.touched;
    s = pool->spare_stacks[--pool->n_spare_stacks];
    return mem;
  }
  return nullptr;
}

// Keeps the stack mapping `mem` for the next cache of `pool`; false if the
// class has kPerClass spares already or the touched bytes would exceed the
// budget (the caller unmaps it then).
bool KeepSpareStack(ClassPool* pool, void* mem, size_t bytes, size_t touched) {
  StackSpares* spares = pool->spares;
  if (spares == nullptr) return false;
  // Whole OS pages are what stays resident.
  const size_t page = mmap_alloc::PageSize();
  touched = (touched + page - 1) & ~(page - 1);
  SpinLockHolder h(&spares->lock);
  if (pool->n_spare_stacks == StackSpares::kPerClass ||
      spares->touched_bytes + touched > StackSpares::kMaxTouchedBytes) {
    return false;
  }
  spares->touched_bytes += touched;
  pool->spare_stacks[pool->n_spare_stacks++] = SpareStack{mem, bytes, touched};
  return true;
}

}  // namespace

size_t DrainSpareStacks(ClassPool* pool) {
  StackSpares* spares = pool->spares;
  if (spares == nullptr) return 0;
  const mmap_alloc::MapAlloc map;
  size_t n = 0;
  for (;;) {
    SpareStack s;
    {
      SpinLockHolder h(&spares->lock);
      if (pool->n_spare_stacks == 0) return n;
      s = pool->spare_stacks[--pool->n_spare_stacks];
      spares->touched_bytes -= s.touched;
    }
    map.Dealloc(s.mem, s.map_bytes);  // outside the (leaf) lock
    ++n;
  }
}

bool CacheBase::EnsureStack() {
  if (stack_ != nullptr) return true;
  // After a failed map, the next kStackRetryFrees frees go straight to
  // their slags without asking again: out of address space, a failing
  // mmap call on every free made freeing 11 million 48-byte objects take
  // half a minute (the RLIMIT_AS scenario).
  if (stack_retry_ != 0) {
    --stack_retry_;
    return false;
  }
  const size_t bytes = StackMapBytes(want_capacity_);
  void* mem = TakeSpareStack(pool_, bytes, &stack_touched_);
  if (mem == nullptr) {
    const mmap_alloc::MapAlloc map;
    mem = map.Alloc(bytes);
    if (mem == nullptr) {
      stack_retry_ = kStackRetryFrees;
      return false;
    }
    stack_touched_ = 0;
  }
  stack_ =
      reinterpret_cast<void**>(static_cast<char*>(mem) + StackOffset(pool_));
  cap_ = static_cast<uint32_t>(want_capacity_);
  return true;
}

void CacheBase::NoteStackUse(uint32_t entries) {
  const size_t touched = StackOffset(pool_) + size_t{entries} * sizeof(void*);
  if (touched > stack_touched_) stack_touched_ = touched;
}

void CacheBase::ReturnObjects(void* const* objects, size_t n) {
  if (n == 0) return;
  EnsureSlags();
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
  // Only the cells whose bit is set in `used` are valid: zeroing 1.5 KiB
  // and scanning every cell at the end cost more than the objects
  // themselves for the small returns of a magazine at its minimum limit.
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
    void* p = DecodeCached(objects[i]);
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    if (a == next_addr && next_mask != 0) {
      if (ABSL_PREDICT_FALSE((last->mask & next_mask) != 0)) {
        alloc_fmt::Fatal("elfmalloc: free(): double free of %p", p);
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
        alloc_fmt::Fatal("elfmalloc: free(): double free of %p", p);
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
          alloc_fmt::Fatal("elfmalloc: free(): double free of %p", p);
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

void* CacheBase::TakeHeld() {
  void* const p = DecodeCached(held_);
  held_ = nullptr;
  if (p == nullptr) return nullptr;
  if (kSecure) SecureCheckCached(p);
  // Like the objects a full stack returns (ReturnObjects), the held object
  // leaves the cache on a slow path, so it is checked against its slag:
  // its bit is clear while it is cached, because the cache owns it. A set
  // bit means it was also freed elsewhere, typically by another thread
  // whose cache gave it back. One load of a bitset word.
  if (kDefaultChecks && IsFreeInSlag(*pool_, p)) DoubleFree(p);
  return p;
}

void CacheBase::TrimObjectsAndSlag() {
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

void CacheBase::Shutdown() {
  if (held_ != nullptr) {
    ReturnObjects(&held_, 1);
    held_ = nullptr;
  }
  if (stack_ != nullptr) {
    ReturnObjects(stack_, top_);
    char* mem = reinterpret_cast<char*>(stack_) - StackOffset(pool_);
    const size_t bytes = StackMapBytes(want_capacity_);
    if (!KeepSpareStack(pool_, mem, bytes, stack_touched_)) {
      const mmap_alloc::MapAlloc map;
      map.Dealloc(mem, bytes);
    }
    stack_ = nullptr;
    stack_touched_ = 0;
    top_ = 0;
    cap_ = 0;
  }
  slags_.Shutdown(&iter_);
}

namespace {

// How much a magazine's limit moves at a time: one slag's objects.
uint32_t LimitStep(const ClassPool* pool) {
  const size_t n = pool->geom.n_objects;
  return static_cast<uint32_t>(n < kMagazineMinLimit ? kMagazineMinLimit : n);
}

}  // namespace

void* MagazineCache::AllocRefresh() {
  if (held_ != nullptr) {
    limit_ = 0;  // nothing held: the next free goes to FreeSlow
    return TakeHeld();
  }
  // The thread allocates more than its cache holds. A run is a sequence of
  // refreshes with (almost) no frees between them: objects the thread took
  // from slags in one go. The limit becomes large enough to keep what the
  // longest run took, so when the thread frees them they stay cached.
  // Adding a slag's worth at every refresh instead (the previous rule)
  // let the limit grow without bound when two threads pass objects to each
  // other: each refresh puts fresh objects into circulation, and only an
  // overflow takes any out (xmalloc reached 40 000 objects per magazine).
  overflows_ = 0;
  const uint32_t step = LimitStep(pool_);
  const uint64_t f = frees();
  run_ = f - frees_at_refresh_ < step / 8 ? run_ + 1 : 1;
  frees_at_refresh_ = f;
  const uint64_t need = uint64_t{run_} * step;
  if (need > target_) {
    target_ =
        static_cast<uint32_t>(need < want_capacity_ ? need : want_capacity_);
  }
  // With the checks, limit_ stays 0 until FreeSlow holds an object again.
  if (cap_ != 0 && !kDefaultChecks) SetLimit(target_);
  return AllocSlow();
}

void* CacheBase::SecureFastAlloc() {
  if (top_ == 0) return iter_.Next();
  const uint32_t x = SecureRandomStep(&rng_, this);
  const uint32_t pick = top_ >= 8 ? top_ - 1 - (x & 7) : top_ - 1 - x % top_;
  void* const chosen = stack_[pick];
  stack_[pick] = stack_[--top_];
  void* p = DecodeCached(chosen);
  SecureCheckCached(p);
  return p;
}

void CacheBase::SecureCheckCached(void* p) const {
  // Validated without touching the slag (its header line is usually cold):
  // the page map must say "a slag of this class", and the offset must be
  // an object start of this class's layout.
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  BitPos pos;
  if (ABSL_PREDICT_FALSE(
          (pool_->map_tag != 0 && GlobalPageMap().Get(p) != pool_->map_tag) ||
          !BitAt(pool_->geom, a & (pool_->slag_bytes() - 1), &pos))) {
    alloc_fmt::Fatal("elfmalloc: malloc(): corrupted thread cache entry %p", p);
  }
}

bool CacheBase::CheckCached(uint32_t limit, uint32_t extra_at, uint32_t extra,
                            const char** what) const {
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
  const SlagGeometry& g = pool_->geom;
  const uintptr_t slag_mask = g.slag_bytes - 1;
  const uint32_t n = top_ + extra + (held_ != nullptr);
  for (uint32_t k = 0; k < n; ++k) {
    const void* p =
        DecodeCached(k < top_           ? stack_[k]
                     : k < top_ + extra ? stack_[extra_at + k - top_]
                                        : held_);
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

void CacheBase::DoubleFree(const void* p) {
  alloc_fmt::Fatal("elfmalloc: free(): double free of %p", p);
}

void MagazineCache::FreeSlow(void* p) {
  // A cache's very first operation, when it is a free of an object from
  // another slag (one handed over by another thread), returns that object
  // to its slag instead of caching it: cached, it would be this thread's
  // next allocation, in a cache line another thread keeps writing
  // (passive false sharing, Hoard's cache-scratch). Later frees are cached
  // as usual (target_ != 0 from here on).
  if (target_ == 0 && stack_ == nullptr &&
      (slags_.slag() == nullptr || !slags_.Contains(p))) {
    target_ = 1;
    EnsureSlags();
    slags_.Free(p);
    return;
  }
  if (!EnsureStack()) {
    // No memory for a stack: free straight to the slag.
    EnsureSlags();
    slags_.Free(p);
    return;
  }
  const uint32_t min_limit =
      cap_ < kMagazineMinLimit ? cap_ : kMagazineMinLimit;
  if (target_ < min_limit) target_ = min_limit;
  if (target_ > cap_) target_ = cap_;
  if (top_ >= target_) {
    // Full. A thread that keeps overflowing without refreshing its slag
    // frees more than it allocates: shrink towards the minimum.
    if (++overflows_ >= kMagazineOverflowsToShrink) {
      overflows_ = 0;
      const uint32_t step = LimitStep(pool_);
      target_ = target_ - min_limit > step ? target_ - step : min_limit;
    }
    // Return the upper half in bulk, keep the lower (older) half.
    const uint32_t keep = target_ / 2;
    if (top_ > keep) {
      ReturnObjects(stack_ + keep, top_ - keep);
      top_ = keep;
    }
  }
  SetLimit(target_);
  CheckNotLastFreed(p);
  Push(p);
}

void* LocalCache::AllocSlowLocal() {
  // The held object goes before the slag is replaced: the stack holds only
  // the current slag's objects.
  if (held_ != nullptr) return TakeHeld();
  // Objects freed into other slags may be what makes one available again.
  FlushRemote();
  void* p = AllocSlow();
  Slag* s = slags_.slag();
  current_slag_ = s == nullptr ? 1 : reinterpret_cast<uintptr_t>(s);
  slag_mask_ = pool_->slag_bytes() - 1;
  return p;
}

void LocalCache::FreeSlow(void* p) {
  EnsureSlags();
  if (!EnsureStack()) {
    slags_.Free(p);  // no memory for a stack: free one at a time
    return;
  }
  remote_cap_ = static_cast<uint32_t>(RemoteBatchFor(pool_->geom.object_size));
  local_cap_ = cap_ - remote_cap_;
  // Both parts of the stack are in use (one slag's worth: small).
  NoteStackUse(cap_);
  if (slags_.Contains(p) && top_ < local_cap_) {
    CheckNotLastFreed(p);
    Push(p);
    return;
  }
  if (remote_ == remote_cap_) FlushRemote();
  stack_[local_cap_ + remote_++] = EncodeCached(p);
}

void LocalCache::FlushRemote() {
  if (remote_ == 0) return;
  ReturnObjects(stack_ + local_cap_, remote_);
  remote_ = 0;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
