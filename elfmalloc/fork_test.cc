// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// fork() while other threads hold elfmalloc's internal locks or allocate:
// the child must be able to allocate, free and start threads. Without the
// atfork handlers a child forked while another thread holds a lock inherits
// it held, and its first allocation that needs it hangs (the child arms an
// alarm, so a hang is a failure, not a stuck test).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/internal/fork.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace {

// What a child does: exercises every tier, including the ones behind the
// locks (large objects, Release's purge), and starts threads. Exits 0 on
// success; never returns.
[[noreturn]] void ChildWork() {
  // A hang becomes a failure; generous, as 2 shared cores may run a dozen
  // sanitizer tests at once.
  alarm(60);
  std::vector<void*> objs;
  for (size_t size : {size_t{8}, size_t{100}, size_t{5000}, size_t{70000},
                      size_t{3} << 20}) {
    for (int i = 0; i < (size > 100000 ? 3 : 50); ++i) {
      void* p = Alloc(size);
      if (p == nullptr) _exit(2);
      std::memset(p, 0x5a, size < 4096 ? size : 4096);
      objs.push_back(p);
    }
  }
  for (void* p : objs) Free(p);
  void* r = Realloc(Alloc(10), 4 << 20);
  if (r == nullptr) _exit(3);
  Free(r);
  Release();
  std::thread t([] {
    for (int i = 0; i < 10000; ++i) Free(Alloc(i % 500));
  });
  t.join();
  _exit(0);
}

// Forks, runs ChildWork in the child, and returns the child's exit code
// (or 128 + signal).
int ForkAndCheck() {
  const pid_t pid = fork();
  if (pid == 0) ChildWork();
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

TEST(ForkTest, TheHeapRegistersItsLocksWhenItIsBuilt) {
  Free(Alloc(1));  // the heap is built by its first allocation
  // The fallback cache, the thread list, the large registry, both page
  // allocators' purges and the spare stacks.
  EXPECT_GE(internal::ForkLockCount(), 6u);
}

// Another thread holds each internal lock when fork() is called: fork waits
// for it (prepare handler), and the child gets every lock free.
TEST(ForkTest, ForkWhileAnotherThreadHoldsEachLock) {
  Free(Alloc(1));  // make sure the heap exists
  for (size_t i = 0; i < internal::ForkLockCount(); ++i) {
    std::atomic<bool> held{false};
    std::thread holder([&] {
      SpinLock* lock = internal::ForkLockForTesting(i);
      lock->Lock();
      held.store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      lock->Unlock();
    });
    while (!held.load()) std::this_thread::yield();
    EXPECT_EQ(ForkAndCheck(), 0) << "lock " << i;
    holder.join();
  }
}

// Forks repeatedly while two threads allocate and free every kind of object.
//
// The workers start, size their buffers and set up their caches before the
// first fork, so that the forks race only with elfmalloc's locks. A thread
// that is starting, or growing a std::vector, is inside the C library's
// allocator (a sanitizer's, under ASan); a child forked then inherits that
// allocator's lock held, and GCC 12's ASan runtime has no fork handler to
// release it.
TEST(ForkTest, ForkUnderLoad) {
  constexpr size_t kKeep = 64;
  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&stop, &started, w] {
      std::vector<void*> keep;
      keep.reserve(kKeep + 1);
      Free(Alloc(1));  // sets up this thread's cache (its TLS key, too)
      started.fetch_add(1);
      for (unsigned i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const size_t size = (i * 7919u + w) % (i % 64 == 0 ? (3u << 20) : 2000u);
        keep.push_back(Alloc(size));
        if (keep.size() > kKeep) {
          Free(keep.front());
          keep.erase(keep.begin());
        }
        if (i % 1000 == 0) Release();
      }
      for (void* p : keep) Free(p);
    });
  }
  while (started.load() < 2) std::this_thread::yield();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ForkAndCheck(), 0) << "fork " << i;
  stop.store(true);
  for (auto& t : workers) t.join();
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
