// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Event counters of the logging build (Config::kEvents, libelfmalloc-
// events.so), the original's print_stats counters: where allocations came
// from, where frees went, the slag transitions and the page sources. Each
// thread counts into its own EventCounters (no sharing on the hot paths);
// a thread logs its counters to stderr in one line about every
// kEventLogAllocs allocations and when it exits, and the statistics report
// prints the heap's totals.
//
// Thread-safety: one writer per EventCounters (its thread); any thread may
// read them (relaxed atomics).

#ifndef ELFMALLOC_INTERNAL_EVENTS_H_
#define ELFMALLOC_INTERNAL_EVENTS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

enum class Event : uint8_t {
  kCacheAlloc,           // an allocation served by the thread's cache
  kSlagAlloc,            // an allocation served by the claimed slag
  kLocalFree,            // a free kept in the thread's cache
  kRemoteFree,           // a free returned to its slag on its own
  kBulkRemoteFree,       // a free returned to its slag in a bulk return
  kTransitionAvailable,  // a slag offered for reuse (its class's bag)
  kTransitionFull,       // a slag whose objects are all free: page back
  kGrabbedAvailable,     // a refresh took a slag offered for reuse
  kGrabbedDirty,         // a new slag's page was a dirty free page
  kGrabbedClean,         // a new slag's page was clean or freshly mapped
};
inline constexpr size_t kEventCount = 10;

// The name of event `e` as the log prints it ("cache_alloc", ...).
const char* EventName(Event e);

// A thread logs its counters about every this many allocations.
inline constexpr uint64_t kEventLogAllocs = uint64_t{1} << 22;

struct EventCounters {
  std::atomic<uint64_t> n[kEventCount] = {};

  // By the owning thread only: a plain add on its own line.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Add(Event e, uint64_t k = 1) {
    std::atomic<uint64_t>& c = n[static_cast<size_t>(e)];
    c.store(c.load(std::memory_order_relaxed) + k, std::memory_order_relaxed);
  }
  uint64_t Get(Event e) const {
    return n[static_cast<size_t>(e)].load(std::memory_order_relaxed);
  }
  uint64_t allocs() const {
    return Get(Event::kCacheAlloc) + Get(Event::kSlagAlloc);
  }
  // Adds `other`'s counts (any thread; atomically).
  void Merge(const EventCounters& other) {
    for (size_t i = 0; i < kEventCount; ++i) {
      n[i].fetch_add(other.n[i].load(std::memory_order_relaxed),
                     std::memory_order_relaxed);
    }
  }
};

// Formats "<prefix> cache_alloc=N slag_alloc=N ... grabbed_clean=N" into
// out[0, cap) (NUL-terminated, cut if it does not fit). Allocation-free.
void FormatEvents(char* out, size_t cap, const char* prefix,
                  const EventCounters& c);

// Writes one line to stderr: "elfmalloc: events of thread <id>: ...".
void LogEvents(uint64_t thread_id, const EventCounters& c);

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_EVENTS_H_
