// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/leaky_alloc.h"

#include "object_alloc_test/internal/failure.h"

namespace allocators {
namespace object_alloc_test {

LeakyAlloc::~LeakyAlloc() {
  for (const auto& [addr, block] : blocks_) {
    ::operator delete(reinterpret_cast<void*>(addr), block.size,
                      std::align_val_t(block.align));
  }
}

void* LeakyAlloc::Alloc(size_t size, size_t align) {
  if (!object_alloc::Layout::IsValid(size, align)) {
    internal::Fail("LeakyAlloc::Alloc: invalid layout (size %zu, align %zu)",
                   size, align);
  }
  void* p = ::operator new(size, std::align_val_t(align), std::nothrow);
  if (p == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  blocks_.emplace(reinterpret_cast<uintptr_t>(p), Block{size, align, false});
  return p;
}

void LeakyAlloc::Dealloc(void* p, size_t size, size_t align) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blocks_.find(reinterpret_cast<uintptr_t>(p));
  if (it == blocks_.end()) {
    internal::Fail("LeakyAlloc::Dealloc: %p was not allocated here", p);
  }
  Block& block = it->second;
  if (block.size != size || block.align != align) {
    internal::Fail(
        "LeakyAlloc::Dealloc: %p has layout (size %zu, align %zu) but was "
        "freed as (size %zu, align %zu)",
        p, block.size, block.align, size, align);
  }
  if (block.released) {
    internal::Fail("LeakyAlloc::Dealloc: double free of %p", p);
  }
  block.released = true;
  ++released_;
}

bool LeakyAlloc::Owns(const void* p, size_t len) const {
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lock(mu_);
  // The only candidate is the last block starting at or before `p`.
  auto it = blocks_.upper_bound(begin);
  if (it == blocks_.begin()) return false;
  --it;
  const size_t offset = begin - it->first;
  return offset <= it->second.size && len <= it->second.size - offset;
}

size_t LeakyAlloc::blocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocks_.size();
}

size_t LeakyAlloc::released() const {
  std::lock_guard<std::mutex> lock(mu_);
  return released_;
}

LeakyUntypedObjectAlloc::LeakyUntypedObjectAlloc(object_alloc::Layout layout)
    : owned_(std::make_unique<LeakyAlloc>()),
      backing_(owned_.get()),
      layout_(layout) {
  if (!layout.IsValid()) {
    internal::Fail("LeakyUntypedObjectAlloc: invalid layout (%zu, %zu)",
                   layout.size, layout.align);
  }
}

LeakyUntypedObjectAlloc::LeakyUntypedObjectAlloc(LeakyAlloc* backing,
                                                 object_alloc::Layout layout)
    : backing_(backing), layout_(layout) {
  if (!layout.IsValid()) {
    internal::Fail("LeakyUntypedObjectAlloc: invalid layout (%zu, %zu)",
                   layout.size, layout.align);
  }
}

}  // namespace object_alloc_test
}  // namespace allocators
