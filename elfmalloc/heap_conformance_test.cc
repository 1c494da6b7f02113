// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The general allocator through the shared object-allocator conformance
// suite: an untyped view of the heap (AlignedAlloc / Free) for every ByteN
// type at every alignment the suite sweeps.

#include <cstddef>

#include "elfmalloc/elfmalloc.h"
#include "object_alloc/object_alloc.h"
#include "object_alloc_test/conformance.h"

namespace allocators {
namespace elfmalloc {
namespace {

// Objects of one layout from the process's heap. Thread-safe.
class HeapView {
 public:
  explicit HeapView(object_alloc::Layout layout) : layout_(layout) {}
  object_alloc::Layout layout() const { return layout_; }
  void* Alloc() { return AlignedAlloc(layout_.size, layout_.align); }
  void Dealloc(void* p) { Free(p); }

 private:
  object_alloc::Layout layout_;
};
static_assert(object_alloc::kIsUntypedObjectAlloc<HeapView>);

struct HeapFactory {
  static constexpr size_t kMaxAlign = 4096;
  template <typename T>
  static HeapView Make(size_t align) {
    return HeapView(object_alloc::Layout{sizeof(T), align});
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(
    Heap, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<HeapFactory>,
    ::allocators::object_alloc_test::ConformanceNames);

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
