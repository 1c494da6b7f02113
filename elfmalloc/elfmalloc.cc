// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The public API over the process-wide Heap of the front-end this target is
// built with (ELFMALLOC_LOCAL_CACHE selects LocalCache).

#include "elfmalloc/elfmalloc.h"

#include "elfmalloc/internal/frontends.h"
#include "elfmalloc/internal/heap.h"

namespace allocators {
namespace elfmalloc {
namespace {

#if defined(ELFMALLOC_LOCAL_CACHE)
using DefaultHeap = internal::Heap<internal::LocalCache>;
#else
using DefaultHeap = internal::Heap<internal::MagazineCache>;
#endif

// Makes fork() safe: the handlers take the heap's few spin locks. Runs at
// load time (from a static initializer, so never inside an allocation).
[[maybe_unused]] const bool g_fork_locks_registered = [] {
  DefaultHeap::Instance().RegisterForkLocks();
  return true;
}();

}  // namespace

void* Alloc(size_t size) { return DefaultHeap::Alloc(size); }

void* AlignedAlloc(size_t size, size_t align) {
  return DefaultHeap::AlignedAlloc(size, align);
}

void Free(void* p) { DefaultHeap::Free(p); }

void* Realloc(void* p, size_t size) { return DefaultHeap::Realloc(p, size, 1); }

void* AlignedRealloc(void* p, size_t size, size_t align) {
  return DefaultHeap::Realloc(p, size, align);
}

void FreeSized(void* p, size_t size, size_t align, const char* fn) {
  if (p != nullptr) DefaultHeap::FreeSized(p, size, align, fn);
}

size_t UsableSize(const void* p) { return DefaultHeap::UsableSize(p); }

void Release() { DefaultHeap::Instance().Release(); }

void SetDecayMs(int64_t ms) { DefaultHeap::Instance().SetDecayMs(ms); }

Stats GetStats() {
  const internal::HeapStats s = DefaultHeap::Instance().Stats();
  return Stats{s.small_pages_mapped * internal::kSmallSlagBytes +
                   s.big_pages_mapped * internal::kBigSlagBytes,
               s.dirty_bytes, s.large_bytes, s.large_count,
               s.large_cached_bytes};
}

const char* FrontendName() {
#if defined(ELFMALLOC_LOCAL_CACHE)
  return internal::LocalCache::kName;
#else
  return internal::MagazineCache::kName;
#endif
}

}  // namespace elfmalloc
}  // namespace allocators
