// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// SizedHeap (sized_heap.h): the original's sized-allocator tests (a 1 KiB
// to 1 MiB sweep; many threads over many sizes; many threads holding 8191
// 64-byte blocks aligned to 64, and 255 blocks of 512 KiB), scaled to this
// machine (ELFMALLOC_TEST_SCALE=full: the original's 64 threads and every
// size); every tier's alignment and contents; cross-handle frees; the
// thread handle; the pmr resource under std::pmr containers; memory given
// back by the destructor; and the one-line errors for a wrong size, a
// foreign or another heap's block, a double free of a medium or huge
// block, and destruction with a live handle.

#include "elfmalloc/sized_heap.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory_resource>
#include <string>
#include <thread>
#include <vector>

#include "elfmalloc/testing/test_util.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace {

using testing::RunThreads;
using testing::Scaled;

struct Layout {
  size_t size;
  size_t align;
};

// Each thread allocates every layout, writes a word to each block, frees
// them all through its own handle, twice (the original's test).
void MultiThreaded(SizedHeap& heap, const std::vector<Layout>& layouts,
                   size_t threads) {
  SizedHeap::Handle first(heap);
  std::vector<SizedHeap::Handle> handles;
  for (size_t t = 0; t < threads; ++t) handles.push_back(first.Clone());
  RunThreads(threads, [&](size_t t) {
    SizedHeap::Handle& h = handles[t];
    for (int round = 0; round < 2; ++round) {
      std::vector<void*> ptrs;
      ptrs.reserve(layouts.size());
      for (const Layout& l : layouts) {
        void* p = h.Alloc(l.size, l.align);
        ASSERT_NE(p, nullptr) << l.size;
        ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % l.align, 0u) << l.size;
        *static_cast<volatile uintptr_t*>(p) = ~uintptr_t{0};
        ptrs.push_back(p);
      }
      for (size_t i = 0; i < ptrs.size(); ++i) {
        ASSERT_EQ(*static_cast<uintptr_t*>(ptrs[i]), ~uintptr_t{0});
        h.Free(ptrs[i], layouts[i].size, layouts[i].align);
      }
    }
  });
}

size_t Threads() { return Scaled(8, 2, 64); }

TEST(SizedHeapTest, BasicSweepFrom1KiBTo1MiB) {
  SizedHeap heap;
  SizedHeap::Handle h(heap);
  std::vector<std::pair<void*, size_t>> ptrs;
  const size_t step = Scaled(1, 8, 1);
  for (size_t words = 8; words < (8 << 10); words += step) {
    const size_t size = words * 128;
    void* p = h.Alloc(size, 8);
    ASSERT_NE(p, nullptr) << size;
    *static_cast<volatile uintptr_t*>(p) = ~uintptr_t{0};
    ptrs.emplace_back(p, size);
  }
  for (auto& [p, size] : ptrs) h.Free(p, size, 8);
}

TEST(SizedHeapTest, ManyThreadsManySizes) {
  SizedHeap heap;
  std::vector<Layout> layouts;
  const size_t step = Scaled(16, 64, 1);
  for (size_t k = 8; k < (2 << 10); k += step) layouts.push_back({k * 1024, 8});
  MultiThreaded(heap, layouts, Threads());
}

TEST(SizedHeapTest, LargeWorkingSetOfSmallBlocks) {
  SizedHeap heap;
  MultiThreaded(heap, std::vector<Layout>(Scaled(8191, 2000, 8191), {64, 64}),
                Threads());
}

TEST(SizedHeapTest, LargeWorkingSetOfLargeBlocks) {
  SizedHeap heap;
  MultiThreaded(heap, std::vector<Layout>(255, {512 << 10, 64}), Threads());
}

TEST(SizedHeapTest, EveryTierKeepsContentsAndAlignment) {
  SizedHeap heap;
  SizedHeap::Handle h(heap);
  const Layout layouts[] = {{0, 16},        {1, 1},          {24, 8},
                            {100, 16},      {100, 32},       {200, 256},
                            {4000, 4096},   {8192, 16},      {8193, 16},
                            {20000, 64},    {1 << 20, 4096}, {(8 << 20) - 1, 16},
                            {8 << 20, 8 << 20}, {(8 << 20) + 1, 16},
                            {20 << 20, 1 << 22}};
  std::vector<void*> ptrs;
  for (const Layout& l : layouts) {
    void* p = h.Alloc(l.size, l.align);
    ASSERT_NE(p, nullptr) << l.size;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % l.align, 0u) << l.size;
    std::memset(p, static_cast<int>(l.size & 0xff), l.size);
    ptrs.push_back(p);
  }
  for (size_t i = 0; i < ptrs.size(); ++i) {
    const auto* c = static_cast<unsigned char*>(ptrs[i]);
    for (size_t j = 0; j < layouts[i].size; j += 4093) {
      ASSERT_EQ(c[j], layouts[i].size & 0xff) << layouts[i].size;
    }
  }
  EXPECT_EQ(heap.GetStats().huge_count, 2u);
  SizedHeap::Handle other = h.Clone();  // any handle frees any block
  for (size_t i = 0; i < ptrs.size(); ++i) {
    other.Free(ptrs[i], layouts[i].size, layouts[i].align);
  }
  EXPECT_EQ(heap.GetStats().huge_count, 0u);
  EXPECT_EQ(h.Alloc(8, 3), nullptr);  // not a power of two
}

TEST(SizedHeapTest, FreedMediumBlocksAreReused) {
  SizedHeap heap;
  SizedHeap::Handle h(heap);
  void* a = h.Alloc(100000, 16);
  h.Free(a, 100000, 16);
  EXPECT_EQ(h.Alloc(120000, 16), a);  // the same 128 KiB class
  h.Free(a, 120000, 16);
}

