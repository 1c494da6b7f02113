// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// HeapRunAlloc: blocks carved from runs of contiguous heap memory, handed
// out in ascending order, reused before fresh ones, and each run returned
// to the heap as soon as all its blocks are back. Misuse is fatal with one
// line.

#include "slab_alloc/backing.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "object_alloc/object_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace {

using object_alloc::Layout;

constexpr size_t kPage = 4096;

uintptr_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

TEST(HeapRunAllocTest, PageBlocksComeSixteenToARunInAscendingOrder) {
  HeapRunAlloc a(Layout{kPage, kPage});
  ASSERT_EQ(a.blocks_per_run(), HeapRunAlloc::kRunBytes / kPage);
  const size_t n = a.blocks_per_run();
  std::vector<void*> blocks;
  for (size_t i = 0; i < n; ++i) {
    blocks.push_back(a.Alloc());
    ASSERT_NE(blocks.back(), nullptr);
    EXPECT_EQ(Addr(blocks.back()) % kPage, 0u);
    if (i > 0) {
      EXPECT_EQ(Addr(blocks[i]), Addr(blocks[i - 1]) + kPage);
    }
  }
  EXPECT_EQ(a.runs(), 1u);
  blocks.push_back(a.Alloc());  // the first run is full: a second one
  EXPECT_EQ(a.runs(), 2u);
  for (void* p : blocks) a.Dealloc(p);
  EXPECT_EQ(a.runs(), 0u);
}

TEST(HeapRunAllocTest, ARunGoesBackOnceAllItsBlocksAre) {
  HeapRunAlloc a(Layout{kPage, kPage});
  const size_t n = a.blocks_per_run();
  std::vector<void*> first, second;
  for (size_t i = 0; i < n; ++i) first.push_back(a.Alloc());
  for (size_t i = 0; i < 3; ++i) second.push_back(a.Alloc());
  ASSERT_EQ(a.runs(), 2u);
  for (size_t i = 0; i + 1 < n; ++i) a.Dealloc(first[i]);
  EXPECT_EQ(a.runs(), 2u);  // one block of the first run is still out
  a.Dealloc(first.back());
  EXPECT_EQ(a.runs(), 1u);
  for (void* p : second) a.Dealloc(p);
  EXPECT_EQ(a.runs(), 0u);
}

TEST(HeapRunAllocTest, AFreedBlockIsReusedBeforeAFreshOne) {
  HeapRunAlloc a(Layout{kPage, kPage});
  void* p = a.Alloc();
  void* q = a.Alloc();
  a.Dealloc(p);
  EXPECT_EQ(a.Alloc(), p);
  void* r = a.Alloc();  // nothing freed: the next fresh block
  EXPECT_EQ(Addr(r), Addr(q) + kPage);
  for (void* b : {p, q, r}) a.Dealloc(b);
  EXPECT_EQ(a.runs(), 0u);
}

TEST(HeapRunAllocTest, BlocksOfRunSizeOrMoreTakeARunEach) {
  HeapRunAlloc a(Layout{HeapRunAlloc::kRunBytes + kPage, kPage});
  EXPECT_EQ(a.blocks_per_run(), 1u);
  void* p = a.Alloc();
  void* q = a.Alloc();
  EXPECT_EQ(a.runs(), 2u);
  EXPECT_EQ(Addr(p) % kPage, 0u);
  EXPECT_EQ(Addr(q) % kPage, 0u);
  a.Dealloc(p);
  EXPECT_EQ(a.runs(), 1u);
  a.Dealloc(q);
  EXPECT_EQ(a.runs(), 0u);
}

TEST(HeapRunAllocTest, AMovedAllocatorKeepsItsRuns) {
  HeapRunAlloc a(Layout{3 * kPage, kPage});
  void* p = a.Alloc();
  HeapRunAlloc b(std::move(a));
  EXPECT_EQ(b.runs(), 1u);
  EXPECT_EQ(a.runs(), 0u);  // NOLINT(bugprone-use-after-move): checked
  b.Dealloc(p);
  EXPECT_EQ(b.runs(), 0u);
}

