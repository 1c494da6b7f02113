// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Allocators that never give memory back until they are destroyed, so memory
// an allocator under test has "freed" stays mapped and can be inspected.

#ifndef OBJECT_ALLOC_TEST_LEAKY_ALLOC_H_
#define OBJECT_ALLOC_TEST_LEAKY_ALLOC_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <new>

#include "object_alloc/object_alloc.h"

namespace allocators {
namespace object_alloc_test {

// A general-purpose allocator whose Dealloc is a no-op: every block stays
// allocated, with its contents untouched, until the LeakyAlloc itself is
// destroyed. Use it as the backing store of an allocator under test so that
// the conformance suite can still read objects the allocator has released
// (the suite's DropAndCheck step).
//
// Blocks come from aligned ::operator new, so under AddressSanitizer they
// keep their redzones and out-of-bounds accesses are still caught. Dealloc
// checks that the block is one of ours with the same size and alignment, and
// that it is not freed twice, which catches bookkeeping bugs in the allocator
// under test.
//
// Thread-safe: every call takes an internal mutex. Not movable (allocators
// built on it hold its address).
class LeakyAlloc {
 public:
  LeakyAlloc() = default;
  ~LeakyAlloc();

  LeakyAlloc(const LeakyAlloc&) = delete;
  LeakyAlloc& operator=(const LeakyAlloc&) = delete;

  // Returns `size` bytes aligned to `align`, or nullptr if the heap is
  // exhausted. Contents are unspecified.
  // REQUIRES: size > 0; align is a power of two.
  void* Alloc(size_t size, size_t align);

  // Marks the block as released; the memory stays allocated and unchanged.
  // REQUIRES: p came from Alloc(size, align) on this object and has not been
  // released since. Aborts with a message otherwise.
  void Dealloc(void* p, size_t size, size_t align);

  // True if [p, p + len) lies inside one block from this allocator (released
  // or not), i.e. is safe to read until this object is destroyed.
  bool Owns(const void* p, size_t len) const;

  // Blocks handed out so far, and how many of them are released.
  size_t blocks() const;
  size_t released() const;

 private:
  struct Block {
    size_t size;
    size_t align;
    bool released;
  };

  mutable std::mutex mu_;
  std::map<uintptr_t, Block> blocks_;  // keyed by start address
  size_t released_ = 0;
};

// A typed object allocator of T over a LeakyAlloc: Alloc() default-constructs
// a T in fresh memory, Dealloc() destroys it in place and "frees" the memory
// to the LeakyAlloc, which keeps it. This is the original's
// test_memory_corruption setup. It never reuses memory, so it caches nothing
// and every object it returns is freshly constructed.
//
// The backing LeakyAlloc is either owned (default constructor) or borrowed;
// borrow one that outlives this allocator when freed objects must stay
// readable after the allocator is gone (the conformance suite passes one to
// factories for that reason).
//
// Thread-safe if T's constructor and destructor are (LeakyAlloc is).
template <typename T>
class LeakyObjectAlloc {
 public:
  using value_type = T;

  // Owns its LeakyAlloc; objects are aligned to max(align, alignof(T)).
  // REQUIRES: align is a power of two.
  explicit LeakyObjectAlloc(size_t align = alignof(T))
      : owned_(std::make_unique<LeakyAlloc>()),
        backing_(owned_.get()),
        align_(align < alignof(T) ? alignof(T) : align) {}

  // Borrows `backing`, which must outlive this allocator.
  LeakyObjectAlloc(LeakyAlloc* backing, size_t align)
      : backing_(backing), align_(align < alignof(T) ? alignof(T) : align) {}

  LeakyObjectAlloc(const LeakyObjectAlloc&) = delete;
  LeakyObjectAlloc& operator=(const LeakyObjectAlloc&) = delete;

  // A new default-constructed T, or nullptr if memory is exhausted.
  T* Alloc() {
    void* p = backing_->Alloc(sizeof(T), align_);
    if (p == nullptr) return nullptr;
    return ::new (p) T();
  }

  // REQUIRES: p came from Alloc() on this allocator and is live.
  void Dealloc(T* p) {
    p->~T();
    backing_->Dealloc(p, sizeof(T), align_);
  }

  size_t align() const { return align_; }

 private:
  std::unique_ptr<LeakyAlloc> owned_;  // null when borrowing
  LeakyAlloc* backing_;
  size_t align_;
};

// An untyped object allocator over a LeakyAlloc: hands out raw blocks of one
// Layout and never reuses them. Makes no initialisation guarantee (the
// memory is whatever operator new returned). Thread-safe.
class LeakyUntypedObjectAlloc {
 public:
  // REQUIRES: layout.IsValid(). Owns its LeakyAlloc.
  explicit LeakyUntypedObjectAlloc(object_alloc::Layout layout);
  // Borrows `backing`, which must outlive this allocator.
  LeakyUntypedObjectAlloc(LeakyAlloc* backing, object_alloc::Layout layout);

  LeakyUntypedObjectAlloc(const LeakyUntypedObjectAlloc&) = delete;
  LeakyUntypedObjectAlloc& operator=(const LeakyUntypedObjectAlloc&) = delete;

  object_alloc::Layout layout() const { return layout_; }
  void* Alloc() { return backing_->Alloc(layout_.size, layout_.align); }
  // REQUIRES: p came from Alloc() on this allocator and is live.
  void Dealloc(void* p) { backing_->Dealloc(p, layout_.size, layout_.align); }

 private:
  std::unique_ptr<LeakyAlloc> owned_;  // null when borrowing
  LeakyAlloc* backing_;
  object_alloc::Layout layout_;
};

static_assert(object_alloc::kIsObjectAlloc<LeakyObjectAlloc<int>, int>);
static_assert(object_alloc::kIsUntypedObjectAlloc<LeakyUntypedObjectAlloc>);

}  // namespace object_alloc_test
}  // namespace allocators

#endif  // OBJECT_ALLOC_TEST_LEAKY_ALLOC_H_
