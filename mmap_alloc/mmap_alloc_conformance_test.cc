// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The shared object-allocator conformance suite (object_alloc_test) over
// MapAlloc's untyped object view: every object is its own page-rounded
// mapping, aligned to at least a page.

#include <cstddef>

#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc_test/conformance.h"

namespace allocators {
namespace mmap_alloc {
namespace {

struct MapObjectFactory {
  // Alignments above a page are honoured by over-map-and-trim; sweep them all
  // (the largest ByteN is 8 KiB, so 8 KiB is the largest alignment tested).
  static constexpr size_t kMaxAlign = 8192;
  // Objects live in mappings of their own that are unmapped on Dealloc and
  // never reach the C++ heap, so the original's "everything still mapped"
  // drop check is safe.
  static constexpr object_alloc_test::DropCheck kDropCheck =
      object_alloc_test::DropCheck::kAllReadable;

  template <typename T>
  static MapAlloc Make(size_t align) {
    const size_t page = PageSize();
    const size_t size = (sizeof(T) + page - 1) & ~(page - 1);
    return MapAllocBuilder()
        .obj_size(size)
        .obj_align(align > page ? align : page)
        .Build();
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(
    MapAlloc, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<MapObjectFactory>,
    ::allocators::object_alloc_test::ConformanceNames);

}  // namespace
}  // namespace mmap_alloc
}  // namespace allocators
