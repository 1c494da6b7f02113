// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Checks shared by the tests of the std::pmr resources that keep a
// BlockRegistry (mmap_alloc's and bsalloc's): containers on the resource,
// alignment, equality, live blocks freed by the destructor, and the
// one-line errors of a bad deallocation.

#ifndef MMAP_ALLOC_TESTING_RESOURCE_CHECKS_H_
#define MMAP_ALLOC_TESTING_RESOURCE_CHECKS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory_resource>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"
#include "platform/testing/proc.h"

namespace allocators {
namespace mmap_alloc {
namespace testing {

// std::pmr containers and absl::flat_hash_map on a fresh R; alignments up
// to 2 MiB; a resource equals itself only.
template <typename R>
void ExpectResourceServesContainers() {
  R r;
  std::pmr::vector<int> v(&r);
  for (int i = 0; i < 200000; ++i) v.push_back(i);
  for (int i = 0; i < 200000; ++i) ASSERT_EQ(v[i], i);
  std::pmr::map<int, std::pmr::string> m(&r);
  for (int i = 0; i < 200; ++i) m.emplace(i, std::pmr::string(100, 'm'));
  EXPECT_EQ(m.at(199).size(), 100u);
  absl::flat_hash_map<int, int, absl::Hash<int>, std::equal_to<int>,
                      std::pmr::polymorphic_allocator<std::pair<const int, int>>>
      f(&r);
  for (int i = 0; i < 10000; ++i) f[i] = -i;
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(f.at(i), -i);
  EXPECT_GT(r.live_blocks(), 200u);
  for (size_t align : {16, 4096, 1 << 16, 1 << 21}) {
    void* p = r.allocate(100, align);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align;
    r.deallocate(p, 100, align);
  }
  EXPECT_TRUE(r.is_equal(r));
  R other;
  EXPECT_FALSE(r.is_equal(other));
}

// 64 live blocks of 1 MiB are unmapped by R's destructor.
template <typename R>
void ExpectDestructorFreesLiveBlocks() {
  const size_t before = platform::testing::TotalMappedBytes();
  {
    R r;
    for (int i = 0; i < 64; ++i) ASSERT_NE(r.allocate(1 << 20, 16), nullptr);
    EXPECT_GE(platform::testing::TotalMappedBytes(),
              before + (size_t{60} << 20));
  }
  EXPECT_LT(platform::testing::TotalMappedBytes(), before + (size_t{4} << 20));
}

// The fatal errors, each "<package>: deallocate(): ..." on one line.
template <typename R>
void ExpectMisuseDies(const std::string& package) {
  const std::string prefix = "^" + package + ": deallocate\\(\\): ";
  R r, other;
  void* p = r.allocate(5000, 16);
  EXPECT_DEATH(r.deallocate(p, 6000, 16),
               prefix + "size mismatch 0x[0-9a-f]+\n$");
  EXPECT_DEATH(r.deallocate(p, 5000, 64),
               prefix + "size mismatch 0x[0-9a-f]+\n$");
  EXPECT_DEATH(other.deallocate(p, 5000, 16),
               prefix + "invalid pointer 0x[0-9a-f]+\n$");
  r.deallocate(p, 5000, 16);
  EXPECT_DEATH(r.deallocate(p, 5000, 16),
               prefix + "double free of 0x[0-9a-f]+\n$");
}

}  // namespace testing
}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_TESTING_RESOURCE_CHECKS_H_
