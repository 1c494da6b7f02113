// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "mmap_alloc/internal/block_registry.h"

#include "alloc_fmt/format.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {

BlockRegistry::~BlockRegistry() {
  SpinLockHolder h(&lock_);
  table_.Unmap();
  count_ = 0;
}

bool BlockRegistry::Insert(const Block& b) {
  SpinLockHolder h(&lock_);
  if ((count_ + 1) * 2 > table_.capacity() && !table_.Grow()) return false;
  table_.Place(b);
  ++count_;
  return true;
}

void BlockRegistry::Remove(uintptr_t addr, size_t size, size_t align,
                           const char* owner) {
  const void* p = reinterpret_cast<const void*>(addr);
  SpinLockHolder h(&lock_);
  size_t i;
  if (!table_.Find(addr, &i)) {
    for (uintptr_t a : recent_) {
      if (a == addr) {
        alloc_fmt::Fatal("%s: deallocate(): double free of %p", owner, p);
      }
    }
    alloc_fmt::Fatal("%s: deallocate(): invalid pointer %p", owner, p);
  }
  if (table_[i].size != size || table_[i].align != align) {
    alloc_fmt::Fatal("%s: deallocate(): size mismatch %p", owner, p);
  }
  table_.Erase(i);
  --count_;
  recent_[recent_next_++ % kRecent] = addr;
}

bool BlockRegistry::TakeAny(Block* out) {
  SpinLockHolder h(&lock_);
  for (size_t i = 0; i < table_.capacity(); ++i) {
    if (table_[i].addr != 0) {
      *out = table_[i];
      table_.Erase(i);
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

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators
