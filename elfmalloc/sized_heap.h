// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// SizedHeap: elfmalloc's second general allocator, whose free takes the
// size (and alignment) the block was allocated with, as
// std::pmr::memory_resource::do_deallocate and sized operator delete do.
//
//   #include "elfmalloc/sized_heap.h"
//   elfmalloc::SizedHeap heap;                 // or SizedHeap::Global()
//   elfmalloc::SizedHeap::Handle h(heap);      // one per thread
//   void* p = h.Alloc(100, 16);
//   h.Free(p, 100, 16);
//   elfmalloc::SizedHeapResource r(heap);      // a std::pmr resource
//
// Knowing the size at free lets it keep three tiers with no per-block
// record:
//
// * small: classes of every multiple of 16 up to SizedHeapOptions::
//   small_max_bytes (8 KiB), each in 64 KiB slags with a magazine per
//   handle, as the process heap's classes;
// * medium: power-of-two classes from the next power of two up to
//   max_object_bytes (8 MiB). A medium block is a whole page of a shared
//   page allocator of max_object_bytes pages (refilled 4 at a time, free
//   pages decaying back to the OS as the process heap's do); each class
//   keeps a bag of its freed blocks, up to class_cache_bytes worth, and
//   gives the rest back to the shared pages, uncommitting all but the
//   first OS page of a block of uncommit_from_bytes or more;
// * huge: larger requests, mapped one by one.
//
// An alignment above 16 is honoured by rounding the size up to a power of
// two at least as large (small power-of-two classes are aligned to their
// size, medium blocks to max_object_bytes); huge blocks are mapped aligned.
//
// Checks (one-line fatal errors, as elsewhere in elfmalloc): a free's size
// and alignment must name the class the block was allocated in ("size
// mismatch"), the block must be this heap's ("belongs to ..." or "invalid
// pointer"), and a medium or huge block must not be freed twice ("double
// free"). Small slags and medium blocks carry page-map tags, so a foreign
// pointer is named without reading the memory it points to. Two SizedHeaps'
// medium blocks carry the same tags: freeing one through the other is not
// caught.
//
// A heap maps 309 KiB of bookkeeping and a handle 162 KiB, of which only
// what the classes in use need is touched. A heap's memory goes with it:
// its destructor unmaps every page and huge block, live or free. REQUIRES: no Handle of the heap exists then (fatal
// otherwise).
//
// Thread-safety: SizedHeap is thread-safe; a Handle is thread-compatible
// (one thread at a time; a block may be freed through any handle of its
// heap).

#ifndef ELFMALLOC_SIZED_HEAP_H_
#define ELFMALLOC_SIZED_HEAP_H_

#include <cstddef>
#include <cstdint>
#include <memory_resource>

namespace allocators {
namespace elfmalloc {

struct SizedHeapOptions {
  // Small classes: the multiples of 16 up to this (at most 8 KiB, a
  // multiple of 16).
  size_t small_max_bytes = size_t{8} << 10;
  // The fraction of a slag's objects that must be free for the slag to be
  // reused before a new page is taken.
  double reuse_threshold = 0.6;
  // The largest medium block (a power of two, 16 KiB to 128 MiB, at least
  // twice small_max_bytes); larger requests are mapped one by one.
  size_t max_object_bytes = size_t{8} << 20;
  // A medium block of at least this size that goes back to the shared
  // pages is uncommitted but for its first OS page.
  size_t uncommit_from_bytes = size_t{1} << 20;
  // Freed blocks each medium class keeps for reuse, in bytes (at least one
  // block).
  size_t class_cache_bytes = size_t{16} << 20;
  // Free pages unused this long go back to the OS (-1: never).
  int64_t decay_ms = 1000;
  // Free pages beyond this many bytes go back to the OS at once.
  size_t max_dirty_bytes = size_t{256} << 20;
};

class SizedHeap {
 public:
  // A heap with `options` (invalid options are a fatal one-line error).
  // Throws std::bad_alloc if its bookkeeping cannot be mapped.
  explicit SizedHeap(const SizedHeapOptions& options = SizedHeapOptions());
  // Unmaps every page and huge block of the heap. REQUIRES: no Handle of
  // it exists (fatal otherwise); no block of it is used afterwards.
  ~SizedHeap();
  SizedHeap(const SizedHeap&) = delete;
  SizedHeap& operator=(const SizedHeap&) = delete;

  // The process-wide instance with the default options, built on first use
  // and never destroyed.
  static SizedHeap& Global();

  const SizedHeapOptions& options() const;

  // One thread's caches of a heap. Thread-compatible.
  class Handle {
   public:
    // Throws std::bad_alloc if the handle's caches cannot be mapped.
    explicit Handle(SizedHeap& heap);
    // A new handle of the same heap (for another thread).
    Handle(const Handle& other) : Handle(*other.heap_) {}
    Handle& operator=(const Handle&) = delete;
    // Returns the cached blocks to the heap (blocks stay allocated).
    ~Handle();

    Handle Clone() const { return Handle(*heap_); }
    SizedHeap& heap() const { return *heap_; }

    // At least `size` bytes aligned to `align` (a power of two; else
    // nullptr with errno EINVAL); nullptr with errno ENOMEM when no memory
    // is left. Size 0 gives a unique 16-byte block.
    void* Alloc(size_t size, size_t align = 16);
    // Frees `p` (nullptr: no-op), allocated through any handle of this heap
    // with `size` and `align`. A size or alignment of another class, or a
    // block of another allocator, is fatal.
    void Free(void* p, size_t size, size_t align = 16);

   private:
    SizedHeap* heap_;
    void* local_;  // the handle's caches
  };

  // This thread's handle of Global(), made on the thread's first call and
  // destroyed at its exit (the original's shared thread-local handle).
  static Handle& ThreadHandle();

  struct Stats {
    size_t small_bytes_mapped;   // address space of the small slags' pages
    size_t medium_bytes_mapped;  // and of the medium blocks' pages
    size_t huge_bytes;           // mapped for live huge blocks
    size_t huge_count;
  };
  Stats GetStats() const;

 private:
  struct Shared;
  struct Local;
  Shared* shared_;
};

// SizedHeap as a std::pmr::memory_resource: through the calling thread's
// handle of the heap (ThreadHandle() for Global(); for another heap, a
// handle the resource owns, so the resource is then thread-compatible).
// do_deallocate passes the size back, which SizedHeap checks. Allocation
// failure throws std::bad_alloc. Resources over the same heap are equal.
class SizedHeapResource final : public std::pmr::memory_resource {
 public:
  // Over SizedHeap::Global(), thread-safe (each thread uses its own
  // ThreadHandle()).
  SizedHeapResource();
  // Over `heap` (which must outlive the resource), through a handle of its
  // own: thread-compatible.
  explicit SizedHeapResource(SizedHeap& heap);
  ~SizedHeapResource() override;

  SizedHeap& heap() const { return *heap_; }

 private:
  void* do_allocate(size_t bytes, size_t align) override;
  void do_deallocate(void* p, size_t bytes, size_t align) override;
  bool do_is_equal(const memory_resource& other) const noexcept override;
  SizedHeap::Handle& handle();

  SizedHeap* heap_;
  SizedHeap::Handle* own_ = nullptr;  // null over Global()
};

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_SIZED_HEAP_H_
