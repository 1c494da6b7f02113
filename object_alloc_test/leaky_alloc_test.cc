// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/leaky_alloc.h"

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "platform/testing/proc.h"

namespace allocators {
namespace object_alloc_test {
namespace {

TEST(LeakyAllocTest, FreedMemoryStaysReadableAndUnchanged) {
  LeakyAlloc leaky;
  std::vector<unsigned char*> blocks;
  for (int i = 0; i < 100; ++i) {
    auto* p = static_cast<unsigned char*>(leaky.Alloc(256, 16));
    ASSERT_NE(p, nullptr);
    std::memset(p, i, 256);
    blocks.push_back(p);
  }
  for (unsigned char* p : blocks) leaky.Dealloc(p, 256, 16);
  EXPECT_EQ(leaky.blocks(), 100u);
  EXPECT_EQ(leaky.released(), 100u);
  for (int i = 0; i < 100; ++i) {
    // Not poisoned under ASan either.
    ASSERT_TRUE(platform::testing::IsReadable(blocks[i], 256));
    for (int b = 0; b < 256; ++b) ASSERT_EQ(blocks[i][b], i);
    EXPECT_TRUE(leaky.Owns(blocks[i], 256));
  }
}

TEST(LeakyAllocTest, AlignmentIsHonouredAndBlocksAreDistinct) {
  LeakyAlloc leaky;
  std::set<uintptr_t> seen;
  for (size_t align = 1; align <= 8192; align *= 2) {
    for (size_t size : {size_t{1}, size_t{7}, align, 3 * align + 1}) {
      void* p = leaky.Alloc(size, align);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u)
          << "size " << size << " align " << align;
      std::memset(p, 0xCD, size);  // fully writable
      EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(p)).second);
    }
  }
}

TEST(LeakyAllocTest, OwnsIsExact) {
  LeakyAlloc leaky;
  char* p = static_cast<char*>(leaky.Alloc(100, 8));
  EXPECT_TRUE(leaky.Owns(p, 100));
  EXPECT_TRUE(leaky.Owns(p + 99, 1));
  EXPECT_TRUE(leaky.Owns(p + 100, 0));
  EXPECT_FALSE(leaky.Owns(p, 101));
  EXPECT_FALSE(leaky.Owns(p + 100, 1));
  char other;
  EXPECT_FALSE(leaky.Owns(&other, 1));
}

TEST(LeakyAllocTest, ConcurrentUse) {
  LeakyAlloc leaky;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&leaky] {
      for (int i = 0; i < 500; ++i) {
        void* p = leaky.Alloc(64, 64);
        std::memset(p, 1, 64);
        if (i % 2 == 0) leaky.Dealloc(p, 64, 64);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(leaky.blocks(), 2000u);
  EXPECT_EQ(leaky.released(), 1000u);
}

TEST(LeakyAllocDeathTest, MisuseIsReported) {
  EXPECT_DEATH(
      {
        LeakyAlloc leaky;
        void* p = leaky.Alloc(32, 8);
        leaky.Dealloc(p, 32, 8);
        leaky.Dealloc(p, 32, 8);
      },
      "LeakyAlloc::Dealloc: double free of 0x");
  EXPECT_DEATH(
      {
        LeakyAlloc leaky;
        void* p = leaky.Alloc(32, 8);
        leaky.Dealloc(p, 64, 8);
      },
      "has layout \\(size 32, align 8\\) but was freed as \\(size 64, align "
      "8\\)");
  EXPECT_DEATH(
      {
        LeakyAlloc leaky;
        int x;
        leaky.Dealloc(&x, 4, 4);
      },
      "was not allocated here");
  EXPECT_DEATH(
      {
        LeakyAlloc leaky;
        leaky.Alloc(16, 3);
      },
      "invalid layout \\(size 16, align 3\\)");
}

struct Counted {
  static int live;
  int value = 42;
  Counted() { ++live; }
  ~Counted() { --live; }
};
int Counted::live = 0;

TEST(LeakyObjectAllocTest, ConstructsAndDestroysInPlace) {
  LeakyAlloc backing;
  Counted* p;
  {
    LeakyObjectAlloc<Counted> alloc(&backing, 64);
    p = alloc.Alloc();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    EXPECT_EQ(p->value, 42);
    EXPECT_EQ(Counted::live, 1);
    alloc.Dealloc(p);
    EXPECT_EQ(Counted::live, 0);
  }
  // The borrowed backing outlives the object allocator: still readable.
  EXPECT_TRUE(backing.Owns(p, sizeof(Counted)));
  EXPECT_EQ(backing.released(), 1u);
}

TEST(LeakyObjectAllocTest, OwnedBackingAndMinimumAlignment) {
  LeakyObjectAlloc<uint64_t> alloc(1);  // raised to alignof(uint64_t)
  EXPECT_EQ(alloc.align(), alignof(uint64_t));
  uint64_t* p = alloc.Alloc();
  EXPECT_EQ(*p, 0u);  // value-initialised
  alloc.Dealloc(p);
}

TEST(LeakyUntypedObjectAllocTest, HandsOutBlocksOfItsLayout) {
  LeakyUntypedObjectAlloc alloc(object_alloc::Layout{100, 32});
  EXPECT_EQ(alloc.layout(), (object_alloc::Layout{100, 32}));
  void* a = alloc.Alloc();
  void* b = alloc.Alloc();
  EXPECT_NE(a, b);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 32, 0u);
  std::memset(a, 0, 100);
  alloc.Dealloc(a);
  alloc.Dealloc(b);
}

}  // namespace
}  // namespace object_alloc_test
}  // namespace allocators
