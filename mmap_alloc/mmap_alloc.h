// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// mmap_alloc: memory straight from the kernel, in whole pages.
//
// This is the only package in the repository that calls mmap, munmap,
// mremap, madvise, mprotect or sysconf(_SC_PAGESIZE) (tools/ has a test that
// enforces it). Everything above it asks this package for pages.
//
// Contract shared by every function below:
//   * Sizes are in bytes and are rounded up to a multiple of PageSize(); the
//     same size (before or after rounding) must be passed back when the block
//     is released or resized.
//   * Addresses passed in must be page-aligned and come from this package.
//   * Resource exhaustion (ENOMEM, or an address-space request that cannot be
//     satisfied) is reported by returning nullptr / false. errno is left as
//     the failing system call set it (ENOMEM for exhaustion), so callers such
//     as malloc can pass it on.
//   * Misuse (zero length, unaligned address, an errno that can only mean a
//     programming error such as EINVAL) is a fatal ALLOC_CHECK failure with a
//     one-line message; it is never silently ignored.
//
// Zeroing, precisely:
//   * Memory returned by Alloc(), and the new tail gained by Realloc() or
//     GrowInPlace(), reads as zero (fresh anonymous pages).
//   * Uncommit() discards the contents: the next read of those pages returns
//     zeros (Linux MADV_DONTNEED on private anonymous memory).
//   * Commit() never changes contents; it only asks the kernel to back the
//     pages now (MADV_WILLNEED / MAP_POPULATE-like prefault is NOT implied).
//
// Linux only for now; other systems fail at build configuration time.

#ifndef MMAP_ALLOC_MMAP_ALLOC_H_
#define MMAP_ALLOC_MMAP_ALLOC_H_

#include <cstddef>
#include <cstdint>

#include "object_alloc/object_alloc.h"

namespace allocators {
namespace mmap_alloc {

// The OS page size (sysconf(_SC_PAGESIZE)), read once and cached. Safe to
// call at any time, including before main and from inside malloc.
size_t PageSize();

// How many unmaps (Dealloc, the trimming of aligned maps, shrinking) the
// kernel has refused in this process. It does so only when the process is
// at vm.max_map_count and the range is part of a larger mapping; the pages
// were then discarded instead (their memory went back to the system, the
// address range stays mapped). Thread-safe; never allocates.
size_t UnmapsRefused();

// Page permissions. Any combination of the three bits is valid.
enum Perm : unsigned {
  kPermNone = 0,
  kPermRead = 1,
  kPermWrite = 2,
  kPermExec = 4,
  kPermReadWrite = kPermRead | kPermWrite,
};

class MapAlloc;

// Configures a MapAlloc. Defaults: read + write, not executable, not
// committed on map, no huge-page hint, objects of one page aligned to one
// page. Thread-compatible (a value type).
class MapAllocBuilder {
 public:
  MapAllocBuilder() = default;

  MapAllocBuilder& read(bool on);
  MapAllocBuilder& write(bool on);
  MapAllocBuilder& exec(bool on);
  // Sets all three permission bits at once from a Perm mask.
  MapAllocBuilder& perms(unsigned perm_mask);
  // When true, Alloc() prefaults the pages (MAP_POPULATE), so first touch
  // does not fault. Large alignments commit only the returned range (the
  // trimmed mapping is prefaulted with MADV_POPULATE_WRITE/READ, or just
  // MADV_WILLNEED on kernels older than 5.14). Best effort, like
  // MAP_POPULATE: a prefault the kernel cannot do is not an error.
  MapAllocBuilder& commit(bool on);
  // When true, Alloc() asks for transparent huge pages (MADV_HUGEPAGE) on
  // mappings of at least 2 MiB. A hint only: failure is ignored.
  MapAllocBuilder& huge_pages(bool on);
  // Object layout for the untyped object-allocator view (MapAlloc::Alloc()).
  // REQUIRES at Build(): obj_size is a non-zero multiple of PageSize();
  // obj_align is a power of two and obj_size % obj_align == 0 when
  // obj_align > PageSize().
  MapAllocBuilder& obj_size(size_t size);
  MapAllocBuilder& obj_align(size_t align);

  // Validates the object layout (fatal ALLOC_CHECK on violation, naming the
  // bad value) and returns the allocator.
  MapAlloc Build() const;

