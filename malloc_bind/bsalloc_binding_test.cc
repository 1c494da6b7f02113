// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C-API conformance suite over bsalloc, through prefixed symbols
// (bs_malloc, bs_free, ...): the same layer that gives libelfmalloc.so,
// bound to a second allocator. It runs twice: over BsallocBinding, whose
// calloc is malloc_bind's Alloc plus memset, and over a binding that adds
// the AllocZeroed hook, whose calloc goes through the hook.

#include "malloc_bind/bsalloc_binding.h"

#include <atomic>
#include <cstddef>
#include <cstring>

#include "malloc_bind/c_api_conformance.h"
#include "malloc_bind/malloc_bind.h"

namespace allocators {
namespace malloc_bind {
namespace {

// BsallocBinding with an AllocZeroed hook that clears and counts.
struct ZeroingBsallocBinding : BsallocBinding {
  static inline std::atomic<size_t> zeroed_calls{0};
  static void* AllocZeroed(size_t size) {
    zeroed_calls.fetch_add(1, std::memory_order_relaxed);
    void* p = Alloc(size);
    if (p != nullptr) std::memset(p, 0, size);
    return p;
  }
};

}  // namespace
}  // namespace malloc_bind
}  // namespace allocators

MALLOC_BIND_DEFINE_C(bs_, ::allocators::malloc_bind::BsallocBinding)
MALLOC_BIND_DEFINE_C(bsz_, ::allocators::malloc_bind::ZeroingBsallocBinding)

namespace allocators {
namespace malloc_bind {
namespace {

const CApiTable kBsalloc = MALLOC_BIND_TABLE("bsalloc", bs_);
const CApiTable kBsallocZeroing = MALLOC_BIND_TABLE("bsalloc_zeroing", bsz_);

INSTANTIATE_TEST_SUITE_P(Bsalloc, CApiConformanceTest,
                         ::testing::Values(&kBsalloc, &kBsallocZeroing),
                         CApiConformanceTest::Name);

TEST(BsallocZeroingTest, CallocGoesThroughTheHook) {
  const size_t before = ZeroingBsallocBinding::zeroed_calls.load();
  void* p = bsz_calloc(10, 10);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ZeroingBsallocBinding::zeroed_calls.load(), before + 1);
  bsz_free(p);
  p = bs_calloc(10, 10);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ZeroingBsallocBinding::zeroed_calls.load(), before + 1);
  bs_free(p);
}

}  // namespace
}  // namespace malloc_bind
}  // namespace allocators
