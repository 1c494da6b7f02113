// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// bsalloc: the bootstrap allocator.
//
// The allocators in this repository must never call the malloc they replace,
// yet their own data structures (queue segments, per-thread metadata,
// reclamation lists) need dynamic memory. bsalloc serves those internal
// requests straight from mmap_alloc, with no locks and no thread-local state,
// so it works before main, inside malloc, in a fork child and during thread
// exit.
//
// It is deliberately simple and meant for rare, modest traffic:
//
//   class   | request size               | object (one mapping each) | cache
//   --------+----------------------------+---------------------------+--------
//   small   | <= 1 KiB rounded to pages  | 1 page (4 KiB)            | 8 slots
//   medium  | <= 18 KiB rounded to pages | 5 pages (20 KiB)          | 4 slots
//   direct  | larger                     | round_up(size, page)      | none
//
// Every object is a separate mapping, so every block is page-aligned and a
// free never touches a neighbour. The caches are arrays of atomic pointers
// probed with exchange() (see bsalloc.cc); a free that finds no empty slot
// within its probe budget unmaps the block.
//
// Thread-safe: every function may be called concurrently from any thread.

#ifndef BSALLOC_BSALLOC_H_
#define BSALLOC_BSALLOC_H_

#include <cstddef>

#include "object_alloc/object_alloc.h"

namespace allocators {
namespace bsalloc {

// Returns a block of at least `size` bytes aligned to max(align, page), or
// nullptr with errno = ENOMEM when the kernel refuses memory or the size is
// impossibly large. A size of 0 is served as 1 byte (a distinct block).
// Contents are unspecified (a cached block keeps its old bytes).
// REQUIRES: align is 0 or a power of two.
void* Alloc(size_t size, size_t align = 0);

// Releases a block. `size` must map to the same class as the size the block
// was allocated (or last reallocated) with; passing exactly that size is
// always right. Free(nullptr, n) does nothing.
// A pointer that is not page-aligned cannot have come from bsalloc and is a
// fatal error ("bsalloc: Free of a pointer that is not page-aligned").
void Free(void* p, size_t size);

// Resizes a block: returns `p` itself when old and new sizes map to the same
// object size, otherwise allocates, copies min(old_size, new_size) bytes and
// frees `p`. On failure returns nullptr (errno = ENOMEM) and `p` is untouched.
// Realloc(nullptr, 0, n) is Alloc(n). The result is page-aligned; a larger
// alignment requested at Alloc() is preserved only if the block is not moved.
void* Realloc(void* p, size_t old_size, size_t new_size);

// The number of bytes usable in a block allocated with `size`: the full size
// of its class object, so code may grow into it without reallocating.
size_t UsableSize(size_t size);

// An untyped object allocator (object_alloc/object_alloc.h) whose objects all
// have one layout and are served by bsalloc. Thread-safe; copyable.
class ObjectAlloc {
 public:
  // REQUIRES: layout.IsValid() (fatal otherwise).
  explicit ObjectAlloc(object_alloc::Layout layout);

  object_alloc::Layout layout() const { return layout_; }
  void* Alloc() { return bsalloc::Alloc(layout_.size, layout_.align); }
  void Dealloc(void* p) { bsalloc::Free(p, layout_.size); }

 private:
  object_alloc::Layout layout_;
};

static_assert(object_alloc::kIsUntypedObjectAlloc<ObjectAlloc>);

}  // namespace bsalloc
}  // namespace allocators

#endif  // BSALLOC_BSALLOC_H_