// Random allocations and frees against a model: every live block is
// aligned, overlaps no other live block and keeps what was written to it,
// and every run the allocator holds has a live block in it.
TEST(HeapRunAllocTest, RandomOpsKeepBlocksDistinctAndIntact) {
  for (size_t size : {kPage, 3 * kPage, 7 * kPage, 20 * kPage}) {
    SCOPED_TRACE(testing::Message() << "size " << size);
    HeapRunAlloc a(Layout{size, kPage});
    std::mt19937_64 rng(size);
    std::map<uintptr_t, uint64_t> live;  // address -> stamp
    for (int step = 0; step < 4000; ++step) {
      if (live.empty() || rng() % 100 < 55) {
        void* p = a.Alloc();
        ASSERT_NE(p, nullptr);
        const uintptr_t x = Addr(p);
        ASSERT_EQ(x % kPage, 0u);
        auto next = live.lower_bound(x);
        if (next != live.end()) {
          ASSERT_GE(next->first, x + size);
        }
        if (next != live.begin()) {
          ASSERT_LE(std::prev(next)->first + size, x);
        }
        const uint64_t stamp = rng();
        std::memcpy(p, &stamp, sizeof(stamp));
        std::memcpy(static_cast<char*>(p) + size - sizeof(stamp), &stamp,
                    sizeof(stamp));
        live.emplace(x, stamp);
      } else {
        auto it = live.begin();
        std::advance(it, rng() % live.size());
        uint64_t head, tail;
        std::memcpy(&head, reinterpret_cast<void*>(it->first), sizeof(head));
        std::memcpy(&tail,
                    reinterpret_cast<char*>(it->first) + size - sizeof(tail),
                    sizeof(tail));
        ASSERT_EQ(head, it->second);
        ASSERT_EQ(tail, it->second);
        a.Dealloc(reinterpret_cast<void*>(it->first));
        live.erase(it);
      }
      ASSERT_LE(a.runs(), live.size());
    }
    for (const auto& [x, stamp] : live) a.Dealloc(reinterpret_cast<void*>(x));
    EXPECT_EQ(a.runs(), 0u);
  }
}

TEST(HeapRunAllocDeathTest, ForeignBlock) {
  HeapRunAlloc a(Layout{kPage, kPage});
  void* p = a.Alloc();
  alignas(4096) static char other[kPage];
  EXPECT_DEATH(a.Dealloc(other),
               "slab_alloc: heap backing free of a block it does not own: "
               "0x[0-9a-f]+");
  a.Dealloc(p);
}

TEST(HeapRunAllocDeathTest, InteriorOrNeverHandedOutBlock) {
  HeapRunAlloc a(Layout{kPage, kPage});
  char* p = static_cast<char*>(a.Alloc());
  EXPECT_DEATH(a.Dealloc(p + 64), "heap backing free of a block it does not");
  EXPECT_DEATH(a.Dealloc(p + kPage),
               "heap backing free of a block it does not");
  a.Dealloc(p);
}

TEST(HeapRunAllocDeathTest, DoubleFree) {
  HeapRunAlloc a(Layout{kPage, kPage});
  void* p = a.Alloc();
  void* q = a.Alloc();
  a.Dealloc(p);
  EXPECT_DEATH(a.Dealloc(p), "slab_alloc: heap backing double free: 0x");
  a.Dealloc(q);
}

TEST(HeapRunAllocDeathTest, DestroyedWithABlockOut) {
  EXPECT_DEATH(
      {
        HeapRunAlloc a(Layout{kPage, kPage});
        a.Alloc();
      },
      "slab_alloc: heap backing destroyed with blocks in use \\(1 runs\\)");
}

TEST(HeapRunAllocDeathTest, BadLayout) {
  EXPECT_DEATH(HeapRunAlloc(Layout{100, 3}), "invalid heap block layout");
  EXPECT_DEATH(HeapRunAlloc(Layout{12, 4}), "invalid heap block layout");
}

}  // namespace
}  // namespace slab_alloc
}  // namespace allocators
