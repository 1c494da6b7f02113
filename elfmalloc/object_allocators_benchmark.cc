// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The typed object allocators against new/delete (glibc's malloc: this
// binary links no replacement): allocate-and-free pairs of a 64-byte
// object, at 1 and 2 threads, each thread on its own handle.
//
//   Plain   a 64-byte struct with a trivial constructor
//   Costly  the same with a constructor that spins for about 1 us (an
//           object that is expensive to set up and cheap to reuse)
//
// Subjects: new/delete; MagazineAllocator<T> and LocalAllocator<T>, which
// hand a freed object out again still constructed; and, for Plain,
// UntypedMagazineAllocator (raw memory of the same layout). Each pair of
// subjects runs back to back, so ratios between neighbouring rows are the
// measurement (the machine's speed drifts over a run):
//
//   ./bazelw run -c opt //elfmalloc:object_allocators_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)

#include <chrono>
#include <cstdint>

#include "benchmark/benchmark.h"
#include "elfmalloc/object_allocators.h"

namespace allocators {
namespace elfmalloc {
namespace {

struct Plain {
  uint64_t words[8];
};

struct Costly {
  Costly() {
    const auto end =
        std::chrono::steady_clock::now() + std::chrono::microseconds(1);
    uint64_t x = 1;
    while (std::chrono::steady_clock::now() < end) {
      x = x * 6364136223846793005u + 1442695040888963407u;
    }
    words[0] = x;
  }
  uint64_t words[8];
};
static_assert(sizeof(Plain) == 64 && sizeof(Costly) == 64);

template <typename T>
void BM_NewDelete(benchmark::State& state) {
  for (auto _ : state) {
    T* p = new T;
    benchmark::DoNotOptimize(p);
    delete p;
  }
  state.SetItemsProcessed(state.iterations());
}

// One set of pools per allocator type, shared by the benchmark's threads;
// every thread allocates through its own copy (a handle).
template <typename A>
A& Pools() {
  static A* pools = new A();
  return *pools;
}

template <typename A>
void BM_Typed(benchmark::State& state) {
  A handle = Pools<A>();
  // Warm up: the handle's first objects are constructed here, not timed.
  handle.Dealloc(handle.Alloc());
  for (auto _ : state) {
    auto* p = handle.Alloc();
    benchmark::DoNotOptimize(p);
    handle.Dealloc(p);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Untyped(benchmark::State& state) {
  static auto* pools = new UntypedMagazineAllocator(object_alloc::Layout::Of<Plain>());
  UntypedMagazineAllocator handle = *pools;
  for (auto _ : state) {
    void* p = handle.Alloc();
    benchmark::DoNotOptimize(p);
    handle.Dealloc(p);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_TEMPLATE(BM_NewDelete, Plain)->Threads(1)->Threads(2);
BENCHMARK_TEMPLATE(BM_Typed, MagazineAllocator<Plain>)->Threads(1)->Threads(2);
BENCHMARK_TEMPLATE(BM_Typed, LocalAllocator<Plain>)->Threads(1)->Threads(2);
BENCHMARK(BM_Untyped)->Threads(1)->Threads(2);
BENCHMARK_TEMPLATE(BM_NewDelete, Costly)->Threads(1)->Threads(2);
BENCHMARK_TEMPLATE(BM_Typed, MagazineAllocator<Costly>)->Threads(1)->Threads(2);
BENCHMARK_TEMPLATE(BM_Typed, LocalAllocator<Costly>)->Threads(1)->Threads(2);

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators

BENCHMARK_MAIN();
