// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Compiled into //mmap_alloc itself (not into :fault_injection) so that there
// is exactly one counter, the one the allocator reads.

#include "mmap_alloc/fault_injection.h"

#include <atomic>
#include <cstddef>

#include "mmap_alloc/internal/map_failures.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {

ABSL_CONST_INIT std::atomic<size_t> pending_map_failures{0};

bool ConsumeMapFailureSlow() {
  size_t n = pending_map_failures.load(std::memory_order_relaxed);
  while (n != 0) {
    if (pending_map_failures.compare_exchange_weak(
            n, n - 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
      return true;
    }
    // `n` now holds the current value; retry (or stop if it reached zero).
  }
  return false;
}

}  // namespace internal

namespace testing {

void FailNextMaps(size_t n) {
  internal::pending_map_failures.store(n, std::memory_order_relaxed);
}

size_t PendingMapFailures() {
  return internal::pending_map_failures.load(std::memory_order_relaxed);
}

void ClearMapFailures() { FailNextMaps(0); }

}  // namespace testing
}  // namespace mmap_alloc
}  // namespace allocators
