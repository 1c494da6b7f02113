// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Misuse is fatal with a one-line message naming the problem: foreign and
// interior pointers, double frees, destroying a cache with live objects, and
// invalid builder arguments.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "alloc_fmt/check.h"
#include "gtest/gtest.h"
#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc/object_alloc.h"
#include "object_alloc_test/leaky_alloc.h"
#include "slab_alloc/internal/test_support.h"
#include "slab_alloc/slab_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace {

using object_alloc::Layout;
using object_alloc_test::LeakyAlloc;
using testing::AlignedPolicy;
using testing::LeakyBacking;

template <size_t N>
struct Blob {
  char b[N];
};

constexpr char kForeign[] =
    "slab_alloc: free of a pointer not from this cache: 0x[0-9a-f]+";
constexpr char kDoubleFree[] = "slab_alloc: double free: 0x[0-9a-f]+";

TEST(SlabAllocDeathTest, PointerFromAnotherCacheAlignedSlabs) {
  auto a = SlabAllocBuilder<Blob<32>>::Default().Build();
  auto b = SlabAllocBuilder<Blob<32>>::Default().Build();
  ASSERT_TRUE(a.uses_aligned_slabs());
  Blob<32>* p = a.Alloc();
  Blob<32>* q = b.Alloc();  // keeps b's slab alive
  EXPECT_DEATH(b.Dealloc(p), kForeign);
  a.Dealloc(p);
  b.Dealloc(q);
}

TEST(SlabAllocDeathTest, PointerFromAnotherCacheLargeSlabs) {
  auto a = SlabAllocBuilder<Blob<1024>>::Default().Build();
  auto b = SlabAllocBuilder<Blob<1024>>::Default().Build();
  ASSERT_FALSE(a.uses_aligned_slabs());
  Blob<1024>* p = a.Alloc();
  Blob<1024>* q = b.Alloc();
  EXPECT_DEATH(b.Dealloc(p), kForeign);
  a.Dealloc(p);
  b.Dealloc(q);
}

TEST(SlabAllocDeathTest, HeapPointerIntoALargeSlabCache) {
  // Large slabs look pointers up in the map, so any pointer is safe to
  // check (no memory around it is read).
  auto cache = SlabAllocBuilder<Blob<8192>>::Default().Build();
  Blob<8192>* keep = cache.Alloc();
  void* heap = std::malloc(8192);
  EXPECT_DEATH(cache.Dealloc(static_cast<Blob<8192>*>(heap)), kForeign);
  std::free(heap);
  cache.Dealloc(keep);
}

TEST(SlabAllocDeathTest, ForeignPointersAroundTheLargeSlabMemo) {
  // Large slabs remember the last slab found through the map; a pointer
  // outside it still goes through the map, and with nothing remembered a
  // stray small address hits a header that belongs to no cache.
  auto a = SlabAllocBuilder<Blob<1024>>::Default().Build();
  auto b = SlabAllocBuilder<Blob<1024>>::Default().Build();
  ASSERT_FALSE(b.uses_aligned_slabs());
  Blob<1024>* keep = b.Alloc();
  Blob<1024>* q = b.Alloc();
  b.Dealloc(q);  // memoises b's slab
  Blob<1024>* p = a.Alloc();
  EXPECT_DEATH(b.Dealloc(p), kForeign);
  EXPECT_DEATH(a.Dealloc(reinterpret_cast<Blob<1024>*>(uintptr_t{0x40})),
               kForeign);
  a.Dealloc(p);
  b.Dealloc(keep);
}

TEST(SlabAllocDeathTest, PointerIntoAPageThatIsNoSlab) {
  // A page-aligned buffer whose first bytes are zero: the masked "header"
  // carries no cache id.
  auto cache = SlabAllocBuilder<Blob<64>>::NoInitialize().Build();
  ASSERT_TRUE(cache.uses_aligned_slabs());
  const size_t page = mmap_alloc::PageSize();
  void* buf = mmap_alloc::MapAlloc().Alloc(page);
  ASSERT_NE(buf, nullptr);
  auto* p = reinterpret_cast<Blob<64>*>(static_cast<char*>(buf) + 128);
  EXPECT_DEATH(cache.Dealloc(p), kForeign);
  mmap_alloc::MapAlloc().Dealloc(buf, page);
}

