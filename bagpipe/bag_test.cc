// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The weak-bag interface: compile-time trait checks, the reference-counted
// SharedHandle, and the boxing adaptors' ownership rules.

#include "bagpipe/bag.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bagpipe/boxed_queue.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/testing/mutex_deque.h"
#include "bagpipe/testing/test_util.h"
#include "bagpipe/testing/treiber_stack.h"
#include "bagpipe/yc_queue.h"
#include "gtest/gtest.h"

namespace allocators {
namespace bagpipe {
namespace {

struct Revocable {
  std::atomic<uintptr_t>& revocation_handle() { return handle; }
  std::atomic<uintptr_t> handle{0};
};

struct NotABag {
  using value_type = int;
  bool TryPush(int) { return true; }
};

// Every queue is a shared weak bag; only the revocable one can revoke.
static_assert(kIsSharedWeakBag<FAAQueueLowLevel<uint64_t>>);
static_assert(kIsSharedWeakBag<RevocableFAAQueue<Revocable*>>);
static_assert(kIsSharedWeakBag<YangCrummeyQueue<int*>>);
static_assert(kIsSharedWeakBag<FAAArrayQueue<std::string>>);
static_assert(kIsSharedWeakBag<GeneralYC<std::unique_ptr<int>>>);
static_assert(kIsSharedWeakBag<testing::TreiberStack<uint64_t>>);
static_assert(kIsSharedWeakBag<testing::MutexDeque<uint64_t>>);
static_assert(!kIsSharedWeakBag<NotABag>);
static_assert(!kIsSharedWeakBag<int>);
static_assert(kIsRevocableBag<RevocableFAAQueue<Revocable*>>);
static_assert(!kIsRevocableBag<FAAQueueLowLevel<Revocable*>>);
static_assert(!kIsRevocableBag<YangCrummeyQueue<uint64_t>>);
static_assert(internal::kIsRevocable<Revocable*>);
static_assert(!internal::kIsRevocable<int*>);
static_assert(kIsWeakBag<SharedHandle<FAAQueueLowLevel<uint64_t>>>);
static_assert(!kIsWeakBag<FAAQueueLowLevel<uint64_t>>);

TEST(SharedHandleTest, CopiesShareOneBag) {
  SharedHandle<FAAQueueLowLevel<uint64_t>> a;
  SharedHandle<FAAQueueLowLevel<uint64_t>> b = a;
  EXPECT_EQ(&a.bag(), &b.bag());
  ASSERT_TRUE(a.TryPushMut(1));
  EXPECT_TRUE(a.PushMut(2));
  const uint64_t more[] = {3, 4};
  EXPECT_EQ(b.BulkAdd(more, more + 2), 2u);
  uint64_t out = 0;
  for (uint64_t want = 1; want <= 4; ++want) {
    ASSERT_TRUE(b.PopMut(&out));
    EXPECT_EQ(out, want);
  }
  EXPECT_EQ(b.TryPopMut(&out), PopStatus::kEmpty);
}

// Counts live instances, to check that boxing queues destroy what they hold.
struct Counted {
  static std::atomic<int> live;
  explicit Counted(int v = 0) : value(v) { live.fetch_add(1); }
  Counted(const Counted& o) : value(o.value) { live.fetch_add(1); }
  Counted(Counted&& o) noexcept : value(o.value) { live.fetch_add(1); }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) = default;
  ~Counted() { live.fetch_sub(1); }
  int value;
};
std::atomic<int> Counted::live{0};

template <typename Q>
class BoxedTest : public ::testing::Test {};
using BoxedTypes = ::testing::Types<FAAArrayQueue<Counted>, GeneralYC<Counted>,
                                    GeneralYC<Counted, 3>>;
TYPED_TEST_SUITE(BoxedTest, BoxedTypes);

TYPED_TEST(BoxedTest, DestructionDestroysRemainingItems) {
  ASSERT_EQ(Counted::live.load(), 0);
  {
    TypeParam q;
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(q.TryPush(Counted(i)));
    EXPECT_EQ(Counted::live.load(), 1000);
    Counted out;
    for (int i = 0; i < 300; ++i) {
      ASSERT_EQ(q.TryPop(&out), PopStatus::kOk);
      EXPECT_EQ(out.value, i);
    }
    EXPECT_EQ(Counted::live.load(), 701);  // 700 boxed + `out`
    EXPECT_GE(q.box_capacity(), 1000u);
  }
  EXPECT_EQ(Counted::live.load(), 0);
}

TYPED_TEST(BoxedTest, BoxesAreRecycled) {
  TypeParam q;
  Counted out;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(q.Push(Counted(i)));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.Pop(&out));
  }
  // Never more than 10 items at once: the first chunk suffices.
  EXPECT_LE(q.box_capacity(), 256u);
}

TEST(BoxedQueueTest, MoveOnlyItems) {
  GeneralYC<std::unique_ptr<int>> q;
  auto p = std::make_unique<int>(42);
  ASSERT_TRUE(q.TryPush(std::move(p)));
  EXPECT_EQ(p, nullptr);  // moved in on success
  std::unique_ptr<int> out;
  ASSERT_EQ(q.TryPop(&out), PopStatus::kOk);
  EXPECT_EQ(*out, 42);
}

template <typename U>
using YcNoCheck = YangCrummeyQueue<U, 3, /*kCheckEmpty=*/false>;

TEST(BoxedQueueTest, FailedPushLeavesItemWithCaller) {
  BoxedQueue<std::string, YcNoCheck> q;
  std::string out;
  // A pop on the empty queue poisons cell 0 ...
  EXPECT_EQ(q.TryPop(&out), PopStatus::kEmpty);
  // ... so this push claims it and fails: the string must come back intact.
  std::string s(100, 'x');
  EXPECT_FALSE(q.TryPush(std::move(s)));
  EXPECT_EQ(s, std::string(100, 'x'));
  EXPECT_TRUE(q.TryPush(std::move(s)));
  ASSERT_EQ(q.TryPop(&out), PopStatus::kOk);
  EXPECT_EQ(out, std::string(100, 'x'));
}

}  // namespace
}  // namespace bagpipe
}  // namespace allocators
