// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/large_alloc.h"

#include <errno.h>

#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "alloc_fmt/spin_lock.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

struct Record {
  uintptr_t addr;  // 0: empty slot
  size_t bytes;    // mapped length (page multiple)
  size_t align;    // alignment asked for (0: page)
};

// Open addressing with linear probing and backward-shift deletion (no
// tombstones), grown at half load.
class Registry {
 public:
  constexpr Registry() = default;

  bool Insert(const Record& r) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    if ((count_ + 1) * 2 > capacity_ && !Grow()) return false;
    Place(r);
    ++count_;
    bytes_ += r.bytes;
    return true;
  }

  // Removes and returns the record of `addr`; false if absent.
  bool Remove(uintptr_t addr, Record* out) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    size_t i;
    if (!Find(addr, &i)) return false;
    *out = slots_[i];
    Erase(i);
    --count_;
    bytes_ -= out->bytes;
    return true;
  }

  bool Lookup(uintptr_t addr, Record* out) ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    size_t i;
    if (!Find(addr, &i)) return false;
    *out = slots_[i];
    return true;
  }

  size_t bytes() ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    return bytes_;
  }
  SpinLock* lock() { return &lock_; }

  size_t count() ABSL_LOCKS_EXCLUDED(lock_) {
    SpinLockHolder h(&lock_);
    return count_;
  }

 private:
  size_t Home(uintptr_t addr) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    return static_cast<size_t>(((addr >> 12) * 0x9E3779B97F4A7C15u) >> 20) &
           (capacity_ - 1);
  }

  bool Find(uintptr_t addr, size_t* index) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    if (capacity_ == 0 || addr == 0) return false;
    for (size_t i = Home(addr);; i = (i + 1) & (capacity_ - 1)) {
      if (slots_[i].addr == addr) {
        *index = i;
        return true;
      }
      if (slots_[i].addr == 0) return false;
    }
  }

  void Place(const Record& r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    size_t i = Home(r.addr);
    while (slots_[i].addr != 0) i = (i + 1) & (capacity_ - 1);
    slots_[i] = r;
  }

  void Erase(size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    const size_t mask = capacity_ - 1;
    size_t hole = i;
    for (size_t j = (i + 1) & mask; slots_[j].addr != 0; j = (j + 1) & mask) {
      const size_t home = Home(slots_[j].addr);
      // Move j into the hole if its home is not cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < home && home <= j)
                                   : (hole < home || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Record{};
  }

  bool Grow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    const size_t new_capacity = capacity_ == 0 ? 512 : capacity_ * 2;
    const mmap_alloc::MapAlloc map;
    auto* fresh =
        static_cast<Record*>(map.Alloc(new_capacity * sizeof(Record)));
    if (fresh == nullptr) return false;  // zero-filled: all slots empty
    Record* old = slots_;
    const size_t old_capacity = capacity_;
    slots_ = fresh;
    capacity_ = new_capacity;
    for (size_t i = 0; i < old_capacity; ++i) {
      if (old[i].addr != 0) Place(old[i]);
    }
    if (old != nullptr) map.Dealloc(old, old_capacity * sizeof(Record));
    return true;
  }

  SpinLock lock_;
  Record* slots_ ABSL_GUARDED_BY(lock_) = nullptr;
  size_t capacity_ ABSL_GUARDED_BY(lock_) = 0;
  size_t count_ ABSL_GUARDED_BY(lock_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(lock_) = 0;
};

ABSL_CONST_INIT Registry g_registry;

}  // namespace

void* LargeAlloc(size_t size, size_t align) {
  const size_t page = mmap_alloc::PageSize();
  if (size == 0) size = 1;
  // Refuse what no mapping can satisfy before rounding can overflow.
  if (size > PTRDIFF_MAX || align > (size_t{1} << 40)) {
    errno = ENOMEM;
    return nullptr;
  }
  const size_t bytes = (size + page - 1) & ~(page - 1);
  const size_t map_align = align > page ? align : 0;
  const mmap_alloc::MapAlloc map;
  void* p = map.Alloc(bytes, map_align);
  if (p == nullptr) return nullptr;
  if (!g_registry.Insert(Record{reinterpret_cast<uintptr_t>(p), bytes, map_align})) {
    map.Dealloc(p, bytes);
    errno = ENOMEM;
    return nullptr;
  }
  return p;
}

bool LargeFree(void* p) {
  Record r;
  if (!g_registry.Remove(reinterpret_cast<uintptr_t>(p), &r)) return false;
  const mmap_alloc::MapAlloc map;
  map.Dealloc(p, r.bytes);
  return true;
}

size_t LargeUsableSize(const void* p) {
  Record r;
  if (!g_registry.Lookup(reinterpret_cast<uintptr_t>(p), &r)) return 0;
  return r.bytes;
}

void* LargeResize(void* p, size_t size) {
  Record r;
  if (!g_registry.Lookup(reinterpret_cast<uintptr_t>(p), &r)) return nullptr;
  const size_t page = mmap_alloc::PageSize();
  if (size > PTRDIFF_MAX) return nullptr;
  const size_t bytes = (size + page - 1) & ~(page - 1);
  if (bytes == r.bytes) return p;
  const mmap_alloc::MapAlloc map;
  void* q = nullptr;
  if (bytes < r.bytes) {
    if (map.ShrinkInPlace(p, r.bytes, bytes)) q = p;
  } else if (map.GrowInPlace(p, r.bytes, bytes)) {
    q = p;
  } else if (r.align == 0) {
    q = map.Realloc(p, r.bytes, bytes);  // may move; page alignment kept
  }
  if (q == nullptr) return nullptr;
  Record old;
  g_registry.Remove(reinterpret_cast<uintptr_t>(p), &old);
  // Re-inserting cannot need a bigger table: one record left, one comes.
  g_registry.Insert(Record{reinterpret_cast<uintptr_t>(q), bytes, r.align});
  return q;
}

SpinLock* LargeRegistryLock() { return g_registry.lock(); }

size_t LargeBytes() { return g_registry.bytes(); }
size_t LargeCount() { return g_registry.count(); }

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
