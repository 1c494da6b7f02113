// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// bsalloc is for rare internal allocations; these numbers show what a cache
// hit and a miss (a map + unmap pair) cost, next to glibc malloc.
//   ./bazelw run -c opt //bsalloc:bsalloc_benchmark

#include <cstdlib>

#include "benchmark/benchmark.h"
#include "bsalloc/bsalloc.h"

namespace allocators {
namespace bsalloc {
namespace {

void BM_BsallocPair(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void* p = Alloc(size);
    benchmark::DoNotOptimize(p);
    Free(p, size);
  }
}
BENCHMARK(BM_BsallocPair)->Arg(64)->Arg(8192)->Arg(1 << 20)->ThreadRange(1, 2);

void BM_MallocPair(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void* p = malloc(size);
    benchmark::DoNotOptimize(p);
    free(p);
  }
}
BENCHMARK(BM_MallocPair)->Arg(64)->Arg(8192)->Arg(1 << 20)->ThreadRange(1, 2);

}  // namespace
}  // namespace bsalloc
}  // namespace allocators
