// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "bsalloc/internal/slot_cache.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace bsalloc {
namespace internal {
namespace {

void* Block(uintptr_t i) { return reinterpret_cast<void*>((i + 1) * 4096); }

TEST(SlotCacheTest, PatienceIsAQuarter) {
  EXPECT_EQ(SlotCache<8>::kPatience, 2u);
  EXPECT_EQ(SlotCache<4>::kPatience, 1u);
}

TEST(SlotCacheTest, TakeFromEmptyReturnsNull) {
  SlotCache<8> cache;
  for (uintptr_t hint = 0; hint < 4096; hint += 16) {
    EXPECT_EQ(cache.Take(hint), nullptr);
  }
  EXPECT_EQ(cache.Occupied(), 0u);
}

TEST(SlotCacheTest, PutThenTakeWithSameHintRoundTrips) {
  SlotCache<8> cache;
  EXPECT_EQ(cache.Put(Block(1), 0x7fff1230), nullptr);
  EXPECT_EQ(cache.Occupied(), 1u);
  EXPECT_EQ(cache.Take(0x7fff1230), Block(1));
  EXPECT_EQ(cache.Occupied(), 0u);
}

// With one hint, Put probes kPatience slots: the cache absorbs exactly that
// many blocks, then hands back a block for the caller to release. No block is
// ever lost or duplicated.
TEST(SlotCacheTest, OverflowHandsBlocksBack) {
  SlotCache<8> cache;
  const uintptr_t hint = 0x1000;
  std::vector<void*> spilled;
  for (uintptr_t i = 0; i < 5; ++i) {
    if (void* b = cache.Put(Block(i), hint)) spilled.push_back(b);
  }
  EXPECT_EQ(cache.Occupied(), SlotCache<8>::kPatience);
  EXPECT_EQ(spilled.size(), 5 - SlotCache<8>::kPatience);
  std::set<void*> all(spilled.begin(), spilled.end());
  while (void* b = cache.Take(hint)) all.insert(b);
  EXPECT_EQ(all.size(), 5u);
}

// Different hints reach every slot.
TEST(SlotCacheTest, HintsSpreadOverAllSlots) {
  SlotCache<8> cache;
  for (uintptr_t hint = 0; hint < (1u << 16) && cache.Occupied() < 8;
       hint += 16) {
    void* spill = cache.Put(Block(hint), hint);
    (void)spill;
  }
  EXPECT_EQ(cache.Occupied(), 8u);
}

// Concurrent puts and takes conserve blocks: every block ends up either taken
// by exactly one thread, spilled back to exactly one thread, or still cached.
TEST(SlotCacheTest, ConcurrentConservation) {
  SlotCache<8> cache;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<void*>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uintptr_t hint = static_cast<uintptr_t>(t) * 4096 * 7;
      for (int i = 0; i < kPerThread; ++i) {
        void* b = Block(static_cast<uintptr_t>(t) * kPerThread + i);
        if (void* spill = cache.Put(b, hint + i * 16)) out[t].push_back(spill);
        if (i % 3 == 0) {
          if (void* got = cache.Take(hint + i * 32)) out[t].push_back(got);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<void*> all;
  for (auto& v : out) all.insert(all.end(), v.begin(), v.end());
  while (true) {
    bool any = false;
    for (uintptr_t hint = 0; hint < 4096; hint += 16) {
      if (void* b = cache.Take(hint)) {
        all.push_back(b);
        any = true;
      }
    }
    if (!any) break;
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end())
      << "a block came out twice";
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads) * kPerThread);
}

}  // namespace
}  // namespace internal
}  // namespace bsalloc
}  // namespace allocators
