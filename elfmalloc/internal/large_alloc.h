// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Large objects (above the largest size class, or aligned beyond what the
// classes give): one mmap_alloc mapping each, with an out-of-band header.
//
// The original put a {tag, base, size} header 2 MiB before every large
// object (an extra 2 MiB of address space each) and found it by rounding
// the freed pointer down, which reads arbitrary memory for a pointer it
// never handed out. Here each object's header record (address, mapped
// bytes, alignment) lives in a registry: an open-addressing hash table keyed
// by address, in mmap'd memory, under a spin lock. That makes free of a
// foreign or interior pointer a clean error, makes the usable size exact,
// and costs no memory next to the object. The lock is cheap next to the
// mmap/munmap every large allocation pays anyway.
//
// Alignment: mappings are page-aligned; larger alignments over-map and trim
// (mmap_alloc), so any power of two is honoured.
//
// Thread-safe.

#ifndef ELFMALLOC_INTERNAL_LARGE_ALLOC_H_
#define ELFMALLOC_INTERNAL_LARGE_ALLOC_H_

#include <cstddef>

#include "alloc_fmt/spin_lock.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// Maps a large object of at least `size` bytes aligned to `align` (0 or a
// power of two). nullptr with errno ENOMEM on failure (including sizes whose
// rounding would overflow).
void* LargeAlloc(size_t size, size_t align);

// Unmaps large object `p`. Returns false, changing nothing, if p is not the
// start of a live large object.
bool LargeFree(void* p);

// The usable size of large object `p` (its page-rounded size), or 0 if p is
// not the start of a live large object.
size_t LargeUsableSize(const void* p);

// Resizes large object `p` to at least `size` bytes if that can be done by
// remapping (alignment at most a page, or growing/shrinking in place).
// Returns the (possibly moved) object, or nullptr if it cannot (p unchanged;
// the caller copies). REQUIRES: p is a live large object, size > 0.
void* LargeResize(void* p, size_t size);

// The registry's lock, for the fork handlers (fork.h).
SpinLock* LargeRegistryLock();

// Bytes currently mapped for large objects, and their number.
size_t LargeBytes();
size_t LargeCount();

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_LARGE_ALLOC_H_
