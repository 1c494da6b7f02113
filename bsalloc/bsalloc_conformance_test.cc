// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The shared object-allocator conformance suite (object_alloc_test) over
// bsalloc::ObjectAlloc, exercising all three classes (the 47 object sizes run
// from 9 B to 8 KiB, so small and medium; alignments up to 8 KiB go direct).

#include <cstddef>

#include "bsalloc/bsalloc.h"
#include "object_alloc_test/conformance.h"

namespace allocators {
namespace bsalloc {
namespace {

struct BsallocObjectFactory {
  static constexpr size_t kMaxAlign = 8192;
  // bsalloc maps its own memory and never hands it to the C++ heap: a freed
  // object is either cached (still bsalloc's) or unmapped.
  static constexpr object_alloc_test::DropCheck kDropCheck =
      object_alloc_test::DropCheck::kAllReadable;

  template <typename T>
  static ObjectAlloc Make(size_t align) {
    return ObjectAlloc(object_alloc::Layout{sizeof(T), align});
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(
    Bsalloc, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<BsallocObjectFactory>,
    ::allocators::object_alloc_test::ConformanceNames);

}  // namespace
}  // namespace bsalloc
}  // namespace allocators
