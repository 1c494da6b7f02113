// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// std::pmr containers on elfmalloc's resources against the standard
// library's: each iteration builds a std::pmr::map of 1000 ints to 40-byte
// strings and a std::pmr::vector of 1000 ints grown by push_back, then
// destroys both (about 3000 allocations and frees of 32 B to 4 KiB), at 1
// and 2 threads.
//
//   NewDelete      std::pmr::new_delete_resource() (glibc's malloc)
//   Synchronized   a std::pmr::synchronized_pool_resource shared by the
//                  threads (one lock per call)
//   Unsynchronized a std::pmr::unsynchronized_pool_resource per thread
//   Process        elfmalloc::ProcessResource()
//   Heap           HeapResource<Heap> over a heap the threads share
//   Handle         HeapResource<Heap::Handle>, one handle per thread
//   SizedGlobal    SizedHeapResource over SizedHeap::Global()
//
// Rows run back to back, so ratios between rows of one run are the
// measurement (the machine's speed drifts over a run):
//
//   ./bazelw run -c opt //elfmalloc:memory_resource_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)

#include <map>
#include <memory_resource>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "elfmalloc/heap.h"
#include "elfmalloc/memory_resource.h"
#include "elfmalloc/sized_heap.h"

namespace allocators {
namespace elfmalloc {
namespace {

void Work(std::pmr::memory_resource* mr) {
  std::pmr::map<int, std::pmr::string> m(mr);
  std::pmr::vector<int> v(mr);
  for (int i = 0; i < 1000; ++i) {
    m.emplace(i, std::pmr::string(40, 'x', mr));
    v.push_back(i);
  }
  benchmark::DoNotOptimize(m.size() + v.size());
}

void Run(benchmark::State& state, std::pmr::memory_resource* mr) {
  for (auto _ : state) Work(mr);
  state.SetItemsProcessed(state.iterations() * 1000);
}

void BM_NewDelete(benchmark::State& state) {
  Run(state, std::pmr::new_delete_resource());
}

void BM_Synchronized(benchmark::State& state) {
  static auto* pool = new std::pmr::synchronized_pool_resource();
  Run(state, pool);
}

void BM_Unsynchronized(benchmark::State& state) {
  std::pmr::unsynchronized_pool_resource pool;
  Run(state, &pool);
}

void BM_Process(benchmark::State& state) { Run(state, ProcessResource()); }

void BM_Heap(benchmark::State& state) {
  static auto* heap = new Heap();
  HeapResource<Heap> r(*heap);
  Run(state, &r);
}

void BM_Handle(benchmark::State& state) {
  static auto* heap = new Heap();
  Heap::Handle h(*heap);
  HeapResource<Heap::Handle> r(h);
  Run(state, &r);
}

void BM_SizedGlobal(benchmark::State& state) {
  SizedHeapResource r;
  Run(state, &r);
}

BENCHMARK(BM_NewDelete)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Synchronized)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Unsynchronized)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Process)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Heap)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Handle)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_SizedGlobal)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators

BENCHMARK_MAIN();