TEST(SlabAllocDeathTest, InteriorPointer) {
  for (bool aligned : {true, false}) {
    LeakyAlloc leaky;
    auto cache =
        SlabAllocBuilder<Blob<48>>::Default().BuildBacking(LeakyBacking{
            &leaky, aligned ? AlignedPolicy::kPageOnly : AlignedPolicy::kNone});
    ASSERT_EQ(cache.uses_aligned_slabs(), aligned);
    Blob<48>* p = cache.Alloc();
    char* bytes = reinterpret_cast<char*>(p);
    EXPECT_DEATH(cache.Dealloc(reinterpret_cast<Blob<48>*>(bytes + 1)),
                 kForeign);
    EXPECT_DEATH(cache.Dealloc(reinterpret_cast<Blob<48>*>(bytes + 24)),
                 kForeign);
    // The slab header and stack are not objects either.
    const uintptr_t page_base =
        reinterpret_cast<uintptr_t>(p) &
        ~static_cast<uintptr_t>(mmap_alloc::PageSize() - 1);
    EXPECT_DEATH(cache.Dealloc(reinterpret_cast<Blob<48>*>(page_base + 40)),
                 kForeign);
    cache.Dealloc(p);
  }
}

TEST(SlabAllocDeathTest, DoubleFreeIntoACompletelyFreeSlab) {
  // Always detected: the slab's stack is already full.
  for (bool aligned : {true, false}) {
    LeakyAlloc leaky;
    auto cache =
        SlabAllocBuilder<Blob<48>>::Default().BuildBacking(LeakyBacking{
            &leaky, aligned ? AlignedPolicy::kPageOnly : AlignedPolicy::kNone});
    Blob<48>* p = cache.Alloc();
    cache.Dealloc(p);
    EXPECT_DEATH(cache.Dealloc(p), kDoubleFree);
  }
}

TEST(SlabAllocDeathTest, DoubleFreeStillOnThePartialSlabsStack) {
  // Debug builds scan the slab's stack on every free.
  if (!ALLOC_DCHECK_IS_ON) GTEST_SKIP() << "needs ALLOC_DCHECK";
  auto cache = SlabAllocBuilder<Blob<48>>::Default().Build();
  Blob<48>* a = cache.Alloc();
  Blob<48>* b = cache.Alloc();
  cache.Dealloc(a);
  EXPECT_DEATH(cache.Dealloc(a), kDoubleFree);
  cache.Dealloc(b);
}

TEST(SlabAllocDeathTest, DestroyWithLiveObjects) {
  EXPECT_DEATH(
      {
        auto cache = SlabAllocBuilder<Blob<16>>::Default().Build();
        cache.Alloc();
        cache.Alloc();
      },
      "slab_alloc: cache destroyed with 2 live objects");
  EXPECT_DEATH(
      {
        auto cache =
            UntypedSlabAllocBuilder<>::NoInitialize(Layout{8192, 8}).Build();
        cache.Alloc();
      },
      "slab_alloc: cache destroyed with 1 live objects");
}

TEST(SlabAllocDeathTest, BadAlignment) {
  EXPECT_DEATH(SlabAllocBuilder<Blob<24>>::Default().align(3),
               "slab_alloc: align\\(3\\) is not a power of two");
  EXPECT_DEATH(SlabAllocBuilder<Blob<24>>::Default().align(0),
               "slab_alloc: align\\(0\\) is not a power of two");
  EXPECT_DEATH(SlabAllocBuilder<Blob<24>>::Default().align(16),
               "slab_alloc: align\\(16\\) does not divide the object size 24");
  EXPECT_DEATH(SlabAllocBuilder<Blob<24>>::Default().align(32),
               "slab_alloc: align\\(32\\) does not divide the object size 24");
  const size_t page = mmap_alloc::PageSize();
  EXPECT_DEATH(SlabAllocBuilder<Blob<(1 << 16)>>::Default().align(2 * page),
               "slab_alloc: align\\([0-9]+\\) exceeds the page size");
  EXPECT_DEATH(
      UntypedSlabAllocBuilder<>::NoInitialize(Layout{64, 64}).align(128),
      "slab_alloc: align\\(128\\) does not divide the object size 64");
  EXPECT_DEATH(
      UntypedSlabAllocBuilder<>::NoInitialize(Layout{1 << 16, 2 * page}),
      "slab_alloc: alignment [0-9]+ exceeds the page size");
  EXPECT_DEATH(UntypedSlabAllocBuilder<>::NoInitialize(Layout{0, 8}),
               "slab_alloc: invalid object layout \\(size 0, align 8\\)");
}

TEST(SlabAllocDeathTest, NegativeWorkingPeriod) {
  EXPECT_DEATH(
      SlabAllocBuilder<int>::Default().working_period(std::chrono::seconds(-1)),
      "slab_alloc: negative working period");
}

}  // namespace
}  // namespace slab_alloc
}  // namespace allocators
