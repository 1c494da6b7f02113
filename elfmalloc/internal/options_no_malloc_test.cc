// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Proves that the ELFMALLOC_* parser never allocates, warnings included:
// this binary links //alloc_fmt:forbid_malloc, whose malloc family exits
// with kForbiddenExitCode while ForbidMalloc(true) is in effect.

#include <errno.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "alloc_fmt/testing/forbid_malloc.h"
#include "elfmalloc/internal/options.h"
#include "gtest/gtest.h"

using allocators::alloc_fmt::testing::ForbidMalloc;

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

TEST(OptionsNoMallocTest, InterposerCatchesAllocations) {
  // The guard must be able to fail, or the tests below prove nothing.
  EXPECT_EXIT(
      {
        ForbidMalloc(true);
        void* p = malloc(16);
        ForbidMalloc(false);
        free(p);
        _exit(0);
      },
      ::testing::ExitedWithCode(alloc_fmt::testing::kForbiddenExitCode),
      "ALLOCATION WHILE FORBIDDEN");
}

TEST(OptionsNoMallocTest, ParsingAndWarningDoNotAllocate) {
  // Every kind of value, good and bad, and unknown names near an option,
  // far from all, repeated and reserved (so every warning path runs).
  const char* env[] = {"PATH=/bin",
                       "ELFMALLOC_SHOW_STATS=yes",
                       "ELFMALLOC_VERBOSE=maybe",
                       "ELFMALLOC_DECAY_MS=abc",
                       "ELFMALLOC_SECURE=ON",
                       "ELFMALLOC_MAGAZINE_SIZE=99999999999999999999999",
                       "ELFMALLOC_DIRTY_MAX_MB=128",
                       "ELFMALLOC_REUSE_THRESHOLD=1.5",
                       "ELFMALLOC_DECAY=0",
                       "ELFMALLOC_BACKGROUND=1",
                       "ELFMALLOC_COLOUR=red",
                       "ELFMALLOC_DECAY=1",
                       "ELFMALLOC_TEST_SCALE=full",
                       nullptr};
  const char* env2[] = {"ELFMALLOC_REUSE_THRESHOLD=0.125", nullptr};
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Options o, o2;
  ForbidMalloc(true);
  const int bad = ParseOptions(env, &o, fds[1]);
  ParseOptions(env2, &o2, fds[1]);
  ForbidMalloc(false);
  close(fds[1]);
  char buf[4096];
  const ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
  close(fds[0]);
  ASSERT_GT(n, 0);
  buf[n] = '\0';
  EXPECT_EQ(bad, 7);
  EXPECT_TRUE(o.show_stats);
  EXPECT_TRUE(o.secure);
  EXPECT_EQ(o.dirty_max_mb, 128);
  EXPECT_EQ(o2.reuse_threshold_ppm, 125000);
  EXPECT_NE(strstr(buf, "ELFMALLOC_DECAY_MS=abc"), nullptr) << buf;
  EXPECT_NE(strstr(buf, "using 25%"), nullptr) << buf;
  EXPECT_NE(strstr(buf,
                   "unknown option ELFMALLOC_DECAY=0 (did you mean "
                   "ELFMALLOC_DECAY_MS?)\n"),
            nullptr)
      << buf;
  EXPECT_NE(strstr(buf,
                   "ELFMALLOC_BACKGROUND=1 (did you mean "
                   "ELFMALLOC_BACKGROUND_THREAD?)\n"),
            nullptr)
      << buf;
  EXPECT_NE(strstr(buf, "unknown option ELFMALLOC_COLOUR=red\n"), nullptr)
      << buf;
}

TEST(OptionsNoMallocTest, GetOptionsDoesNotAllocate) {
  ASSERT_EQ(setenv("ELFMALLOC_DECAY_MS", "42", 1), 0);  // allocates: before
  ForbidMalloc(true);
  const Options first = GetOptions();
  const Options again = GetOptions();
  ForbidMalloc(false);
  EXPECT_EQ(first.decay_ms, 42);
  EXPECT_EQ(again.decay_ms, 42);
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
