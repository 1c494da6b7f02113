// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/format.h"

#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace allocators {
namespace alloc_fmt {
namespace {

std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  size_t n = FormatV(buf, sizeof(buf), fmt, args);
  va_end(args);
  EXPECT_EQ(n, strlen(buf));
  return std::string(buf, n);
}

// Same as Fmt() without compile-time format checking, for bad formats.
std::string FmtUnchecked(const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  size_t n = FormatV(buf, sizeof(buf), fmt, args);
  va_end(args);
  return std::string(buf, n);
}

TEST(FormatTest, PlainText) { EXPECT_EQ(Fmt("hello"), "hello"); }

TEST(FormatTest, Integers) {
  EXPECT_EQ(Fmt("%d %i %u", -5, 7, 9u), "-5 7 9");
  EXPECT_EQ(Fmt("%ld %lu", -1234567890123L, 1234567890123UL),
            "-1234567890123 1234567890123");
  EXPECT_EQ(Fmt("%lld", LLONG_MIN), "-9223372036854775808");
  EXPECT_EQ(Fmt("%llu", ULLONG_MAX), "18446744073709551615");
  EXPECT_EQ(Fmt("%zu %zd", static_cast<size_t>(4096), static_cast<ssize_t>(-3)),
            "4096 -3");
  EXPECT_EQ(Fmt("%d", 0), "0");
}

TEST(FormatTest, Hex) {
  EXPECT_EQ(Fmt("%x %X", 0xbeefu, 0xbeefu), "beef BEEF");
  EXPECT_EQ(Fmt("%zx", static_cast<size_t>(0x200000)), "200000");
  EXPECT_EQ(Fmt("%p", reinterpret_cast<void*>(0x1000)), "0x1000");
  EXPECT_EQ(Fmt("%p", static_cast<void*>(nullptr)), "0x0");
}

TEST(FormatTest, StringsAndChars) {
  EXPECT_EQ(Fmt("[%s] [%c] 100%%", "abc", 'z'), "[abc] [z] 100%");
  EXPECT_EQ(FmtUnchecked("%s", static_cast<const char*>(nullptr)), "(null)");
}

TEST(FormatTest, UnknownConversionIsPrintedVerbatim) {
  EXPECT_EQ(FmtUnchecked("a%qb"), "a%qb");
  EXPECT_EQ(FmtUnchecked("trailing %"), "trailing %");
}

TEST(FormatTest, TruncationIsMarked) {
  char buf[8];
  size_t n = Format(buf, sizeof(buf), "%s", "0123456789");
  EXPECT_EQ(n, 7u);
  EXPECT_STREQ(buf, "0123...");
}

TEST(FormatTest, ZeroCapacityWritesNothing) {
  char buf[1] = {'x'};
  EXPECT_EQ(Format(buf, 0, "abc"), 0u);
  EXPECT_EQ(buf[0], 'x');
}

TEST(FormatTest, PrintWritesWholeMessageToFd) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Print(fds[1], "value=%d name=%s\n", 42, "x");
  close(fds[1]);
  char buf[64] = {};
  ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
  close(fds[0]);
  ASSERT_GT(n, 0);
  EXPECT_STREQ(buf, "value=42 name=x\n");
}

TEST(FormatDeathTest, FatalPrintsOneLineAndAborts) {
  EXPECT_DEATH(Fatal("elfmalloc: invalid free: %p", reinterpret_cast<void*>(0x10)),
               "^elfmalloc: invalid free: 0x10\n$");
}

}  // namespace
}  // namespace alloc_fmt
}  // namespace allocators
