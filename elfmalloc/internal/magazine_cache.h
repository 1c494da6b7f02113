// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// MagazineCache<Config>: the default front-end. A stack of freed pointers
// that accepts any object of the class, whichever thread's slag it came
// from. An allocation pops the stack, then takes the next object of the
// claimed slag, then refreshes the slag. When the stack is full, its upper
// half goes back to the slags in one batch: pointers are grouped by (slag,
// bitset word) and each group is returned with one fetch_or and one rc
// update (a bulk free; CacheBase::ReturnObjects).
//
// Capacity (MagazineCapacity): the original computed "512 << 10 / size"
// and "1 << 20 / size", which Rust's precedence evaluates as 512 and 1. The
// authors meant 64 Ki pointers up to 512-byte objects, then 512 KiB worth,
// then 1 MiB worth; a thread that allocated and freed 100 000 small objects
// then kept 4 MiB of them in each class it had used. Here a magazine holds
// at most kMagazineBytes worth of objects (2 to 32 Ki of them), which keeps
// batch-freed classes cheap at no cost in speed. That is the most
// a magazine may hold, not what it always holds: a thread that only frees a
// class (the consumer of a producer-consumer pair) would otherwise hoard up
// a full magazine of every class it sees. So each magazine has a limit
// that starts at kMagazineMinLimit and, when the thread has to refresh its
// slag (it allocates more than its cache gives it), rises to what the
// current run of refreshes took: a slag's worth per refresh since the last
// one that was preceded by frees. A thread that allocates many slags' worth
// and then frees them keeps them all; two threads passing objects to each
// other keep about a slag's worth each. The limit shrinks by a slag's
// worth after kMagazineOverflowsToShrink overflows with no refresh between
// them. (The run is counted with the statistics counters; a build without
// them grows by a slag at every refresh.)
//
// Thread-compatible: each cache belongs to one thread.

#ifndef ELFMALLOC_INTERNAL_MAGAZINE_CACHE_H_
#define ELFMALLOC_INTERNAL_MAGAZINE_CACHE_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "elfmalloc/internal/cache_base.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/internal/slag_geometry.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// Pointers a MagazineCache of objects of `object_size` bytes holds at most.
inline constexpr size_t kMagazineBytes = size_t{256} << 10;
constexpr size_t MagazineCapacity(size_t object_size) {
  const size_t n = kMagazineBytes / object_size;
  return n < 2 ? 2 : n > 32768 ? 32768 : n;
}
static_assert(MagazineCapacity(8) == 32768);
static_assert(MagazineCapacity(64) == 4096);
static_assert(MagazineCapacity(1024) == 256);
static_assert(MagazineCapacity(131072) == 2);

inline constexpr uint32_t kMagazineMinLimit = 64;
inline constexpr uint32_t kMagazineOverflowsToShrink = 3;

template <typename Config>
class MagazineCache : public CacheBase<Config> {
  using Base = CacheBase<Config>;

 public:
  static constexpr const char* kFrontEndName = "magazine";
  static constexpr bool kCappable = true;  // ELFMALLOC_MAGAZINE_SIZE applies
  // Starts on a first stack when its owner gives it one (kFirstStackEntries).
  static constexpr bool kStartsSmall = true;
  static size_t CapacityFor(const SlagGeometry& g) {
    return MagazineCapacity(g.object_size);
  }

  // The held-back object, if any (nullptr otherwise).
  void* AllocUnrefreshed() {
    if (held_ == nullptr) return nullptr;
    limit_ = 0;  // nothing held: the next free goes to FreeSlow
    void* p = Base::TakeHeld();
    Base::Bump(allocs_);
    return p;
  }

  // Claims a new slag and allocates from it; nullptr (errno ENOMEM) if no
  // memory could be had.
  void* AllocRefreshing();

  // kCheckLast: see CacheBase::FreeUnderLimit.
  template <bool kCheckLast = true>
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Free(void* p) {
    if (!Base::template FreeUnderLimit<kCheckLast>(p)) FreeSlow(p);
  }

  void Shutdown() {
    limit_ = 0;
    target_ = 0;
    overflows_ = 0;
    run_ = 0;
    Base::Shutdown();
  }

  // The idle-cache trim: gives back the cached objects and the claimed
  // slag, but keeps the stack and the adaptive limit (target_), so a class
  // that comes back into use starts at the size it had. The held object
  // goes too, so the next free takes the slow path (see limit_).
  void Trim() {
    Base::TrimObjectsAndSlag();
    if (Config::kChecks) limit_ = 0;
  }

  // The current limit (0 until the stack is mapped, and while no object
  // is held), for tests.
  uint32_t limit() const { return limit_; }

