// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// LocalCache<Config> ("elfmalloc-l"): the stack holds only objects of the
// thread's current slag (so it never holds more than one slag's worth);
// every other free goes back to its slag's bitset. Better for
// producer-consumer workloads, and memory stays with the slag it belongs
// to. Unlike the original, which paid two locked instructions per such
// free, those frees are gathered in a batch of kRemoteBatch (fewer for big
// objects: RemoteBatchFor) and returned together (the same coalesced bulk
// free as the magazine's), at the latest when the thread next refreshes its
// slag; buffered workloads, whose frees rarely hit the current slag, would
// otherwise run far slower than glibc.
//
// Thread-compatible: each cache belongs to one thread.

#ifndef ELFMALLOC_INTERNAL_LOCAL_CACHE_H_
#define ELFMALLOC_INTERNAL_LOCAL_CACHE_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "elfmalloc/internal/cache_base.h"
#include "elfmalloc/internal/hardening.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/internal/slag_geometry.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// Frees of other slags are returned in batches of at most kRemoteBatch
// objects and kRemoteBatchBytes: a batched object keeps its whole slag
// from being freed, so batches of big objects would pin many slags.
inline constexpr size_t kRemoteBatch = 256;
inline constexpr size_t kRemoteBatchBytes = size_t{64} << 10;

// The remote-free batch of a LocalCache of `object_size`-byte objects.
constexpr size_t RemoteBatchFor(size_t object_size) {
  const size_t n = kRemoteBatchBytes / object_size;
  return n < 1 ? 1 : n > kRemoteBatch ? kRemoteBatch : n;
}
static_assert(RemoteBatchFor(16) == kRemoteBatch);
static_assert(RemoteBatchFor(1024) == 64);
static_assert(RemoteBatchFor(size_t{512} << 10) == 1);

template <typename Config>
class LocalCache : public CacheBase<Config> {
  using Base = CacheBase<Config>;

 public:
  static constexpr const char* kFrontEndName = "local";
  static constexpr bool kCappable = false;
  // Its stack holds a slag's objects from the start: no first stack.
  static constexpr bool kStartsSmall = false;
  // The stack (one slag's objects) plus the remote-free batch, which lives
  // at its end.
  static size_t CapacityFor(const SlagGeometry& g) {
    return g.n_objects + RemoteBatchFor(g.object_size);
  }

  // The held-back object, if any: it goes before the slag is replaced,
  // because the stack holds only the current slag's objects.
  void* AllocUnrefreshed() {
    if (held_ == nullptr) return nullptr;
    void* p = Base::TakeHeld();
    Base::Bump(allocs_);
    return p;
  }

  // Claims a new slag and allocates from it; nullptr (errno ENOMEM) if no
  // memory could be had.
  void* AllocRefreshing() {
    // Objects freed into other slags may be what makes one available again.
    FlushRemote();
    void* p = Base::RefreshAndAlloc();
    Slag* s = slags_.slag();
    current_slag_ = s == nullptr ? 1 : reinterpret_cast<uintptr_t>(s);
    slag_mask_ = pool_->slag_bytes() - 1;
    if (p != nullptr) Base::Bump(allocs_);
    return p;
  }

  // kCheckLast: as MagazineCache::Free.
  template <bool kCheckLast = true>
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Free(void* p) {
    Base::CountFree();
    if ((reinterpret_cast<uintptr_t>(p) & ~slag_mask_) == current_slag_) {
      if (ABSL_PREDICT_TRUE(top_ < local_cap_)) {
        if constexpr (kCheckLast) Base::CheckNotLastFreed(p);
        Base::Push(p);
        return;
      }
    } else if (ABSL_PREDICT_TRUE(remote_ < remote_cap_)) {
      stack_[local_cap_ + remote_++] = EncodeCached<Config::kHardened>(p);
      return;
    }
    FreeSlow(p);
  }

  // Frees of other slags waiting in the batch (tests).
  uint32_t remote_batched() const { return remote_; }

  // See CacheBase::CheckCached: top_ <= local_cap_, remote_ <= remote_cap_,
  // and local_cap_ + remote_cap_ <= cap_.
  bool CheckInvariants(const char** what) const {
    if (remote_ > remote_cap_) {
      *what = "local cache: remote batch over its capacity";
      return false;
    }
    return Base::CheckCached(local_cap_, local_cap_, remote_, what);
  }

  void Shutdown() {
    FlushRemote();
    local_cap_ = 0;
    remote_cap_ = 0;
    current_slag_ = 1;
    Base::Shutdown();
  }

  // See MagazineCache::Trim. The stack holds only the claimed slag's
  // objects, so it is emptied with the slag.
  void Trim() {
    FlushRemote();
    Base::TrimObjectsAndSlag();
    current_slag_ = 1;
  }

 private:
  using Base::allocs_;
  using Base::cap_;
  using Base::held_;
  using Base::pool_;
  using Base::slags_;
  using Base::stack_;
  using Base::top_;

  void FreeSlow(void* p) {
    Base::EnsureSlags();
    if (!Base::EnsureStack()) {
      slags_.Free(p);  // no memory for a stack: free one at a time
      return;
    }
    remote_cap_ =
        static_cast<uint32_t>(RemoteBatchFor(pool_->geom.object_size));
    local_cap_ = cap_ - remote_cap_;
    // Both parts of the stack are in use (one slag's worth: small).
    Base::NoteStackUse(cap_);
    if (slags_.Contains(p) && top_ < local_cap_) {
      Base::CheckNotLastFreed(p);
      Base::Push(p);
      return;
    }
    if (remote_ == remote_cap_) FlushRemote();
    stack_[local_cap_ + remote_++] = EncodeCached<Config::kHardened>(p);
  }

  void FlushRemote() {
    if (remote_ == 0) return;
    Base::ReturnObjects(stack_ + local_cap_, remote_);
    remote_ = 0;
  }

  // The claimed slag's address and size mask, cached here so that the free
  // fast path needs no dependent loads. 1 (never a slag address) while no
  // slag is claimed.
  uintptr_t current_slag_ = 1;
  uintptr_t slag_mask_ = 0;
  uint32_t local_cap_ = 0;   // stack slots for current-slag objects
  uint32_t remote_cap_ = 0;  // RemoteBatchFor once the stack is mapped
  uint32_t remote_ = 0;      // pointers in the batch at stack_[local_cap_..]
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_LOCAL_CACHE_H_
