// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/internal/working_set.h"

#include <chrono>
#include <optional>

#include "gtest/gtest.h"

namespace allocators {
namespace slab_alloc {
namespace internal {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

struct ManualClock {
  nanoseconds* now;
  nanoseconds Now() const { return *now; }
};

TEST(WorkingSetTest, TracksTheMinimumUntilThePeriodEnds) {
  nanoseconds now{1000};
  WorkingSet<ManualClock> ws(ManualClock{&now}, seconds(15), 5);
  ws.UpdateMin(7);
  EXPECT_EQ(ws.min(), 5u);
  ws.UpdateMin(3);
  ws.UpdateMin(4);
  EXPECT_EQ(ws.min(), 3u);

  now += seconds(14);
  EXPECT_EQ(ws.Refresh(), std::nullopt);
  now += seconds(1);  // exactly one period: the original's `>=`
  EXPECT_EQ(ws.Refresh(), std::optional<size_t>(3));
  // A new period started now; the value stays until Set.
  EXPECT_EQ(ws.min(), 3u);
  ws.Set(9);
  EXPECT_EQ(ws.Refresh(), std::nullopt);
  now += seconds(15);
  EXPECT_EQ(ws.Refresh(), std::optional<size_t>(9));
}

TEST(WorkingSetTest, ZeroPeriodAlwaysRefreshes) {
  nanoseconds now{0};
  WorkingSet<ManualClock> ws(ManualClock{&now}, nanoseconds(0), 2);
  EXPECT_EQ(ws.Refresh(), std::optional<size_t>(2));
  EXPECT_EQ(ws.Refresh(), std::optional<size_t>(2));
}

TEST(WorkingSetTest, MaxPeriodNeverRefreshes) {
  nanoseconds now{0};
  WorkingSet<ManualClock> ws(ManualClock{&now}, nanoseconds::max(), 2);
  now = nanoseconds::max() - nanoseconds(1);
  EXPECT_EQ(ws.Refresh(), std::nullopt);
}

TEST(WorkingSetTest, ClockGoingBackwardsDoesNotEndThePeriod) {
  nanoseconds now{seconds(100)};
  WorkingSet<ManualClock> ws(ManualClock{&now}, seconds(15), 1);
  now = seconds(1);
  EXPECT_EQ(ws.Refresh(), std::nullopt);
}

TEST(WorkingSetTest, SteadyClockIsMonotonic) {
  SteadyClock clock;
  const nanoseconds a = clock.Now();
  const nanoseconds b = clock.Now();
  EXPECT_LE(a, b);
  EXPECT_EQ(kDefaultWorkingPeriod, seconds(15));
}

}  // namespace
}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators
