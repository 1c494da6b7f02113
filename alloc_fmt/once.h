// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Once: one-time initialisation for code that runs inside an allocator,
// without the C++ runtime. A function-local static would do the same job,
// but its guard lives in the C++ runtime library (__cxa_guard_acquire),
// which a malloc replacement preloaded into a C program should not have to
// load. Once is one atomic byte, constant-initialised, and waits by
// yielding the CPU.
//
//   ABSL_CONST_INIT Once once;
//   once.Run([] { ... });   // runs exactly once; later callers wait for it
//
// Thread-safe. Not reentrant: the function must not Run the same Once
// (it would wait for itself forever).

#ifndef ALLOC_FMT_ONCE_H_
#define ALLOC_FMT_ONCE_H_

#include <atomic>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "platform/platform.h"

namespace allocators {

class Once {
 public:
  constexpr Once() = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // Runs `f()` if no call has run it yet; in every case returns only after
  // it has finished (on whichever thread ran it).
  template <typename F>
  void Run(F&& f) {
    if (ABSL_PREDICT_TRUE(state_.load(std::memory_order_acquire) == kDone)) {
      return;
    }
    uint8_t expected = kNotStarted;
    if (state_.compare_exchange_strong(expected, kRunning,
                                       std::memory_order_acquire)) {
      f();
      state_.store(kDone, std::memory_order_release);
      return;
    }
    while (state_.load(std::memory_order_acquire) != kDone) platform::Yield();
  }

  // True once Run's function has finished.
  bool done() const { return state_.load(std::memory_order_acquire) == kDone; }

 private:
  static constexpr uint8_t kNotStarted = 0;
  static constexpr uint8_t kRunning = 1;
  static constexpr uint8_t kDone = 2;
  std::atomic<uint8_t> state_{kNotStarted};
};

}  // namespace allocators

#endif  // ALLOC_FMT_ONCE_H_