 private:
  friend class MapAlloc;
  unsigned perms_ = kPermReadWrite;
  bool commit_ = false;
  bool huge_pages_ = false;
  // Until set, obj_size/obj_align mean "one page", resolved at Build(). The
  // flags let Build() reject an explicit obj_size(0) / obj_align(0).
  bool obj_size_set_ = false;
  bool obj_align_set_ = false;
  size_t obj_size_ = 0;
  size_t obj_align_ = 0;
};

// Maps and unmaps whole pages. A MapAlloc is a small immutable value (its
// configuration); all its operations are thread-safe, and any copy can free
// memory another copy allocated with the same permissions.
//
// It is also an UntypedObjectAlloc (object_alloc/object_alloc.h) whose
// objects are obj_size bytes aligned to obj_align.
class MapAlloc {
 public:
  // Same as MapAllocBuilder().Build().
  MapAlloc();

  // --- General allocation -------------------------------------------------

  // Maps at least `size` bytes (rounded up to pages), aligned to
  // max(align, PageSize()). Alignments above the page size over-map by
  // (align - PageSize()) and unmap the unaligned head and tail, so nothing
  // beyond the rounded size stays mapped.
  // REQUIRES: size > 0 (fatal otherwise); align is 0 or a power of two.
  // Returns nullptr (errno ENOMEM) if the kernel refuses or size + alignment
  // slack overflows.
  void* Alloc(size_t size, size_t align = 0) const;

  // Same as Alloc(): fresh mappings are always zero-filled.
  void* AllocZeroed(size_t size, size_t align = 0) const;

  // Unmaps [p, p + round_up(size)).
  // REQUIRES: p is page-aligned and non-null, size > 0 (fatal otherwise).
  // Unmapping pages that are already unmapped is harmless (munmap semantics);
  // unmapping a sub-range of an allocation is allowed. At the mapping limit
  // the kernel may refuse to split a mapping: the pages are then discarded
  // instead and the range stays mapped (UnmapsRefused()); never fatal.
  void Dealloc(void* p, size_t size) const;

  // Resizes the block, moving it if needed (mremap MREMAP_MAYMOVE). Equal
  // page-rounded sizes return `p` unchanged. Alignment above a page is NOT
  // preserved when the block moves.
  // Returns the new address, or nullptr (errno ENOMEM) on failure, in which
  // case the old block is untouched and still owned by the caller.
  // REQUIRES: as for Dealloc (old_size is the size passed to Alloc or to the
  // previous Realloc); new_size > 0.
  void* Realloc(void* p, size_t old_size, size_t new_size) const;

  // Grows/shrinks the block without moving it (mremap without MAYMOVE).
  // Equal page-rounded sizes succeed trivially. Returns false, with the block
  // unchanged, if the pages after it are taken (grow) or on failure.
  // REQUIRES: new_size >= old_size for Grow, new_size <= old_size for
  // Shrink, both > 0.
  bool GrowInPlace(void* p, size_t old_size, size_t new_size) const;
  bool ShrinkInPlace(void* p, size_t old_size, size_t new_size) const;

  // Hints the kernel to back [p, p + size) now (MADV_WILLNEED). Contents are
  // unchanged. Idempotent. REQUIRES: p page-aligned, size > 0.
  void Commit(void* p, size_t size) const;

  // Returns the physical pages of [p, p + size) to the OS (MADV_DONTNEED);
  // the range stays mapped and later reads return zeros. Idempotent.
  // REQUIRES: p page-aligned, size > 0.
  void Uncommit(void* p, size_t size) const;

  // Changes the permissions of [p, p + size). Returns false on failure
  // (ENOMEM when the range is not mapped). REQUIRES: p page-aligned, size > 0.
  bool Protect(void* p, size_t size, unsigned perm_mask) const;

  // The usable size of an allocation of `size` bytes: round_up(size, page).
  // REQUIRES: size <= PTRDIFF_MAX (no larger allocation can exist; fatal).
  size_t UsableSize(size_t size) const;

  // --- Untyped object-allocator view -------------------------------------

  object_alloc::Layout layout() const { return {obj_size_, obj_align_}; }
  // Alloc(layout().size, layout().align); nullptr on exhaustion.
  void* Alloc() const { return Alloc(obj_size_, obj_align_); }
  // REQUIRES: p came from Alloc() of a MapAlloc with the same layout.
  void Dealloc(void* p) const { Dealloc(p, obj_size_); }

  // --- Configuration ------------------------------------------------------

  unsigned perms() const { return perms_; }
  bool commit() const { return commit_; }
  bool huge_pages() const { return huge_pages_; }

 private:
  friend class MapAllocBuilder;
  explicit MapAlloc(const MapAllocBuilder& b);

  unsigned perms_;
  bool commit_;
  bool huge_pages_;
  size_t obj_size_;
  size_t obj_align_;
};

static_assert(object_alloc::kIsUntypedObjectAlloc<MapAlloc>);

}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_MMAP_ALLOC_H_
