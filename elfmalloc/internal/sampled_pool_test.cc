// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// SampledPool: blocks against guard pages, quarantine order, exhaustion,
// free results, and the reports of an overflow and a use after free, with
// the stacks that allocated and freed the block (death tests, each in a
// fresh process).

#include "elfmalloc/internal/sampled_pool.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

// The process's one pool (its fault hook is process-wide).
SampledPool& Pool() {
  static SampledPool* pool = [] {
    static SampledPool p;
    EXPECT_TRUE(p.Init());
    return &p;
  }();
  return *pool;
}

template <typename T>
T* Launder(T* p) {
  asm volatile("" : "+r"(p));
  return p;
}

TEST(SampledPoolTest, BlocksEndAgainstTheirGuardPage) {
  SampledPool& pool = Pool();
  const size_t page = mmap_alloc::PageSize();
  for (size_t size : {size_t{1}, size_t{8}, size_t{16}, size_t{100},
                      size_t{1000}, page}) {
    SCOPED_TRACE(size);
    char* p = static_cast<char*>(pool.Alloc(size, 0));
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(pool.Contains(p));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size <= 8 ? 8 : 16), 0u);
    const uintptr_t end = reinterpret_cast<uintptr_t>(p) + size;
    const uintptr_t page_end = (end + page - 1) & ~(page - 1);
    EXPECT_LT(page_end - end, 16u);
    std::memset(p, 0x5a, size);
    EXPECT_EQ(pool.BlockSize(p), size);
    EXPECT_EQ(pool.Free(p), SampledPool::FreeResult::kFreed);
    EXPECT_EQ(pool.BlockSize(p), 0u);
  }
}

TEST(SampledPoolTest, HonoursAlignment) {
  SampledPool& pool = Pool();
  for (size_t align : {size_t{32}, size_t{256}, mmap_alloc::PageSize()}) {
    void* p = pool.Alloc(40, align);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
    EXPECT_EQ(pool.Free(p), SampledPool::FreeResult::kFreed);
  }
}

TEST(SampledPoolTest, RefusesWhatAPageCannotHold) {
  SampledPool& pool = Pool();
  const size_t page = mmap_alloc::PageSize();
  EXPECT_EQ(pool.Alloc(page + 1, 0), nullptr);
  EXPECT_EQ(pool.Alloc(16, 2 * page), nullptr);
}

TEST(SampledPoolTest, FreeResults) {
  SampledPool& pool = Pool();
  char* p = static_cast<char*>(pool.Alloc(64, 0));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(pool.Free(p + 16), SampledPool::FreeResult::kInvalid);
  EXPECT_EQ(pool.Free(p), SampledPool::FreeResult::kFreed);
  EXPECT_EQ(pool.Free(p), SampledPool::FreeResult::kDoubleFree);
  EXPECT_FALSE(pool.Contains(&pool));
}

// Freed slots are reused oldest first: a slot comes back only after every
// other free slot has been handed out, and all slots can be live at once.
TEST(SampledPoolTest, ReusesTheOldestFreedSlotAndRunsOut) {
  SampledPool& pool = Pool();
  std::vector<void*> live;
  std::set<uintptr_t> pages;
  const size_t page = mmap_alloc::PageSize();
  for (size_t i = 0; i < SampledPool::kSlots; ++i) {
    void* p = pool.Alloc(32, 0);
    ASSERT_NE(p, nullptr) << i;
    pages.insert(reinterpret_cast<uintptr_t>(p) & ~(page - 1));
    live.push_back(p);
  }
  EXPECT_EQ(pages.size(), SampledPool::kSlots);
  EXPECT_EQ(pool.Alloc(32, 0), nullptr);
  void* first = live[0];
  ASSERT_EQ(pool.Free(live[0]), SampledPool::FreeResult::kFreed);
  ASSERT_EQ(pool.Free(live[1]), SampledPool::FreeResult::kFreed);
  void* again = pool.Alloc(32, 0);
  EXPECT_EQ(again, first);
  EXPECT_EQ(pool.Free(again), SampledPool::FreeResult::kFreed);
  for (size_t i = 2; i < live.size(); ++i) {
    EXPECT_EQ(pool.Free(live[i]), SampledPool::FreeResult::kFreed);
  }
}

// Allocates and frees from frames of their own, which the reports' stacks
// must begin with.
__attribute__((noinline)) char* AllocHere(size_t size) {
  char* p = static_cast<char*>(Pool().Alloc(size, 0));
  asm volatile("" ::: "memory");
  return p;
}
__attribute__((noinline)) void FreeHere(char* p) {
  Pool().Free(p);
  asm volatile("" ::: "memory");
}

// True if the first frame under `header` in a report lies in `fn`. The
// death tests re-run the binary, so they compare offsets in it, not
// addresses.
bool FirstFrameIn(const std::string& err, const char* header,
                  const void* fn) {
  // "\n  <header>:\n    #0 0x<pc> <...>+0x<offset>)\n"
  const std::string start = std::string("\n  ") + header + ":\n    #0 0x";
  const size_t at_frame = err.find(start);
  if (at_frame == std::string::npos) return false;
  const size_t end = err.find('\n', at_frame + start.size());
  const size_t plus = err.rfind("+0x", end);
  if (end == std::string::npos || plus == std::string::npos ||
      plus < at_frame + start.size() || err[end - 1] != ')') {
    return false;
  }
  platform::CodeLocation at;
  if (!platform::LocateCode(fn, &at)) return false;
  const uintptr_t pc = std::strtoull(err.c_str() + plus + 3, nullptr, 16);
  return pc > at.object_offset && pc - at.object_offset < 128;
}

// The reports: one line from the fault hook, the stacks, then the default
// action (or a sanitizer's handler, which may add its own lines).
TEST(SampledPoolDeathTest, OverflowIsReportedWithTheAllocatingStack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        char* p = AllocHere(96);
        Launder(p)[96] = 1;
      },
      testing::AllOf(
          testing::ContainsRegex(
              "elfmalloc: heap overflow at 0x[0-9a-f]+: offset 96 of the "
              "96-byte block 0x[0-9a-f]+ \\(sampled\\)\n  allocated at:\n"),
          testing::Truly([](const std::string& err) {
            return FirstFrameIn(err, "allocated at",
                                reinterpret_cast<const void*>(&AllocHere));
          }),
          testing::Not(testing::HasSubstr("freed at"))));
}

TEST(SampledPoolDeathTest, UseAfterFreeIsReportedWithBothStacks) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        char* p = AllocHere(200);
        FreeHere(p);
        Launder(p)[10] = 1;
      },
      testing::AllOf(
          testing::ContainsRegex(
              "elfmalloc: use after free at 0x[0-9a-f]+: offset 10 of the "
              "freed 200-byte block 0x[0-9a-f]+ \\(sampled\\)\n"),
          testing::Truly([](const std::string& err) {
            return FirstFrameIn(err, "allocated at",
                                reinterpret_cast<const void*>(&AllocHere)) &&
                   FirstFrameIn(err, "freed at",
                                reinterpret_cast<const void*>(&FreeHere));
          })));
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
