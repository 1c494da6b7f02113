// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Slab caches against glibc malloc/free and new/delete, in one run:
//
//   *Pairs/N      one allocation and one free per iteration, N-byte objects.
//                 The slab caches keep one object live throughout so their
//                 slab never becomes free (we measure the fast path, not the
//                 reclamation policy; the original's benchmark did the same).
//   *NoFree/N     allocations only. To keep memory bounded they run in
//                 batches of kBatch objects; between batches, with the timer
//                 paused, everything is freed and the slab cache is
//                 destroyed and rebuilt, so every timed slab allocation comes
//                 from a fresh slab (constructor included for the "init"
//                 variants) as in the original's alloc-without-free. glibc is
//                 told to keep freed memory (no trimming, no per-block mmap),
//                 so that neither side pays for the kernel handing out and
//                 zeroing fresh pages, which on the reference VM costs ~20 us
//                 a page and would swamp both allocators.
//   Expensive*    a type whose constructor costs about 1 us: cached reuse
//                 from a slab cache against new/delete constructing every
//                 time, plus the constructor alone for reference.
//
// "Init" slab caches use SlabAllocBuilder<T>::Default() (T's constructor
// zeroes it, like the test ByteN types; it runs only for fresh slots); "NoInit"
// ones use NoInitialize(). new/delete value-initialises every object.
//
//   ./bazelw run -c opt //slab_alloc:slab_alloc_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// (one line; README.md has the results). The default run measures 16, 64,
// 256 and 1024 bytes; SLAB_BENCH_ALL_SIZES=1 in the environment also runs
// every benchmark at each of the original's 47 object sizes (1 to 8192
// bytes, object_alloc_test's ByteN), as ".../all/<size>", about 20 minutes.

#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "object_alloc_test/byte_types.h"
#include "slab_alloc/slab_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace {

// N bytes, zeroed by its constructor.
template <size_t N>
struct Obj {
  uint8_t bytes[N] = {};
};

constexpr size_t kBatch = size_t{1} << 14;

// See the file comment: keep freed heap memory in the process.
const bool kKeepHeapMemory = [] {
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  return true;
}();

