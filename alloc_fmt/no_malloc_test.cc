// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Proves that alloc_fmt never allocates: this binary links
// //alloc_fmt:forbid_malloc, whose malloc family exits with a distinctive
// message while ForbidMalloc(true) is in effect.

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "alloc_fmt/check.h"
#include "alloc_fmt/testing/forbid_malloc.h"
#include "gtest/gtest.h"

using allocators::alloc_fmt::testing::ForbidMalloc;

namespace allocators {
namespace {

TEST(NoMallocTest, InterposerCatchesAllocations) {
  // The guard must be able to fail, or the tests below prove nothing.
  EXPECT_EXIT(
      {
        ForbidMalloc(true);
        // volatile: an optimiser may drop an unused malloc/free pair.
        void* volatile p = malloc(16);
        ForbidMalloc(false);
        free(p);
        _exit(0);
      },
      ::testing::ExitedWithCode(alloc_fmt::testing::kForbiddenExitCode),
      "ALLOCATION WHILE FORBIDDEN");
}

TEST(NoMallocTest, FormatAndPrintDoNotAllocate) {
  char buf[128];
  ForbidMalloc(true);
  alloc_fmt::Format(buf, sizeof(buf), "%s %d %zu %p %x", "str", -1,
                    static_cast<size_t>(7), static_cast<void*>(buf), 255u);
  alloc_fmt::Print(2, "no_malloc_test: %s\n", "printing without malloc");
  ForbidMalloc(false);
  EXPECT_NE(strstr(buf, "str -1 7 0x"), nullptr);
}

TEST(NoMallocDeathTest, FailingCheckWithABacktraceDoesNotAllocate) {
  // The first walk of a process, when the unwinder sets itself up.
  EXPECT_DEATH(
      {
        alloc_fmt::SetFatalBacktrace(true);
        ForbidMalloc(true);
        ALLOC_CHECK(false, "with a backtrace");
      },
      "CHECK failed: false: with a backtrace\n    #0 0x");
}

TEST(NoMallocDeathTest, FailingCheckDoesNotAllocate) {
  EXPECT_DEATH(
      {
        ForbidMalloc(true);
        int value = 3;
        ALLOC_CHECK(value == 4, "value was %d", value);
      },
      "CHECK failed: value == 4: value was 3");
  EXPECT_DEATH(
      {
        ForbidMalloc(true);
        ALLOC_CHECK_EQ(1, 2);
      },
      "CHECK failed: 1 == 2 \\(1 vs 2\\)");
}

}  // namespace
}  // namespace allocators
