// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// bsalloc::Resource: mmap_alloc's shared resource checks (containers,
// alignment, live blocks freed by the destructor, the one-line errors of a
// bad deallocation), and blocks that come from bsalloc.

#include "bsalloc/memory_resource.h"

#include <cstdint>

#include "gtest/gtest.h"
#include "mmap_alloc/testing/resource_checks.h"

namespace allocators {
namespace bsalloc {
namespace {

namespace checks = mmap_alloc::testing;

TEST(BsallocResourceTest, ServesContainers) {
  checks::ExpectResourceServesContainers<Resource>();
}

TEST(BsallocResourceTest, DestructorFreesLiveBlocks) {
  checks::ExpectDestructorFreesLiveBlocks<Resource>();
}

// bsalloc's blocks are page-aligned whatever the alignment asked.
TEST(BsallocResourceTest, BlocksArePageAligned) {
  Resource r;
  void* p = r.allocate(24, 8);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 4096, 0u);
  r.deallocate(p, 24, 8);
}

TEST(BsallocResourceDeathTest, Misuse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  checks::ExpectMisuseDies<Resource>("bsalloc");
}

}  // namespace
}  // namespace bsalloc
}  // namespace allocators
