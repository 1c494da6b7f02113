// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// AddressTable<R, kFirstCapacity>: records keyed by a page-aligned address,
// R::addr (0 marks an empty slot), for allocators that keep their blocks'
// records out of band (mmap_alloc's BlockRegistry, elfmalloc's large
// objects). Open addressing with linear probing and backward-shift
// deletion (no tombstones), in memory mapped through MapAlloc, never the
// C++ heap. The owner decides when to grow (at half load, say), counts
// its records and serialises every call.
//
// R must be trivially copyable, with a value-initialised R meaning empty.
//
// Thread-compatible.

#ifndef MMAP_ALLOC_INTERNAL_ADDRESS_TABLE_H_
#define MMAP_ALLOC_INTERNAL_ADDRESS_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {

template <typename R, size_t kFirstCapacity>
class AddressTable {
  static_assert(std::is_trivially_copyable_v<R>);
  static_assert(kFirstCapacity != 0 &&
                (kFirstCapacity & (kFirstCapacity - 1)) == 0);

 public:
  constexpr AddressTable() = default;
  AddressTable(const AddressTable&) = delete;
  AddressTable& operator=(const AddressTable&) = delete;

  // Slots, 0 before the first Grow.
  size_t capacity() const { return capacity_; }
  // Slot i, empty or not. REQUIRES: i < capacity().
  R& operator[](size_t i) { return slots_[i]; }
  const R& operator[](size_t i) const { return slots_[i]; }

  // The slot of the record of `addr` in `*at`; false if there is none.
  bool Find(uintptr_t addr, size_t* at) const {
    if (capacity_ == 0 || addr == 0) return false;
    for (size_t i = Home(addr);; i = (i + 1) & (capacity_ - 1)) {
      if (slots_[i].addr == addr) {
        *at = i;
        return true;
      }
      if (slots_[i].addr == 0) return false;
    }
  }

  // Adds `r`. REQUIRES: an empty slot is left, r.addr != 0 and not present.
  void Place(const R& r) {
    size_t i = Home(r.addr);
    while (slots_[i].addr != 0) i = (i + 1) & (capacity_ - 1);
    slots_[i] = r;
  }

  // Empties slot i: later records of its probe run move into the hole
  // unless their home lies cyclically in (hole, j]. REQUIRES: slot i holds
  // a record.
  void Erase(size_t i) {
    const size_t mask = capacity_ - 1;
    size_t hole = i;
    for (size_t j = (i + 1) & mask; slots_[j].addr != 0; j = (j + 1) & mask) {
      const size_t home = Home(slots_[j].addr);
      const bool stays =
          hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = R{};
  }

  // Doubles the capacity (the first time: kFirstCapacity) and re-places
  // every record. False, with the table as it was, if no memory could be
  // mapped.
  bool Grow() {
    const size_t fresh_capacity =
        capacity_ == 0 ? kFirstCapacity : capacity_ * 2;
    const MapAlloc map;
    auto* fresh = static_cast<R*>(map.Alloc(fresh_capacity * sizeof(R)));
    if (fresh == nullptr) return false;  // zero-filled: every slot empty
    R* old = slots_;
    const size_t old_capacity = capacity_;
    slots_ = fresh;
    capacity_ = fresh_capacity;
    for (size_t i = 0; i < old_capacity; ++i) {
      if (old[i].addr != 0) Place(old[i]);
    }
    if (old != nullptr) map.Dealloc(old, old_capacity * sizeof(R));
    return true;
  }

  // Unmaps the slots (not the blocks they describe); the table is empty.
  void Unmap() {
    if (slots_ != nullptr) MapAlloc().Dealloc(slots_, capacity_ * sizeof(R));
    slots_ = nullptr;
    capacity_ = 0;
  }

 private:
  // Fibonacci hashing of the page number.
  size_t Home(uintptr_t addr) const {
    return static_cast<size_t>(((addr >> 12) * 0x9E3779B97F4A7C15u) >> 20) &
           (capacity_ - 1);
  }

  R* slots_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_INTERNAL_ADDRESS_TABLE_H_
