// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The memory behind a thread cache's pointer stack: one mapping per stack,
// started at a per-class colour, and kept for the next cache of the class
// when its cache shuts down (StackSpares, slag.h). Both front-ends use it
// through CacheBase. A magazine starts on a small first stack that shares
// one block with the other classes of its thread (FirstStacks).
//
// Thread-safety: the spare lists are guarded by StackSpares::lock; the
// rest works on the caller's own stack.

#ifndef ELFMALLOC_INTERNAL_CACHE_STACK_H_
#define ELFMALLOC_INTERNAL_CACHE_STACK_H_

#include <cstddef>
#include <cstdint>

#include "elfmalloc/internal/slag.h"
#include "elfmalloc/size_classes.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// Where the stack starts in its mapping: at the class's colour (a cache
// line of the first page). Page-aligned stacks would put the hot top
// entries of every class in the same L1 set, and loads from one would
// 4K-alias with stores to another.
size_t StackOffset(const ClassPool* pool);

// The mapping a stack of `capacity` pointers needs, colour included.
size_t StackMapBytes(size_t capacity);

// A stack mapping of `bytes` for `pool`: a spare one if the class keeps
// one of that size (its earlier owners may have written *touched bytes of
// it), else a fresh mapping (*touched = 0). nullptr if none could be
// mapped.
void* TakeStack(ClassPool* pool, size_t bytes, size_t* touched);

// Gives back stack mapping `mem` of `bytes`, of which `touched` may have
// been written: kept for the next cache of `pool` if the class has room
// and the spares' touched bytes stay within budget, else unmapped.
void ReturnStack(ClassPool* pool, void* mem, size_t bytes, size_t touched);

// Unmaps every spare stack `pool` keeps and returns how many: the
// heap's release and out-of-address-space reclaim give their memory back
// too.
size_t DrainSpareStacks(ClassPool* pool);

// The slots of a first stack (FirstStacks).
inline constexpr uint32_t kFirstStackEntries = 32;

// The first stacks of one thread's caches, kFirstStackEntries slots per
// size class, in one block taken from bsalloc when the first of them is
// used. A class that caches few objects then costs neither a mapping nor a
// page of its own; a cache that needs more moves to a mapped stack
// (CacheBase::GrowStack). The block is under 18 KiB, so bsalloc keeps it
// for the next thread instead of unmapping it.
// Thread-safety: used by its owner's thread (and by whoever destroys it).
class FirstStacks {
 public:
  FirstStacks() = default;
  ~FirstStacks();
  FirstStacks(const FirstStacks&) = delete;
  FirstStacks& operator=(const FirstStacks&) = delete;

  // Class c's first stack of kFirstStackEntries slots; nullptr if no memory
  // could be had. REQUIRES: c < kNumClasses.
  void** Get(size_t c);

 private:
  // Pointers from one class's stack to the next: the extra cache lines put
  // the top entries of different classes on different cache-line offsets
  // of a page (as StackOffset does for mapped stacks).
  static constexpr size_t kStride = kFirstStackEntries + 8;
  static constexpr size_t kBytes = kNumClasses * kStride * sizeof(void*);
  static_assert(kBytes <= 18 * 1024,
                "bsalloc caches blocks of at most 18 KiB (bsalloc.h)");

  void** base_ = nullptr;
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_CACHE_STACK_H_
