// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The shared object-allocator conformance suite (object_alloc_test) run
// against slab caches: all 47 ByteN types, each at every valid alignment up
// to a page, in four configurations that together cover both slab kinds,
// both key modes of the large-slab map, reclamation and the untyped path:
//
//   Leaky     typed, LeakyAlloc backing that provides aligned slabs of
//             exactly one page (the original's test_memory_corruption):
//             small objects on aligned slabs, larger ones on large slabs
//   Mmap      typed, BuildMmap(): mmap_alloc slabs with the original's
//             availability rules; DropAndCheck also reads any slab memory
//             still mapped (kAllReadable) - it must hold only dropped
//             objects
//   Reclaim   typed, aligned slabs of every size from a LeakyAlloc, and a
//             clock that ends a working period at every check, so idle
//             free slabs are released (and their objects destroyed) as
//             often as the policy allows
//   Untyped   UntypedSlabAlloc without init, large slabs only (the hash map
//             for every size, keyed by page and by object), colouring off
//   Heap      typed, Build(): slabs from the C++ heap (HeapBacking)
//   Func      typed, objects made by a factory (Func), from the C++ heap
//   UnsafeFunc  typed, objects made in place (UnsafeFunc), from mmap_alloc
//
// The file is compiled once per configuration (BUILD sets
// SLAB_ALLOC_CONFORMANCE_<NAME>), so the seven run as separate, parallel
// test targets. Run length: OBJECT_ALLOC_TEST_ITERS etc. (conformance.h):
//   ./bazelw test --test_env=OBJECT_ALLOC_TEST_ITERS=100000
//       //slab_alloc:all

#include <cstddef>

#include "object_alloc/object_alloc.h"
#include "object_alloc_test/conformance.h"
#include "object_alloc_test/leaky_alloc.h"
#include "slab_alloc/internal/test_support.h"
#include "slab_alloc/slab_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace {

using object_alloc_test::LeakyAlloc;

// Every valid alignment up to one page (4 KiB on the supported systems;
// larger pages only allow more).
constexpr size_t kPageAlign = 4096;

struct LeakyFactory {
  static constexpr size_t kMaxAlign = kPageAlign;
  template <typename T>
  static auto Make(size_t align, LeakyAlloc& backing) {
    return SlabAllocBuilder<T>::Default().align(align).BuildBacking(
        testing::LeakyBacking{&backing, testing::AlignedPolicy::kPageOnly});
  }
};

struct MmapFactory {
  static constexpr size_t kMaxAlign = kPageAlign;
  static constexpr object_alloc_test::DropCheck kDropCheck =
      object_alloc_test::DropCheck::kAllReadable;
  template <typename T>
  static auto Make(size_t align) {
    return SlabAllocBuilder<T>::Default().align(align).BuildMmap();
  }
};

struct ReclaimFactory {
  static constexpr size_t kMaxAlign = kPageAlign;
  template <typename T>
  static auto Make(size_t align, LeakyAlloc& backing) {
    return SlabAllocBuilder<T>::Default()
        .align(align)
        .clock(testing::TickingClock{})
        .BuildBacking(
            testing::LeakyBacking{&backing, testing::AlignedPolicy::kAny});
  }
};

struct UntypedFactory {
  static constexpr size_t kMaxAlign = kPageAlign;
  template <typename T>
  static auto Make(size_t align, LeakyAlloc& backing) {
    return UntypedSlabAllocBuilder<>::NoInitialize(
               object_alloc::Layout::Of<T>())
        .align(align)
        .coloring(false)
        .BuildBacking(
            testing::LeakyBacking{&backing, testing::AlignedPolicy::kNone});
  }
};

struct HeapFactory {
  static constexpr size_t kMaxAlign = kPageAlign;
  template <typename T>
  static auto Make(size_t align) {
    return SlabAllocBuilder<T>::Default().align(align).Build();
  }
};

struct FuncFactory {
  static constexpr size_t kMaxAlign = kPageAlign;
  template <typename T>
  static auto Make(size_t align) {
    return SlabAllocBuilder<T>::Func([] { return T(); }).align(align).Build();
  }
};

struct UnsafeFuncFactory {
  static constexpr size_t kMaxAlign = kPageAlign;
  static constexpr object_alloc_test::DropCheck kDropCheck =
      object_alloc_test::DropCheck::kAllReadable;
  template <typename T>
  static auto Make(size_t align) {
    return SlabAllocBuilder<T>::UnsafeFunc([](T* p) { ::new (p) T(); })
        .align(align)
        .BuildMmap();
  }
};

#if defined(SLAB_ALLOC_CONFORMANCE_LEAKY)
INSTANTIATE_TYPED_TEST_SUITE_P(
    Leaky, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<LeakyFactory>,
    ::allocators::object_alloc_test::ConformanceNames);
#endif

#if defined(SLAB_ALLOC_CONFORMANCE_MMAP)
INSTANTIATE_TYPED_TEST_SUITE_P(
    Mmap, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<MmapFactory>,
    ::allocators::object_alloc_test::ConformanceNames);
#endif

#if defined(SLAB_ALLOC_CONFORMANCE_RECLAIM)
INSTANTIATE_TYPED_TEST_SUITE_P(
    Reclaim, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<ReclaimFactory>,
    ::allocators::object_alloc_test::ConformanceNames);
#endif

#if defined(SLAB_ALLOC_CONFORMANCE_HEAP)
INSTANTIATE_TYPED_TEST_SUITE_P(
    Heap, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<HeapFactory>,
    ::allocators::object_alloc_test::ConformanceNames);
#endif

#if defined(SLAB_ALLOC_CONFORMANCE_FUNC)
INSTANTIATE_TYPED_TEST_SUITE_P(
    Func, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<FuncFactory>,
    ::allocators::object_alloc_test::ConformanceNames);
#endif

#if defined(SLAB_ALLOC_CONFORMANCE_UNSAFE_FUNC)
INSTANTIATE_TYPED_TEST_SUITE_P(
    UnsafeFunc, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<UnsafeFuncFactory>,
    ::allocators::object_alloc_test::ConformanceNames);
#endif

#if defined(SLAB_ALLOC_CONFORMANCE_UNTYPED)
INSTANTIATE_TYPED_TEST_SUITE_P(
    Untyped, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<UntypedFactory>,
    ::allocators::object_alloc_test::ConformanceNames);
#endif

}  // namespace
}  // namespace slab_alloc
}  // namespace allocators
