// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Out of memory, injected with mmap_alloc's fault injection: a push that
// needs a node and cannot get one fails (PushStatus::kOutOfMemory, false
// from Push/PushMut, a short count from BulkAdd) without changing the bag
// or aborting; pops keep working; once maps succeed again, pushes succeed
// and exactly the items that were pushed come out. EBR leaks (instead of
// aborting) an object it cannot put on a limbo list.

#include <errno.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "bagpipe/bag.h"
#include "bagpipe/bagpipe.h"
#include "bagpipe/boxed_queue.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/internal/ebr.h"
#include "bagpipe/yc_queue.h"
#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"

namespace allocators {
namespace bagpipe {
namespace {

namespace fi = ::allocators::mmap_alloc::testing;

// Enough pushes to exhaust every cache (EBR record caches hold 256 KiB of
// blocks, bsalloc a few more) many times over.
constexpr uint64_t kMaxPushes = uint64_t{1} << 22;
constexpr size_t kForever = size_t{1} << 40;

class OomTest : public ::testing::Test {
 protected:
  void TearDown() override { fi::ClearMapFailures(); }
};

template <typename Q>
void CheckIfPossible(const Q& q) {
  if constexpr (internal::HasCheckInvariants<Q>::value) q.CheckInvariants();
}

template <typename Q>
class QueueOomTest : public OomTest {};

using QueueTypes =
    ::testing::Types<FAAQueueLowLevel<uint64_t>, FAAArrayQueue<uint64_t>,
                     YangCrummeyQueue<uint64_t, 4>, GeneralYC<uint64_t, 4>>;
TYPED_TEST_SUITE(QueueOomTest, QueueTypes);

TYPED_TEST(QueueOomTest, PushFailsCleanlyAndRecovers) {
  TypeParam q;
  fi::FailNextMaps(kForever);
  // Push until three pushes in a row ran out of memory (a block someone
  // else frees meanwhile may still let a later push through; that is fine,
  // as long as exactly the successful pushes come out below).
  std::vector<uint64_t> in;
  int failures_in_a_row = 0;
  bool saw_errno = false;
  for (uint64_t i = 0; i < kMaxPushes && failures_in_a_row < 3; ++i) {
    errno = 0;
    const PushStatus st = (i % 2 == 0) ? q.TryPushStatus(uint64_t{i})
                          : q.Push(i)  ? PushStatus::kOk
                                       : PushStatus::kOutOfMemory;
    ASSERT_NE(st, PushStatus::kTransientFailure);  // one thread: no races
    if (st == PushStatus::kOk) {
      in.push_back(i);
      failures_in_a_row = 0;
    } else {
      ++failures_in_a_row;
      saw_errno = saw_errno || errno == ENOMEM;
    }
  }
  ASSERT_EQ(failures_in_a_row, 3) << "no push ever ran out of memory";
  EXPECT_TRUE(saw_errno);
  CheckIfPossible(q);

  fi::ClearMapFailures();
  ASSERT_TRUE(q.Push(kMaxPushes));  // memory is back
  in.push_back(kMaxPushes);
  CheckIfPossible(q);
  // Exactly the pushed items come out, in order (one thread: FIFO).
  for (uint64_t want : in) {
    uint64_t v = ~uint64_t{0};
    ASSERT_TRUE(q.Pop(&v)) << want;
    ASSERT_EQ(v, want);
  }
  uint64_t v = 0;
  EXPECT_FALSE(q.Pop(&v));
  CheckIfPossible(q);
}

// FAA pops never allocate: draining under injected failures works, and a
// drained node whose retirement finds no limbo memory is leaked, not fatal.
TEST_F(OomTest, FaaPopsWorkWhileOutOfMemory) {
  FAAQueueLowLevel<uint64_t> q;
  const uint64_t n = 64 * FAAQueueLowLevel<uint64_t>::kNodeCells;
  for (uint64_t i = 0; i < n; ++i) ASSERT_TRUE(q.Push(i));
  fi::FailNextMaps(kForever);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    ASSERT_TRUE(q.Pop(&v));
    ASSERT_EQ(v, i);
  }
  fi::ClearMapFailures();
  q.CheckInvariants();
  ASSERT_TRUE(q.Push(7));
  uint64_t v = 0;
  ASSERT_TRUE(q.Pop(&v));
  EXPECT_EQ(v, 7u);
}

struct Item {
  uint64_t id = 0;
  std::atomic<uintptr_t> handle{0};
  std::atomic<uintptr_t>& revocation_handle() { return handle; }
};

TEST_F(OomTest, RevocablePushFailsWithoutAHandle) {
  RevocableFAAQueue<Item*> q;
  std::vector<Item> items(kMaxPushes / 16);
  fi::FailNextMaps(kForever);
  size_t pushed = 0;
  while (pushed < items.size() && q.Push(&items[pushed])) ++pushed;
  ASSERT_LT(pushed, items.size()) << "no push ever ran out of memory";
  // The failed item is in no cell: nothing to revoke.
  EXPECT_EQ(items[pushed].handle.load(), 0u);
  EXPECT_FALSE(RevocableFAAQueue<Item*>::Revoke(&items[pushed]));
  q.CheckInvariants();
  fi::ClearMapFailures();
  // A pushed item can still be revoked, and the rest pop in order.
  ASSERT_GT(pushed, 1u);
  EXPECT_TRUE(RevocableFAAQueue<Item*>::Revoke(&items[0]));
  for (size_t i = 1; i < pushed; ++i) {
    Item* out = nullptr;
    ASSERT_TRUE(q.Pop(&out));
    ASSERT_EQ(out, &items[i]);
  }
  Item* out = nullptr;
  EXPECT_FALSE(q.Pop(&out));
  EXPECT_TRUE(q.Push(&items[pushed]));
  ASSERT_TRUE(q.Pop(&out));
  EXPECT_EQ(out, &items[pushed]);
}

TEST_F(OomTest, BagPipePushMutAndBulkAddReportOutOfMemory) {
  BagPipe<FAAQueueLowLevel<uint64_t>> bag(4);
  std::vector<uint64_t> in;
  fi::FailNextMaps(kForever);
  uint64_t next = 0;
  while (next < kMaxPushes && bag.PushMut(next)) in.push_back(next++);
  ASSERT_LT(next, kMaxPushes) << "no push ever ran out of memory";
  // A batch stops at the first item no pipe can take and says how many
  // went in (blocks freed meanwhile may let some through).
  const uint64_t batch[3] = {next, next + 1, next + 2};
  const size_t first = bag.BulkAdd(batch, batch + 3);
  ASSERT_LE(first, 3u);
  bag.CheckInvariants();

  fi::ClearMapFailures();
  EXPECT_EQ(bag.BulkAdd(batch + first, batch + 3), 3 - first);
  in.insert(in.end(), batch, batch + 3);
  std::vector<uint64_t> out;
  uint64_t v = 0;
  while (bag.PopMut(&v)) out.push_back(v);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, in);
  bag.CheckInvariants();
}

// The nothrow constructor leaves an invalid handle instead of dying when
// the state or a pipe's first node cannot be had, and builds a working bag
// once maps succeed again.
TEST_F(OomTest, NothrowBagPipeIsInvalidWhenOutOfMemory) {
  using Bag = BagPipe<RevocableFAAQueue<Item*>>;
  std::vector<Bag> bags;
  fi::FailNextMaps(kForever);
  // Each bag takes a state block and four node blocks; the caches run dry
  // after a few hundred.
  bool failed = false;
  for (int i = 0; i < 100000 && !failed; ++i) {
    Bag b(4, std::nothrow);
    failed = !b.valid();
    if (!failed) bags.push_back(std::move(b));
  }
  fi::ClearMapFailures();
  ASSERT_TRUE(failed) << "no nothrow construction ran out of memory";
  bags.clear();
  Bag b(4, std::nothrow);
  ASSERT_TRUE(b.valid());
  Item item;
  ASSERT_TRUE(b.PushMut(&item));
  Item* out = nullptr;
  ASSERT_TRUE(b.PopMut(&out));
  EXPECT_EQ(out, &item);
  b.CheckInvariants();
}

TEST_F(OomTest, SharedHandleReportsOutOfMemory) {
  SharedHandle<FAAQueueLowLevel<uint64_t>> h;
  fi::FailNextMaps(kForever);
  uint64_t next = 0;
  while (next < kMaxPushes && h.PushMut(next)) ++next;
  ASSERT_LT(next, kMaxPushes);
  // A batch stops at the first item that cannot be pushed; the count says
  // how many went in (a block freed meanwhile may let some through).
  const uint64_t batch[2] = {next, next + 1};
  const size_t first = h.BulkAdd(batch, batch + 2);
  ASSERT_LE(first, 2u);
  fi::ClearMapFailures();
  EXPECT_EQ(h.BulkAdd(batch + first, batch + 2), 2 - first);
  uint64_t count = 0, v = 0;
  while (h.PopMut(&v)) ASSERT_EQ(v, count++);
  EXPECT_EQ(count, next + 2);
}

std::atomic<uint64_t> g_reclaimed{0};
void CountReclaim(void*, uintptr_t) { g_reclaimed.fetch_add(1); }

// While one guard is held the epoch cannot pass it, so retired objects pile
// up in limbo blocks; with maps failing, the ones that need a new block
// are leaked and everything else is reclaimed later.
TEST_F(OomTest, EbrLeaksWhatItCannotFile) {
  internal::EbrFlush(/*release_caches=*/true);
  const internal::EbrStats before = internal::GetEbrStats();
  static uint64_t objects[4096];
  g_reclaimed.store(0);
  {
    internal::EbrGuard guard;
    fi::FailNextMaps(kForever);
    for (uint64_t& o : objects) guard.Retire(&o, &CountReclaim, 0);
    fi::ClearMapFailures();
  }
  internal::EbrFlush(/*release_caches=*/false);
  const internal::EbrStats after = internal::GetEbrStats();
  const uint64_t leaked = after.leaked - before.leaked;
  EXPECT_GT(leaked, 0u);
  EXPECT_EQ(g_reclaimed.load() + leaked, std::size(objects));
  EXPECT_EQ(after.pending, 0u);
}

}  // namespace
}  // namespace bagpipe
}  // namespace allocators
