// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The benchmark baselines must be correct too: the Treiber stack (LIFO,
// lock-free, EBR-reclaimed nodes), the Michael-Scott queue (FIFO, the same)
// and the mutex-protected deque (FIFO).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "bagpipe/bag.h"
#include "bagpipe/internal/ebr.h"
#include "bagpipe/testing/ms_queue.h"
#include "bagpipe/testing/mutex_deque.h"
#include "bagpipe/testing/test_util.h"
#include "bagpipe/testing/treiber_stack.h"
#include "gtest/gtest.h"

namespace allocators {
namespace bagpipe {
namespace {

using ::allocators::bagpipe::testing::Knob;
using ::allocators::bagpipe::testing::MsQueue;
using ::allocators::bagpipe::testing::MutexDeque;
using ::allocators::bagpipe::testing::RunThreads;
using ::allocators::bagpipe::testing::TreiberStack;

TEST(TreiberStackTest, SingleThreadedLifo) {
  TreiberStack<uint64_t> s;
  uint64_t out = 0;
  EXPECT_EQ(s.TryPop(&out), PopStatus::kEmpty);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(s.TryPush(i));
  for (uint64_t i = 100; i-- > 0;) {
    ASSERT_EQ(s.TryPop(&out), PopStatus::kOk);
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(s.Pop(&out));
  for (uint64_t i = 0; i < 10; ++i) s.Push(i);  // left for the destructor
  internal::EbrFlush(false);  // popped nodes wait in EBR limbo lists
}

TEST(MsQueueTest, SingleThreadedFifo) {
  MsQueue<uint64_t> q;
  uint64_t out = 0;
  EXPECT_EQ(q.TryPop(&out), PopStatus::kEmpty);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(q.TryPush(i));
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_EQ(q.TryPop(&out), PopStatus::kOk);
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(q.Pop(&out));
  for (uint64_t i = 0; i < 10; ++i) q.Push(i);  // left for the destructor
  internal::EbrFlush(false);
}

TEST(MutexDequeTest, SingleThreadedFifo) {
  MutexDeque<uint64_t> q;
  uint64_t out = 0;
  EXPECT_EQ(q.TryPop(&out), PopStatus::kEmpty);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_TRUE(q.Push(i));
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(q.Pop(&out));
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(q.Pop(&out));
}

template <typename B>
class BaselineTest : public ::testing::Test {};
using Baselines =
    ::testing::Types<TreiberStack<uint64_t>, MsQueue<uint64_t>,
                     MutexDeque<uint64_t>>;
TYPED_TEST_SUITE(BaselineTest, Baselines);

TYPED_TEST(BaselineTest, PushPopPairsLoseNothing) {
  const size_t threads = Knob("BAGPIPE_TEST_THREADS", 4, 64);
  const size_t pairs = Knob("BAGPIPE_TEST_PAIRS", 20000, 100000, 4);
  TypeParam bag;
  std::vector<std::vector<uint64_t>> got(threads);
  RunThreads(threads, [&](size_t id) {
    uint64_t out = 0;
    for (uint64_t i = 0; i < pairs; ++i) {
      bag.Push(id * pairs + i);
      if (bag.Pop(&out)) got[id].push_back(out);
    }
  });
  std::vector<uint64_t> drained;
  uint64_t out = 0;
  while (bag.Pop(&out)) drained.push_back(out);
  testing::ExpectExactlyRange(got, std::move(drained), threads * pairs);
  // Reclaim the Treiber nodes still in limbo lists (LeakSanitizer does not
  // scan bsalloc's mappings, where the lists live).
  internal::EbrFlush(false);
  EXPECT_EQ(internal::GetEbrStats().pending, 0u);
}

}  // namespace
}  // namespace bagpipe
}  // namespace allocators
