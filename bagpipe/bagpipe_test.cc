// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// BagPipe: schedules, adaptive probing, emptiness, size_guess, bulk_add,
// the cleanup policy, and concurrent no-loss/no-duplicate checks over every
// pipe type.

#include "bagpipe/bagpipe.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "bagpipe/boxed_queue.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/testing/test_util.h"
#include "bagpipe/yc_queue.h"
#include "gtest/gtest.h"
#include "platform/platform.h"

namespace allocators {
namespace bagpipe {
namespace {

using ::allocators::bagpipe::testing::ExpectExactlyRange;
using ::allocators::bagpipe::testing::Knob;
using ::allocators::bagpipe::testing::RunThreads;

using FaaPipe = BagPipe<FAAQueueLowLevel<uint64_t>>;
using YcPipe = BagPipe<YangCrummeyQueue<uint64_t>>;

static_assert(kIsWeakBag<FaaPipe>);
static_assert(kIsWeakBag<YcPipe>);
static_assert(kIsWeakBag<BagPipe<GeneralYC<uint64_t>>>);

TEST(BagPipeTest, PipeCountIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(FaaPipe(0).pipe_count(), 1u);
  EXPECT_EQ(FaaPipe(1).pipe_count(), 1u);
  EXPECT_EQ(FaaPipe(5).pipe_count(), 8u);
  EXPECT_EQ(FaaPipe(16).pipe_count(), 16u);
  size_t want = 1;
  while (want < 2 * platform::CpuCount()) want <<= 1;
  EXPECT_EQ(FaaPipe().pipe_count(), want);
  EXPECT_GE(platform::CpuCount(), 1u);
}

TEST(BagPipeTest, HandlesGetOddStridesFromASharedSeed) {
  FaaPipe first(8);
  EXPECT_EQ(first.stride(), 1u);
  EXPECT_EQ(first.offset(), 1u);
  FaaPipe second = first;  // seed 2
  EXPECT_EQ(second.stride(), 5u);
  EXPECT_EQ(second.offset(), 5u);
  FaaPipe third = second;  // seed 3
  EXPECT_EQ(third.stride(), 7u);
  EXPECT_EQ(third.offset(), 7u);
  FaaPipe fourth = first;  // seed 4
  EXPECT_EQ(fourth.stride(), 9u);
  EXPECT_EQ(fourth.offset(), 1u);  // 9 & 7
}

TEST(BagPipeTest, PrimeStridesComeFromThePrimeTable) {
  using PrimePipe = BagPipe<FAAQueueLowLevel<uint64_t>, NoCleanup, PrimeStrides>;
  PrimePipe first(8);
  EXPECT_EQ(first.stride(), 1u);
  PrimePipe second = first;  // seed 2: the second odd prime
  EXPECT_EQ(second.stride(), 5u);
  PrimePipe third = second;  // seed 3
  EXPECT_EQ(third.stride(), 7u);
  PrimePipe fourth = first;  // seed 4
  EXPECT_EQ(fourth.stride(), 11u);
  EXPECT_EQ(fourth.offset(), 3u);  // 11 & 7
  EXPECT_EQ(PrimeStrides::Stride(1025), 3u);  // the table wraps
  // Every handle still visits every pipe: items pushed through each land
  // and all come back.
  std::set<uint64_t> seen;
  for (uint64_t i = 0; i < 64; ++i) ASSERT_TRUE(fourth.TryPushMut(i));
  uint64_t out = 0;
  while (second.PopMut(&out)) ASSERT_TRUE(seen.insert(out).second);
  EXPECT_EQ(seen.size(), 64u);
}

TEST(BagPipeTest, SingleThreadedEveryItemComesBack) {
  FaaPipe bag(4);
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(bag.TryPushMut(i));
  bag.CheckInvariants();
  std::set<uint64_t> seen;
  uint64_t out = 0;
  while (bag.PopMut(&out)) ASSERT_TRUE(seen.insert(out).second);
  EXPECT_EQ(seen.size(), 1000u);
  bag.CheckInvariants();
}

TEST(BagPipeTest, FreshHandleOnEmptyBagEventuallyReportsEmpty) {
  FaaPipe bag(8);
  uint64_t out = 0;
  // With 8 pipes a budget of 1 probe cannot cover a full sweep: the first
  // try is a transient failure, as in the original ...
  EXPECT_EQ(bag.TryPopMut(&out), PopStatus::kTransientFailure);
  EXPECT_EQ(bag.pop_failures(), 1u);
  // ... and the budget grows (2f + 1) until a sweep fits.
  PopStatus s;
  int tries = 1;
  while ((s = bag.TryPopMut(&out)) == PopStatus::kTransientFailure) ++tries;
  EXPECT_EQ(s, PopStatus::kEmpty);
  EXPECT_LE(tries, 8);
  // PopMut on a fresh handle terminates with "empty".
  FaaPipe fresh = bag;
  EXPECT_FALSE(fresh.PopMut(&out));
}

TEST(BagPipeTest, OnePipeReportsEmptyAtOnce) {
  YcPipe bag(1);
  uint64_t out = 0;
  EXPECT_EQ(bag.TryPopMut(&out), PopStatus::kEmpty);
}

TEST(BagPipeTest, SuccessHalvesTheFailureCounts) {
  FaaPipe bag(8);
  uint64_t out = 0;
  for (int i = 0; i < 3; ++i) bag.TryPopMut(&out);  // empty: failures grow
  const size_t f = bag.pop_failures();
  EXPECT_GE(f, 1u);
  ASSERT_TRUE(bag.TryPushMut(1));
  while (bag.TryPopMut(&out) != PopStatus::kOk) {
  }
  EXPECT_LE(bag.pop_failures(), f);
}

TEST(BagPipeTest, SizeGuess) {
  FaaPipe bag(4);
  EXPECT_EQ(bag.SizeGuess(), 0);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_TRUE(bag.PushMut(i));
  EXPECT_EQ(bag.SizeGuess(), 100);  // flushed every 4
  for (uint64_t i = 0; i < 3; ++i) EXPECT_TRUE(bag.PushMut(i));
  EXPECT_EQ(bag.SizeGuess(), 100);  // +3 still local
  {
    FaaPipe other = bag;
    uint64_t out = 0;
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(other.PopMut(&out));
  }  // flushed on destruction
  EXPECT_EQ(bag.SizeGuess(), 98);
  {
    // Popping more than this handle's share never makes the guess negative.
    FaaPipe other = bag;
    uint64_t out = 0;
    while (other.PopMut(&out)) {
    }
  }
  EXPECT_EQ(bag.SizeGuess(), 0);  // 98 - 101 clamps to 0 ...
  bag = FaaPipe(4);               // ... and the old handle's +3 is flushed
  EXPECT_EQ(bag.SizeGuess(), 0);
}

TEST(BagPipeTest, BulkAddLandsEveryItem) {
  YcPipe bag(4);
  std::vector<uint64_t> in(777);
  for (size_t i = 0; i < in.size(); ++i) in[i] = i;
  EXPECT_EQ(bag.BulkAdd(in.begin(), in.end()), in.size());
  EXPECT_EQ(bag.SizeGuess(), 777);
  std::vector<uint64_t> out;
  uint64_t v = 0;
  while (bag.PopMut(&v)) out.push_back(v);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, in);
}

TEST(BagPipeTest, MovedFromHandleIsInert) {
  FaaPipe a(2);
  EXPECT_TRUE(a.PushMut(5));
  FaaPipe b = std::move(a);
  uint64_t out = 0;
  ASSERT_TRUE(b.PopMut(&out));
  EXPECT_EQ(out, 5u);
}

// Records every cleaned item; shared by copies of the policy.
struct RecordingCleanup {
  std::mutex* mu;
  std::multiset<uint64_t>* cleaned;
  void operator()(uint64_t item) const {
    std::lock_guard<std::mutex> lock(*mu);
    cleaned->insert(item);
  }
};

TEST(BagPipeTest, CleanupRunsOncePerRemainingItemWhenLastHandleGoes) {
  std::mutex mu;
  std::multiset<uint64_t> cleaned;
  std::set<uint64_t> popped;
  {
    BagPipe<FAAQueueLowLevel<uint64_t>, RecordingCleanup> bag(
        4, RecordingCleanup{&mu, &cleaned});
    RunThreads(4, [&](size_t id) {
      auto h = bag;
      for (uint64_t i = 0; i < 250; ++i) h.PushMut(id * 250 + i);
    });
    {
      auto h = bag;
      uint64_t out = 0;
      for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(h.PopMut(&out));
        popped.insert(out);
      }
    }
    EXPECT_TRUE(cleaned.empty()) << "cleanup ran while a handle was alive";
  }
  EXPECT_EQ(cleaned.size(), 900u);
  for (uint64_t v = 0; v < 1000; ++v) {
    EXPECT_EQ(cleaned.count(v) + popped.count(v), 1u) << v;
  }
}

template <typename B>
class BagPipeConcurrentTest : public ::testing::Test {};
using PipeTypes = ::testing::Types<
    BagPipe<FAAQueueLowLevel<uint64_t>>, BagPipe<YangCrummeyQueue<uint64_t>>,
    BagPipe<YangCrummeyQueue<uint64_t, 4>>, BagPipe<FAAArrayQueue<uint64_t>>,
    BagPipe<GeneralYC<uint64_t>>,
    BagPipe<FAAQueueLowLevel<uint64_t>, NoCleanup, PrimeStrides>,
    BagPipe<YangCrummeyQueue<uint64_t, 4, true, /*kStaggered=*/true>>>;
TYPED_TEST_SUITE(BagPipeConcurrentTest, PipeTypes);

// N producers and N consumers on their own handles; nothing lost or
// duplicated.
TYPED_TEST(BagPipeConcurrentTest, ProducersAndConsumers) {
  const size_t threads = Knob("BAGPIPE_TEST_THREADS", 4, 64);
  const size_t items = Knob("BAGPIPE_TEST_ITEMS", 1024, 1024, 2);
  TypeParam bag;
  std::atomic<size_t> producers_done{0};
  std::vector<std::vector<uint64_t>> got(threads);
  RunThreads(2 * threads, [&](size_t id) {
    TypeParam h = bag;
    if (id < threads) {
      for (uint64_t i = 0; i < items; ++i) {
        // Mix the strong, try and bulk paths.
        const uint64_t v = id * items + i;
        if (i % 3 == 0) {
          h.PushMut(v);
        } else if (i % 3 == 1) {
          while (!h.TryPushMut(v)) {
          }
        } else {
          h.BulkAdd(&v, &v + 1);
        }
      }
      producers_done.fetch_add(1);
    } else {
      auto& mine = got[id - threads];
      uint64_t out = 0;
      for (;;) {
        const bool done = producers_done.load() == threads;
        const PopStatus s = h.TryPopMut(&out);
        if (s == PopStatus::kOk) {
          mine.push_back(out);
        } else if (s == PopStatus::kEmpty && done) {
          break;
        }
      }
    }
  });
  bag.CheckInvariants();
  std::vector<uint64_t> drained;
  TypeParam h = bag;
  uint64_t out = 0;
  while (h.PopMut(&out)) drained.push_back(out);
  ExpectExactlyRange(got, std::move(drained), threads * items);
}

// Concurrent pushes (with duplicate values) followed by a drain return the
// pushed multiset; the size guess is exact once every handle is gone.
TYPED_TEST(BagPipeConcurrentTest, DrainedMultisetAfterConcurrentPushes) {
  const size_t threads = Knob("BAGPIPE_TEST_THREADS", 4, 64);
  const size_t items = Knob("BAGPIPE_TEST_ITEMS", 1024, 1024, 2);
  TypeParam bag;
  RunThreads(threads, [&](size_t id) {
    TypeParam h = bag;
    for (uint64_t i = 0; i < items; ++i) h.PushMut((id + i) % 61);
  });
  EXPECT_EQ(bag.SizeGuess(), static_cast<int64_t>(threads * items));
  std::map<uint64_t, size_t> expected, actual;
  for (size_t id = 0; id < threads; ++id) {
    for (uint64_t i = 0; i < items; ++i) ++expected[(id + i) % 61];
  }
  uint64_t out = 0;
  while (bag.PopMut(&out)) ++actual[out];
  EXPECT_EQ(actual, expected);
}

// Pairs of push/pop on every thread, as in the benchmark's pairs workload.
TYPED_TEST(BagPipeConcurrentTest, PushPopPairs) {
  const size_t threads = Knob("BAGPIPE_TEST_THREADS", 4, 64);
  const size_t pairs = Knob("BAGPIPE_TEST_PAIRS", 20000, 100000, 4);
  TypeParam bag;
  std::atomic<uint64_t> popped_sum{0};
  RunThreads(threads, [&](size_t id) {
    TypeParam h = bag;
    uint64_t sum = 0, out = 0;
    for (uint64_t i = 0; i < pairs; ++i) {
      h.PushMut(id * pairs + i);
      if (h.PopMut(&out)) sum += out;
    }
    popped_sum.fetch_add(sum);
  });
  uint64_t out = 0, rest = 0;
  while (bag.PopMut(&out)) rest += out;
  const uint64_t n = threads * pairs;
  EXPECT_EQ(popped_sum.load() + rest, n * (n - 1) / 2);
}

}  // namespace
}  // namespace bagpipe
}  // namespace allocators
