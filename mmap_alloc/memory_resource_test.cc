// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// mmap_alloc::Resource: the shared resource checks (testing/
// resource_checks.h): containers, alignment, live blocks unmapped by the
// destructor, and the one-line errors of a bad deallocation.

#include "mmap_alloc/memory_resource.h"

#include "gtest/gtest.h"
#include "mmap_alloc/testing/resource_checks.h"

namespace allocators {
namespace mmap_alloc {
namespace {

TEST(MmapResourceTest, ServesContainers) {
  testing::ExpectResourceServesContainers<Resource>();
}

TEST(MmapResourceTest, DestructorUnmapsLiveBlocks) {
  testing::ExpectDestructorFreesLiveBlocks<Resource>();
}

TEST(MmapResourceDeathTest, Misuse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  testing::ExpectMisuseDies<Resource>("mmap_alloc");
}

}  // namespace
}  // namespace mmap_alloc
}  // namespace allocators
