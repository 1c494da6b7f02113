// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The magazine layer's shared part (Bonwick and Adams, "Magazines and
// Vmem", 2001): a magazine is a fixed-size array of cached object
// pointers; each size class of a heap has a depot of full magazines and
// one of empty ones, which DepotCache (depot_cache.h) trades its own
// magazines against. A thread whose two magazines are both full hands one
// to the depot and takes an empty one; a thread whose two are both empty
// takes a full one. So objects freed on one thread reach another thread's
// allocations a magazine at a time, without going through their slags.
//
// The depot is bounded: beyond MaxFull() full magazines, PutFull hands one
// back for its objects to be returned to their slags, and beyond MaxEmpty()
// empty ones PutEmpty refuses, so the caller deletes the magazine.
// Magazines live in bsalloc memory, never in the heap they serve.
//
// Thread-safety: a depot's lists are guarded by a lock it shares with the
// other classes of its heap (HeapCore::depot_lock); a magazine outside the
// depot belongs to one cache.

#ifndef ELFMALLOC_INTERNAL_DEPOT_H_
#define ELFMALLOC_INTERNAL_DEPOT_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "alloc_fmt/spin_lock.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// A magazine: `count` cached (encoded) object pointers in rounds()[0,
// count), room for `capacity`.
struct Magazine {
  Magazine* next;  // on a depot list: the next older one
  Magazine* prev;  // on the full list: the next newer one
  uint32_t count;
  uint32_t capacity;

  void** rounds() { return reinterpret_cast<void**>(this + 1); }
  void* const* rounds() const {
    return reinterpret_cast<void* const*>(this + 1);
  }
  bool full() const { return count == capacity; }
};
static_assert(sizeof(Magazine) % sizeof(void*) == 0);

// An empty magazine of `capacity` rounds, or nullptr if bsalloc has no
// memory. Never calls malloc.
Magazine* NewMagazine(uint32_t capacity);
void DeleteMagazine(Magazine* m);

// The rounds of a class's magazines: about kDepotMagazineBytes of objects,
// at least 2 and at most 256 (so one magazine costs at most 2 KiB).
inline constexpr size_t kDepotMagazineBytes = size_t{64} << 10;
constexpr size_t DepotMagazineRounds(size_t object_size) {
  const size_t n = kDepotMagazineBytes / object_size;
  return n < 2 ? 2 : n > 256 ? 256 : n;
}
static_assert(DepotMagazineRounds(16) == 256);
static_assert(DepotMagazineRounds(1024) == 64);
static_assert(DepotMagazineRounds(size_t{128} << 10) == 2);

// What a depot keeps: about kDepotBytes of objects in full magazines, at
// least 2 and at most 64 magazines, and as many empty ones.
inline constexpr size_t kDepotBytes = size_t{1} << 20;

class MagazineDepot {
 public:
  constexpr MagazineDepot() = default;
  MagazineDepot(const MagazineDepot&) = delete;
  MagazineDepot& operator=(const MagazineDepot&) = delete;
  // Deletes every magazine it holds; their objects are not returned (the
  // heap is going away with its pages).
  ~MagazineDepot();

  // Sets the shared lock and the class's object size (which bounds the
  // depot). REQUIRES: called once, before any other call.
  void Init(SpinLock* lock, size_t object_size);

  // A full magazine, or nullptr if the depot has none.
  Magazine* TakeFull() ABSL_LOCKS_EXCLUDED(*lock_);
  // Adds full magazine `m`. Returns nullptr, or, when the depot was at its
  // bound, its oldest full magazine, whose objects the caller returns to
  // their slags.
  Magazine* PutFull(Magazine* m) ABSL_LOCKS_EXCLUDED(*lock_);
  // An empty magazine, or nullptr if the depot has none.
  Magazine* TakeEmpty() ABSL_LOCKS_EXCLUDED(*lock_);
  // Adds empty magazine `m`; false (m not taken) at the depot's bound.
  bool PutEmpty(Magazine* m) ABSL_LOCKS_EXCLUDED(*lock_);
  // Every full magazine, as a list linked by `next`, leaving none.
  Magazine* TakeAllFull() ABSL_LOCKS_EXCLUDED(*lock_);
  // The depot's working set, as Bonwick's: the full magazines no cache
  // needed since the previous call (as many as the fewest the depot held
  // in between), oldest first, as a list linked by `next`. The caches'
  // idle sweeps call it, so a class the threads stopped using gives its
  // objects back within two sweeps.
  Magazine* TakeIdle() ABSL_LOCKS_EXCLUDED(*lock_);

  // Calls f(const Magazine&) for each full magazine, under the lock (for
  // the invariant checks). Returns false as soon as f does.
  template <typename F>
  bool ForEachFull(F f) const ABSL_LOCKS_EXCLUDED(*lock_) {
    SpinLockHolder h(lock_);
    for (const Magazine* m = full_; m != nullptr; m = m->next) {
      if (!f(*m)) return false;
    }
    return true;
  }

  size_t full_count() const ABSL_LOCKS_EXCLUDED(*lock_);
  size_t empty_count() const ABSL_LOCKS_EXCLUDED(*lock_);
  size_t max_full() const { return max_; }

 private:
  SpinLock* lock_ = nullptr;
  size_t max_ = 0;  // bound on each list
  // Full magazines, newest first; the oldest is at full_tail_.
  Magazine* full_ ABSL_GUARDED_BY(*lock_) = nullptr;
  Magazine* full_tail_ ABSL_GUARDED_BY(*lock_) = nullptr;
  size_t n_full_ ABSL_GUARDED_BY(*lock_) = 0;
  // The fewest full magazines held since the last TakeIdle.
  size_t min_full_ ABSL_GUARDED_BY(*lock_) = 0;
  Magazine* empty_ ABSL_GUARDED_BY(*lock_) = nullptr;
  size_t n_empty_ ABSL_GUARDED_BY(*lock_) = 0;
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_DEPOT_H_