  // See CacheBase::CheckCached: top_ <= limit_ <= cap_; and a limit only
  // while an object is held (PushBehindHeld).
  bool CheckInvariants(const char** what) const {
    if (Config::kChecks && limit_ != 0 && held_ == nullptr) {
      *what = "magazine: fast-path frees allowed with no held object";
      return false;
    }
    return Base::CheckCached(limit_, 0, 0, what);
  }

 private:
  using Base::allocs_;
  using Base::cap_;
  using Base::held_;
  using Base::limit_;
  using Base::pool_;
  using Base::slags_;
  using Base::stack_;
  using Base::top_;
  using Base::want_capacity_;

  // How much the limit moves at a time: one slag's objects.
  uint32_t LimitStep() const {
    const size_t n = pool_->geom.n_objects;
    return static_cast<uint32_t>(n < kMagazineMinLimit ? kMagazineMinLimit : n);
  }

  // The limit the stack allows: target_, or less on a first stack.
  uint32_t Limit() const { return target_ < cap_ ? target_ : cap_; }

  void FreeSlow(void* p);

  uint32_t target_ = 0;            // the adaptive limit (0: not yet set)
  uint32_t overflows_ = 0;         // overflows since the last refresh
  uint32_t run_ = 0;               // refreshes in the current run
  uint64_t frees_at_refresh_ = 0;  // frees() at the last refresh
};

template <typename Config>
void* MagazineCache<Config>::AllocRefreshing() {
  // The thread allocates more than its cache holds. A run is a sequence of
  // refreshes with (almost) no frees between them: objects the thread took
  // from slags in one go. The limit becomes large enough to keep what the
  // longest run took, so when the thread frees them they stay cached.
  // Adding a slag's worth at every refresh instead would let the limit grow
  // without bound when two threads pass objects to each other: each refresh
  // puts fresh objects into circulation, and only an overflow takes any
  // out.
  overflows_ = 0;
  const uint32_t step = LimitStep();
  const uint64_t f = Base::frees();
  run_ = f - frees_at_refresh_ < step / 8 ? run_ + 1 : 1;
  frees_at_refresh_ = f;
  const uint64_t need = uint64_t{run_} * step;
  if (need > target_) {
    target_ =
        static_cast<uint32_t>(need < want_capacity_ ? need : want_capacity_);
  }
  // With the checks, limit_ stays 0 until FreeSlow holds an object again.
  if (cap_ != 0 && !Config::kChecks) Base::SetLimit(Limit());
  void* p = Base::RefreshAndAlloc();
  if (p != nullptr) Base::Bump(allocs_);
  return p;
}

template <typename Config>
void MagazineCache<Config>::FreeSlow(void* p) {
  // A cache's very first operation, when it is a free of an object from
  // another slag (one handed over by another thread), returns that object
  // to its slag instead of caching it: cached, it would be this thread's
  // next allocation, in a cache line another thread keeps writing
  // (passive false sharing, Hoard's cache-scratch). Later frees are cached
  // as usual (target_ != 0 from here on).
  if (target_ == 0 && stack_ == nullptr &&
      (slags_.slag() == nullptr || !slags_.Contains(p))) {
    target_ = 1;
    Base::EnsureSlags();
    slags_.Free(p);
    return;
  }
  if (!Base::EnsureStack()) {
    // No memory for a stack: free straight to the slag.
    Base::EnsureSlags();
    slags_.Free(p);
    return;
  }
  const uint32_t min_limit = want_capacity_ < kMagazineMinLimit
                                 ? static_cast<uint32_t>(want_capacity_)
                                 : kMagazineMinLimit;
  if (target_ < min_limit) target_ = min_limit;
  if (target_ > want_capacity_) target_ = static_cast<uint32_t>(want_capacity_);
  // A full first stack moves to a mapped one when the limit allows more.
  if (top_ >= cap_ && target_ > cap_ && Base::CanGrowStack()) {
    Base::GrowStack();
  }
  if (top_ >= Limit()) {
    // Full. A thread that keeps overflowing without refreshing its slag
    // frees more than it allocates: shrink towards the minimum.
    if (++overflows_ >= kMagazineOverflowsToShrink) {
      overflows_ = 0;
      const uint32_t step = LimitStep();
      target_ = target_ - min_limit > step ? target_ - step : min_limit;
    }
    // Return the upper half in bulk, keep the lower (older) half.
    const uint32_t keep = Limit() / 2;
    if (top_ > keep) {
      Base::ReturnObjects(stack_ + keep, top_ - keep);
      top_ = keep;
    }
  }
  Base::SetLimit(Limit());
  Base::CheckNotLastFreed(p);
  Base::Push(p);
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_MAGAZINE_CACHE_H_
