// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/format.h"

#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"

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

// Reads what `write` writes to a pipe.
template <typename Write>
std::string Captured(Write write) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  write(fds[1]);
  close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
  close(fds[0]);
  return out;
}

TEST(FormatTest, PrintStackNamesObjectsSymbolsAndOffsets) {
  // write() is exported by the C library (maybe as __write); 0x10 lies in
  // no object.
  const char* in_write = reinterpret_cast<const char*>(&::write) + 4;
  void* pcs[] = {const_cast<char*>(in_write), reinterpret_cast<void*>(0x10)};
  const std::string out = Captured([&](int fd) { PrintStack(fd, pcs, 2); });
  // "    #0 0x<pc> in <write's name>+0x4 (<its object>+0x<offset>)": the
  // C library's, or a sanitizer runtime's that interposes it.
  const size_t line = out.find('\n');
  ASSERT_NE(line, std::string::npos) << out;
  const std::string first = out.substr(0, line);
  EXPECT_EQ(first.rfind("    #0 0x", 0), 0u) << first;
  EXPECT_NE(first.find("write+0x4 (/"), std::string::npos) << first;
  EXPECT_EQ(first.back(), ')') << first;
  EXPECT_EQ(out.substr(line + 1), "    #1 0x10\n");
  EXPECT_EQ(Captured([&](int fd) { PrintStack(fd, pcs, 0); }), "");
}

TEST(FormatDeathTest, FatalPrintsOneLineAndAborts) {
  EXPECT_DEATH(Fatal("elfmalloc: invalid free: %p", reinterpret_cast<void*>(0x10)),
               "^elfmalloc: invalid free: 0x10\n$");
}

// The backtrace's first frame is Fatal's caller.
__attribute__((noinline)) void FailHere() {
  Fatal("boom");
}

bool FirstFrameIsFailHere(const std::string& err) {
  static const char kStart[] = "boom\n    #0 0x";
  if (err.rfind(kStart, 0) != 0) return false;
  const uintptr_t pc =
      std::strtoull(err.c_str() + sizeof(kStart) - 1, nullptr, 16);
  const uintptr_t f = reinterpret_cast<uintptr_t>(&FailHere);
  return pc > f && pc - f < 64;
}

TEST(FormatDeathTest, FatalPrintsTheCallersStackWhenAskedTo) {
  EXPECT_DEATH(
      {
        SetFatalBacktrace(true);
        FailHere();
      },
      testing::AllOf(testing::Truly(FirstFrameIsFailHere),
                     testing::ContainsRegex("\n    #1 0x"),
                     testing::EndsWith("\n")));
  // And not otherwise.
  EXPECT_DEATH(FailHere(), "^boom\n$");
}

}  // namespace
}  // namespace alloc_fmt
}  // namespace allocators
