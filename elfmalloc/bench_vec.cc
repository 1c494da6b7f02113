// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The original's bench_vec: vectors grown by push_back on each allocator,
// at 1 and 2 threads.
//
//   Push        a fresh vector of 500 8-byte elements per iteration
//   PushMedium  a vector prefilled with 16 Ki elements, then 500 000 more
//   PushLarge   a fresh vector of 1000 8 KiB elements per iteration
//   PushNested  128 vectors of 1024 8-byte elements, each grown by
//               push_back and then moved into an outer vector
//   Extend      a fresh vector extended 10 times by a range of 1024
//               8-byte elements (insert at the end)
//
// Allocators (this binary links elfmalloc as a library, not as its
// malloc, so std::allocator and new_delete_resource are glibc's):
//
//   Std            std::allocator
//   Malloc         a minimal allocator over std::malloc: glibc again, but
//                  not std::allocator, so the vector copies elements one
//                  by one where it memmoves for std::allocator (libstdc++
//                  relocates with memmove only for std::allocator); Stl
//                  takes that same path, so Malloc is its control
//   Stl            elfmalloc::StlAllocator (the process heap)
//   HeapAllocator  elfmalloc::HeapAllocator over each thread's Heap::Handle
//   and std::pmr::polymorphic_allocator over
//   NewDelete      new_delete_resource()
//   Synchronized   a synchronized_pool_resource the threads share
//   Unsynchronized an unsynchronized_pool_resource per thread
//   Monotonic      a monotonic_buffer_resource per thread, released after
//                  each iteration
//   Process        elfmalloc::ProcessResource()
//   Heap           HeapResource<Heap> over a heap the threads share
//   Handle         HeapResource<Heap::Handle>, a handle per thread
//   Sized          SizedHeapResource (each thread's handle of the global
//                  SizedHeap)
//   Bsalloc, Mmap  bsalloc's and mmap_alloc's resources, shared
//   SlabPool       slab_alloc's PoolResource, one per thread
//
// Each benchmark runs over every allocator in turn, so neighbouring rows
// compare allocators; compare ratios within a run:
//
//   ./bazelw run -c opt //elfmalloc:bench_vec --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <memory_resource>
#include <new>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "bsalloc/memory_resource.h"
#include "elfmalloc/heap.h"
#include "elfmalloc/memory_resource.h"
#include "elfmalloc/sized_heap.h"
#include "mmap_alloc/memory_resource.h"
#include "slab_alloc/memory_resource.h"

