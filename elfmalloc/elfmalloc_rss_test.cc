// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Memory return (elfmalloc.h: Release, SetDecayMs, GetStats): after a
// program frees what it allocated, elfmalloc must give the memory back to
// the OS, at once on Release() and after the decay period otherwise.
// Measured with the resident set size from /proc/self/statm, so the test is
// tagged noasan/notsan (sanitizer shadow memory is resident too and is not
// given back). Built against both front-ends. Also: calloc of a large
// block leaves its fresh pages unresident.
//
// Decay runs without a background thread here (ELFMALLOC_BACKGROUND_THREAD
// is off; background_decay_test covers it): dirty pages are returned by the
// first page-allocator call after a period ends. Each period's purge takes the
// pages freed in the period before, so the tests cause activity twice, one
// period apart. The activity is a short-lived thread that allocates and
// frees objects; ending a thread returns its caches, which frees slag pages
// (the calls that notice a period has passed).

#include <sys/auxv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/testing/api_binding.h"
#include "elfmalloc/testing/test_util.h"
#include "gtest/gtest.h"
#include "malloc_bind/malloc_bind.h"

// calloc as a program sees it (malloc_bind over the API), as rss_calloc.
MALLOC_BIND_DEFINE_C(rss_, ::allocators::elfmalloc::testing::ApiBinding)

namespace allocators {
namespace elfmalloc {
namespace {

using testing::ResidentBytes;

constexpr size_t kKiB = size_t{1} << 10;
constexpr size_t kMiB = size_t{1} << 20;

// Allocates `bytes` of small objects, 15 of 64 bytes for every 1 KiB one
// (about half the bytes each), touching every object, chained through their
// first word so that no other memory is needed. Returns the chain's head.
void* AllocChain(size_t bytes) {
  void* head = nullptr;
  size_t total = 0;
  for (size_t i = 0; total < bytes; ++i) {
    const size_t size = i % 16 == 15 ? kKiB : 64;
    void* p = Alloc(size);
    if (p == nullptr) {
      ADD_FAILURE() << "Alloc(" << size << ") failed after " << total
                    << " bytes";
      break;
    }
    *static_cast<void**>(p) = head;
    static_cast<char*>(p)[size - 1] = 1;
    head = p;
    total += size;
  }
  return head;
}

void FreeChain(void* head) {
  while (head != nullptr) {
    void* next = *static_cast<void**>(head);
    Free(head);
    head = next;
  }
}

// Allocates and frees `bytes` of small objects on a new thread, which then
// exits (so nothing stays in this thread's caches).
void AllocAndFreeOnThread(size_t bytes) {
  std::thread t([bytes] { FreeChain(AllocChain(bytes)); });
  t.join();
}

// Some allocator activity of a size class the bulk did not use, on a
// short-lived thread (see the file comment).
void Activity() {
  std::thread t([] {
    void* ptrs[64];
    for (void*& p : ptrs) p = Alloc(16 * kKiB);
    for (void* p : ptrs) Free(p);
  });
  t.join();
}

TEST(ElfmallocRssTest, ReleaseReturnsFreedSmallObjects) {
  Release();
  // Warm the allocator (slag tables, page map, this thread's cache) so that
  // its fixed costs are in the baseline.
  FreeChain(AllocChain(4 * kMiB));
  Release();
  const size_t start = ResidentBytes();
  ASSERT_GT(start, 0u);

  void* chain = AllocChain(512 * kMiB);
  const size_t peak = ResidentBytes();
  // The measurement sees the allocation (else the test proves nothing).
  EXPECT_GE(peak, start + 400 * kMiB);

  FreeChain(chain);
  Release();
  const size_t end = ResidentBytes();
  std::printf(
      "resident: %zu MiB at start, %zu MiB at peak, %zu MiB after Release\n",
      start >> 20, peak >> 20, end >> 20);
  EXPECT_LE(end, start + 16 * kMiB)
      << "after Release() resident memory is " << ((end - start) >> 10)
      << " KiB above the start";
  EXPECT_EQ(GetStats().dirty_bytes, 0u);
}

TEST(ElfmallocRssTest, DirtyPagesDecayAfterThePeriod) {
  Release();
  // No decay while the dirty pages are made: they must all still be there
  // when the measured part starts.
  SetDecayMs(-1);
  const size_t start = ResidentBytes();
  AllocAndFreeOnThread(128 * kMiB);
  const Stats dirty = GetStats();
  const size_t resident_dirty = ResidentBytes();
  ASSERT_GE(dirty.dirty_bytes, 64 * kMiB) << "freed pages were not kept dirty";
  EXPECT_GE(resident_dirty, start + 64 * kMiB);

  // The next period starts now; it takes one period for the pages to become
  // "old" and one more call after that to purge them.
  SetDecayMs(100);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Activity();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Activity();
  const Stats decayed = GetStats();
  const size_t resident_decayed = ResidentBytes();
  std::printf("dirty %zu MiB -> %zu MiB, resident %zu MiB -> %zu MiB\n",
              dirty.dirty_bytes >> 20, decayed.dirty_bytes >> 20,
              resident_dirty >> 20, resident_decayed >> 20);
  // What Activity() itself freed in the current period may still be dirty.
  EXPECT_LE(decayed.dirty_bytes, 16 * kMiB);
  EXPECT_LE(resident_decayed + dirty.dirty_bytes / 2, resident_dirty);
  SetDecayMs(1000);
}

TEST(ElfmallocRssTest, DecayZeroReturnsPagesWhenFreed) {
  Release();
  SetDecayMs(0);
  const size_t start = ResidentBytes();
  AllocAndFreeOnThread(128 * kMiB);
  const size_t end = ResidentBytes();
  std::printf("decay 0: resident %zu MiB -> %zu MiB\n", start >> 20, end >> 20);
  EXPECT_EQ(GetStats().dirty_bytes, 0u);
  EXPECT_LE(end, start + 16 * kMiB);
  SetDecayMs(1000);
}

// calloc of a large block fresh from the OS does not write it (its pages
// read as zero already), so they cost no memory until the program writes
// them, as under glibc.
TEST(ElfmallocRssTest, CallocLeavesFreshPagesUnresident) {
  constexpr size_t kBytes = 64 * kMiB;
  Release();
  const size_t start = ResidentBytes();
  auto* p = static_cast<unsigned char*>(rss_calloc(1, kBytes));
  ASSERT_NE(p, nullptr);
  const size_t after_calloc = ResidentBytes();
  size_t nonzero = 0;  // reading maps the shared zero page: after measuring
  for (size_t i = 0; i < kBytes; ++i) nonzero += p[i] != 0;
  EXPECT_EQ(nonzero, 0u);
  std::memset(p, 1, kBytes);
  const size_t after_write = ResidentBytes();
  rss_free(p);
  std::printf(
      "calloc(1, 64 MiB): resident %zu MiB -> %zu MiB, written %zu MiB\n",
      start >> 20, after_calloc >> 20, after_write >> 20);
  EXPECT_LT(after_calloc, start + 8 * kMiB);
  // The measurement sees the block once it is written.
  EXPECT_GE(after_write, start + 56 * kMiB);
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
