// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// DepotCache<Config> ("elfmalloc-depot"): the magazine layer of Bonwick
// and Adams ("Magazines and Vmem", 2001), the original's third front-end.
// Each thread holds two magazines per class, the loaded one (the stack the
// fast paths use) and the previous one, each either full or empty when not
// loaded. An allocation pops the loaded magazine; when it is empty and the
// previous one is full, the two swap; when both are empty, a full one
// comes from the class's depot (depot.h) and the empty previous one goes
// there. A free pushes onto the loaded magazine; when it is full and the
// previous one is empty, the two swap; when both are full, the previous
// one goes to the depot and an empty one comes back. Swapping gives every
// thread a magazine's worth of hysteresis, so a thread that alternates
// allocations and frees at a boundary never trades with the depot twice
// in a row, and the depot moves whole magazines between threads under one
// short lock. When the magazines and the depot have nothing, the thread
// allocates from its claimed slag as every front-end does.
//
// The last freed object is held back from reuse as in MagazineCache
// (CacheBase::Push), and the same checks apply. Not for the hardened
// build, whose encoded pointers and random reuse order the magazines do
// not implement.
//
// Thread-compatible: each cache belongs to one thread; the depot is
// thread-safe.

#ifndef ELFMALLOC_INTERNAL_DEPOT_CACHE_H_
#define ELFMALLOC_INTERNAL_DEPOT_CACHE_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "elfmalloc/internal/cache_base.h"
#include "elfmalloc/internal/depot.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/internal/slag_geometry.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

template <typename Config>
class DepotCache : public CacheBase<Config> {
  using Base = CacheBase<Config>;
  static_assert(!Config::kHardened && !Config::kConstructs,
                "DepotCache caches plain pointers of untyped heaps");

 public:
  static constexpr const char* kFrontEndName = "depot";
  // ELFMALLOC_MAGAZINE_SIZE caps the rounds of a magazine.
  static constexpr bool kCappable = true;
  static constexpr bool kStartsSmall = false;
  static size_t CapacityFor(const SlagGeometry& g) {
    return DepotMagazineRounds(g.object_size);
  }

  DepotCache() = default;
  DepotCache(const DepotCache&) = delete;
  DepotCache& operator=(const DepotCache&) = delete;

