// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// BsallocBinding: bsalloc as a malloc_bind binding. It proves the binding
// layer is generic, and gives a tiny malloc for tests and bootstrapping.
//
// bsalloc needs the size back when freeing, which a C free() does not pass,
// so every block carries a 16-byte header just before the pointer returned:
//
//   base (from bsalloc)          p = returned, aligned
//   | ... padding ... | size | offset | user bytes ...
//
// `size` is what bsalloc was asked for, `offset` is p - base. This is the
// original's LayoutFinder (insert_layout / get_layout) done in band.
//
// Thread-safe (bsalloc is lock-free).

#ifndef MALLOC_BIND_BSALLOC_BINDING_H_
#define MALLOC_BIND_BSALLOC_BINDING_H_

#include <errno.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "bsalloc/bsalloc.h"

namespace allocators {
namespace malloc_bind {

struct BsallocBinding {
  static constexpr size_t kHeader = 16;

  static void* Alloc(size_t size) { return AlignedAlloc(size, 16); }

  // REQUIRES: align is a power of two.
  static void* AlignedAlloc(size_t size, size_t align) {
    if (align < 16) align = 16;
    // Room for the header and for moving the pointer up to `align`.
    size_t total;
    if (__builtin_add_overflow(size, kHeader + align, &total)) {
      errno = ENOMEM;
      return nullptr;
    }
    char* base = static_cast<char*>(bsalloc::Alloc(total));
    if (base == nullptr) return nullptr;
    const uintptr_t first = reinterpret_cast<uintptr_t>(base) + kHeader;
    char* p = reinterpret_cast<char*>((first + align - 1) & ~(uintptr_t{align} - 1));
    Header* h = HeaderOf(p);
    h->size = total;
    h->offset = static_cast<size_t>(p - base);
    return p;
  }

  static void Free(void* p) {
    const Header* h = HeaderOf(p);
    bsalloc::Free(static_cast<char*>(p) - h->offset, h->size);
  }

  static size_t UsableSize(const void* p) {
    const Header* h = HeaderOf(p);
    return bsalloc::UsableSize(h->size) - h->offset;
  }

  static void* Realloc(void* p, size_t size) {
    const size_t old = UsableSize(p);
    if (size <= old) return p;
    void* q = Alloc(size);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, old);
    Free(p);
    return q;
  }

 private:
  struct Header {
    size_t size;
    size_t offset;
  };
  static_assert(sizeof(Header) == kHeader);
  static Header* HeaderOf(const void* p) {
    return reinterpret_cast<Header*>(
        const_cast<char*>(static_cast<const char*>(p)) - kHeader);
  }
};

}  // namespace malloc_bind
}  // namespace allocators

#endif  // MALLOC_BIND_BSALLOC_BINDING_H_
