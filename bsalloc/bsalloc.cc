// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "bsalloc/bsalloc.h"

#include <errno.h>

#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "alloc_fmt/check.h"
#include "bsalloc/internal/classes.h"
#include "bsalloc/internal/slot_cache.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace bsalloc {
namespace {

using internal::Class;
using internal::ClassOf;

// Global caches, constant-initialised so that bsalloc works before any
// constructor runs. Never destroyed: blocks cached at exit stay mapped until
// the process ends, like the rest of the address space.
ABSL_CONST_INIT internal::SlotCache<internal::kSmallSlots> g_small_cache;
ABSL_CONST_INIT internal::SlotCache<internal::kMediumSlots> g_medium_cache;

// A per-thread-ish probe hint that needs no thread-local storage: the address
// of the current stack frame differs between threads' stacks. (The frame
// address rather than a local's: clang rejects returning a local's address,
// even as an integer, under -Werror.)
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uintptr_t ProbeHint() {
  return reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
}

void* TakeCached(Class c, uintptr_t hint) {
  switch (c.kind) {
    case internal::kSmall:
      return g_small_cache.Take(hint);
    case internal::kMedium:
      return g_medium_cache.Take(hint);
    case internal::kDirect:
      break;
  }
  return nullptr;
}

// Returns the block the cache could not absorb (maybe another one), or null.
void* PutCached(Class c, void* p, uintptr_t hint) {
  switch (c.kind) {
    case internal::kSmall:
      return g_small_cache.Put(p, hint);
    case internal::kMedium:
      return g_medium_cache.Put(p, hint);
    case internal::kDirect:
      break;
  }
  return p;
}

}  // namespace

void* Alloc(size_t size, size_t align) {
  ALLOC_DCHECK((align & (align - 1)) == 0, "bsalloc: alignment %zu", align);
  const Class c = ClassOf(size);
  if (ABSL_PREDICT_FALSE(c.bytes == 0)) {  // too large to round up
    errno = ENOMEM;
    return nullptr;
  }
  // Cached blocks are page-aligned, which satisfies any align <= page.
  if (align <= mmap_alloc::PageSize()) {
    if (void* p = TakeCached(c, ProbeHint())) return p;
  }
  // Read/write, lazily committed (MapAlloc's defaults).
  return mmap_alloc::MapAlloc().Alloc(c.bytes, align);
}

void Free(void* p, size_t size) {
  if (p == nullptr) return;
  ALLOC_CHECK((reinterpret_cast<uintptr_t>(p) & (mmap_alloc::PageSize() - 1)) == 0,
              "bsalloc: Free of a pointer that is not page-aligned: %p", p);
  const Class c = ClassOf(size);
  ALLOC_CHECK(c.bytes != 0, "bsalloc: Free of %p with impossible size %zu", p,
              size);
  if (void* spill = PutCached(c, p, ProbeHint())) {
    mmap_alloc::MapAlloc().Dealloc(spill, c.bytes);
  }
}

void* Realloc(void* p, size_t old_size, size_t new_size) {
  if (p == nullptr) return Alloc(new_size);
  const Class old_class = ClassOf(old_size);
  const Class new_class = ClassOf(new_size);
  if (new_class.bytes == 0) {
    errno = ENOMEM;
    return nullptr;
  }
  if (old_class.bytes == new_class.bytes) return p;
  void* q = Alloc(new_size);
  if (q == nullptr) return nullptr;
  memcpy(q, p, old_size < new_size ? old_size : new_size);
  Free(p, old_size);
  return q;
}

size_t UsableSize(size_t size) { return ClassOf(size).bytes; }

ObjectAlloc::ObjectAlloc(object_alloc::Layout layout) : layout_(layout) {
  ALLOC_CHECK(layout.IsValid(), "bsalloc: invalid object layout (size %zu, align %zu)",
              layout.size, layout.align);
}

namespace internal {

size_t CachedBlocks(ClassKind kind) {
  switch (kind) {
    case kSmall:
      return g_small_cache.Occupied();
    case kMedium:
      return g_medium_cache.Occupied();
    case kDirect:
      break;
  }
  return 0;
}

size_t ReleaseCachedBlocks() {
  size_t released = 0;
  const size_t small = ClassOf(kSmallLimit).bytes;
  const size_t medium = ClassOf(kMediumLimit).bytes;
  const mmap_alloc::MapAlloc map;
  for (size_t i = 0; i < g_small_cache.slots(); ++i) {
    if (void* p = g_small_cache.TakeSlot(i)) {
      map.Dealloc(p, small);
      ++released;
    }
  }
  for (size_t i = 0; i < g_medium_cache.slots(); ++i) {
    if (void* p = g_medium_cache.TakeSlot(i)) {
      map.Dealloc(p, medium);
      ++released;
    }
  }
  return released;
}

}  // namespace internal
}  // namespace bsalloc
}  // namespace allocators
