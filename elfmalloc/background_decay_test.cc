// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// ELFMALLOC_BACKGROUND_THREAD=1 (set with ELFMALLOC_DECAY_MS=100 in BUILD):
// free pages go back to the OS after the decay period even when the
// program makes no further allocator calls at all. Without the thread they
// stay dirty until the next slow-path call (info/reliability.md row 38).
// Tagged noasan/notsan: it measures resident memory.

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <thread>
#include <vector>

#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/heap.h"
#include "elfmalloc/testing/test_util.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

using DefaultHeap = internal::Heap<internal::MagazineConfig>;
using platform::testing::ThreadCount;

TEST(BackgroundDecayTest, IdleFreePagesGoBackWithoutAllocatorCalls) {
  ASSERT_TRUE(DefaultHeap::Instance().options().background_thread);
  // 64 MiB of 64-byte objects, allocated and freed by a thread that then
  // exits: its caches go back and the emptied slags become dirty pages.
  std::thread t([] {
    std::vector<void*> objs(kMiB);
    for (void*& p : objs) {
      p = Alloc(64);
      static_cast<char*>(p)[0] = 1;
    }
    for (void* p : objs) Free(p);
  });
  t.join();
  const size_t dirty = GetStats().dirty_bytes;
  const size_t resident = testing::ResidentBytes();
  ASSERT_GE(dirty, 32 * kMiB) << "the freed pages were not kept dirty";
  // The decay thread (started with the first thread cache) and this one.
  EXPECT_EQ(ThreadCount(), 2u);

  // No allocator call from here on, on any thread but the decay thread.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const size_t dirty_after = GetStats().dirty_bytes;
  const size_t resident_after = testing::ResidentBytes();
  std::printf("dirty %zu -> %zu KiB, resident %zu -> %zu KiB, %llu steps\n",
              dirty >> 10, dirty_after >> 10, resident >> 10,
              resident_after >> 10,
              static_cast<unsigned long long>(
                  DefaultHeap::Instance().background_decay_steps()));
  EXPECT_GT(DefaultHeap::Instance().background_decay_steps(), 0u);
  EXPECT_LE(dirty_after, 4 * kMiB);
  EXPECT_LE(resident_after + dirty / 2, resident);
}

// fork() copies only the calling thread: the child starts its own decay
// thread when its next thread cache is built.
TEST(BackgroundDecayTest, AForkedChildStartsItsOwn) {
  Free(Alloc(16));  // this thread's cache, and the parent's decay thread
  ASSERT_EQ(ThreadCount(), 2u);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const bool alone = ThreadCount() == 1;
    std::thread t([] { Free(Alloc(16)); });  // a new thread cache
    t.join();
    _exit(alone && ThreadCount() == 2 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the child did not start exactly one decay thread";
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