TEST(SizedHeapTest, DestructorGivesBackEveryPage) {
  auto round = [] {
    SizedHeap heap;
    SizedHeap::Handle h(heap);
    for (size_t i = 0; i < 2000; ++i) ASSERT_NE(h.Alloc(16 + i % 8000), nullptr);
    for (size_t i = 0; i < 8; ++i) ASSERT_NE(h.Alloc(64 << 10), nullptr);
    ASSERT_NE(h.Alloc(16 << 20), nullptr);
    // Nothing is freed: the heap's destructor unmaps it all.
  };
  round();
  const size_t base = platform::testing::TotalMappedBytes();
  for (size_t r = 0; r < Scaled(20, 5, 100); ++r) round();
  EXPECT_LT(platform::testing::TotalMappedBytes(), base + (size_t{16} << 20));
}

TEST(SizedHeapTest, ThreadHandlesOfTheGlobalHeap) {
  RunThreads(4, [](size_t t) {
    SizedHeap::Handle& h = SizedHeap::ThreadHandle();
    EXPECT_EQ(&h.heap(), &SizedHeap::Global());
    std::vector<void*> ptrs;
    for (size_t i = 0; i < 1000; ++i) ptrs.push_back(h.Alloc(32 + t * 16));
    for (void* p : ptrs) h.Free(p, 32 + t * 16);
  });
}

TEST(SizedHeapResourceTest, ServesPmrContainers) {
  SizedHeapResource global;
  SizedHeap heap;
  SizedHeapResource own(heap);
  for (std::pmr::memory_resource* mr :
       {static_cast<std::pmr::memory_resource*>(&global),
        static_cast<std::pmr::memory_resource*>(&own)}) {
    std::pmr::vector<int> v(mr);
    for (int i = 0; i < 300000; ++i) v.push_back(i);  // through every tier
    for (int i = 0; i < 300000; ++i) ASSERT_EQ(v[i], i);
    std::pmr::map<int, std::pmr::string> m(mr);
    for (int i = 0; i < 3000; ++i) m.emplace(i, std::pmr::string(60, 'z'));
    EXPECT_EQ(m.at(2999), std::pmr::string(60, 'z'));
    void* p = mr->allocate(1000, 512);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 512, 0u);
    mr->deallocate(p, 1000, 512);
  }
  EXPECT_TRUE(global.is_equal(SizedHeapResource()));
  EXPECT_FALSE(global.is_equal(own));
}

class SizedHeapDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

constexpr char kMismatch[] =
    "^elfmalloc: SizedHeap::Free\\(\\): size mismatch 0x[0-9a-f]+\n$";

TEST_F(SizedHeapDeathTest, FreeWithTheWrongSize) {
  SizedHeap heap;
  SizedHeap::Handle h(heap);
  void* small = h.Alloc(48);
  void* medium = h.Alloc(100000);
  void* huge = h.Alloc(20 << 20);
  EXPECT_DEATH(h.Free(small, 64), kMismatch);
  EXPECT_DEATH(h.Free(small, 100000), kMismatch);
  EXPECT_DEATH(h.Free(medium, 300000), kMismatch);
  EXPECT_DEATH(h.Free(medium, 48), kMismatch);
  EXPECT_DEATH(h.Free(huge, 10 << 20), kMismatch);
  EXPECT_DEATH(h.Free(small, 48, 64), kMismatch);  // another alignment
  h.Free(small, 48);
  h.Free(medium, 100000);
  h.Free(huge, 20 << 20);
}

TEST_F(SizedHeapDeathTest, FreeOfAForeignBlock) {
  SizedHeap heap, other;
  SizedHeap::Handle h(heap), o(other);
  void* theirs = o.Alloc(48);
  EXPECT_DEATH(h.Free(theirs, 48),
               "^elfmalloc: SizedHeap::Free\\(\\): pointer 0x[0-9a-f]+ "
               "belongs to another SizedHeap\n$");
  char local[64];
  EXPECT_DEATH(h.Free(local, 48),
               "^elfmalloc: SizedHeap::Free\\(\\): invalid pointer "
               "0x[0-9a-f]+\n$");
  void* mine = h.Alloc(48);
  EXPECT_DEATH(h.Free(static_cast<char*>(mine) + 16, 48),
               "^elfmalloc: SizedHeap::Free\\(\\): invalid pointer "
               "0x[0-9a-f]+\n$");
  h.Free(mine, 48);
  o.Free(theirs, 48);
}

TEST_F(SizedHeapDeathTest, DoubleFreeOfMediumAndHugeBlocks) {
  SizedHeap heap;
  SizedHeap::Handle h(heap);
  void* medium = h.Alloc(100000);
  h.Free(medium, 100000);
  EXPECT_DEATH(h.Free(medium, 100000),
               "^elfmalloc: SizedHeap::Free\\(\\): double free of "
               "0x[0-9a-f]+\n$");
  void* huge = h.Alloc(20 << 20);
  h.Free(huge, 20 << 20);
  EXPECT_DEATH(h.Free(huge, 20 << 20),
               "^elfmalloc: SizedHeap::Free\\(\\): double free of "
               "0x[0-9a-f]+\n$");
}

TEST_F(SizedHeapDeathTest, DestroyedWithALiveHandle) {
  EXPECT_DEATH(
      {
        auto* heap = new SizedHeap();
        SizedHeap::Handle h(*heap);
        delete heap;
      },
      "^elfmalloc: ~SizedHeap\\(\\): 1 handle still in use\n$");
}

TEST_F(SizedHeapDeathTest, BadOptions) {
  SizedHeapOptions o;
  o.max_object_bytes = 3 << 20;
  EXPECT_DEATH(SizedHeap{o}, "max_object_bytes 3145728 is not a power of two");
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
