// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A minimal spin lock for allocator internals.
//
// Why not std::mutex or absl::Mutex: absl::Mutex may allocate (deadlock
// detection, waiter lists) and Debian's prebuilt Abseil is not TSan-
// instrumented; std::mutex is fine but cannot be constant-initialised with
// thread-safety annotations. This lock is a single atomic byte, is
// constexpr-constructible (usable from before main to after exit), never
// allocates, and is annotated for Clang's -Wthread-safety.

#ifndef ALLOC_FMT_SPIN_LOCK_H_
#define ALLOC_FMT_SPIN_LOCK_H_

#include <atomic>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "platform/platform.h"

namespace allocators {

// A test-and-test-and-set lock that yields the CPU after a short spin.
// Meant for short critical sections. Not recursive. Thread-safe.
class ABSL_LOCKABLE SpinLock {
 public:
  constexpr SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    while (ABSL_PREDICT_FALSE(!TryLock())) SlowLock();
  }

  // Returns true if the lock was free and is now held by the caller.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return !locked_.exchange(true, std::memory_order_acquire);
  }

  void Unlock() ABSL_UNLOCK_FUNCTION() {
    locked_.store(false, std::memory_order_release);
  }

  // For assertions only: the answer may be stale by the time it is used.
  bool IsHeld() const { return locked_.load(std::memory_order_relaxed); }

 private:
  // Waits (reading only, so the cache line is shared) until the lock looks
  // free. The caller then retries the exchange.
  void SlowLock() {
    for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
      if (spins >= kSpinsBeforeYield) {
        platform::Yield();
        spins = 0;
      }
    }
  }

  static constexpr int kSpinsBeforeYield = 64;
  std::atomic<bool> locked_{false};
};

// RAII holder for SpinLock.
class ABSL_SCOPED_LOCKABLE SpinLockHolder {
 public:
  explicit SpinLockHolder(SpinLock* lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock)
      : lock_(lock) {
    lock_->Lock();
  }
  ~SpinLockHolder() ABSL_UNLOCK_FUNCTION() { lock_->Unlock(); }
  SpinLockHolder(const SpinLockHolder&) = delete;
  SpinLockHolder& operator=(const SpinLockHolder&) = delete;

 private:
  SpinLock* lock_;
};

}  // namespace allocators

#endif  // ALLOC_FMT_SPIN_LOCK_H_
