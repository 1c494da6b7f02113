// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "bagpipe/internal/box_pool.h"

#include <atomic>
#include <cstdint>
#include <set>
#include <vector>

#include "bagpipe/testing/test_util.h"
#include "gtest/gtest.h"

namespace allocators {
namespace bagpipe {
namespace internal {
namespace {

using ::allocators::bagpipe::testing::Knob;
using ::allocators::bagpipe::testing::RunThreads;

TEST(BoxPoolTest, BoxesAreDistinctAndAligned) {
  struct alignas(32) Wide {
    char bytes[40];
  };
  BoxPool<Wide> pool;
  std::set<void*> seen;
  std::vector<BoxPool<Wide>::Box*> boxes;
  for (int i = 0; i < 5000; ++i) {
    auto* b = pool.Alloc();
    ASSERT_TRUE(seen.insert(b).second);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(b->storage) % 32, 0u);
    boxes.push_back(b);
  }
  EXPECT_GE(pool.capacity(), 5000u);
  EXPECT_LT(pool.capacity(), 2 * 5000u + 256);  // geometric growth
  for (auto* b : boxes) pool.Free(b);
  // Freed boxes are reused before the pool grows again.
  const size_t cap = pool.capacity();
  for (int i = 0; i < 5000; ++i) boxes[i] = pool.Alloc();
  EXPECT_EQ(pool.capacity(), cap);
  for (auto* b : boxes) pool.Free(b);
}

// Threads allocate, stamp, check and free boxes; a box handed to two
// threads at once would show a foreign stamp.
TEST(BoxPoolTest, ConcurrentAllocFreeNeverSharesABox) {
  const size_t threads = Knob("BAGPIPE_TEST_THREADS", 4, 16);
  const size_t ops = Knob("BAGPIPE_TEST_POOL_OPS", 50000, 1000000, 10);
  BoxPool<uint64_t> pool;
  std::atomic<size_t> bad{0};
  RunThreads(threads, [&](size_t id) {
    std::vector<BoxPool<uint64_t>::Box*> mine;
    for (size_t i = 0; i < ops; ++i) {
      if (mine.size() < 8 && (i % 3 != 2 || mine.empty())) {
        auto* b = pool.Alloc();
        *reinterpret_cast<uint64_t*>(b->storage) = id;
        mine.push_back(b);
      } else {
        auto* b = mine.back();
        mine.pop_back();
        if (*reinterpret_cast<uint64_t*>(b->storage) != id) bad.fetch_add(1);
        pool.Free(b);
      }
    }
    for (auto* b : mine) pool.Free(b);
  });
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_LE(pool.capacity(), 4 * threads * 8 + 1024);
}

}  // namespace
}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators
