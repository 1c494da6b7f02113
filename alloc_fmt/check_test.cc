// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/check.h"

#include <cstddef>

#include "gtest/gtest.h"

namespace allocators {
namespace {

TEST(CheckTest, PassingChecksDoNothing) {
  int evaluations = 0;
  ALLOC_CHECK(++evaluations == 1);
  ALLOC_CHECK(true, "never printed %d", 1);
  ALLOC_CHECK_EQ(++evaluations, 2);
  ALLOC_CHECK_LT(1, 2);
  ALLOC_CHECK_GE(2u, 2u);
  EXPECT_EQ(evaluations, 2);  // each operand evaluated exactly once
}

TEST(CheckDeathTest, MessageHasFileLineAndCondition) {
  size_t size = 0;
  EXPECT_DEATH(ALLOC_CHECK(size != 0),
               "^alloc_fmt/check_test.cc:[0-9]+: CHECK failed: size != 0\n$");
}

TEST(CheckDeathTest, MessageIncludesFormattedText) {
  size_t size = 12;
  EXPECT_DEATH(ALLOC_CHECK(size % 8 == 0, "size %zu is not a multiple of %d",
                           size, 8),
               "CHECK failed: size % 8 == 0: size 12 is not a multiple of 8");
}

TEST(CheckDeathTest, ComparisonShowsBothValues) {
  int a = -3;
  size_t b = 4096;
  void* p = reinterpret_cast<void*>(0x1234);
  EXPECT_DEATH(ALLOC_CHECK_EQ(a, -4), "CHECK failed: a == -4 \\(-3 vs -4\\)");
  EXPECT_DEATH(ALLOC_CHECK_LT(b, 16u), "CHECK failed: b < 16u \\(4096 vs 16\\)");
  EXPECT_DEATH(ALLOC_CHECK_EQ(p, nullptr), "\\(0x1234 vs 0x0\\)");
}

#if ALLOC_DCHECK_IS_ON
TEST(CheckDeathTest, DcheckFiresInDebugBuilds) {
  EXPECT_DEATH(ALLOC_DCHECK(1 + 1 == 3, "math"), "CHECK failed: 1 \\+ 1 == 3: math");
}
#else
TEST(CheckTest, DcheckIsNotEvaluatedInOptimisedBuilds) {
  int evaluations = 0;
  ALLOC_DCHECK(++evaluations == 100);
  ALLOC_DCHECK_EQ(++evaluations, 100);
  EXPECT_EQ(evaluations, 0);
}
#endif

}  // namespace
}  // namespace allocators
