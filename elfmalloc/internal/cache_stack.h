// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The memory behind a thread cache's pointer stack: one mapping per stack,
// started at a per-class colour, and kept for the next cache of the class
// when its cache shuts down (StackSpares, slag.h). Both front-ends use it
// through CacheBase.
//
// Thread-safety: the spare lists are guarded by StackSpares::lock; the
// rest works on the caller's own stack.

#ifndef ELFMALLOC_INTERNAL_CACHE_STACK_H_
#define ELFMALLOC_INTERNAL_CACHE_STACK_H_

#include <cstddef>
#include <cstdint>

#include "elfmalloc/internal/slag.h"

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

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_CACHE_STACK_H_
