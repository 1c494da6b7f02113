// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "bsalloc/memory_resource.h"

#include <cstdint>
#include <new>

#include "bsalloc/bsalloc.h"

namespace allocators {
namespace bsalloc {

Resource::~Resource() {
  mmap_alloc::internal::BlockRegistry::Block b;
  while (blocks_.TakeAny(&b)) Free(reinterpret_cast<void*>(b.addr), b.size);
}

void* Resource::do_allocate(size_t bytes, size_t align) {
  void* p = Alloc(bytes, align);
  if (p == nullptr) throw std::bad_alloc();
  if (!blocks_.Insert({reinterpret_cast<uintptr_t>(p), bytes, align})) {
    Free(p, bytes);
    throw std::bad_alloc();
  }
  return p;
}

void Resource::do_deallocate(void* p, size_t bytes, size_t align) {
  blocks_.Remove(reinterpret_cast<uintptr_t>(p), bytes, align, "bsalloc");
  Free(p, bytes);
}

}  // namespace bsalloc
}  // namespace allocators
