// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// ElfmallocBinding: the elfmalloc public API as a malloc_bind binding
// (malloc_bind/malloc_bind.h). The binding is whichever of //elfmalloc and
// //elfmalloc:elfmalloc_local the target links.

#ifndef ELFMALLOC_MALLOC_BINDING_H_
#define ELFMALLOC_MALLOC_BINDING_H_

#include <cstddef>

#include "elfmalloc/elfmalloc.h"

namespace allocators {
namespace elfmalloc {

struct ElfmallocBinding {
  static void* Alloc(size_t size) { return elfmalloc::Alloc(size); }
  static void* AlignedAlloc(size_t size, size_t align) {
    return elfmalloc::AlignedAlloc(size, align);
  }
  static void Free(void* p) { elfmalloc::Free(p); }
  static void FreeSized(void* p, size_t size, size_t align, const char* fn) {
    elfmalloc::FreeSized(p, size, align, fn);
  }
  static void* Realloc(void* p, size_t size) {
    return elfmalloc::Realloc(p, size);
  }
  static size_t UsableSize(const void* p) { return elfmalloc::UsableSize(p); }
};

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_MALLOC_BINDING_H_
