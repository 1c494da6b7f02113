// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "mmap_alloc/internal/block_registry.h"

#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {

BlockRegistry::~BlockRegistry() {
  SpinLockHolder h(&lock_);
  if (slots_ != nullptr) MapAlloc().Dealloc(slots_, capacity_ * sizeof(Block));
  slots_ = nullptr;
  capacity_ = count_ = 0;
}

bool BlockRegistry::Insert(const Block& b) {
  SpinLockHolder h(&lock_);
  if ((count_ + 1) * 2 > capacity_ && !Grow()) return false;
  Place(b);
  ++count_;
  return true;
}

BlockRegistry::Removed BlockRegistry::Remove(uintptr_t addr, size_t size,
                                             size_t align) {
  SpinLockHolder h(&lock_);
  size_t i;
  if (!Find(addr, &i)) {
    for (uintptr_t a : recent_) {
      if (a == addr) return Removed::kDoubleFree;
    }
    return Removed::kUnknown;
  }
  if (slots_[i].size != size || slots_[i].align != align) {
    return Removed::kSizeMismatch;
  }
  Erase(i);
  --count_;
  recent_[recent_next_++ % kRecent] = addr;
  return Removed::kOk;
}

bool BlockRegistry::TakeAny(Block* out) {
  SpinLockHolder h(&lock_);
  for (size_t i = 0; i < capacity_; ++i) {
    if (slots_[i].addr != 0) {
      *out = slots_[i];
      Erase(i);
      --count_;
      return true;
    }
  }
  return false;
}

size_t BlockRegistry::count() {
  SpinLockHolder h(&lock_);
  return count_;
}

size_t BlockRegistry::Home(uintptr_t addr) const {
  return static_cast<size_t>(((addr >> 12) * 0x9E3779B97F4A7C15u) >> 20) &
         (capacity_ - 1);
}

bool BlockRegistry::Find(uintptr_t addr, size_t* at) const {
  if (capacity_ == 0 || addr == 0) return false;
  for (size_t i = Home(addr);; i = (i + 1) & (capacity_ - 1)) {
    if (slots_[i].addr == addr) {
      *at = i;
      return true;
    }
    if (slots_[i].addr == 0) return false;
  }
}

void BlockRegistry::Place(const Block& b) {
  size_t i = Home(b.addr);
  while (slots_[i].addr != 0) i = (i + 1) & (capacity_ - 1);
  slots_[i] = b;
}

// Backward-shift deletion: later records of the probe run move into the
// hole unless their home lies cyclically in (hole, j].
void BlockRegistry::Erase(size_t i) {
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
  slots_[hole] = Block{};
}

bool BlockRegistry::Grow() {
  const size_t fresh_capacity = capacity_ == 0 ? 256 : capacity_ * 2;
  const MapAlloc map;
  auto* fresh = static_cast<Block*>(map.Alloc(fresh_capacity * sizeof(Block)));
  if (fresh == nullptr) return false;  // zero-filled: every slot empty
  Block* old = slots_;
  const size_t old_capacity = capacity_;
  slots_ = fresh;
  capacity_ = fresh_capacity;
  for (size_t i = 0; i < old_capacity; ++i) {
    if (old[i].addr != 0) Place(old[i]);
  }
  if (old != nullptr) map.Dealloc(old, old_capacity * sizeof(Block));
  return true;
}

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators
