// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/fork.h"

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "alloc_fmt/check.h"
#include "bagpipe/bagpipe.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

// Slots are published with a release store of the count, after the pointer.
std::atomic<SpinLock*> g_locks[kMaxForkLocks];
std::atomic<size_t> g_count{0};
// Serialises registration (rare: a handful of calls per process).
SpinLock g_register_lock;

// The fork handlers take every lock in one function and release them in
// another, which clang's -Wthread-safety cannot follow.
void Prepare() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const size_t n = g_count.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) g_locks[i].load(std::memory_order_relaxed)->Lock();
}

void UnlockAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const size_t n = g_count.load(std::memory_order_acquire);
  for (size_t i = n; i-- > 0;) g_locks[i].load(std::memory_order_relaxed)->Unlock();
}

void Child() {
  UnlockAll();
  bagpipe::AtForkChild();
}

void InstallHandlers() {
  const int err = platform::AtFork(&Prepare, &UnlockAll, &Child);
  ALLOC_CHECK(err == 0, "elfmalloc: pthread_atfork failed (error %d)", err);
}

}  // namespace

void RegisterForkLock(SpinLock* lock) {
  SpinLockHolder h(&g_register_lock);
  const size_t n = g_count.load(std::memory_order_relaxed);
  ALLOC_CHECK(n < kMaxForkLocks, "elfmalloc: more than %zu fork locks",
              kMaxForkLocks);
  if (n == 0) InstallHandlers();
  g_locks[n].store(lock, std::memory_order_relaxed);
  g_count.store(n + 1, std::memory_order_release);
}

size_t ForkLockCount() { return g_count.load(std::memory_order_acquire); }

SpinLock* ForkLockForTesting(size_t i) {
  ALLOC_CHECK(i < ForkLockCount(), "elfmalloc: no fork lock %zu", i);
  return g_locks[i].load(std::memory_order_acquire);
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
