// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/internal/map_memory.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"
#include "mmap_alloc/mmap_alloc.h"
#include "slab_alloc/internal/ptr_map.h"

namespace allocators {
namespace slab_alloc {
namespace internal {
namespace {

namespace fi = mmap_alloc::testing;

constexpr size_t kForever = size_t{1} << 40;

size_t Page() { return mmap_alloc::PageSize(); }

// The pool is process-wide: every test starts and ends with it empty and no
// injected map failures pending.
class MapMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fi::ClearMapFailures();
    MapMemory::ReleaseRetained();
  }
  void TearDown() override {
    fi::ClearMapFailures();
    MapMemory::ReleaseRetained();
  }
};

TEST_F(MapMemoryTest, FreedBlockIsHandedOutAgainForTheSameSize) {
  MapMemory mem;
  // A 256-bucket table's size: not a page multiple.
  const size_t size = 18432 + 8;
  const size_t rounded = (size + Page() - 1) / Page() * Page();
  void* p = mem.Alloc(size, 8);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % Page(), 0u);
  memset(p, 0xab, size);  // writable, and prefaulted
  mem.Dealloc(p, size);
  EXPECT_EQ(MapMemory::RetainedBytes(), rounded);
  EXPECT_EQ(MapMemory::RetainedBlocks(), 1u);
  // The same size before or after rounding finds it.
  void* q = mem.Alloc(rounded, 8);
  EXPECT_EQ(q, p);
  EXPECT_EQ(MapMemory::RetainedBytes(), 0u);
  EXPECT_EQ(MapMemory::RetainedBlocks(), 0u);
  mem.Dealloc(q, size);
  EXPECT_EQ(MapMemory::RetainedBytes(), rounded);
}

TEST_F(MapMemoryTest, OnlyExactSizesAreReused) {
  MapMemory mem;
  // 5 and 6 pages share a size class; 4 pages is the class below.
  void* five = mem.Alloc(5 * Page(), 8);
  ASSERT_NE(five, nullptr);
  mem.Dealloc(five, 5 * Page());
  void* six = mem.Alloc(6 * Page(), 8);
  ASSERT_NE(six, nullptr);
  EXPECT_NE(six, five);
  void* four = mem.Alloc(4 * Page(), 8);
  ASSERT_NE(four, nullptr);
  EXPECT_NE(four, five);
  EXPECT_EQ(MapMemory::RetainedBytes(), 5 * Page());
  // Both sizes pooled in one class: each request gets its own size back.
  mem.Dealloc(six, 6 * Page());
  EXPECT_EQ(mem.Alloc(5 * Page(), 8), five);
  EXPECT_EQ(mem.Alloc(6 * Page(), 8), six);
  EXPECT_EQ(MapMemory::RetainedBytes(), 0u);
  mem.Dealloc(four, 4 * Page());
  mem.Dealloc(five, 5 * Page());
  mem.Dealloc(six, 6 * Page());
  EXPECT_EQ(MapMemory::RetainedBlocks(), 3u);
}

TEST_F(MapMemoryTest, PooledBlocksNeedNoNewMapping) {
  MapMemory mem;
  void* p = mem.Alloc(3 * Page(), 8);
  ASSERT_NE(p, nullptr);
  mem.Dealloc(p, 3 * Page());
  fi::FailNextMaps(kForever);
  EXPECT_EQ(mem.Alloc(2 * Page(), 8), nullptr);  // would need a new mapping
  EXPECT_EQ(mem.Alloc(3 * Page(), 8), p);        // from the pool
  EXPECT_EQ(mem.Alloc(3 * Page(), 8), nullptr);  // pool empty again
  fi::ClearMapFailures();
  mem.Dealloc(p, 3 * Page());
}

TEST_F(MapMemoryTest, RetainsAtMostTheCap) {
  MapMemory mem;
  const size_t block = MapMemory::kMaxRetainedBytes / 4;
  std::vector<void*> blocks;
  for (int i = 0; i < 6; ++i) {
    blocks.push_back(mem.Alloc(block, 8));
    ASSERT_NE(blocks.back(), nullptr);
  }
  for (void* p : blocks) mem.Dealloc(p, block);
  // Four fit; the other two went back to the kernel.
  EXPECT_EQ(MapMemory::RetainedBytes(), MapMemory::kMaxRetainedBytes);
  EXPECT_EQ(MapMemory::RetainedBlocks(), 4u);
  // A smaller block does not fit either.
  void* small = mem.Alloc(Page(), 8);
  ASSERT_NE(small, nullptr);
  mem.Dealloc(small, Page());
  EXPECT_EQ(MapMemory::RetainedBlocks(), 4u);
  MapMemory::ReleaseRetained();
  EXPECT_EQ(MapMemory::RetainedBytes(), 0u);
  EXPECT_EQ(MapMemory::RetainedBlocks(), 0u);
}

TEST_F(MapMemoryTest, AlignmentAboveAPageMapsFresh) {
  MapMemory mem;
  const size_t size = 4 * Page();
  void* pooled = mem.Alloc(size, 8);
  ASSERT_NE(pooled, nullptr);
  mem.Dealloc(pooled, size);
  void* aligned = mem.Alloc(size, 16 * Page());
  ASSERT_NE(aligned, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % (16 * Page()), 0u);
  EXPECT_EQ(MapMemory::RetainedBlocks(), 1u);  // the pooled one is still there
  mem.Dealloc(aligned, size);                  // and can join it
  EXPECT_EQ(MapMemory::RetainedBlocks(), 2u);
}

TEST_F(MapMemoryTest, MisuseIsFatal) {
  MapMemory mem;
  EXPECT_DEATH(mem.Alloc(0, 8), "slab_alloc: bad map memory size 0");
  void* p = mem.Alloc(Page(), 8);
  ASSERT_NE(p, nullptr);
  EXPECT_DEATH(mem.Dealloc(static_cast<char*>(p) + 8, Page()),
               "slab_alloc: map memory freed at 0x[0-9a-f]+, not a page");
  mem.Dealloc(p, Page());
}

struct Value {};
Value* V(uintptr_t x) { return reinterpret_cast<Value*>(x); }

// What the slab caches rely on: a map that grows and shrinks on pooled
// memory keeps working, and a second map grown to the same size after the
// first is gone takes every table and overflow chunk from the pool.
TEST_F(MapMemoryTest, SecondMapGrowsOnTheFirstMapsMemory) {
  using Map = PtrHashMap<Value, MapMemory>;
  const uintptr_t page = Page();
  const uintptr_t base = page * 0x1000;
  // 5000 page keys: the map doubles from 256 to 8192 buckets (590 KiB).
  constexpr size_t kKeys = 5000;
  // Pages three apart, except that every fourth key is 64 pages further on:
  // those pile up in a few chains, so overflow chunks are needed too.
  auto key = [&](size_t i) {
    return base + page * ((i & 3) == 0 ? 64 * i : 3 * i);
  };
  {
    Map map(Map::kDefaultBuckets, page, MapMemory());
    for (size_t i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(map.Insert(key(i), V(i + 1)));
    }
    EXPECT_EQ(map.bucket_count(), 8192u);
    EXPECT_GT(map.overflow_buckets(), 0u);
    map.CheckInvariants();
    // Shrink part of the way: freed tables go to the pool as well.
    for (size_t i = 0; i < kKeys; i += 2) map.Delete(key(i));
    map.CheckInvariants();
    for (size_t i = 0; i < kKeys; ++i) {
      ASSERT_EQ(map.Find(key(i)), i % 2 == 1 ? V(i + 1) : nullptr) << i;
    }
  }
  const size_t retained = MapMemory::RetainedBytes();
  EXPECT_GE(retained, 8192 * 72u);
  fi::FailNextMaps(kForever);
  {
    Map map(Map::kDefaultBuckets, page, MapMemory());
    for (size_t i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(map.Insert(key(i), V(i + 1))) << "key " << i;
    }
    EXPECT_EQ(map.bucket_count(), 8192u);
    map.CheckInvariants();
    for (size_t i = 0; i < kKeys; ++i) ASSERT_EQ(map.Find(key(i)), V(i + 1));
  }
  EXPECT_EQ(fi::PendingMapFailures(), kForever);  // no map was attempted
  fi::ClearMapFailures();
  EXPECT_EQ(MapMemory::RetainedBytes(), retained);
}

// Threads allocating and freeing concurrently never share a block: each
// fills its blocks with its own id and checks them before freeing.
TEST_F(MapMemoryTest, ConcurrentUse) {
  constexpr int kThreads = 4;
  constexpr int kOps = 2000;
  std::atomic<bool> bad{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &bad] {
      MapMemory mem;
      std::mt19937 rng(t);
      struct Held {
        unsigned char* p;
        size_t size;
      };
      std::vector<Held> held;
      for (int i = 0; i < kOps; ++i) {
        if (held.size() < 8 && (held.empty() || rng() % 2 == 0)) {
          const size_t size = (1 + rng() % 3) * Page();
          auto* p = static_cast<unsigned char*>(mem.Alloc(size, 8));
          if (p == nullptr) continue;
          memset(p, t + 1, size);
          held.push_back({p, size});
        } else {
          const size_t j = rng() % held.size();
          const Held h = held[j];
          held[j] = held.back();
          held.pop_back();
          for (size_t k = 0; k < h.size; k += 512) {
            if (h.p[k] != t + 1) bad = true;
          }
          mem.Dealloc(h.p, h.size);
        }
      }
      for (const Held& h : held) mem.Dealloc(h.p, h.size);
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_FALSE(bad);
  EXPECT_LE(MapMemory::RetainedBytes(), MapMemory::kMaxRetainedBytes);
}

}  // namespace
}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators
