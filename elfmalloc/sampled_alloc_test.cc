// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Sampled guarded allocation through the public API. The test runs with
// ELFMALLOC_SAMPLE_RATE=1 (BUILD), so every allocation of a page or less
// is sampled while the pool has a free slot. A sampled block's usable size
// is exactly its request (a class object's is its class size), which is
// how the tests tell one apart.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "elfmalloc/elfmalloc.h"
#include "gtest/gtest.h"
#include "platform/testing/proc.h"

namespace allocators {
namespace elfmalloc {
namespace {

template <typename T>
T* Launder(T* p) {
  asm volatile("" : "+r"(p));
  return p;
}

// 100 bytes is no class size (the class is 112), so a usable size of
// exactly 100 means the block was sampled.
constexpr size_t kOdd = 100;

// A thread's first allocation builds its cache and is never sampled.
void Warm() { Free(Alloc(8)); }

TEST(SampledAllocTest, SmallRequestsAreSampledAndWork) {
  Warm();
  char* p = static_cast<char*>(Alloc(kOdd));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(UsableSize(p), kOdd);
  std::memset(p, 0x7e, kOdd);
  void* z = AllocZeroed(kOdd);
  ASSERT_NE(z, nullptr);
  for (size_t i = 0; i < kOdd; ++i) ASSERT_EQ(static_cast<char*>(z)[i], 0);
  void* a = AlignedAlloc(kOdd, 64);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  Free(p);
  Free(z);
  FreeSized(a, kOdd, 64, "FreeSized");
}

TEST(SampledAllocTest, ReallocMovesTheContentsOut) {
  Warm();
  char* p = static_cast<char*>(Alloc(kOdd));
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < kOdd; ++i) p[i] = static_cast<char>(i);
  char* q = static_cast<char*>(Realloc(p, 5000));  // above a page
  ASSERT_NE(q, nullptr);
  for (size_t i = 0; i < kOdd; ++i) ASSERT_EQ(q[i], static_cast<char>(i));
  Free(q);
}

// The pool has a fixed number of slots; once they are all live, requests
// are served normally, and every block frees.
TEST(SampledAllocTest, AFullPoolFallsBackToTheHeap) {
  std::vector<void*> blocks;
  size_t sampled = 0;
  for (int i = 0; i < 500; ++i) {
    void* p = Alloc(kOdd);
    ASSERT_NE(p, nullptr);
    if (UsableSize(p) == kOdd) ++sampled;
    blocks.push_back(p);
  }
  EXPECT_GT(sampled, 0u);
  EXPECT_LT(sampled, blocks.size());
  for (void* p : blocks) Free(p);
}

TEST(SampledAllocTest, LargeRequestsAreNotSampled) {
  void* p = Alloc(1 << 20);
  ASSERT_NE(p, nullptr);
  EXPECT_GE(UsableSize(p), size_t{1} << 20);
  Free(p);
}

class SampledAllocDeathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    Warm();
  }
};

TEST_F(SampledAllocDeathTest, OverflowIsReported) {
  EXPECT_DEATH(
      {
        char* p = static_cast<char*>(Alloc(96));
        if (UsableSize(p) != 96) abort();  // not sampled: cannot happen here
        Launder(p)[96] = 1;
      },
      "elfmalloc: heap overflow at 0x[0-9a-f]+: offset 96 of the 96-byte "
      "block 0x[0-9a-f]+ \\(sampled\\)\n");
}

TEST_F(SampledAllocDeathTest, UseAfterFreeIsReported) {
  EXPECT_DEATH(
      {
        char* p = static_cast<char*>(Alloc(kOdd));
        Free(p);
        Launder(p)[8] = 1;
      },
      "elfmalloc: use after free at 0x[0-9a-f]+: offset 8 of the freed "
      "100-byte block 0x[0-9a-f]+ \\(sampled\\)\n");
}

// With sampling on, the fault hook also names a write just past a large
// block whose end meets an unmapped page. Blocks are taken until one does:
// the kernel may place a block directly below another mapping, and an
// aligned block's mapping is trimmed, which leaves a hole after it.
TEST_F(SampledAllocDeathTest, WritePastALargeBlockIsReported) {
  EXPECT_DEATH(
      {
        constexpr size_t kSize = size_t{8} << 20;
        char* p = nullptr;
        std::vector<void*> kept;
        for (int i = 0; i < 16 && p == nullptr; ++i) {
          char* q = static_cast<char*>(AlignedAlloc(kSize, 2 * kSize));
          if (q == nullptr) abort();
          if (platform::testing::IsReadable(q + kSize)) {
            kept.push_back(q);
          } else {
            p = q;
          }
        }
        if (p == nullptr) abort();
        Launder(p)[kSize] = 1;
      },
      "elfmalloc: heap overflow at 0x[0-9a-f]+: offset 8388608 of the "
      "8388608-byte block 0x[0-9a-f]+ \\(past a large block\\)\n");
}

TEST_F(SampledAllocDeathTest, DoubleFreeIsReported) {
  EXPECT_DEATH(
      {
        void* p = Alloc(kOdd);
        if (UsableSize(p) != kOdd) abort();
        Free(p);
        Free(Launder(p));
      },
      "^elfmalloc: free\\(\\): double free of 0x[0-9a-f]+\n$");
}

TEST_F(SampledAllocDeathTest, ReallocOfAFreedBlockIsReported) {
  EXPECT_DEATH(
      {
        void* p = Alloc(kOdd);
        Free(p);
        Realloc(Launder(p), 10);
      },
      "^elfmalloc: realloc\\(\\): freed pointer 0x[0-9a-f]+\n$");
}

TEST_F(SampledAllocDeathTest, InteriorPointerIsReported) {
  EXPECT_DEATH(
      {
        char* p = static_cast<char*>(Alloc(kOdd));
        Free(Launder(p + 16));
      },
      "^elfmalloc: free\\(\\): invalid pointer 0x[0-9a-f]+\n$");
}

TEST_F(SampledAllocDeathTest, SizedFreeWithTheWrongSizeIsReported) {
  EXPECT_DEATH(
      {
        void* p = Alloc(kOdd);
        FreeSized(p, 4000, 0, "free_sized");
      },
      "^elfmalloc: free_sized\\(\\): size mismatch 0x[0-9a-f]+\n$");
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
