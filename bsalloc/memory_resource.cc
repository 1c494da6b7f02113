// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "bsalloc/memory_resource.h"

#include <cstdint>
#include <new>

#include "alloc_fmt/format.h"
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
  using Removed = mmap_alloc::internal::BlockRegistry::Removed;
  switch (blocks_.Remove(reinterpret_cast<uintptr_t>(p), bytes, align)) {
    case Removed::kOk:
      Free(p, bytes);
      return;
    case Removed::kSizeMismatch:
      alloc_fmt::Fatal("bsalloc: deallocate(): size mismatch %p", p);
    case Removed::kDoubleFree:
      alloc_fmt::Fatal("bsalloc: deallocate(): double free of %p", p);
    case Removed::kUnknown:
      alloc_fmt::Fatal("bsalloc: deallocate(): invalid pointer %p", p);
  }
}

}  // namespace bsalloc
}  // namespace allocators
