// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// ElfmallocBinding<Config>: the process-wide Heap<Config> as a malloc_bind
// binding (malloc_bind/malloc_bind.h). Each variant's malloc library
// (elfmalloc/variants.bzl) instantiates it for its own Config, so every C
// entry point inlines that heap's fast paths and is one function.
//
// Thread-safe.

#ifndef ELFMALLOC_MALLOC_BINDING_H_
#define ELFMALLOC_MALLOC_BINDING_H_

#include <cstddef>

#include "absl/base/attributes.h"
#include "elfmalloc/internal/heap.h"

namespace allocators {
namespace elfmalloc {

template <typename Config>
struct ElfmallocBinding {
  using Heap = internal::Heap<Config>;

  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* Alloc(size_t size) {
    return Heap::Alloc(size);
  }
  static void* AllocZeroed(size_t size) { return Heap::AllocZeroed(size); }
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
