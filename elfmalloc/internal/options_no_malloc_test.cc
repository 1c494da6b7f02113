// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Proves that the ELFMALLOC_* parser never allocates, warnings included:
// this binary defines malloc & co. itself (forwarding to glibc's __libc_*
// entry points, as alloc_fmt/no_malloc_test.cc does) and exits with code 99
// if any of them is called while `g_forbid` is set.

#include <errno.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "elfmalloc/internal/options.h"
#include "gtest/gtest.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> g_forbid{false};

void OnForbidden() {
  static const char kMsg[] = "ALLOCATION WHILE FORBIDDEN\n";
  (void)!write(2, kMsg, sizeof(kMsg) - 1);
  _exit(99);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  if (g_forbid.load()) OnForbidden();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t s) {
  if (g_forbid.load()) OnForbidden();
  return __libc_calloc(n, s);
}
void* realloc(void* p, size_t n) {
  if (g_forbid.load()) OnForbidden();
  return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) {
  if (g_forbid.load()) OnForbidden();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  if (g_forbid.load()) OnForbidden();
  void* p = __libc_memalign(a, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
void free(void* p) {
  if (g_forbid.load()) OnForbidden();
  __libc_free(p);
}
}

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

TEST(OptionsNoMallocTest, InterposerCatchesAllocations) {
  // The guard must be able to fail, or the tests below prove nothing.
  EXPECT_EXIT(
      {
        g_forbid = true;
        void* p = malloc(16);
        g_forbid = false;
        free(p);
        _exit(0);
      },
      ::testing::ExitedWithCode(99), "ALLOCATION WHILE FORBIDDEN");
}

TEST(OptionsNoMallocTest, ParsingAndWarningDoNotAllocate) {
  // Every kind of value, good and bad (so every warning path runs).
  const char* env[] = {"PATH=/bin",
                       "ELFMALLOC_SHOW_STATS=yes",
                       "ELFMALLOC_VERBOSE=maybe",
                       "ELFMALLOC_DECAY_MS=abc",
                       "ELFMALLOC_SECURE=ON",
                       "ELFMALLOC_MAGAZINE_SIZE=99999999999999999999999",
                       "ELFMALLOC_DIRTY_MAX_MB=128",
                       "ELFMALLOC_REUSE_THRESHOLD=1.5",
                       nullptr};
  const char* env2[] = {"ELFMALLOC_REUSE_THRESHOLD=0.125", nullptr};
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Options o, o2;
  g_forbid = true;
  const int bad = ParseOptions(env, &o, fds[1]);
  ParseOptions(env2, &o2, fds[1]);
  g_forbid = false;
  close(fds[1]);
  char buf[4096];
  const ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
  close(fds[0]);
  ASSERT_GT(n, 0);
  buf[n] = '\0';
  EXPECT_EQ(bad, 4);
  EXPECT_TRUE(o.show_stats);
  EXPECT_TRUE(o.secure);
  EXPECT_EQ(o.dirty_max_mb, 128);
  EXPECT_EQ(o2.reuse_threshold_ppm, 125000);
  EXPECT_NE(strstr(buf, "ELFMALLOC_DECAY_MS=abc"), nullptr) << buf;
  EXPECT_NE(strstr(buf, "using 60%"), nullptr) << buf;
}

TEST(OptionsNoMallocTest, GetOptionsDoesNotAllocate) {
  ASSERT_EQ(setenv("ELFMALLOC_DECAY_MS", "42", 1), 0);  // allocates: before
  g_forbid = true;
  const Options first = GetOptions();
  const Options again = GetOptions();
  g_forbid = false;
  EXPECT_EQ(first.decay_ms, 42);
  EXPECT_EQ(again.decay_ms, 42);
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
