// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// SampledPool: guarded blocks for sampled allocations (the GWP-ASan idea).
// A small fixed pool of slots. Each slot is one page for a block, then one
// inaccessible guard page. A block sits at the end of its page, so a write
// past its end faults in the guard. A freed slot's page is made
// inaccessible, and freed slots are reused oldest first, so a use after
// free faults for as long as possible. The pool's fault hook reports such
// a fault in one line: the faulting address, the block, and whether it was
// an overflow or a use after free. The stacks that allocated the block
// and, if it was freed, freed it follow, one frame a line (taken by
// platform::CaptureStack, which does not allocate, at about 100 ns a frame:
// a sample's two walks cost about what its two mprotect calls do). Then the
// fault goes on to the handler the program had (platform::InstallFaultHook).
//
// Precision: blocks start 16-byte aligned (8 for sizes up to 8), so up to
// 15 bytes past the end of a block stay inside its page and are not caught.
// An access before the start of a live block lands in the unused front of
// its page and is not caught either.
//
// Thread-safe: Alloc and Free take the pool's lock, briefly (one mprotect
// under it). The fault hook takes no lock: it reads the slot records,
// which a racing Alloc or Free may be changing; a report may then name the
// wrong kind of fault, never crash.

#ifndef ELFMALLOC_INTERNAL_SAMPLED_POOL_H_
#define ELFMALLOC_INTERNAL_SAMPLED_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "alloc_fmt/spin_lock.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

class SampledPool {
 public:
  static constexpr size_t kSlots = 64;
  // Frames kept of each allocating and freeing stack.
  static constexpr int kTraceFrames = 16;

  enum class FreeResult {
    kFreed,       // p was a live block; its slot is quarantined
    kDoubleFree,  // p is a block of the pool that is already free
    kInvalid,     // p lies in the pool but is no block's start
  };

  constexpr SampledPool() = default;
  SampledPool(const SampledPool&) = delete;
  SampledPool& operator=(const SampledPool&) = delete;

  // Maps the pool (every page inaccessible) and installs its fault hook,
  // which reports faults in the pool and passes any other faulting address
  // to `others` (if not null; it may report it too). False if the memory
  // could not be mapped or the hook not installed (the pool then stays
  // empty: Alloc returns nullptr). REQUIRES: called once, before any other
  // call, on at most one pool per process (the fault hook is process-wide);
  // `others` is async-signal-safe.
  bool Init(void (*others)(void* addr) = nullptr);

  // A block of `size` bytes aligned to `align` (0: the default alignment),
  // placed against its slot's guard page; nullptr if the request does not
  // fit a page, or no slot is free, or the pool is not initialised.
  void* Alloc(size_t size, size_t align);

  // True if `p` lies anywhere in the pool (blocks and guard pages).
  bool Contains(const void* p) const {
    const size_t bytes = bytes_.load(std::memory_order_acquire);
    return reinterpret_cast<uintptr_t>(p) - base_ < bytes;
  }

  // Frees block `p`. REQUIRES: Contains(p).
  FreeResult Free(void* p);

  // The size block `p` was allocated with, or 0 if p is not a live block
  // start. REQUIRES: Contains(p).
  size_t BlockSize(const void* p) const;

  // True if `p` is the start of a block of the pool that has been freed.
  // REQUIRES: Contains(p).
  bool IsFreedBlock(const void* p) const;

  // The lock Alloc and Free take, for the fork handlers (fork.h).
  SpinLock* lock() ABSL_LOCK_RETURNED(lock_) { return &lock_; }

 private:
  enum State : uint8_t { kUnused = 0, kLive, kFreed };

  // A stack, innermost frame first.
  struct Trace {
    void* pcs[kTraceFrames] = {};
    int n = 0;
  };

  struct Slot {
    std::atomic<uintptr_t> block{0};  // the block's address (0: never used)
    std::atomic<size_t> size{0};      // its requested size
    std::atomic<uint8_t> state{kUnused};
    // Written under the lock before `state` (release); the hook reads them
    // after it (acquire), racing only with a reuse of the slot.
    Trace allocated;
    Trace freed;
  };

  // Slot `i`'s page.
  uintptr_t PageOf(size_t i) const { return base_ + i * 2 * page_; }

  // The caller's caller's stack, leaving out the pool's own frames.
  static void Capture(Trace* t);

  // The hook: a report if `addr` lies in the pool.
  static void OnFault(void* addr);
  void Report(uintptr_t addr) const;
  static void PrintTrace(const char* what, const Trace& t);

  // Set by Init before bytes_ (release), which is 0 until then, so that
  // Contains is false everywhere before Init.
  uintptr_t base_ = 0;
  size_t page_ = 0;
  void (*others_)(void* addr) = nullptr;
  std::atomic<size_t> bytes_{0};
  Slot slots_[kSlots];

  SpinLock lock_;
  // Free slots, oldest freed first: a ring of slot indexes.
  uint32_t ring_[kSlots] ABSL_GUARDED_BY(lock_) = {};
  size_t ring_head_ ABSL_GUARDED_BY(lock_) = 0;
  size_t ring_count_ ABSL_GUARDED_BY(lock_) = 0;
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_SAMPLED_POOL_H_
