// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/unwrap.h"

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "gtest/gtest.h"

namespace allocators {
namespace alloc_fmt {
namespace {

int g_calls = 0;
std::optional<int> Counted(bool some) {
  ++g_calls;
  return some ? std::optional<int>(3) : std::nullopt;
}

TEST(UnwrapTest, GivesTheValueAndEvaluatesOnce) {
  g_calls = 0;
  EXPECT_EQ(ALLOC_UNWRAP(Counted(true)), 3);
  EXPECT_EQ(ALLOC_EXPECT(Counted(true), "no %s", "value"), 3);
  EXPECT_EQ(g_calls, 2);

  int x = 9;
  int* p = &x;
  EXPECT_EQ(ALLOC_UNWRAP(p), &x);
  EXPECT_EQ(ALLOC_EXPECT(p, "null"), &x);
}

TEST(UnwrapTest, LvaluesGiveReferencesRvaluesGiveValues) {
  std::optional<int> v = 1;
  static_assert(std::is_same_v<decltype(ALLOC_UNWRAP(v)), int&>);
  static_assert(std::is_same_v<decltype(ALLOC_UNWRAP(std::move(v))), int>);
  ALLOC_UNWRAP(v) = 2;
  EXPECT_EQ(*v, 2);
  ALLOC_EXPECT(v, "empty") = 4;
  EXPECT_EQ(*v, 4);

  // A move-only value moves out of a temporary optional.
  std::unique_ptr<int> u =
      ALLOC_UNWRAP(std::optional<std::unique_ptr<int>>(new int(5)));
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(*u, 5);
}

TEST(UnwrapDeathTest, AnEmptyValueIsFatalWithTheExpression) {
  EXPECT_DEATH(static_cast<void>(ALLOC_UNWRAP(Counted(false))),
               "^alloc_fmt/unwrap_test.cc:[0-9]+: "
               "ALLOC_UNWRAP\\(Counted\\(false\\)\\) on an empty value\n$");
  int* null = nullptr;
  EXPECT_DEATH(static_cast<void>(ALLOC_UNWRAP(null)),
               "^alloc_fmt/unwrap_test.cc:[0-9]+: "
               "ALLOC_UNWRAP\\(null\\) on an empty value\n$");
}

TEST(UnwrapDeathTest, ExpectPrintsItsMessage) {
  EXPECT_DEATH(
      static_cast<void>(ALLOC_EXPECT(Counted(false), "wanted %d", 3)),
      "^alloc_fmt/unwrap_test.cc:[0-9]+: wanted 3\n$");
  int* null = nullptr;
  EXPECT_DEATH(static_cast<void>(ALLOC_EXPECT(null, "no pointer")),
               "^alloc_fmt/unwrap_test.cc:[0-9]+: no pointer\n$");
}

}  // namespace
}  // namespace alloc_fmt
}  // namespace allocators
