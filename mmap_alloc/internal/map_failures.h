// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The state behind mmap_alloc/fault_injection.h, as seen by the allocator.
// Private to //mmap_alloc.

#ifndef MMAP_ALLOC_INTERNAL_MAP_FAILURES_H_
#define MMAP_ALLOC_INTERNAL_MAP_FAILURES_H_

#include <atomic>
#include <cstddef>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {

// Injected map failures still to be handed out. Constant-initialised, so it
// is usable before main. Relaxed ordering is enough: the count does not
// publish any other memory, it only has to be consumed exactly once per unit.
ABSL_CONST_INIT extern std::atomic<size_t> pending_map_failures;

// Takes one injected failure if any is pending (compare-exchange, so that
// racing callers never take more than were injected). Returns true if the
// caller must fail.
ABSL_ATTRIBUTE_NOINLINE bool ConsumeMapFailureSlow();

// Returns true if this map operation must fail with ENOMEM. The common case,
// no failures pending, is a single relaxed load.
inline bool ConsumeMapFailure() {
  if (ABSL_PREDICT_TRUE(pending_map_failures.load(std::memory_order_relaxed) ==
                        0)) {
    return false;
  }
  return ConsumeMapFailureSlow();
}

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_INTERNAL_MAP_FAILURES_H_