namespace allocators {
namespace elfmalloc {
namespace {

struct Page {
  uint64_t words[1024];  // 8 KiB
};

// Allocator instances per kind; each benchmark thread makes its own kind
// object. After() runs at the end of each iteration.
struct StdKind {
  template <typename T>
  std::allocator<T> Make() {
    return {};
  }
  void After() {}
};
template <typename T>
struct MallocAllocator {
  using value_type = T;
  MallocAllocator() = default;
  template <typename U>
  MallocAllocator(const MallocAllocator<U>&) {}  // NOLINT: rebinding
  T* allocate(size_t n) {
    if (void* p = std::malloc(n * sizeof(T))) return static_cast<T*>(p);
    throw std::bad_alloc();
  }
  void deallocate(T* p, size_t) { std::free(p); }
  friend bool operator==(MallocAllocator, MallocAllocator) { return true; }
  friend bool operator!=(MallocAllocator, MallocAllocator) { return false; }
};
struct MallocKind {
  template <typename T>
  MallocAllocator<T> Make() {
    return {};
  }
  void After() {}
};
struct StlKind {
  template <typename T>
  StlAllocator<T> Make() {
    return {};
  }
  void After() {}
};
Heap& SharedHeap() {
  static Heap* heap = new Heap();
  return *heap;
}
struct HeapAllocatorKind {
  HeapAllocatorKind() : handle(SharedHeap()) {}
  template <typename T>
  HeapAllocator<T> Make() {
    return HeapAllocator<T>(handle);
  }
  void After() {}
  Heap::Handle handle;
};

// std::pmr::polymorphic_allocator over the resource Get() returns.
template <typename Derived>
struct PmrKind {
  template <typename T>
  std::pmr::polymorphic_allocator<T> Make() {
    return std::pmr::polymorphic_allocator<T>(
        static_cast<Derived*>(this)->Get());
  }
  void After() {}
};
struct NewDeleteKind : PmrKind<NewDeleteKind> {
  std::pmr::memory_resource* Get() { return std::pmr::new_delete_resource(); }
};
struct SynchronizedKind : PmrKind<SynchronizedKind> {
  std::pmr::memory_resource* Get() {
    static auto* pool = new std::pmr::synchronized_pool_resource();
    return pool;
  }
};
struct UnsynchronizedKind : PmrKind<UnsynchronizedKind> {
  std::pmr::memory_resource* Get() { return &pool; }
  std::pmr::unsynchronized_pool_resource pool;
};
struct MonotonicKind : PmrKind<MonotonicKind> {
  std::pmr::memory_resource* Get() { return &buffer; }
  void After() { buffer.release(); }
  std::pmr::monotonic_buffer_resource buffer;
};
struct ProcessKind : PmrKind<ProcessKind> {
  std::pmr::memory_resource* Get() { return ProcessResource(); }
};
struct HeapKind : PmrKind<HeapKind> {
  HeapKind() : resource(SharedHeap()) {}
  std::pmr::memory_resource* Get() { return &resource; }
  HeapResource<Heap> resource;
};
struct HandleKind : PmrKind<HandleKind> {
  HandleKind() : handle(SharedHeap()), resource(handle) {}
  std::pmr::memory_resource* Get() { return &resource; }
  Heap::Handle handle;
  HeapResource<Heap::Handle> resource;
};
struct SizedKind : PmrKind<SizedKind> {
  std::pmr::memory_resource* Get() { return &resource; }
  SizedHeapResource resource;
};
struct BsallocKind : PmrKind<BsallocKind> {
  std::pmr::memory_resource* Get() {
    static auto* r = new bsalloc::Resource();
    return r;
  }
};
struct MmapKind : PmrKind<MmapKind> {
  std::pmr::memory_resource* Get() {
    static auto* r = new mmap_alloc::Resource();
    return r;
  }
};
struct SlabPoolKind : PmrKind<SlabPoolKind> {
  std::pmr::memory_resource* Get() { return &pool; }
  slab_alloc::PoolResource pool;
};

template <typename Kind>
void BM_Push(benchmark::State& state) {
  Kind kind;
  for (auto _ : state) {
    auto a = kind.template Make<uint64_t>();
    std::vector<uint64_t, decltype(a)> v(a);
    for (uint64_t i = 0; i < 500; ++i) v.push_back(i);
    benchmark::DoNotOptimize(v.data());
    v = decltype(v)(a);
    kind.After();
  }
  state.SetItemsProcessed(state.iterations() * 500);
}

template <typename Kind>
void BM_PushMedium(benchmark::State& state) {
  Kind kind;
  for (auto _ : state) {
    auto a = kind.template Make<uint64_t>();
    std::vector<uint64_t, decltype(a)> v(16 << 10, 1, a);
    for (uint64_t i = 0; i < 500000; ++i) v.push_back(i);
    benchmark::DoNotOptimize(v.data());
    v = decltype(v)(a);
    kind.After();
  }
  state.SetItemsProcessed(state.iterations() * 500000);
}

template <typename Kind>
void BM_PushLarge(benchmark::State& state) {
  Kind kind;
  Page page{};
  for (auto _ : state) {
    auto a = kind.template Make<Page>();
    std::vector<Page, decltype(a)> v(a);
    for (int i = 0; i < 1000; ++i) {
      page.words[0] = i;
      v.push_back(page);
    }
    benchmark::DoNotOptimize(v.data());
    v = decltype(v)(a);
    kind.After();
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

template <typename Kind>
void BM_PushNested(benchmark::State& state) {
  Kind kind;
  for (auto _ : state) {
    auto a = kind.template Make<uint64_t>();
    using Inner = std::vector<uint64_t, decltype(a)>;
    auto outer_a = kind.template Make<Inner>();
    std::vector<Inner, decltype(outer_a)> outer(outer_a);
    for (int i = 0; i < 128; ++i) {
      Inner inner(a);
      for (uint64_t j = 0; j < 1024; ++j) inner.push_back(j);
      outer.push_back(std::move(inner));
    }
    benchmark::DoNotOptimize(outer.data());
    outer = decltype(outer)(outer_a);
    kind.After();
  }
  state.SetItemsProcessed(state.iterations() * 128 * 1024);
}

template <typename Kind>
void BM_Extend(benchmark::State& state) {
  Kind kind;
  std::vector<uint64_t> range(1024);
  for (uint64_t i = 0; i < range.size(); ++i) range[i] = i;
  for (auto _ : state) {
    auto a = kind.template Make<uint64_t>();
    std::vector<uint64_t, decltype(a)> v(a);
    for (int i = 0; i < 10; ++i) v.insert(v.end(), range.begin(), range.end());
    benchmark::DoNotOptimize(v.data());
    v = decltype(v)(a);
    kind.After();
  }
  state.SetItemsProcessed(state.iterations() * 10 * 1024);
}

// Each benchmark over every allocator in turn, so that neighbouring rows
// compare allocators.
#define ELFMALLOC_BENCH_VEC_KIND(bm, kind) \
  BENCHMARK_TEMPLATE(bm, kind)->Threads(1)->Threads(2)
#define ELFMALLOC_BENCH_VEC(bm)                        \
  ELFMALLOC_BENCH_VEC_KIND(bm, StdKind);               \
  ELFMALLOC_BENCH_VEC_KIND(bm, MallocKind);            \
  ELFMALLOC_BENCH_VEC_KIND(bm, StlKind);               \
  ELFMALLOC_BENCH_VEC_KIND(bm, HeapAllocatorKind);     \
  ELFMALLOC_BENCH_VEC_KIND(bm, NewDeleteKind);         \
  ELFMALLOC_BENCH_VEC_KIND(bm, SynchronizedKind);      \
  ELFMALLOC_BENCH_VEC_KIND(bm, UnsynchronizedKind);    \
  ELFMALLOC_BENCH_VEC_KIND(bm, MonotonicKind);         \
  ELFMALLOC_BENCH_VEC_KIND(bm, ProcessKind);           \
  ELFMALLOC_BENCH_VEC_KIND(bm, HeapKind);              \
  ELFMALLOC_BENCH_VEC_KIND(bm, HandleKind);            \
  ELFMALLOC_BENCH_VEC_KIND(bm, SizedKind);             \
  ELFMALLOC_BENCH_VEC_KIND(bm, BsallocKind);           \
  ELFMALLOC_BENCH_VEC_KIND(bm, MmapKind);              \
  ELFMALLOC_BENCH_VEC_KIND(bm, SlabPoolKind)

ELFMALLOC_BENCH_VEC(BM_Push);
ELFMALLOC_BENCH_VEC(BM_PushMedium);
ELFMALLOC_BENCH_VEC(BM_PushLarge);
ELFMALLOC_BENCH_VEC(BM_PushNested);
ELFMALLOC_BENCH_VEC(BM_Extend);

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators

BENCHMARK_MAIN();
