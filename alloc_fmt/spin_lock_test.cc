// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/spin_lock.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace {

TEST(SpinLockTest, TryLockFailsWhileHeld) {
  SpinLock lock;
  EXPECT_FALSE(lock.IsHeld());
  ASSERT_TRUE(lock.TryLock());
  EXPECT_TRUE(lock.IsHeld());
  EXPECT_FALSE(lock.TryLock());
  lock.Unlock();
  EXPECT_TRUE(lock.TryLock());
  lock.Unlock();
}

// A non-atomic counter guarded by the lock: any lost update (or, under TSan,
// any unsynchronised access) means mutual exclusion is broken.
TEST(SpinLockTest, MutualExclusionUnderContention) {
  SpinLock lock;
  long counter = 0;
  constexpr int kThreads = 4;
  constexpr int kIters = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) {
        SpinLockHolder holder(&lock);
        counter = counter + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, static_cast<long>(kThreads) * kIters);
}

// Constant initialisation: usable from static constructors in any order.
ABSL_CONST_INIT SpinLock g_static_lock;

TEST(SpinLockTest, ConstantInitialised) {
  SpinLockHolder holder(&g_static_lock);
  EXPECT_TRUE(g_static_lock.IsHeld());
}

}  // namespace
}  // namespace allocators
