// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// ElfmallocBinding: the elfmalloc heap as a malloc_bind binding
// (malloc_bind/malloc_bind.h), for libelfmalloc.so, //elfmalloc:malloc and
// the C-API tests. It calls the process-wide heap's inline fast paths
// directly (internal/default_heap.h), so each C entry point is one function;
// the heap is whichever of //elfmalloc and //elfmalloc:elfmalloc_local the
// target links (a mismatch fails to link).

#ifndef ELFMALLOC_MALLOC_BINDING_H_
#define ELFMALLOC_MALLOC_BINDING_H_

#include <cstddef>

#include "absl/base/attributes.h"
#include "elfmalloc/internal/default_heap.h"

namespace allocators {
namespace elfmalloc {

struct ElfmallocBinding {
  using Heap = internal::DefaultHeap;

  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* Alloc(size_t size) {
    return Heap::Alloc(size);
  }
  static void* AlignedAlloc(size_t size, size_t align) {
    return Heap::AlignedAlloc(size, align);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void Free(void* p) { Heap::Free(p); }
  // REQUIRES: p != nullptr (malloc_bind calls it only then).
  static void FreeSized(void* p, size_t size, size_t align, const char* fn) {
    Heap::FreeSized(p, size, align, fn);
  }
  static void* Realloc(void* p, size_t size) {
    return Heap::Realloc(p, size, 1);
  }
  static size_t UsableSize(const void* p) { return Heap::UsableSize(p); }
};

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_MALLOC_BINDING_H_
