// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Proof that retired queue memory is reused or returned in steady state:
// millions of items (fewer by default) go through queues with tiny segments
// and nodes from several threads. Retired-but-unreclaimed memory stays
// bounded while the run goes on, and once the threads are done and EBR is
// flushed, nothing is pending and every block taken from bsalloc has been
// given back except those the live queues still hold.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "bagpipe/bagpipe.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/internal/ebr.h"
#include "bagpipe/testing/test_util.h"
#include "bagpipe/yc_queue.h"
#include "gtest/gtest.h"

namespace allocators {
namespace bagpipe {
namespace {

using ::allocators::bagpipe::testing::Knob;
using ::allocators::bagpipe::testing::RunThreads;
using ::allocators::platform::testing::kSanitized;

uint64_t LiveBlocks(const internal::EbrStats& s) {
  return s.blocks_allocated - s.blocks_released;
}

struct RunResult {
  uint64_t retired = 0;          // blocks retired during the run
  uint64_t reclaimed = 0;        // blocks reclaimed during the run
  uint64_t max_pending = 0;      // largest pending count seen
  uint64_t max_live_blocks = 0;  // largest live-block count seen (delta)
};

// Runs push/pop pairs on `threads` threads through `bag_op`, sampling the
// EBR counters from thread 0.
template <typename Op>
RunResult Churn(size_t threads, size_t pairs, Op bag_op) {
  internal::EbrFlush(true);
  const internal::EbrStats s0 = internal::GetEbrStats();
  std::atomic<uint64_t> max_pending{0}, max_live{0};
  RunThreads(threads, [&](size_t id) {
    for (size_t i = 0; i < pairs; ++i) {
      bag_op(id, i);
      if (id == 0 && i % 1024 == 0) {
        const internal::EbrStats s = internal::GetEbrStats();
        max_pending.store(std::max(max_pending.load(), s.pending));
        max_live.store(
            std::max(max_live.load(), LiveBlocks(s) - LiveBlocks(s0)));
      }
    }
  });
  const internal::EbrStats s1 = internal::GetEbrStats();
  RunResult r;
  r.retired = s1.retired - s0.retired;
  r.reclaimed = s1.reclaimed - s0.reclaimed;
  r.max_pending = max_pending.load();
  r.max_live_blocks = max_live.load();
  return r;
}

void ExpectQuiescentAfterFlush(uint64_t live_before) {
  internal::EbrFlush(true);
  const internal::EbrStats s = internal::GetEbrStats();
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.blocks_cached, 0u);
  EXPECT_EQ(LiveBlocks(s), live_before);
}

size_t Threads() { return Knob("BAGPIPE_TEST_THREADS", 4, 8); }
size_t Pairs() {
  return Knob("BAGPIPE_TEST_RECLAIM_PAIRS", 100000, 2000000, 8);
}

// Runs the churn in two halves. Memory must be reused or returned while
// running (much of what is retired is reclaimed before the half ends), and
// nothing accumulates: after each half and a flush, nothing is pending and
// only the blocks the live queue holds are still allocated. How much is live
// at a peak depends on scheduling rather than on run length (a thread
// preempted inside a guard stalls reclamation for its time slice while the
// others keep retiring), so peaks are recorded, not asserted; the single-
// threaded test below shows the tight bound when nothing is preempted.
template <typename Op>
void ExpectSteadyState(uint64_t live_before, uint64_t held_max,
                       uint64_t min_retired_per_half, Op op) {
  for (int half = 0; half < 2; ++half) {
    const RunResult r = Churn(Threads(), Pairs() / 2, op);
    EXPECT_GE(r.retired, min_retired_per_half);
    // Sanitizer runs are an eighth as long and several times slower, so a
    // thread preempted inside a guard stalls a larger share of them.
    EXPECT_GE(r.reclaimed, r.retired / (kSanitized ? 8 : 4))
        << "pending " << r.max_pending;
    internal::EbrFlush(true);
    const internal::EbrStats s = internal::GetEbrStats();
    EXPECT_EQ(s.pending, 0u);
    EXPECT_LE(LiveBlocks(s), live_before + held_max);
    ::testing::Test::RecordProperty(half == 0 ? "max_live_1" : "max_live_2",
                                    static_cast<int>(r.max_live_blocks));
    ::testing::Test::RecordProperty(half == 0 ? "retired_1" : "retired_2",
                                    static_cast<int>(r.retired));
  }
}

// One thread: every retirement advances the epoch and collects what expired,
// so at most a few segments are ever pending, however long the run.
TEST(ReclamationTest, SingleThreadPendingStaysTiny) {
  internal::EbrFlush(true);
  const uint64_t live_before = LiveBlocks(internal::GetEbrStats());
  {
    YangCrummeyQueue<uint64_t, 4> q;
    const RunResult r = Churn(1, Pairs(), [&](size_t, size_t i) {
      q.Push(i);
      uint64_t out = 0;
      q.Pop(&out);
    });
    EXPECT_GE(r.retired, Pairs() / 16 - 2);
    EXPECT_LE(r.max_pending, 4u);
    EXPECT_LE(r.max_live_blocks, 12u);  // pending + queue + record cache
  }
  ExpectQuiescentAfterFlush(live_before);
}

TEST(ReclamationTest, YangCrummeySegmentsAreReturned) {
  // 16-cell segments: one retirement per 16 pushes and 16 pops.
  internal::EbrFlush(true);
  const uint64_t live_before = LiveBlocks(internal::GetEbrStats());
  {
    YangCrummeyQueue<uint64_t, 4> q;
    ExpectSteadyState(live_before, 2, Threads() * Pairs() / 2 / 16 - 2,
                      [&](size_t id, size_t i) {
                        q.Push(id * Pairs() + i);
                        uint64_t out = 0;
                        q.Pop(&out);
                      });
    q.CheckInvariants();
  }
  ExpectQuiescentAfterFlush(live_before);
}

TEST(ReclamationTest, FAANodesAreReturned) {
  internal::EbrFlush(true);
  const uint64_t live_before = LiveBlocks(internal::GetEbrStats());
  {
    FAAQueueLowLevel<uint64_t> q;
    ExpectSteadyState(live_before, 1, Threads() * Pairs() / 2 / 256 - 2,
                      [&](size_t id, size_t i) {
                        q.Push(id * Pairs() + i);
                        uint64_t out = 0;
                        q.Pop(&out);
                      });
    // The live queue still holds exactly its one node.
    internal::EbrFlush(true);
    EXPECT_EQ(LiveBlocks(internal::GetEbrStats()), live_before + 1);
  }
  ExpectQuiescentAfterFlush(live_before);
}

TEST(ReclamationTest, BagPipeSteadyStateDoesNotGrow) {
  using Bag = BagPipe<YangCrummeyQueue<uint64_t, 4>>;
  internal::EbrFlush(true);
  const uint64_t live_before = LiveBlocks(internal::GetEbrStats());
  {
    Bag bag(4);
    std::vector<Bag> handles(Threads(), bag);  // one handle per thread
    // Four pipes of at most two live segments each.
    ExpectSteadyState(live_before, 8, 1000, [&](size_t id, size_t i) {
      handles[id].PushMut(id * Pairs() + i);
      uint64_t out = 0;
      handles[id].PopMut(&out);
    });
  }
  ExpectQuiescentAfterFlush(live_before);
}

}  // namespace
}  // namespace bagpipe
}  // namespace allocators
