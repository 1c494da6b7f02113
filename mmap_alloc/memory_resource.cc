// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "mmap_alloc/memory_resource.h"

#include <cstdint>
#include <new>

#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace mmap_alloc {

namespace {

// The mapping length of a block of `bytes`.
size_t Rounded(size_t bytes) {
  const size_t page = PageSize();
  return bytes == 0 ? page : (bytes + page - 1) & ~(page - 1);
}

}  // namespace

Resource::~Resource() {
  const MapAlloc map;
  internal::BlockRegistry::Block b;
  while (blocks_.TakeAny(&b)) {
    map.Dealloc(reinterpret_cast<void*>(b.addr), Rounded(b.size));
  }
}

void* Resource::do_allocate(size_t bytes, size_t align) {
  const MapAlloc map;
  if (bytes > PTRDIFF_MAX) throw std::bad_alloc();
  void* p = map.Alloc(Rounded(bytes), align > PageSize() ? align : 0);
  if (p == nullptr) throw std::bad_alloc();
  if (!blocks_.Insert({reinterpret_cast<uintptr_t>(p), bytes, align})) {
    map.Dealloc(p, Rounded(bytes));
    throw std::bad_alloc();
  }
  return p;
}

void Resource::do_deallocate(void* p, size_t bytes, size_t align) {
  blocks_.Remove(reinterpret_cast<uintptr_t>(p), bytes, align, "mmap_alloc");
  MapAlloc().Dealloc(p, Rounded(bytes));
}

}  // namespace mmap_alloc
}  // namespace allocators
