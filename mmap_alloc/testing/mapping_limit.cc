// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "mmap_alloc/testing/mapping_limit.h"

#include <cerrno>
#include <cstdint>

#include "mmap_alloc/mmap_alloc.h"
#include "platform/testing/proc.h"

namespace allocators {
namespace mmap_alloc {
namespace testing {
namespace {

// vm.max_map_count, or 0 if it cannot be read.
size_t ReadMaxMapCount() {
  const int64_t n =
      platform::testing::ReadProcNumber("/proc/sys/vm/max_map_count");
  return n > 0 ? static_cast<size_t>(n) : 0;
}

// Pages kept whole at the start of the region, beyond one per split.
constexpr size_t kSpare = 64;
// One-page mappings Release() unmaps one by one first.
constexpr size_t kReleasedFirst = 32;

}  // namespace

MappingLimitFiller::MappingLimitFiller() {
  limit_ = ReadMaxMapCount();
  if (limit_ == 0 || limit_ > kMaxLimit) return;
  const size_t page = PageSize();
  pages_ = limit_ + kSpare;
  bytes_ = pages_ * page;
  const MapAlloc map;
  region_ = static_cast<char*>(map.Alloc(bytes_));
  if (region_ == nullptr) return;
  // Page pages_ - 1 - k gets "none" for even k and "read" for odd k: it
  // differs from its right neighbour and from the read-write rest on its
  // left, so each change adds exactly one mapping.
  for (size_t k = 0; k + 1 < pages_; ++k) {
    const unsigned perm = k % 2 == 0 ? kPermNone : kPermRead;
    if (!map.Protect(region_ + (pages_ - 1 - k) * page, page, perm)) {
      full_ = errno == ENOMEM;
      return;
    }
    ++added_;
  }
}

void MappingLimitFiller::Release() {
  if (region_ == nullptr) return;
  const size_t page = PageSize();
  const MapAlloc map;
  // Pages pages_ - 2, pages_ - 3, ... are one-page mappings of their own
  // (the last page may have merged with whatever lies after the region).
  for (size_t k = 1; k <= kReleasedFirst && k < added_; ++k) {
    map.Dealloc(region_ + (pages_ - 1 - k) * page, page);
  }
  map.Dealloc(region_, bytes_);
  region_ = nullptr;
  full_ = false;
}

}  // namespace testing
}  // namespace mmap_alloc
}  // namespace allocators
