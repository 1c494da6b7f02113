// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Proves that alloc_fmt never allocates. This binary defines malloc & co.
// itself (forwarding to glibc's __libc_* entry points) and aborts with a
// distinctive message if any of them is called while `g_forbid` is set.

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "alloc_fmt/check.h"
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
namespace {

TEST(NoMallocTest, InterposerCatchesAllocations) {
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

TEST(NoMallocTest, FormatAndPrintDoNotAllocate) {
  char buf[128];
  g_forbid = true;
  alloc_fmt::Format(buf, sizeof(buf), "%s %d %zu %p %x", "str", -1,
                    static_cast<size_t>(7), static_cast<void*>(buf), 255u);
  alloc_fmt::Print(2, "no_malloc_test: %s\n", "printing without malloc");
  g_forbid = false;
  EXPECT_NE(strstr(buf, "str -1 7 0x"), nullptr);
}

TEST(NoMallocDeathTest, FailingCheckDoesNotAllocate) {
  EXPECT_DEATH(
      {
        g_forbid = true;
        int value = 3;
        ALLOC_CHECK(value == 4, "value was %d", value);
      },
      "CHECK failed: value == 4: value was 3");
  EXPECT_DEATH(
      {
        g_forbid = true;
        ALLOC_CHECK_EQ(1, 2);
      },
      "CHECK failed: 1 == 2 \\(1 vs 2\\)");
}

}  // namespace
}  // namespace allocators
