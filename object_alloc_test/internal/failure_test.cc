// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/internal/failure.h"

#include "gtest/gtest.h"

namespace allocators {
namespace object_alloc_test {
namespace internal {
namespace {

TEST(FailureDeathTest, PlainMessage) {
  EXPECT_DEATH(Fail("object at %p is %s", static_cast<void*>(nullptr), "bad"),
               "^object_alloc_test: object at 0x0 is bad\n$");
}

TEST(FailureDeathTest, InnermostContextIsAppended) {
  EXPECT_DEATH(
      {
        ScopedFailureContext outer("outer %d", 1);
        { ScopedFailureContext inner("inner seed 0x%llx", 0xabcULL); }
        ScopedFailureContext inner2("inner %zu", size_t{2});
        Fail("boom");
      },
      "^object_alloc_test: boom \\[while inner 2\\]\n$");
}

TEST(FailureDeathTest, ContextIsRestoredOnScopeExit) {
  EXPECT_DEATH(
      {
        ScopedFailureContext outer("outer");
        { ScopedFailureContext inner("inner"); }
        Fail("boom");
      },
      "boom \\[while outer\\]");
}

}  // namespace
}  // namespace internal
}  // namespace object_alloc_test
}  // namespace allocators
