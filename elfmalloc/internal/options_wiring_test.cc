// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The ELFMALLOC_* options reach the heap: this test runs with
// ELFMALLOC_BACKTRACE=1, ELFMALLOC_DECAY_MS=-1, ELFMALLOC_DIRTY_MAX_MB=1,
// ELFMALLOC_MAGAZINE_SIZE=100 and ELFMALLOC_REUSE_THRESHOLD=25 set in its
// environment (BUILD), and checks each knob on a heap built after they were
// read.

#include <cstddef>
#include <vector>

#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/heap.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

using MagHeap = Heap<MagazineConfig>;

TEST(OptionsWiringTest, EveryOptionReachesTheHeap) {
  MagHeap& heap = MagHeap::Instance();
  EXPECT_EQ(heap.decay_ms(), -1);
  EXPECT_EQ(heap.options().dirty_max_mb, 1);

  // Magazines hold at most 100 objects, whatever the class.
  void* p = MagHeap::Alloc(16);
  ASSERT_NE(p, nullptr);
  MagHeap::Free(p);
  MagHeap::Cache* tc = MagHeap::Local();
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(tc->cache(SizeToClass(16)).capacity(), 100u);

  // A quarter of a slag's objects free makes it available again.
  const ClassPool* pool = tc->cache(SizeToClass(16)).pool();
  EXPECT_EQ(pool->geom.cutoff, pool->geom.n_objects / 4);

  // With decay off, freed pages stay dirty, but never more than 1 MiB per
  // page size: the rest is returned as soon as it is freed.
  std::vector<void*> blocks;
  for (int i = 0; i < 64 * 1024; ++i) blocks.push_back(MagHeap::Alloc(1024));
  for (void* b : blocks) MagHeap::Free(b);
  tc->Flush();
  const HeapStats s = heap.Stats();
  EXPECT_LE(s.dirty_bytes, size_t{2} << 20);
}

// The caller's frames follow a fatal error's line.
__attribute__((noinline)) void FreeTwice(void* p) {
  MagHeap::Free(p);
  MagHeap::Free(p);
}

TEST(OptionsWiringDeathTest, BacktraceFollowsAFatalError) {
  MagHeap::Instance();
  EXPECT_DEATH(FreeTwice(MagHeap::Alloc(48)),
               "elfmalloc: free\\(\\): double free of 0x[0-9a-f]+\n"
               "    #0 0x[0-9a-f]+ .*\n    #1 0x");
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
