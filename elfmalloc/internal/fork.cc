// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/fork.h"

#include <atomic>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "alloc_fmt/check.h"
#include "alloc_fmt/once.h"
#include "bagpipe/bagpipe.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

struct Registered {
  SpinLock* lock;
  int level;
};

// Written under g_register_lock; read by the handlers, which hold it.
Registered g_locks[kMaxForkLocks];
std::atomic<size_t> g_count{0};
ABSL_CONST_INIT SpinLock g_register_lock;
ABSL_CONST_INIT Once g_installed;

// The handlers take every lock in one function and release them in
// another, which clang's -Wthread-safety cannot follow.
void Prepare() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  g_register_lock.Lock();
  const size_t n = g_count.load(std::memory_order_relaxed);
  for (int level = 0; level < kForkLockLevels; ++level) {
    for (size_t i = 0; i < n; ++i) {
      if (g_locks[i].level == level) g_locks[i].lock->Lock();
    }
  }
}

void UnlockAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const size_t n = g_count.load(std::memory_order_relaxed);
  for (size_t i = n; i-- > 0;) g_locks[i].lock->Unlock();
  g_register_lock.Unlock();
}

void Child() {
  UnlockAll();
  bagpipe::AtForkChild();
}

}  // namespace

void InstallForkHandlers() {
  g_installed.Run([] {
    const int err = platform::AtFork(&Prepare, &UnlockAll, &Child);
    ALLOC_CHECK(err == 0, "elfmalloc: installing fork handlers failed (error %d)",
                err);
  });
}

void ForkLockRegistry::Add(SpinLock* lock, ForkLockLevel level)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {  // the caller holds g_register_lock
  const size_t n = g_count.load(std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    if (g_locks[i].lock == lock) return;
  }
  ALLOC_CHECK(n < kMaxForkLocks, "elfmalloc: more than %zu fork locks",
              kMaxForkLocks);
  g_locks[n] = Registered{lock, static_cast<int>(level)};
  g_count.store(n + 1, std::memory_order_release);
}

SpinLock* ForkRegistrationLock() { return &g_register_lock; }

size_t ForkLockCount() { return g_count.load(std::memory_order_acquire); }

SpinLock* ForkLockForTesting(size_t i) {
  ALLOC_CHECK(i < ForkLockCount(), "elfmalloc: no fork lock %zu", i);
  return g_locks[i].lock;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
