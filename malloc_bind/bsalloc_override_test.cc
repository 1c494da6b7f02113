// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C-API conformance suite through the real symbols of a program whose
// malloc is bsalloc (cc_test malloc = ":bsalloc_malloc").

#include <malloc.h>
#include <stdlib.h>

#include "malloc_bind/c_api_conformance.h"

// C23 names glibc 2.36 does not declare yet.
extern "C" void free_sized(void* p, size_t size) noexcept;
extern "C" void free_aligned_sized(void* p, size_t align, size_t size) noexcept;

namespace allocators {
namespace malloc_bind {
namespace {

const CApiTable kOverride = {
    "bsalloc_override", &::malloc,        &::free,    &::calloc,
    &::realloc,         &::reallocarray,  &::posix_memalign,
    &::aligned_alloc,   &::memalign,      &::valloc,  &::pvalloc,
    &::malloc_usable_size, &::free_sized, &::free_aligned_sized};

INSTANTIATE_TEST_SUITE_P(BsallocOverride, CApiConformanceTest,
                         ::testing::Values(&kOverride),
                         CApiConformanceTest::Name);

// The override is really in place: bsalloc blocks carry a 16-byte header
// after a page boundary, so small blocks sit 16 bytes into a page.
TEST(BsallocOverrideTest, MallocIsBsalloc) {
  void* p = malloc(24);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 4096, 16u);
  free(p);
}

}  // namespace
}  // namespace malloc_bind
}  // namespace allocators
