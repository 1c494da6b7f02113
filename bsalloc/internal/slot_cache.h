// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A tiny lock-free cache of spare blocks, used by bsalloc's size classes.

#ifndef BSALLOC_INTERNAL_SLOT_CACHE_H_
#define BSALLOC_INTERNAL_SLOT_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace allocators {
namespace bsalloc {
namespace internal {

// A fixed array of atomic pointer slots holding spare blocks of one size.
//
// Why this shape (from the original bsalloc): an exchange() on a random slot
// is a single atomic instruction, so there is no lock to hold across a
// syscall and no ABA problem (a slot holds a block or null, nothing else).
// Each operation probes at most kPatience slots, starting at a
// pseudo-random slot and stepping by an odd stride, so concurrent threads
// spread over the array and every slot is reachable.
//
//   Take(): exchange each probed slot with null; the first non-null wins.
//   Put():  exchange the carried block into each probed slot; whatever was
//           there is carried on. Returns what is still carried at the end
//           (null if an empty slot was found), which the caller must release.
//
// Thread-safe. Constant-initialisable.
template <size_t kSlots>
class SlotCache {
 public:
  static_assert(kSlots >= 4 && (kSlots & (kSlots - 1)) == 0,
                "slot count must be a power of two >= 4");
  static constexpr size_t kPatience = kSlots / 4;

  constexpr SlotCache() = default;

  // Returns a cached block, or nullptr if the probed slots were empty.
  void* Take(uintptr_t hint) {
    size_t idx = Start(hint);
    const size_t stride = Stride(hint);
    for (size_t i = 0; i < kPatience; ++i) {
      void* p = slots_[idx].exchange(nullptr, std::memory_order_acquire);
      if (p != nullptr) return p;
      idx = (idx + stride) & (kSlots - 1);
    }
    return nullptr;
  }

  // Offers `block` to the cache. Returns nullptr if the cache absorbed it,
  // or a block (possibly a different one) that did not fit.
  void* Put(void* block, uintptr_t hint) {
    size_t idx = Start(hint);
    const size_t stride = Stride(hint);
    for (size_t i = 0; i < kPatience && block != nullptr; ++i) {
      block = slots_[idx].exchange(block, std::memory_order_acq_rel);
      idx = (idx + stride) & (kSlots - 1);
    }
    return block;
  }

  // Takes the block in slot `i` (any order), or nullptr if it is empty. For
  // draining the whole cache.
  void* TakeSlot(size_t i) {
    return slots_[i & (kSlots - 1)].exchange(nullptr,
                                             std::memory_order_acquire);
  }
  static constexpr size_t slots() { return kSlots; }

  // Number of occupied slots. A racy snapshot, for tests and statistics.
  size_t Occupied() const {
    size_t n = 0;
    for (const auto& s : slots_) {
      n += s.load(std::memory_order_relaxed) != nullptr;
    }
    return n;
  }

 private:
  // The hint is usually a stack address: different threads have different
  // stacks, which is all the randomness the probe order needs. The
  // multiplier (16807, the Park-Miller constant the original used) and the
  // shift spread nearby addresses over the slots.
  static size_t Start(uintptr_t hint) {
    return static_cast<size_t>((hint >> 4) * 16807u) & (kSlots - 1);
  }
  static size_t Stride(uintptr_t hint) {
    return (static_cast<size_t>((hint >> 8) * 48271u) << 1 | 1) & (kSlots - 1);
  }

  std::atomic<void*> slots_[kSlots] = {};
};

}  // namespace internal
}  // namespace bsalloc
}  // namespace allocators

#endif  // BSALLOC_INTERNAL_SLOT_CACHE_H_
