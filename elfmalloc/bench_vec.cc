// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The original's bench_vec: vectors grown by push_back on each allocator,
// at 1 and 2 threads.
//
//   Push        a fresh vector of 500 8-byte elements per iteration
//   PushMedium  a vector prefilled with 16 Ki elements, then 500 000 more
//   PushLarge   a fresh vector of 1000 8 KiB elements per iteration
//
// Allocators: std::allocator (glibc's malloc; this binary links elfmalloc
// as a library, not as its malloc), elfmalloc::StlAllocator (the process
// heap), elfmalloc::HeapAllocator over each thread's Heap::Handle, and
// std::pmr::polymorphic_allocator over SizedHeapResource (each thread's
// handle of the global SizedHeap). Rows of one benchmark run back to back;
// compare ratios within a run:
//
//   ./bazelw run -c opt //elfmalloc:bench_vec --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)

#include <cstdint>
#include <memory>
#include <memory_resource>
#include <vector>

#include "benchmark/benchmark.h"
#include "elfmalloc/heap.h"
#include "elfmalloc/memory_resource.h"
#include "elfmalloc/sized_heap.h"

namespace allocators {
namespace elfmalloc {
namespace {

struct Page {
  uint64_t words[1024];  // 8 KiB
};

// Allocator instances per kind; each benchmark thread makes its own.
struct StdKind {
  template <typename T>
  std::allocator<T> Make() {
    return {};
  }
};
struct ProcessKind {
  template <typename T>
  StlAllocator<T> Make() {
    return {};
  }
};
struct HandleKind {
  HandleKind() : handle(Shared()) {}
  static Heap& Shared() {
    static Heap* heap = new Heap();
    return *heap;
  }
  template <typename T>
  HeapAllocator<T> Make() {
    return HeapAllocator<T>(handle);
  }
  Heap::Handle handle;
};
struct SizedKind {
  template <typename T>
  std::pmr::polymorphic_allocator<T> Make() {
    return std::pmr::polymorphic_allocator<T>(&resource);
  }
  SizedHeapResource resource;
};

template <typename Kind>
void BM_Push(benchmark::State& state) {
  Kind kind;
  for (auto _ : state) {
    auto a = kind.template Make<uint64_t>();
    std::vector<uint64_t, decltype(a)> v(a);
    for (uint64_t i = 0; i < 500; ++i) v.push_back(i);
    benchmark::DoNotOptimize(v.data());
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
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

// Each benchmark over every allocator in turn, so that neighbouring rows
// compare allocators.
#define ELFMALLOC_BENCH_VEC(bm)                                  \
  BENCHMARK_TEMPLATE(bm, StdKind)->Threads(1)->Threads(2);       \
  BENCHMARK_TEMPLATE(bm, ProcessKind)->Threads(1)->Threads(2);   \
  BENCHMARK_TEMPLATE(bm, HandleKind)->Threads(1)->Threads(2);    \
  BENCHMARK_TEMPLATE(bm, SizedKind)->Threads(1)->Threads(2)

ELFMALLOC_BENCH_VEC(BM_Push);
ELFMALLOC_BENCH_VEC(BM_PushMedium);
ELFMALLOC_BENCH_VEC(BM_PushLarge);

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators

BENCHMARK_MAIN();
