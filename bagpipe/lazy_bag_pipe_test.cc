// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "bagpipe/lazy_bag_pipe.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "bagpipe/faa_queue.h"
#include "bagpipe/testing/test_util.h"
#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"

namespace allocators {
namespace bagpipe {
namespace {

using Lazy = LazyBagPipe<FAAQueueLowLevel<uint64_t>>;

TEST(LazyBagPipeTest, PopsFromAnUnbuiltBagFindNothingAndBuildNothing) {
  Lazy bag(4);
  Lazy::Handle a(&bag), b(&bag);
  uint64_t x;
  EXPECT_FALSE(a.PopMut(&x));
  EXPECT_FALSE(b.PopMut(&x));
  EXPECT_FALSE(bag.built());
}

TEST(LazyBagPipeTest, FirstPushBuildsTheBagEveryHandleSees) {
  Lazy bag(2);
  Lazy::Handle pusher(&bag), popper(&bag);
  uint64_t x;
  EXPECT_FALSE(popper.PopMut(&x));  // before the build: nothing
  for (uint64_t i = 0; i < 300; ++i) ASSERT_TRUE(pusher.PushMut(i));
  EXPECT_TRUE(bag.built());
  const uint64_t more[] = {300, 301, 302};
  EXPECT_EQ(popper.BulkAdd(std::begin(more), std::end(more)), 3u);
  std::vector<uint64_t> got;
  while (popper.PopMut(&x)) got.push_back(x);
  testing::ExpectExactlyRange({}, got, 303);
}

// The size guess is 0 before the build and follows pushes and pops after
// it (each handle reports its net count in steps of 4, and on destruction).
TEST(LazyBagPipeTest, SizeGuessFollowsTheBag) {
  Lazy bag(2);
  Lazy::Handle a(&bag);
  EXPECT_EQ(a.SizeGuess(), 0);
  EXPECT_FALSE(bag.built());
  for (uint64_t i = 0; i < 40; ++i) ASSERT_TRUE(a.PushMut(i));
  EXPECT_GE(a.SizeGuess(), 36);
  EXPECT_LE(a.SizeGuess(), 40);
  uint64_t x;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(a.PopMut(&x));
  EXPECT_GE(a.SizeGuess(), 16);
  EXPECT_LE(a.SizeGuess(), 24);
}

TEST(LazyBagPipeTest, RacingFirstPushesPublishOneBag) {
  constexpr size_t kThreads = 4;
  const uint64_t per = testing::Knob("LAZY_BAG_ITEMS", 2000, 50000);
  for (int round = 0; round < 20; ++round) {
    Lazy bag(2);
    testing::RunThreads(kThreads, [&](size_t t) {
      Lazy::Handle h(&bag);
      for (uint64_t i = 0; i < per; ++i) ASSERT_TRUE(h.PushMut(t * per + i));
    });
    Lazy::Handle h(&bag);
    std::vector<uint64_t> got;
    uint64_t x;
    while (h.PopMut(&x)) got.push_back(x);
    testing::ExpectExactlyRange({}, got, kThreads * per);
  }
}

std::atomic<size_t> g_cleaned{0};
struct CountingCleanup {
  void operator()(uint64_t&&) const { g_cleaned.fetch_add(1); }
};

TEST(LazyBagPipeTest, DestroyingTheBagCleansUpWhatIsLeft) {
  g_cleaned = 0;
  {
    LazyBagPipe<FAAQueueLowLevel<uint64_t>, CountingCleanup> bag(2);
    LazyBagPipe<FAAQueueLowLevel<uint64_t>, CountingCleanup>::Handle h(&bag);
    for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(h.PushMut(i));
    uint64_t x;
    ASSERT_TRUE(h.PopMut(&x));
  }
  EXPECT_EQ(g_cleaned.load(), 9u);
}

TEST(LazyBagPipeTest, OutOfMemoryAtTheBuildLeavesTheItemWithTheCaller) {
  namespace fi = ::allocators::mmap_alloc::testing;
  // bsalloc's caches may serve the first builds; with every map failing,
  // one of a bounded number of builds must fail.
  std::vector<std::unique_ptr<Lazy>> bags;
  fi::FailNextMaps(size_t{1} << 40);
  bool failed = false;
  for (int i = 0; i < 200 && !failed; ++i) {
    bags.push_back(std::make_unique<Lazy>(1));
    Lazy::Handle h(bags.back().get());
    if (!h.PushMut(7)) {
      failed = true;
      EXPECT_FALSE(bags.back()->built());
      uint64_t x;
      EXPECT_FALSE(h.PopMut(&x));
    }
  }
  fi::ClearMapFailures();
  EXPECT_TRUE(failed);
  Lazy::Handle h(bags.back().get());
  EXPECT_TRUE(h.PushMut(8));
  uint64_t x;
  EXPECT_TRUE(h.PopMut(&x));
}

}  // namespace
}  // namespace bagpipe
}  // namespace allocators
