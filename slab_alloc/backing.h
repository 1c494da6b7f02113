// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Backing providers: where a slab cache gets the memory for its slabs.
//
// A cache uses one of two kinds of slab (see internal/slab_cache.h):
// aligned slabs, aligned to their own power-of-two size so that an object's
// slab is found by masking its address, and large slabs, which only need
// page alignment and are found through a hash map. A backing provider B
// offers an allocator for each:
//
//   using Aligned = ...;  // untyped object allocator (object_alloc.h) whose
//                         // blocks are aligned to their own size; must
//                         // support one-page blocks, may decline others
//   using Large = ...;    // untyped object allocator of page-aligned blocks;
//                         // must support every page multiple
//
//   // An allocator of blocks of layout {size, size} (size a power of two
//   // >= page), or nullopt if B does not provide blocks that big.
//   std::optional<Aligned> GetAligned(object_alloc::Layout layout);
//   // An allocator of blocks of layout {size, page} (size a multiple of the
//   // page size). Must not fail.
//   Large GetLarge(object_alloc::Layout layout);
//
// At build time the cache computes its ideal aligned slab size and calls
// GetAligned; only if that declines does it compute the large slab size and
// call GetLarge. Blocks are treated as uninitialised; the cache writes its
// header and stack into each. A Backing is passed by value and the
// allocators it returns are kept by the cache for its lifetime, so they may
// hold pointers to longer-lived state (tests back caches with a LeakyAlloc
// that way).
//
// The two providers here follow the original's availability rules:
//   HeapBacking  - ::operator new with alignment, several slabs to a block
//                  (HeapRunAlloc); aligned slabs up to one page, large slabs
//                  of any size.
//   MmapBacking  - mmap_alloc::MapAlloc; aligned slabs of exactly one page,
//                  large slabs of any size.
// In practice, then, aligned slabs serve the objects whose ideal slab is one
// page with at most 1/16 of it unused (with 4 KiB pages: objects up to 384
// bytes and a few sizes such as 768 bytes), and other objects use large
// slabs (see internal/slab_cache.h).

#ifndef SLAB_ALLOC_BACKING_H_
#define SLAB_ALLOC_BACKING_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc/object_alloc.h"

namespace allocators {
namespace slab_alloc {

// An untyped object allocator of blocks of one layout (aligned to
// layout.align; the slab caches ask for at least a page), carved from runs
// of contiguous blocks that come from the C++ heap (aligned ::operator new,
// nothrow form).
//
// Why runs: every aligned heap block carries up to a page of slack in front
// of it (glibc's aligned allocation), so slabs allocated one by one sit with
// holes between them, and holes slow the first writes to fresh objects (see
// slab_alloc/README.md). A run holds as many blocks as fit in kRunBytes (at
// least one); a run goes back to the heap as soon as all its blocks are
// free, so a live block keeps at most one run (64 KiB for small blocks).
//
// Alloc returns nullptr when the heap is exhausted. Dealloc of a block this
// allocator does not own, or of a free block, is a fatal error (one line).
// Move-only; thread-compatible (each slab cache owns its allocators).
class HeapRunAlloc {
 public:
  // Bytes of blocks a run holds at most, when blocks are smaller.
  static constexpr size_t kRunBytes = size_t{64} << 10;

  // REQUIRES: layout.IsValid(), layout.size a multiple of layout.align,
  // layout.align >= alignof(void*) (fatal otherwise).
  explicit HeapRunAlloc(object_alloc::Layout layout);
  HeapRunAlloc(HeapRunAlloc&& other) noexcept;
  // REQUIRES: every block of *this has been freed (fatal otherwise).
  HeapRunAlloc& operator=(HeapRunAlloc&& other) noexcept;
  HeapRunAlloc(const HeapRunAlloc&) = delete;
  HeapRunAlloc& operator=(const HeapRunAlloc&) = delete;
  // REQUIRES: every block has been freed (fatal otherwise).
  ~HeapRunAlloc();

  object_alloc::Layout layout() const { return layout_; }
  void* Alloc();
  // REQUIRES: p came from Alloc() of this allocator and is not yet freed.
  void Dealloc(void* p);

  // Introspection, for tests: blocks per run, and runs held.
  size_t blocks_per_run() const { return per_run_; }
  size_t runs() const { return num_runs_; }

 private:
  struct Run;

  Run* NewRun();
  // Unlinks and deletes runs_[index]. REQUIRES: all its blocks are free.
  void ReleaseRun(size_t index);
  bool HasFree(const Run* run) const;
  void PushPartial(Run* run);
  void UnlinkPartial(Run* run);
  // The index in runs_ of the run holding `p`, or num_runs_ if none does.
  size_t FindRun(uintptr_t p) const;

  object_alloc::Layout layout_;
  size_t per_run_;
  Run** runs_ = nullptr;  // sorted by address; capacity cap_
  size_t num_runs_ = 0;
  size_t cap_ = 0;
  Run* partial_ = nullptr;  // runs with a free block, most recent first
};

// Slabs from the C++ heap (the original's HeapBackingAlloc), in runs.
// Stateless; thread-safe (the allocators it returns are thread-compatible).
struct HeapBacking {
  using Aligned = HeapRunAlloc;
  using Large = HeapRunAlloc;

  // Declines slabs larger than a page, as the original did: the heap's
  // aligned allocation of big power-of-two blocks wastes up to a block.
  std::optional<Aligned> GetAligned(object_alloc::Layout layout) const;
  Large GetLarge(object_alloc::Layout layout) const;
};

// Slabs straight from the kernel through mmap_alloc (the original's
// MmapBackingAlloc). Stateless; thread-safe.
struct MmapBacking {
  using Aligned = mmap_alloc::MapAlloc;
  using Large = mmap_alloc::MapAlloc;

  // Accepts exactly one page, as the original did. (It also offered
  // huge-page-sized aligned slabs where the system supported them;
  // mmap_alloc has no explicit huge-page sizes, so those are declined.)
  std::optional<Aligned> GetAligned(object_alloc::Layout layout) const;
  Large GetLarge(object_alloc::Layout layout) const;
};

static_assert(object_alloc::kIsUntypedObjectAlloc<HeapRunAlloc>);

}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_BACKING_H_
