// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Test helpers for slab_alloc: clocks the tests control, and a backing
// provider over object_alloc_test's LeakyAlloc that counts slabs and can be
// told to fail. Test-only.

#ifndef SLAB_ALLOC_INTERNAL_TEST_SUPPORT_H_
#define SLAB_ALLOC_INTERNAL_TEST_SUPPORT_H_

#include <chrono>
#include <cstddef>
#include <optional>

#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc/object_alloc.h"
#include "object_alloc_test/leaky_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace testing {

// The time a FakeClock reports, owned by the test and shared by every copy
// of the clock (the cache keeps its own copy).
struct FakeTime {
  std::chrono::nanoseconds now{0};
  size_t reads = 0;

  void Advance(std::chrono::nanoseconds d) { now += d; }
};

// A Clock that reports *time. Thread-compatible.
struct FakeClock {
  FakeTime* time;
  std::chrono::nanoseconds Now() const {
    ++time->reads;
    return time->now;
  }
};

// A Clock that jumps an hour forward at every read, so every reclamation
// check ends a working period: caches using it release their idle free
// slabs as early as the policy allows. Each copy has its own time.
struct TickingClock {
  std::chrono::nanoseconds now{0};
  std::chrono::nanoseconds Now() {
    now += std::chrono::hours(1);
    return now;
  }
};

// What a LeakyBacking has handed out. Shared through a pointer.
struct BackingStats {
  size_t aligned_allocs = 0;
  size_t large_allocs = 0;
  size_t deallocs = 0;
  size_t fail_next = 0;  // the next N block allocations return nullptr
  size_t live() const { return aligned_allocs + large_allocs - deallocs; }
};

// An untyped object allocator of blocks of one layout from a LeakyAlloc,
// so released slabs stay readable. Copyable.
class LeakyBlockAlloc {
 public:
  LeakyBlockAlloc(object_alloc_test::LeakyAlloc* leaky,
                  object_alloc::Layout layout, BackingStats* stats,
                  bool aligned)
      : leaky_(leaky), layout_(layout), stats_(stats), aligned_(aligned) {}

  object_alloc::Layout layout() const { return layout_; }

  void* Alloc() {
    if (stats_ != nullptr) {
      if (stats_->fail_next > 0) {
        --stats_->fail_next;
        return nullptr;
      }
      ++(aligned_ ? stats_->aligned_allocs : stats_->large_allocs);
    }
    return leaky_->Alloc(layout_.size, layout_.align);
  }

  void Dealloc(void* p) {
    if (stats_ != nullptr) ++stats_->deallocs;
    leaky_->Dealloc(p, layout_.size, layout_.align);
  }

 private:
  object_alloc_test::LeakyAlloc* leaky_;
  object_alloc::Layout layout_;
  BackingStats* stats_;
  bool aligned_;
};

// Which aligned slab sizes a LeakyBacking accepts.
enum class AlignedPolicy {
  kPageOnly,  // exactly one page: the original test's rule (and mmap's)
  kAny,       // any power of two
  kNone,      // none: always large slabs
};

// A backing provider (backing.h) over a LeakyAlloc that outlives the cache.
struct LeakyBacking {
  using Aligned = LeakyBlockAlloc;
  using Large = LeakyBlockAlloc;

  object_alloc_test::LeakyAlloc* leaky;
  AlignedPolicy policy = AlignedPolicy::kPageOnly;
  BackingStats* stats = nullptr;

  std::optional<Aligned> GetAligned(object_alloc::Layout layout) const {
    const bool ok = policy == AlignedPolicy::kAny ||
                    (policy == AlignedPolicy::kPageOnly &&
                     layout.size == mmap_alloc::PageSize());
    if (!ok) return std::nullopt;
    return LeakyBlockAlloc(leaky, layout, stats, /*aligned=*/true);
  }
  Large GetLarge(object_alloc::Layout layout) const {
    return LeakyBlockAlloc(leaky, layout, stats, /*aligned=*/false);
  }
};

}  // namespace testing
}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_INTERNAL_TEST_SUPPORT_H_