// Makes the optimiser assume `p` escapes (so allocations cannot be elided)
// and that memory may be read. An input-only operand on purpose: with GCC,
// benchmark 1.7.1's DoNotOptimize(T&) uses an in-out "+m,r" operand, and
// here GCC 12 read the pointer back as null after it (alloc-without-free
// pushed nullptr into its batch), so these benchmarks do not use it.
inline void Escape(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

// --- Alloc/free pairs ----------------------------------------------------

template <size_t N>
void BM_SlabPairsInit(benchmark::State& state) {
  auto cache = SlabAllocBuilder<Obj<N>>::Default().Build();
  Obj<N>* keep = cache.Alloc();
  for (auto _ : state) {
    Obj<N>* p = cache.Alloc();
    Escape(p);
    cache.Dealloc(p);
  }
  cache.Dealloc(keep);
}

template <size_t N>
void BM_SlabPairsNoInit(benchmark::State& state) {
  auto cache = SlabAllocBuilder<Obj<N>>::NoInitialize().Build();
  Obj<N>* keep = cache.Alloc();
  for (auto _ : state) {
    Obj<N>* p = cache.Alloc();
    Escape(p);
    cache.Dealloc(p);
  }
  cache.Dealloc(keep);
}

template <size_t N>
void BM_MallocPairs(benchmark::State& state) {
  for (auto _ : state) {
    void* p = std::malloc(N);
    Escape(p);
    std::free(p);
  }
}

template <size_t N>
void BM_NewDeletePairs(benchmark::State& state) {
  for (auto _ : state) {
    Obj<N>* p = new Obj<N>();
    Escape(p);
    delete p;
  }
}

// --- Allocation without free ----------------------------------------------

// Runs `alloc` once per iteration; every kBatch allocations, with the timer
// paused, calls `reset(objects)` to free them (and rebuild state).
template <typename Alloc, typename Reset>
void NoFreeLoop(benchmark::State& state, Alloc alloc, Reset reset) {
  std::vector<void*> objs;
  objs.reserve(kBatch);
  for (auto _ : state) {
    void* p = alloc();
    Escape(p);
    objs.push_back(p);
    if (objs.size() == kBatch) {
      state.PauseTiming();
      reset(objs);
      objs.clear();
      state.ResumeTiming();
    }
  }
  reset(objs);
}

template <size_t N, bool kInit>
void BM_SlabNoFree(benchmark::State& state) {
  auto make = [] {
    if constexpr (kInit) {
      return SlabAllocBuilder<Obj<N>>::Default();
    } else {
      return SlabAllocBuilder<Obj<N>>::NoInitialize();
    }
  };
  const auto builder = make();
  using Cache = decltype(builder.Build());
  std::unique_ptr<Cache> cache(new auto(builder.Build()));
  NoFreeLoop(
      state, [&] { return static_cast<void*>(cache->Alloc()); },
      [&](std::vector<void*>& objs) {
        for (void* p : objs) cache->Dealloc(static_cast<Obj<N>*>(p));
        cache.reset(new auto(builder.Build()));  // fresh slabs again
      });
}

template <size_t N>
void BM_SlabNoFreeInit(benchmark::State& state) {
  BM_SlabNoFree<N, true>(state);
}
template <size_t N>
void BM_SlabNoFreeNoInit(benchmark::State& state) {
  BM_SlabNoFree<N, false>(state);
}

template <size_t N>
void BM_MallocNoFree(benchmark::State& state) {
  NoFreeLoop(
      state, [] { return std::malloc(N); },
      [](std::vector<void*>& objs) {
        for (void* p : objs) std::free(p);
      });
}

template <size_t N>
void BM_NewNoFree(benchmark::State& state) {
  NoFreeLoop(
      state, [] { return static_cast<void*>(new Obj<N>()); },
      [](std::vector<void*>& objs) {
        for (void* p : objs) delete static_cast<Obj<N>*>(p);
      });
}

// Registered size by size, so that the slab caches and the heap are measured
// back to back for each size: on a shared machine the clock speed drifts
// over a run, and comparisons made minutes apart would carry that drift.
#define SLAB_ALLOC_BENCH_PAIRS_(n)           \
  BENCHMARK_TEMPLATE(BM_SlabPairsInit, n);   \
  BENCHMARK_TEMPLATE(BM_SlabPairsNoInit, n); \
  BENCHMARK_TEMPLATE(BM_MallocPairs, n);     \
  BENCHMARK_TEMPLATE(BM_NewDeletePairs, n)
#define SLAB_ALLOC_BENCH_NO_FREE_(n)          \
  BENCHMARK_TEMPLATE(BM_SlabNoFreeInit, n);   \
  BENCHMARK_TEMPLATE(BM_SlabNoFreeNoInit, n); \
  BENCHMARK_TEMPLATE(BM_MallocNoFree, n);     \
  BENCHMARK_TEMPLATE(BM_NewNoFree, n)

SLAB_ALLOC_BENCH_PAIRS_(16);
SLAB_ALLOC_BENCH_PAIRS_(64);
SLAB_ALLOC_BENCH_PAIRS_(256);
SLAB_ALLOC_BENCH_PAIRS_(1024);
SLAB_ALLOC_BENCH_NO_FREE_(16);
SLAB_ALLOC_BENCH_NO_FREE_(64);
SLAB_ALLOC_BENCH_NO_FREE_(256);
SLAB_ALLOC_BENCH_NO_FREE_(1024);

// The original's 47 sizes, on request (see the file comment), each size's
// eight benchmarks back to back.
template <size_t N>
void RegisterOneSize() {
  const std::string n = "/all/" + std::to_string(N);
  benchmark::RegisterBenchmark(("BM_SlabPairsInit" + n).c_str(),
                               &BM_SlabPairsInit<N>);
  benchmark::RegisterBenchmark(("BM_SlabPairsNoInit" + n).c_str(),
                               &BM_SlabPairsNoInit<N>);
  benchmark::RegisterBenchmark(("BM_MallocPairs" + n).c_str(),
                               &BM_MallocPairs<N>);
  benchmark::RegisterBenchmark(("BM_NewDeletePairs" + n).c_str(),
                               &BM_NewDeletePairs<N>);
  benchmark::RegisterBenchmark(("BM_SlabNoFreeInit" + n).c_str(),
                               &BM_SlabNoFreeInit<N>);
  benchmark::RegisterBenchmark(("BM_SlabNoFreeNoInit" + n).c_str(),
                               &BM_SlabNoFreeNoInit<N>);
  benchmark::RegisterBenchmark(("BM_MallocNoFree" + n).c_str(),
                               &BM_MallocNoFree<N>);
  benchmark::RegisterBenchmark(("BM_NewNoFree" + n).c_str(), &BM_NewNoFree<N>);
}
template <size_t... I>
void RegisterAllSizes(std::index_sequence<I...>) {
  (RegisterOneSize<object_alloc_test::kAllByteSizes[I]>(), ...);
}
const bool kAllSizesRegistered = [] {
  const char* all = std::getenv("SLAB_BENCH_ALL_SIZES");
  if (all == nullptr || all[0] != '1') return false;
  RegisterAllSizes(
      std::make_index_sequence<object_alloc_test::kAllByteSizes.size()>());
  return true;
}();

// --- Expensive constructor ---------------------------------------------------

// A 512-byte object whose constructor takes about a microsecond: a chain of
// dependent multiply-adds that the compiler cannot shorten (think of building
// a lookup table or hashing a key schedule).
struct Expensive {
  static constexpr int kRounds = 1000;
  Expensive() {
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < kRounds; ++i) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      table[i & 63] ^= x >> 17;
    }
    benchmark::DoNotOptimize(table);
  }
  uint64_t table[64] = {};
};

void BM_ExpensiveCtorOnly(benchmark::State& state) {
  alignas(Expensive) unsigned char buf[sizeof(Expensive)];
  for (auto _ : state) {
    Expensive* p = ::new (buf) Expensive();
    Escape(p);
    p->~Expensive();
  }
}
BENCHMARK(BM_ExpensiveCtorOnly);

void BM_ExpensiveSlabReuse(benchmark::State& state) {
  auto cache = SlabAllocBuilder<Expensive>::Default().Build();
  Expensive* keep = cache.Alloc();
  for (auto _ : state) {
    Expensive* p = cache.Alloc();  // constructed once, then reused
    Escape(p);
    cache.Dealloc(p);
  }
  cache.Dealloc(keep);
}
BENCHMARK(BM_ExpensiveSlabReuse);

void BM_ExpensiveNewDelete(benchmark::State& state) {
  for (auto _ : state) {
    Expensive* p = new Expensive();
    Escape(p);
    delete p;
  }
}
BENCHMARK(BM_ExpensiveNewDelete);

}  // namespace
}  // namespace slab_alloc
}  // namespace allocators
