// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// DecayThread<Heap>: the optional background thread
// (ELFMALLOC_BACKGROUND_THREAD=1) that runs a heap's decay step every half
// decay period, so free pages and cached large blocks go back to the OS
// even while the program makes no allocator calls, or only thread-cache
// ones (which never reach the decay checks).
//
// One per process and heap: a forked child has no such thread, so the
// heap's next new thread cache starts one there. The thread blocks every
// signal and never allocates.
//
// Thread-safety: MaybeStart may race with itself; one caller wins.

#ifndef ELFMALLOC_INTERNAL_DECAY_THREAD_H_
#define ELFMALLOC_INTERNAL_DECAY_THREAD_H_

#include <atomic>
#include <cstdint>

#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// Heap must have `int64_t decay_ms() const` (-1: never decay) and
// `void DecayStep()`.
template <typename Heap>
class DecayThread {
 public:
  // Starts the thread for `heap` unless this process has one. Call it
  // when a thread's own cache is built: never while the heap is being
  // built, and never under one of its locks (starting a thread allocates;
  // those allocations use the fallback cache). If the thread cannot be
  // started (out of threads or memory), the next call tries again.
  void MaybeStart(Heap* heap) {
    const int me = platform::ProcessId();
    int owner = pid_.load(std::memory_order_acquire);
    if (owner == me ||
        !pid_.compare_exchange_strong(owner, me, std::memory_order_acq_rel)) {
      return;
    }
    heap_ = heap;
    if (platform::StartDetachedThread(&Main, this) != 0) {
      pid_.store(0, std::memory_order_release);
    }
  }

  // Decay steps the thread has run so far (tests).
  uint64_t steps() const { return steps_.load(std::memory_order_relaxed); }

 private:
  static void* Main(void* arg) {
    DecayThread* self = static_cast<DecayThread*>(arg);
    for (;;) {
      // Re-read each time: the period may be changed at run time.
      const int64_t decay = self->heap_->decay_ms();
      const int64_t ms = decay > 0 ? decay / 2 : 1000;
      platform::SleepMs(ms < 10 ? 10 : ms);
      if (decay < 0) continue;  // never decay
      self->heap_->DecayStep();
      self->steps_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // The process that started the thread (0: none yet), and its heap.
  std::atomic<int> pid_{0};
  Heap* heap_ = nullptr;
  std::atomic<uint64_t> steps_{0};
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_DECAY_THREAD_H_
