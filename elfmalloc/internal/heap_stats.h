// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A snapshot of a heap's counters (Heap::Stats), as the statistics report
// and the public API read them. Every counter is described in
// info/stats.md.

#ifndef ELFMALLOC_INTERNAL_HEAP_STATS_H_
#define ELFMALLOC_INTERNAL_HEAP_STATS_H_

#include <cstddef>
#include <cstdint>

#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/events.h"
#include "elfmalloc/size_classes.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// One size class's counters.
struct ClassStats {
  size_t object_size = 0;
  uint64_t allocs = 0;  // objects handed out, ever
  uint64_t frees = 0;   // objects freed, ever
  size_t slags = 0;     // pages that are slags of this class now
  size_t slag_bytes = 0;
};

struct HeapStats {
  // Slag pages of each size (kSlagBytes): mapped now, and of those, free
  // and given back to the OS (clean), and free but still committed (dirty).
  size_t pages_mapped[kSlagKinds] = {};
  size_t pages_clean[kSlagKinds] = {};
  size_t pages_dirty[kSlagKinds] = {};
  size_t mapped_bytes = 0;  // slag pages mapped, in bytes
  size_t dirty_bytes = 0;   // freed pages still committed
  size_t large_bytes = 0;   // bytes mapped for large objects
  size_t large_count = 0;
  size_t large_cached_bytes = 0;  // freed large blocks kept for reuse
  size_t threads = 0;             // thread caches alive (and the fallback)
  ClassStats classes[kNumClasses];
  // The logging build's event totals, every thread's (events.h), and
  // whether the build counts them.
  bool has_events = false;
  uint64_t events[kEventCount] = {};
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_HEAP_STATS_H_
