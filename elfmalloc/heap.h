// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Explicit handles and heaps of one's own.
//
//   #include "elfmalloc/heap.h"
//   allocators::elfmalloc::Heap heap;          // pages of its own
//   void* a = heap.Alloc(100);                 // from any thread
//   allocators::elfmalloc::Heap::Handle h(heap);   // one thread's fast path
//   void* b = h.Alloc(200);
//   h.Free(a);                                 // any handle of the heap
//   ...                                        // destroy the handles, then
//   heap.Destroy();                            // every block and page goes
//
// ProcessHandle is the handle API over the process heap (elfmalloc.h):
// allocate, free, resize, and Clone() for another thread. It holds nothing:
// the process heap's thread caches are found through TLS.
//
// Heap is a heap a program creates for request-scoped or arena-style memory:
// its blocks live on pages of its own, with statistics of their own, and
// Destroy() (or the destructor) gives every block and page back at once,
// without a free per block. Blocks come from any thread, in two ways:
//
// * Heap::Alloc and friends, without a handle: safe from any thread, through
//   one of four caches the heap's callers share, each under a spin lock,
//   picked per thread (so two threads rarely wait for each other);
// * Heap::Handle: one thread's cache of the heap, with the process heap's
//   fast paths and no lock. Make one per thread (Clone() or the copy
//   constructor). A block may be freed through any handle of its heap, or
//   through the heap itself, on any thread.
//
// Semantics follow elfmalloc.h (sizes, alignment, zero-size requests,
// realloc, ENOMEM) with three differences:
// * A heap frees only its own blocks. free() of a heap's block, or a heap's
//   Free of another heap's or the process heap's block, is a fatal one-line
//   error that says where the block belongs, e.g. "elfmalloc: free():
//   pointer 0x... belongs to an elfmalloc::Heap".
// * Destroy() while any Handle of the heap exists is a fatal error
//   ("elfmalloc: Heap::Destroy(): 1 handle still in use"): a handle's cache
//   holds the heap's pages, and a thread still allocating through it would
//   write to unmapped memory. Handle-less calls on other threads take the
//   lock Destroy holds, so they run before or after it; after it the heap
//   is empty and usable again. Calls racing with the destructor are a
//   use-after-destruction bug of the caller, as for any C++ object.
// * A child process forked while another thread was inside a heap's slow
//   path (refill, statistics) must not use that heap. The process heap has
//   no such limit.
//
// Cost: a heap maps 104 KiB of bookkeeping (not all of it touched) and no
// pages until it allocates; a handle maps 20 KiB. Each size class a heap
// uses takes slags (64 KiB to 2 MiB) of its own, as in the process heap, so
// many small heaps each holding a few bytes of many sizes use more memory
// than one shared heap.
//
// Thread-safety: ProcessHandle and Heap are thread-safe. A Heap::Handle is
// thread-compatible: one thread at a time.

#ifndef ELFMALLOC_HEAP_H_
#define ELFMALLOC_HEAP_H_

#include <cstddef>
#include <cstdint>

#include "elfmalloc/elfmalloc.h"

namespace allocators {
namespace elfmalloc {

// The process heap as a handle (see the file comment). Each member behaves
// as the function of elfmalloc.h with its name.
class ProcessHandle {
 public:
  void* Alloc(size_t size) const { return elfmalloc::Alloc(size); }
  void* AllocZeroed(size_t size) const { return elfmalloc::AllocZeroed(size); }
  void* AlignedAlloc(size_t size, size_t align) const {
    return elfmalloc::AlignedAlloc(size, align);
  }
  void Free(void* p) const { elfmalloc::Free(p); }
  void FreeSized(void* p, size_t size, size_t align = 0) const {
    elfmalloc::FreeSized(p, size, align, "ProcessHandle::FreeSized");
  }
  void* Realloc(void* p, size_t size) const {
    return elfmalloc::Realloc(p, size);
  }
  void* AlignedRealloc(void* p, size_t size, size_t align) const {
    return elfmalloc::AlignedRealloc(p, size, align);
  }
  size_t UsableSize(const void* p) const { return elfmalloc::UsableSize(p); }
  // A handle for another thread.
  ProcessHandle Clone() const { return *this; }
};

class Heap {
 public:
  // Counters of one heap (compare elfmalloc::Stats and ClassStats).
  struct Stats {
    size_t slag_bytes_mapped;  // address space mapped for its slags
    size_t dirty_bytes;        // free slag pages still holding memory
    size_t large_bytes;        // mapped for its live large objects
    size_t large_count;        // its live large objects
    uint64_t allocated;        // small objects handed out, ever (since
    uint64_t freed;            // creation or the last Destroy), and freed
  };

  // An empty heap. Throws std::bad_alloc if its bookkeeping cannot be
  // mapped.
  Heap();
  // Destroy(), then the heap's bookkeeping goes. Same REQUIRES as Destroy.
  ~Heap();
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  // The allocation functions of elfmalloc.h, on this heap, from any thread
  // (through a shared cache, under its lock).
  void* Alloc(size_t size);
  void* AllocZeroed(size_t size);
  void* AlignedAlloc(size_t size, size_t align);
  // Frees a block of this heap (nullptr: no-op), from any thread.
  void Free(void* p);
  // Free, with the size (0: not given) and alignment (0: not given) the
  // block was allocated with; a mismatch is a fatal error as in elfmalloc.h.
  void FreeSized(void* p, size_t size, size_t align = 0);
  void* Realloc(void* p, size_t size);
  void* AlignedRealloc(void* p, size_t size, size_t align);
  // The usable bytes at `p` (0 for nullptr); fatal if p is not this heap's.
  size_t UsableSize(const void* p) const;
  // True if `p` is a live block of this heap.
  bool Owns(const void* p) const;

  Stats GetStats() const;

  // Gives every block and page of the heap back to the OS at once; the heap
  // is empty and usable again. REQUIRES: no Handle of this heap exists
  // (fatal otherwise), and no block of it is used afterwards.
  void Destroy();

  // One thread's cache of a heap: the same calls as the heap's, without
  // its lock. Thread-compatible. A handle must be destroyed before its heap
  // is destroyed.
  class Handle {
   public:
    // A new cache of `heap`. Throws std::bad_alloc if it cannot be mapped.
    explicit Handle(Heap& heap);
    // A new handle of the same heap (for another thread).
    Handle(const Handle& other) : Handle(*other.heap_) {}
    Handle(Handle&& other) noexcept
        : heap_(other.heap_), cache_(other.cache_) {
      other.cache_ = nullptr;
    }
    Handle& operator=(const Handle&) = delete;
    Handle& operator=(Handle&&) = delete;
    // Returns the cached blocks to the heap (blocks stay allocated).
    ~Handle();

    Handle Clone() const { return Handle(*heap_); }
    Heap& heap() const { return *heap_; }

    void* Alloc(size_t size);
    void* AllocZeroed(size_t size);
    void* AlignedAlloc(size_t size, size_t align);
    // Frees a block of the handle's heap, allocated through any handle or
    // the heap itself, on any thread.
    void Free(void* p);
    void FreeSized(void* p, size_t size, size_t align = 0);
    void* Realloc(void* p, size_t size);
    void* AlignedRealloc(void* p, size_t size, size_t align);
    size_t UsableSize(const void* p) const { return heap_->UsableSize(p); }

   private:
    Heap* heap_;
    void* cache_;  // the build's ThreadCache of heap_ (null once moved)
  };

 private:
  void* impl_;  // the build's UserHeap
};

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_HEAP_H_
