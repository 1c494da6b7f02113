// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/once.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace {

TEST(OnceTest, RunsTheFunctionOnce) {
  Once once;
  int runs = 0;
  EXPECT_FALSE(once.done());
  once.Run([&] { ++runs; });
  once.Run([&] { ++runs; });
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(once.done());
}

// Every caller returns only after the function finished, whichever thread
// ran it.
TEST(OnceTest, ConcurrentCallersWaitForTheOneThatRuns) {
  for (int round = 0; round < 20; ++round) {
    Once once;
    std::atomic<int> runs{0};
    std::atomic<bool> finished{false};
    std::atomic<int> saw_unfinished{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        once.Run([&] {
          runs.fetch_add(1);
          std::this_thread::yield();
          finished.store(true);
        });
        if (!finished.load()) saw_unfinished.fetch_add(1);
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(runs.load(), 1);
    EXPECT_EQ(saw_unfinished.load(), 0);
  }
}

// Usable before any constructor has run (constant-initialised).
ABSL_CONST_INIT Once g_once;

TEST(OnceTest, ConstantInitialised) {
  int runs = 0;
  g_once.Run([&] { ++runs; });
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace allocators
