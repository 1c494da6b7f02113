// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "bsalloc/bsalloc.h"

#include <errno.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "bsalloc/internal/classes.h"
#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/testing/sanitizers.h"

namespace allocators {
namespace bsalloc {
namespace {

using internal::ClassOf;

size_t Page() { return mmap_alloc::PageSize(); }

bool IsAligned(const void* p, size_t align) {
  return (reinterpret_cast<uintptr_t>(p) & (align - 1)) == 0;
}

TEST(BsallocClassesTest, ClassBoundaries) {
  EXPECT_EQ(ClassOf(0).kind, internal::kSmall);
  EXPECT_EQ(ClassOf(1).kind, internal::kSmall);
  EXPECT_EQ(ClassOf(1024).kind, internal::kSmall);
  EXPECT_EQ(ClassOf(Page()).kind, internal::kSmall);
  EXPECT_EQ(ClassOf(Page() + 1).kind, internal::kMedium);
  EXPECT_EQ(ClassOf(18 * 1024).kind, internal::kMedium);
  const size_t medium = ClassOf(18 * 1024).bytes;
  EXPECT_EQ(medium % Page(), 0u);
  EXPECT_GE(medium, 18u * 1024);
  EXPECT_EQ(ClassOf(medium).kind, internal::kMedium);
  EXPECT_EQ(ClassOf(medium + 1).kind, internal::kDirect);
  EXPECT_EQ(ClassOf(medium + 1).bytes, medium + Page());
  EXPECT_EQ(ClassOf(SIZE_MAX).bytes, 0u);
}

// The original's test_alloc_basic: every size from 8 B to 2 MiB in steps of 8
// is allocated, written at both ends and freed. Split into slices so that
// Bazel can shard it. Sanitizer runtimes intercept every map and unmap call
// (TSan costs ~0.5 ms a pair), so those builds take every 97th size instead,
// plus every class boundary; the default build covers all 262 144 sizes.
constexpr size_t kSizeStep = platform::testing::kSanitized ? 8 * 97 : 8;
constexpr size_t kMaxSize = size_t{2} << 20;
constexpr int kSlices = 8;

void AllocWriteFree(size_t size) {
  auto* p = static_cast<volatile unsigned char*>(Alloc(size));
  ASSERT_NE(p, nullptr) << size;
  ASSERT_TRUE(IsAligned(const_cast<unsigned char*>(p), Page())) << size;
  p[0] = 0xA5;
  p[size - 1] = 0x5A;
  ASSERT_EQ(p[0], 0xA5) << size;
  ASSERT_EQ(p[size - 1], 0x5A) << size;
  Free(const_cast<unsigned char*>(p), size);
}

class EverySizeTest : public ::testing::TestWithParam<int> {};

TEST_P(EverySizeTest, AllocWriteFree) {
  const size_t slice = kMaxSize / kSlices;
  const size_t begin = slice * GetParam();
  const size_t end = begin + slice;
  for (size_t size = begin + 8; size <= end; size += kSizeStep) {
    ASSERT_NO_FATAL_FAILURE(AllocWriteFree(size));
  }
  // Class boundaries in this slice, whatever the step.
  for (size_t boundary : {Page(), ClassOf(18 * 1024).bytes}) {
    for (size_t size : {boundary - 8, boundary, boundary + 8}) {
      if (size > begin && size <= end) {
        ASSERT_NO_FATAL_FAILURE(AllocWriteFree(size));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Slices, EverySizeTest, ::testing::Range(0, kSlices));

TEST(BsallocTest, ZeroSizeGivesDistinctBlocks) {
  void* a = Alloc(0);
  void* b = Alloc(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  Free(a, 0);
  Free(b, 0);
}

TEST(BsallocTest, FreeNullIsANoOp) { Free(nullptr, 100); }

TEST(BsallocTest, UsableSizeCoversTheWholeObject) {
  for (size_t size : {1u, 100u, 1024u, 4096u, 5000u, 18432u, 30000u, 1u << 20}) {
    const size_t usable = UsableSize(size);
    EXPECT_GE(usable, size);
    EXPECT_EQ(usable % Page(), 0u);
    auto* p = static_cast<unsigned char*>(Alloc(size));
    ASSERT_NE(p, nullptr);
    memset(p, 0xCD, usable);  // the whole usable size is writable
    EXPECT_EQ(UsableSize(usable), usable);  // same class: free with either
    Free(p, usable);
  }
}

TEST(BsallocTest, FreedBlocksAreCachedAndReused) {
  // Fill the small cache from this thread, then take blocks back: they come
  // from the cache, not from new mappings (the cache count drops).
  std::vector<void*> blocks;
  for (int i = 0; i < 32; ++i) blocks.push_back(Alloc(64));
  for (void* p : blocks) Free(p, 64);
  const size_t cached = internal::CachedBlocks(internal::kSmall);
  EXPECT_GT(cached, 0u);
  EXPECT_LE(cached, internal::kSmallSlots);
  std::vector<void*> again;
  for (int i = 0; i < 32; ++i) again.push_back(Alloc(64));
  EXPECT_LT(internal::CachedBlocks(internal::kSmall), cached);
  for (void* p : again) Free(p, 64);
}

TEST(BsallocTest, HonoursAlignment) {
  for (size_t align = 1; align <= (4u << 20); align <<= 1) {
    for (size_t size : {8u, 3000u, 10000u, 100000u}) {
      void* p = Alloc(size, align);
      ASSERT_NE(p, nullptr) << size << " " << align;
      EXPECT_TRUE(IsAligned(p, align)) << size << " " << align;
      memset(p, 1, size);
      Free(p, size);
    }
  }
}

TEST(BsallocTest, ReallocPreservesContents) {
  auto* p = static_cast<unsigned char*>(Alloc(10));
  for (int i = 0; i < 10; ++i) p[i] = static_cast<unsigned char>(i);
  // Same class: same block.
  EXPECT_EQ(Realloc(p, 10, 1000), p);
  // Grow through medium to direct, checking the prefix each time.
  size_t old = 1000;
  for (size_t size : {6000u, 50000u, 3000000u, 700u}) {
    auto* q = static_cast<unsigned char*>(Realloc(p, old, size));
    ASSERT_NE(q, nullptr);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(q[i], i) << size;
    p = q;
    old = size;
  }
  Free(p, old);
  // Realloc(nullptr, ...) allocates.
  void* fresh = Realloc(nullptr, 0, 100);
  ASSERT_NE(fresh, nullptr);
  Free(fresh, 100);
}

TEST(BsallocTest, ImpossibleSizesFailWithEnomem) {
  for (size_t size : {SIZE_MAX, SIZE_MAX - 4095, static_cast<size_t>(PTRDIFF_MAX) + 1}) {
    errno = 0;
    EXPECT_EQ(Alloc(size), nullptr) << size;
    EXPECT_EQ(errno, ENOMEM) << size;
  }
  void* p = Alloc(100);
  ASSERT_NE(p, nullptr);
  memset(p, 7, 100);
  errno = 0;
  EXPECT_EQ(Realloc(p, 100, SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(static_cast<unsigned char*>(p)[99], 7);  // old block intact
  Free(p, 100);
}

TEST(BsallocTest, MapFailureGivesNullAndEnomem) {
  // Direct-class sizes never come from a cache, so the map must happen.
  const size_t size = 1u << 20;
  mmap_alloc::testing::FailNextMaps(1);
  errno = 0;
  EXPECT_EQ(Alloc(size), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  // The fault is consumed: the next allocation succeeds.
  void* p = Alloc(size);
  ASSERT_NE(p, nullptr);
  memset(p, 3, size);

  // A failing Realloc leaves the block intact.
  mmap_alloc::testing::FailNextMaps(1);
  errno = 0;
  EXPECT_EQ(Realloc(p, size, 4 * size), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(static_cast<unsigned char*>(p)[size - 1], 3);
  Free(p, size);
  mmap_alloc::testing::ClearMapFailures();
}

TEST(BsallocTest, SmallMapFailureWhenCacheIsEmpty) {
  internal::ReleaseCachedBlocks();
  ASSERT_EQ(internal::CachedBlocks(internal::kSmall), 0u);
  mmap_alloc::testing::FailNextMaps(1);
  errno = 0;
  EXPECT_EQ(Alloc(64), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  mmap_alloc::testing::ClearMapFailures();
}

TEST(BsallocTest, ReleaseCachedBlocksEmptiesTheCaches) {
  std::vector<void*> blocks;
  for (int i = 0; i < 16; ++i) blocks.push_back(Alloc(100));
  for (int i = 0; i < 16; ++i) blocks.push_back(Alloc(10000));
  for (int i = 0; i < 16; ++i) Free(blocks[i], 100);
  for (int i = 16; i < 32; ++i) Free(blocks[i], 10000);
  ASSERT_GT(internal::CachedBlocks(internal::kSmall) +
                internal::CachedBlocks(internal::kMedium),
            0u);
  EXPECT_GT(internal::ReleaseCachedBlocks(), 0u);
  EXPECT_EQ(internal::CachedBlocks(internal::kSmall), 0u);
  EXPECT_EQ(internal::CachedBlocks(internal::kMedium), 0u);
}

TEST(BsallocTest, ObjectAllocView) {
  ObjectAlloc objects(object_alloc::Layout{200, 64});
  EXPECT_EQ(objects.layout(), (object_alloc::Layout{200, 64}));
  std::vector<void*> live;
  for (int i = 0; i < 20; ++i) {
    void* p = objects.Alloc();
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(IsAligned(p, 64));
    memset(p, i, 200);
    live.push_back(p);
  }
  for (void* p : live) objects.Dealloc(p);
}

// Four threads allocate, fill, verify and free blocks of random sizes across
// all classes, sharing the global caches. Run under TSan in CI.
TEST(BsallocTest, ConcurrentStress) {
  constexpr int kThreads = 4;
  constexpr int kIters = 2000;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      std::mt19937 rng(t);
      std::uniform_int_distribution<size_t> size_dist(1, 64 * 1024);
      struct Block {
        unsigned char* p;
        size_t size;
        unsigned char tag;
      };
      std::vector<Block> live;
      for (int i = 0; i < kIters; ++i) {
        if (live.size() < 16 && (rng() & 1)) {
          const size_t size = size_dist(rng);
          auto* p = static_cast<unsigned char*>(Alloc(size));
          if (p == nullptr) {
            failures++;
            continue;
          }
          const auto tag = static_cast<unsigned char>(rng());
          memset(p, tag, size);
          live.push_back({p, size, tag});
        } else if (!live.empty()) {
          const size_t idx = rng() % live.size();
          Block b = live[idx];
          live[idx] = live.back();
          live.pop_back();
          for (size_t k = 0; k < b.size; k += 509) {
            if (b.p[k] != b.tag) failures++;
          }
          if (b.p[b.size - 1] != b.tag) failures++;
          Free(b.p, b.size);
        }
      }
      for (const Block& b : live) Free(b.p, b.size);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(BsallocDeathTest, UnalignedFreeIsFatal) {
  void* p = Alloc(64);
  EXPECT_DEATH(Free(static_cast<char*>(p) + 8, 64),
               "bsalloc: Free of a pointer that is not page-aligned: 0x");
  Free(p, 64);
}

TEST(BsallocDeathTest, InvalidObjectLayoutIsFatal) {
  EXPECT_DEATH(ObjectAlloc(object_alloc::Layout{0, 8}),
               "bsalloc: invalid object layout \\(size 0, align 8\\)");
  EXPECT_DEATH(ObjectAlloc(object_alloc::Layout{64, 3}),
               "bsalloc: invalid object layout \\(size 64, align 3\\)");
}

}  // namespace
}  // namespace bsalloc
}  // namespace allocators