  // The allocation fast path: the loaded magazine's top object; nullptr
  // when it is empty. Unlike the other front-ends, the claimed slag comes
  // later (AllocUnrefreshed), after the cached magazines, so that a full
  // previous magazine is used before new objects are.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void* TryAlloc() {
    if (ABSL_PREDICT_TRUE(top_ != 0)) return Pop();
    return nullptr;
  }

  // The loaded magazine is empty: the previous magazine if it is full,
  // else a full one from the depot, else the claimed slag's current bitset
  // word, else the held-back object; nullptr if none of them has one.
  void* AllocUnrefreshed() {
    if (prev_ != nullptr && prev_->count != 0) {
      Swap();
      return Pop();
    }
    if (MagazineDepot* depot = pool_->depot) {
      if (Magazine* full = depot->TakeFull()) {
        Magazine* spare = prev_;  // empty
        prev_ = Unload();         // empty too
        Load(full);
        if (spare != nullptr) GiveEmpty(spare);
        return Pop();
      }
    }
    if (void* p = iter_.Next()) {
      Base::Bump(allocs_);
      Base::CountEvent(Event::kSlagAlloc);
      return p;
    }
    if (held_ == nullptr) return nullptr;
    limit_ = 0;  // nothing held: the next free goes to FreeSlow
    void* p = Base::TakeHeld();
    Base::Bump(allocs_);
    return p;
  }

  // Claims a new slag and allocates from it; nullptr (errno ENOMEM) if no
  // memory could be had.
  void* AllocRefreshing() {
    void* p = Base::RefreshAndAlloc();
    if (p != nullptr) Base::Bump(allocs_);
    return p;
  }

  // kCheckLast: see CacheBase::FreeUnderLimit.
  template <bool kCheckLast = true>
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Free(void* p) {
    if (!Base::template FreeUnderLimit<kCheckLast>(p)) FreeSlow(p);
  }

  // Returns the objects of both magazines and the held object to their
  // slags, or hands full magazines to the depot; the magazines go to the
  // depot (or are deleted). The cache starts over lazily.
  void Shutdown() {
    Magazine* loaded = Unload();
    for (Magazine* m : {loaded, prev_}) {
      if (m == nullptr) continue;
      if (m->full()) {
        PutFull(m);
      } else {
        ReturnAll(m);
        GiveEmpty(m);
      }
    }
    prev_ = nullptr;
    cap_ = 0;
    limit_ = 0;
    Base::Shutdown();
  }

  // The idle-cache trim: every cached object goes back to its slag, and
  // the claimed slag too; the magazines stay.
  void Trim() {
    if (prev_ != nullptr) ReturnAll(prev_);
    Base::TrimObjectsAndSlag();  // the loaded magazine and the held object
    if (Config::kChecks) limit_ = 0;
  }

  // Returns the objects of every full magazine in the class's depot to
  // their slags, keeping the magazines (Release, and before address
  // space is reclaimed).
  void DrainDepot() {
    MagazineDepot* depot = pool_->depot;
    if (depot == nullptr) return;
    ReturnList(depot->TakeAllFull());
  }

  // The depot's working-set trim (MagazineDepot::TakeIdle): the objects
  // of the full magazines no cache took since the last trim go back to
  // their slags.
  void TrimDepot() {
    MagazineDepot* depot = pool_->depot;
    if (depot == nullptr) return;
    ReturnList(depot->TakeIdle());
  }

  bool HoldsMemory() const {
    return Base::HoldsMemory() || (prev_ != nullptr && prev_->count != 0);
  }
  size_t cached() const {
    return Base::cached() + (prev_ != nullptr ? prev_->count : 0);
  }
  // The objects of the previous magazine (tests).
  uint32_t previous_count() const {
    return prev_ != nullptr ? prev_->count : 0;
  }

  // See CacheBase::CheckCached, for the loaded magazine; also: the
  // previous magazine is full or empty and holds objects of the class, as
  // does every full magazine of the depot; and a limit only while an
  // object is held (as MagazineCache).
  bool CheckInvariants(const char** what) const {
    if (Config::kChecks && limit_ != 0 && held_ == nullptr) {
      *what = "depot cache: fast-path frees allowed with no held object";
      return false;
    }
    if (limit_ > cap_) {
      *what = "depot cache: limit beyond the magazine";
      return false;
    }
    if (!Base::CheckCached(cap_, 0, 0, what)) return false;
    if (prev_ != nullptr) {
      if (prev_->count != 0 && !prev_->full()) {
        *what = "depot cache: previous magazine neither full nor empty";
        return false;
      }
      if (!Base::CheckObjects(prev_->rounds(), prev_->count, what)) {
        return false;
      }
    }
    const MagazineDepot* depot = pool_->depot;
    return depot == nullptr ||
           depot->ForEachFull([&](const Magazine& m) {
             if (!m.full()) {
               *what = "depot holds a magazine that is not full";
               return false;
             }
             return Base::CheckObjects(m.rounds(), m.count, what);
           });
  }

 private:
  using Base::allocs_;
  using Base::cap_;
  using Base::held_;
  using Base::iter_;
  using Base::limit_;
  using Base::pool_;
  using Base::slags_;
  using Base::stack_;
  using Base::top_;
  using Base::want_capacity_;

  // Fast-path frees may fill the loaded magazine, once an object is held
  // (with the checks; MagazineCache's rule).
  uint32_t LimitNow() const {
    return Config::kChecks && held_ == nullptr ? 0 : cap_;
  }

  // Makes `m` the loaded magazine: the stack of the fast paths.
  void Load(Magazine* m) {
    loaded_ = m;
    stack_ = m->rounds();
    top_ = m->count;
    cap_ = m->capacity;
    limit_ = LimitNow();
  }
  // Takes the loaded magazine out of the fast paths (nullptr if none).
  Magazine* Unload() {
    Magazine* m = loaded_;
    if (m != nullptr) m->count = top_;
    loaded_ = nullptr;
    stack_ = nullptr;
    top_ = 0;
    cap_ = 0;
    limit_ = 0;
    return m;
  }
  void Swap() {
    Magazine* m = prev_;
    prev_ = Unload();
    Load(m);
  }
  void* Pop() {
    Base::Bump(allocs_);
    Base::CountEvent(Event::kCacheAlloc);
    return stack_[--top_];
  }

  // An empty magazine from the depot, else a new one; nullptr if bsalloc
  // has no memory.
  Magazine* TakeEmpty() {
    if (MagazineDepot* depot = pool_->depot) {
      if (Magazine* m = depot->TakeEmpty()) return m;
    }
    return NewMagazine(static_cast<uint32_t>(want_capacity_));
  }
  void GiveEmpty(Magazine* m) {
    MagazineDepot* depot = pool_->depot;
    if (depot == nullptr || !depot->PutEmpty(m)) DeleteMagazine(m);
  }
  // Hands full magazine `m` to the depot; what the depot evicts (or `m`
  // itself, without a depot) has its objects returned to their slags.
  void PutFull(Magazine* m) {
    MagazineDepot* depot = pool_->depot;
    Magazine* out = depot != nullptr ? depot->PutFull(m) : m;
    if (out != nullptr) {
      ReturnAll(out);
      GiveEmpty(out);
    }
  }
  // Returns the objects of a list of magazines linked by `next`, and the
  // magazines as empty ones.
  void ReturnList(Magazine* m) {
    while (m != nullptr) {
      Magazine* next = m->next;
      m->next = nullptr;
      ReturnAll(m);
      GiveEmpty(m);
      m = next;
    }
  }
  void ReturnAll(Magazine* m) {
    Base::ReturnObjects(m->rounds(), m->count);
    m->count = 0;
  }

  void FreeSlow(void* p);

  Magazine* loaded_ = nullptr;  // its rounds are stack_; count is top_
  Magazine* prev_ = nullptr;    // full or empty
};

template <typename Config>
void DepotCache<Config>::FreeSlow(void* p) {
  Base::CheckNotLastFreed(p);
  if (loaded_ == nullptr || top_ >= cap_) {
    if (loaded_ != nullptr && prev_ != nullptr && prev_->count == 0) {
      Swap();  // full for empty
    } else {
      Magazine* empty = TakeEmpty();
      if (empty == nullptr) {
        // No memory for a magazine: straight back to the slag.
        Base::EnsureSlags();
        slags_.Free(p);
        return;
      }
      // Both full (or none loaded yet): the previous one goes to the depot
      // and the full loaded one becomes the previous one.
      if (prev_ != nullptr) {
        if (prev_->count != 0) {
          PutFull(prev_);
        } else {
          GiveEmpty(prev_);
        }
      }
      prev_ = Unload();  // nullptr on the cache's first free
      Load(empty);
    }
  }
  Base::Push(p);
  limit_ = LimitNow();
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_DEPOT_CACHE_H_
