// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// ApiBinding: the public API (elfmalloc.h) as a malloc_bind binding, for
// tests and fuzzers that drive malloc_bind's C semantics through prefixed
// symbols (elf_malloc, ...) without replacing the process's malloc. It
// calls whichever variant the test links, so one test source serves them
// all; the calls are not inlined, which only matters for speed.
//
// Thread-safe.

#ifndef ELFMALLOC_TESTING_API_BINDING_H_
#define ELFMALLOC_TESTING_API_BINDING_H_

#include <cstddef>

#include "elfmalloc/elfmalloc.h"

namespace allocators {
namespace elfmalloc {
namespace testing {

struct ApiBinding {
  static void* Alloc(size_t size) { return elfmalloc::Alloc(size); }
  static void* AllocZeroed(size_t size) { return elfmalloc::AllocZeroed(size); }
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

}  // namespace testing
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_TESTING_API_BINDING_H_
