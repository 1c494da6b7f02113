// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "platform/platform.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "platform/testing/proc.h"
#include "platform/testing/sanitizers.h"

namespace allocators {
namespace platform {
namespace {

TEST(PlatformTest, PageSizeIsAPowerOfTwo) {
  const size_t page = PageSize();
  EXPECT_GE(page, 4096u);
  EXPECT_EQ(page & (page - 1), 0u);
}

TEST(PlatformTest, MapProtectAdviseUnmap) {
  const size_t page = PageSize();
  void* p = nullptr;
  errno = 1234;
  ASSERT_EQ(Map(4 * page, kPermRead | kPermWrite, false, &p), 0);
  EXPECT_EQ(errno, 1234) << "a call must leave errno alone";
  ASSERT_NE(p, nullptr);
  char* c = static_cast<char*>(p);
  for (size_t i = 0; i < 4 * page; ++i) ASSERT_EQ(c[i], 0) << i;
  c[0] = 7;
  EXPECT_EQ(Advise(p, page, Advice::kDontNeed), 0);
  EXPECT_EQ(c[0], 0) << "private memory reads as zero after kDontNeed";
  EXPECT_EQ(Advise(p, page, Advice::kWillNeed), 0);
  EXPECT_EQ(Protect(c + page, page, 0), 0);
  EXPECT_EQ(testing::PermsAt(c + page), "---p");
  EXPECT_EQ(Protect(c + page, page, kPermRead), 0);
  EXPECT_EQ(testing::PermsAt(c + page), "r--p");
  EXPECT_EQ(Unmap(p, 4 * page), 0);
  EXPECT_FALSE(testing::IsReadable(p));
}

TEST(PlatformTest, ErrorsComeBackAsErrnoValues) {
  const size_t page = PageSize();
  void* p = nullptr;
  errno = 0;
  // Unaligned address: the OS rejects it.
  EXPECT_EQ(Unmap(reinterpret_cast<void*>(page + 1), page), EINVAL);
  EXPECT_EQ(Protect(reinterpret_cast<void*>(page + 1), page, kPermRead),
            EINVAL);
  // More than the address space.
  EXPECT_EQ(Map(size_t{1} << 62, kPermRead, false, &p), ENOMEM);
  EXPECT_EQ(p, nullptr) << "*out is untouched on failure";
  EXPECT_EQ(errno, 0);
}

TEST(PlatformTest, RemapGrowsInPlaceOrMoves) {
  const size_t page = PageSize();
  void* p = nullptr;
  ASSERT_EQ(Map(page, kPermRead | kPermWrite, true, &p), 0);
  static_cast<char*>(p)[0] = 42;
  void* q = nullptr;
  ASSERT_EQ(Remap(p, page, 64 * page, /*may_move=*/true, &q), 0);
  EXPECT_EQ(static_cast<char*>(q)[0], 42);
  EXPECT_EQ(static_cast<char*>(q)[63 * page], 0);
  EXPECT_EQ(Unmap(q, 64 * page), 0);
}

TEST(PlatformTest, PopulateAdviceIsSupportedOrRefusedWithEinval) {
  const size_t page = PageSize();
  void* p = nullptr;
  ASSERT_EQ(Map(8 * page, kPermRead | kPermWrite, false, &p), 0);
  const int w = Advise(p, 8 * page, Advice::kPopulateWrite);
  EXPECT_TRUE(w == 0 || w == EINVAL) << w;
  const int h = Advise(p, 8 * page, Advice::kHugePage);
  EXPECT_TRUE(h == 0 || h == EINVAL) << h;
  EXPECT_EQ(Unmap(p, 8 * page), 0);
}

TEST(PlatformTest, ClocksMoveForward) {
  const int64_t ns0 = MonotonicNs();
  const int64_t ms0 = CoarseMonotonicMs();
  SleepMs(30);
  const int64_t ns1 = MonotonicNs();
  const int64_t ms1 = CoarseMonotonicMs();
  EXPECT_GE(ns1 - ns0, 30 * 1000000);
  // The coarse clock ticks every few milliseconds.
  EXPECT_GE(ms1 - ms0, 20);
  EXPECT_LT(ms1 - ms0, 10000);
  SleepMs(0);
  SleepMs(-5);  // no-ops
}

TEST(PlatformTest, RandomBytesDiffer) {
  uint64_t a = 0, b = 0;
  ASSERT_TRUE(RandomBytes(&a, sizeof(a)));
  ASSERT_TRUE(RandomBytes(&b, sizeof(b)));
  EXPECT_NE(a, b);
  char big[1000];
  EXPECT_TRUE(RandomBytes(big, sizeof(big)));
}

TEST(PlatformTest, ProcessIdAndCpuCount) {
  EXPECT_EQ(ProcessId(), static_cast<int>(getpid()));
  EXPECT_GE(CpuCount(), 1u);
  EXPECT_EQ(CpuCount(), CpuCount());
  Yield();
}

std::atomic<int> g_thread_state{0};

void* ThreadBody(void*) {
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  const bool all_blocked = sigismember(&mask, SIGINT) == 1 &&
                           sigismember(&mask, SIGUSR1) == 1 &&
                           sigismember(&mask, SIGTERM) == 1;
  g_thread_state.store(all_blocked ? 1 : 2);
  return nullptr;
}

TEST(PlatformTest, DetachedThreadRunsWithSignalsBlocked) {
  sigset_t before, after;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  ASSERT_EQ(StartDetachedThread(&ThreadBody, nullptr), 0);
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  EXPECT_EQ(sigismember(&after, SIGUSR1), sigismember(&before, SIGUSR1))
      << "the caller's mask is restored";
  for (int i = 0; i < 5000 && g_thread_state.load() == 0; ++i) SleepMs(1);
  EXPECT_EQ(g_thread_state.load(), 1);
}

std::atomic<int> g_key_destructor_value{0};
void KeyDestructor(void* value) {
  g_key_destructor_value.store(*static_cast<int*>(value));
}

TEST(PlatformTest, ThreadKeyDestructorRunsAtThreadExit) {
  ThreadKey key;
  ASSERT_EQ(CreateThreadKey(&KeyDestructor, &key), 0);
  static int value = 42;
  std::thread([key] { ASSERT_EQ(SetThreadValue(key, &value), 0); }).join();
  EXPECT_EQ(g_key_destructor_value.load(), 42);
}

std::atomic<int> g_prepared{0};
void Prepare() { g_prepared.fetch_add(1); }

TEST(PlatformTest, AtForkRunsThePrepareHandler) {
  ASSERT_EQ(AtFork(&Prepare, nullptr, nullptr), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(g_prepared.load(), 1);
}

TEST(PlatformTest, EnvironmentListsTheProcessVariables) {
  ASSERT_EQ(setenv("PLATFORM_TEST_VARIABLE", "yes", 1), 0);
  bool found = false;
  for (char** e = Environment(); e != nullptr && *e != nullptr; ++e) {
    found |= std::strcmp(*e, "PLATFORM_TEST_VARIABLE=yes") == 0;
  }
  EXPECT_TRUE(found);
}

TEST(PlatformTest, ReadFileReadsTruncatesAndFails) {
  char buf[4096];
  const int64_t n = ReadFile("/proc/self/status", buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::strlen(buf), static_cast<size_t>(n));
  EXPECT_EQ(std::strncmp(buf, "Name:", 5), 0);
  char small[6];
  EXPECT_EQ(ReadFile("/proc/self/status", small, sizeof(small)), 5);
  EXPECT_STREQ(small, "Name:");
  errno = 0;
  EXPECT_EQ(ReadFile("/nonexistent/file", buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, 0);
}

TEST(PlatformTest, WriteAllWritesEverythingOrReportsFailure) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_TRUE(WriteAll(fds[1], "hello", 5));
  char got[8] = {};
  ASSERT_EQ(read(fds[0], got, sizeof(got)), 5);
  EXPECT_STREQ(got, "hello");
  close(fds[0]);
  close(fds[1]);
  EXPECT_FALSE(WriteAll(-1, "x", 1));
}

// --- Stacks ---

// Three frames that stay frames (not inlined, not tail calls), so the
// captured return addresses must fall inside them in this order.
__attribute__((noinline)) int Capture3(void** pcs, int max, int skip) {
  const int n = CaptureStack(pcs, max, skip);
  asm volatile("" ::: "memory");
  return n;
}
__attribute__((noinline)) int Capture2(void** pcs, int max, int skip) {
  const int n = Capture3(pcs, max, skip);
  asm volatile("" ::: "memory");
  return n;
}
__attribute__((noinline)) int Capture1(void** pcs, int max, int skip) {
  const int n = Capture2(pcs, max, skip);
  asm volatile("" ::: "memory");
  return n;
}

// True if code address `pc` lies inside function `fn`, whose code is
// taken to be shorter than 256 bytes (these are).
bool Inside(const void* pc, int (*fn)(void**, int, int)) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(pc);
  const uintptr_t f = reinterpret_cast<uintptr_t>(fn);
  return a > f && a - f < 256;
}

TEST(PlatformTest, CaptureStackListsTheCallersInnermostFirst) {
  void* pcs[32] = {};
  const int n = Capture1(pcs, 32, 0);
  ASSERT_GE(n, 4);  // Capture3, 2, 1, this test, and gtest's frames
  EXPECT_TRUE(Inside(pcs[0], &Capture3));
  EXPECT_TRUE(Inside(pcs[1], &Capture2));
  EXPECT_TRUE(Inside(pcs[2], &Capture1));

  void* skipped[32] = {};
  ASSERT_EQ(Capture1(skipped, 32, 2), n - 2);
  EXPECT_TRUE(Inside(skipped[0], &Capture1));

  void* two[2] = {};
  EXPECT_EQ(Capture1(two, 2, 0), 2);
  EXPECT_TRUE(Inside(two[1], &Capture2));
  EXPECT_EQ(Capture1(two, 0, 0), 0);
}

TEST(PlatformTest, CaptureStackWorksOnAnyThread) {
  int n = 0;
  void* pcs[8] = {};
  std::thread([&] { n = Capture1(pcs, 8, 0); }).join();
  ASSERT_GE(n, 3);
  EXPECT_TRUE(Inside(pcs[2], &Capture1));
}

TEST(PlatformTest, LocateCodeNamesTheObjectAndExportedSymbol) {
  void* pcs[4] = {};
  ASSERT_GE(Capture1(pcs, 4, 0), 1);
  CodeLocation here;
  ASSERT_TRUE(LocateCode(pcs[0], &here));
  ASSERT_NE(here.object, nullptr);
  EXPECT_GT(std::strlen(here.object), 0u);
  EXPECT_LT(here.object_offset, uintptr_t{1} << 32);

  // write() is exported by the C library (or by a sanitizer runtime that
  // interposes it).
  CodeLocation libc;
  const void* w = reinterpret_cast<const void*>(&::write);
  ASSERT_TRUE(LocateCode(static_cast<const char*>(w) + 1, &libc));
  ASSERT_NE(libc.symbol, nullptr);
  EXPECT_EQ(libc.symbol_offset, 1u);
  EXPECT_NE(std::string(libc.symbol).find("write"), std::string::npos)
      << libc.symbol;
  EXPECT_EQ(libc.object[0], '/') << libc.object;

  CodeLocation none;
  EXPECT_FALSE(LocateCode(reinterpret_cast<void*>(uintptr_t{16}), &none));
}

// --- The fault hook (each case in a fresh process: the hook is
// process-wide and installed once) ---

void WritingHook(void* addr) {
  static const char kLine[] = "hook saw a fault\n";
  WriteAll(2, kLine, sizeof(kLine) - 1);
  static_cast<void>(addr);
}

// An inaccessible page, and a write to it.
void FaultOnAProtectedPage() {
  void* p = nullptr;
  if (Map(PageSize(), 0, false, &p) != 0) abort();
  *static_cast<volatile char*>(p) = 1;
}

TEST(PlatformFaultHookDeathTest, HookRunsThenTheDefaultActionEndsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (InstallFaultHook(&WritingHook) != 0) abort();
        if (InstallFaultHook(&WritingHook) != EBUSY) abort();
        FaultOnAProtectedPage();
      },
      // A sanitizer's own SIGSEGV handler is the previous one, and ends
      // the process its way.
      [](int status) {
        return testing::kSanitized
                   ? !(WIFEXITED(status) && WEXITSTATUS(status) == 0)
                   : WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
      },
      "hook saw a fault\n");
}

void PreviousHandler(int) {
  static const char kLine[] = "previous handler\n";
  WriteAll(2, kLine, sizeof(kLine) - 1);
  _exit(42);
}

TEST(PlatformFaultHookDeathTest, TheFaultGoesOnToThePreviousHandler) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        struct sigaction sa = {};
        sa.sa_handler = PreviousHandler;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSEGV, &sa, nullptr) != 0) abort();
        if (InstallFaultHook(&WritingHook) != 0) abort();
        FaultOnAProtectedPage();
      },
      ::testing::ExitedWithCode(42), "hook saw a fault\nprevious handler\n");
}

}  // namespace
}  // namespace platform
}  // namespace allocators
