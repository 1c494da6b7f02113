// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/internal/slab_cache.h"

#include <atomic>
#include <cstdint>

namespace allocators {
namespace slab_alloc {
namespace internal {

uint32_t NewCacheId() {
  // Multiplying a counter by an odd constant is a bijection on 32-bit
  // values, so ids stay distinct, and it scatters them away from small
  // integers that are common in memory.
  static std::atomic<uint32_t> counter{0};
  constexpr uint32_t kSpread = 0x9E3779B1u;  // odd (2^32 / golden ratio)
  const uint32_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  const uint32_t id = n * kSpread;
  return id != 0 ? id : kSpread;
}

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators
