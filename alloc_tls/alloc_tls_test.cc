// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_tls/alloc_tls.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace alloc_tls {
namespace {

std::atomic<int> g_constructed{0};
std::atomic<int> g_destroyed{0};
// What the value's destructor saw of its own slot.
std::atomic<int> g_dtor_saw_dropped{0};
std::atomic<int> g_dtor_saw_null{0};

struct Counted {
  Counted() { g_constructed++; }
  ~Counted();  // inspects g_slot, defined below
  int value = 42;
};

ABSL_CONST_INIT ALLOC_TLS_INITIAL_EXEC thread_local TlsSlot<Counted> g_slot;

Counted::~Counted() {
  g_destroyed++;
  if (g_slot.state() == SlotState::kDropped) g_dtor_saw_dropped++;
  if (g_slot.Get() == nullptr) g_dtor_saw_null++;  // no resurrection
}

static_assert(std::is_trivially_destructible_v<TlsSlot<Counted>>,
              "a TlsSlot must not register a C++ TLS destructor");

TEST(TlsSlotTest, LifecycleOnOneThread) {
  std::thread([] {
    EXPECT_EQ(g_slot.state(), SlotState::kUninitialized);
    EXPECT_EQ(g_slot.GetIfInitialized(), nullptr);
    Counted* c = g_slot.Get();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->value, 42);
    EXPECT_EQ(g_slot.state(), SlotState::kInitialized);
    EXPECT_EQ(g_slot.Get(), c);  // same object on every call
    EXPECT_EQ(g_slot.GetIfInitialized(), c);
  }).join();
}

TEST(TlsSlotTest, DestructorRunsAtThreadExitAfterMarkingDropped) {
  const int destroyed = g_destroyed.load();
  const int saw_dropped = g_dtor_saw_dropped.load();
  const int saw_null = g_dtor_saw_null.load();
  std::thread([] { ASSERT_NE(g_slot.Get(), nullptr); }).join();
  EXPECT_EQ(g_destroyed.load(), destroyed + 1);
  EXPECT_EQ(g_dtor_saw_dropped.load(), saw_dropped + 1);
  EXPECT_EQ(g_dtor_saw_null.load(), saw_null + 1);
}

TEST(TlsSlotTest, UntouchedThreadsBuildNothing) {
  const int constructed = g_constructed.load();
  const int destroyed = g_destroyed.load();
  std::thread([] { EXPECT_EQ(g_slot.GetIfInitialized(), nullptr); }).join();
  EXPECT_EQ(g_constructed.load(), constructed);
  EXPECT_EQ(g_destroyed.load(), destroyed);
}

TEST(TlsSlotTest, EveryThreadHasItsOwnValue) {
  constexpr int kThreads = 16;
  const int destroyed = g_destroyed.load();
  std::vector<Counted*> seen(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      seen[t] = g_slot.Get();
      seen[t]->value = t;
      // Keep every thread alive until all have their value, so addresses
      // cannot be reused between threads.
      ready++;
      while (ready.load() < kThreads) std::this_thread::yield();
      EXPECT_EQ(g_slot.Get()->value, t);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(std::set<Counted*>(seen.begin(), seen.end()).size(),
            static_cast<size_t>(kThreads));
  EXPECT_EQ(g_destroyed.load(), destroyed + kThreads);
}

// A value whose constructor re-enters its own slot, as a malloc called from
// the initialiser would.
struct Reentrant {
  Reentrant();  // re-enters g_reentrant_slot, defined below
};

ABSL_CONST_INIT ALLOC_TLS_INITIAL_EXEC thread_local TlsSlot<Reentrant>
    g_reentrant_slot;
std::atomic<int> g_nested_null{0};

Reentrant::Reentrant() {
  if (g_reentrant_slot.state() == SlotState::kInitializing &&
      g_reentrant_slot.Get() == nullptr) {
    g_nested_null++;
  }
}

TEST(TlsSlotTest, ReentrantGetDuringInitialisationReturnsNull) {
  std::thread([] {
    EXPECT_NE(g_reentrant_slot.Get(), nullptr);
    EXPECT_EQ(g_nested_null.load(), 1);
    EXPECT_EQ(g_reentrant_slot.state(), SlotState::kInitialized);
  }).join();
}

}  // namespace
}  // namespace alloc_tls
}  // namespace allocators
