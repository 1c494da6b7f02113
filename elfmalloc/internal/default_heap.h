// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// DefaultHeap: the process-wide Heap<FE> behind the public API, chosen at
// build time. //elfmalloc:elfmalloc_local defines ELFMALLOC_LOCAL_CACHE for
// itself and everything that depends on it, so the C entry points
// (malloc_binding.h) inline the same heap's fast paths that elfmalloc.cc
// serves the rest of the API from: malloc and free are then one function
// each, not a call into the library's Alloc/Free.
//
// A translation unit that picked the other front-end than the elfmalloc.cc
// it is linked with would drive a second, separate heap. That is caught at
// link time: every includer references a symbol that only the matching
// elfmalloc.cc defines.

#ifndef ELFMALLOC_INTERNAL_DEFAULT_HEAP_H_
#define ELFMALLOC_INTERNAL_DEFAULT_HEAP_H_

#include "absl/base/attributes.h"
#include "elfmalloc/internal/frontends.h"
#include "elfmalloc/internal/heap.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

#if defined(ELFMALLOC_LOCAL_CACHE)
using DefaultHeap = Heap<LocalCache>;
extern const char kDefaultHeapIsLocalCache;
#define ELFMALLOC_INTERNAL_DEFAULT_HEAP_LINK_TOKEN kDefaultHeapIsLocalCache
#else
using DefaultHeap = Heap<MagazineCache>;
extern const char kDefaultHeapIsMagazineCache;
#define ELFMALLOC_INTERNAL_DEFAULT_HEAP_LINK_TOKEN kDefaultHeapIsMagazineCache
#endif

namespace {
// Never read; kept ([[gnu::used]]) so that the reference, and with it
// the link-time check above, survives optimisation.
[[gnu::used]] const char* const kDefaultHeapLinkCheck =
    &ELFMALLOC_INTERNAL_DEFAULT_HEAP_LINK_TOKEN;
}  // namespace

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_DEFAULT_HEAP_H_
