// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// MapMemory: the memory behind the large-slab maps (ptr_map.h), recycled
// through a process-wide pool.
//
// A PtrHashMap grows by doubling into a new table and freeing the old one,
// and a new cache's map starts at 256 buckets. With every table mapped
// fresh from the kernel (and prefaulted, since it is written at once), a
// cache that grows to N slabs is handed about twice its final table in new
// pages, and a cache built after another one was destroyed pays for all of
// them again, each page zeroed by the kernel (info/micro-benchmarks.md has
// the cost).
//
// MapMemory is a PtrHashMap MetaAlloc that keeps freed blocks in a pool
// shared by every map in the process and hands them out again to requests
// of the same page-rounded size, the way malloc reuses the memory it was
// given back: tables freed by one map's growth serve the next map's growth.
// The pool holds at most kMaxRetainedBytes; a block that does not fit goes
// straight back to the kernel, so retained memory is bounded no matter how
// many caches come and go. New blocks are mapped through mmap_alloc,
// prefaulted (MAP_POPULATE). Blocks from the pool keep their old contents
// (PtrHashMap initialises every bucket it allocates, so it never relies on
// zeroed memory).
//
// Alignments up to a page are served from the pool; larger ones map fresh.
// Nothing here touches malloc. Thread-safe (the pool is behind a spin lock;
// the lock is taken only when a table or overflow chunk is allocated or
// freed, never on a lookup).

#ifndef SLAB_ALLOC_INTERNAL_MAP_MEMORY_H_
#define SLAB_ALLOC_INTERNAL_MAP_MEMORY_H_

#include <cstddef>

namespace allocators {
namespace slab_alloc {
namespace internal {

// A stateless MetaAlloc (ptr_map.h): `Alloc(size, align)` returns
// page-aligned memory of at least `size` bytes (nullptr when the kernel
// refuses), `Dealloc(p, size)` takes it back with the same size.
// Thread-safe.
class MapMemory {
 public:
  // The most the pool keeps: every table of a doubling chain up to 16 Ki
  // buckets (2.3 MiB; the map of a cache of 1 KiB objects with up to
  // 64 MiB of slabs) and room for overflow chunks.
  static constexpr size_t kMaxRetainedBytes = size_t{4} << 20;

  // At least `size` bytes aligned to max(align, page): a pooled block of
  // the same page-rounded size if there is one (and align <= page),
  // otherwise a new prefaulted mapping. nullptr if the kernel refuses.
  // REQUIRES: size > 0; align is 0 or a power of two.
  void* Alloc(size_t size, size_t align) const;

  // Gives back a block from Alloc(size, ...): into the pool if it fits under
  // kMaxRetainedBytes, otherwise to the kernel.
  void Dealloc(void* p, size_t size) const;

  // --- Pool introspection and control (tests, diagnostics) --------------

  // Bytes and blocks held by the pool now.
  static size_t RetainedBytes();
  static size_t RetainedBlocks();
  // Unmaps every pooled block.
  static void ReleaseRetained();
};

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_INTERNAL_MAP_MEMORY_H_
