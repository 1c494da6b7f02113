// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Port of the original's elfmalloc bench (src/bin/bench.rs): 16-byte
// objects, two workloads, glibc against both elfmalloc front-ends.
//
//   pairs           every thread, ITERS times: allocate, write a word, free.
//   buffered_pairs  every thread keeps a ring of kRingSize live objects
//                   (allocated before, freed after the timed region) and,
//                   ITERS times, frees slot i % kRingSize and allocates its
//                   replacement into it (writing a word).
//
// Subjects: glibc (std::malloc / std::free: this binary links no
// replacement malloc), "elfmalloc" = Heap<MagazineConfig> and "elfmalloc-l" =
// Heap<LocalConfig>, driven directly through their static Alloc/Free. Each
// template instance has its own pools and thread caches, so the two heaps
// coexist; objects never cross from one subject to another.
//
// One benchmark iteration is one run: spawn the threads; each does an
// untimed warm-up pass of the same loop (as the original's time_block!: it
// builds the thread cache, maps the magazine stack, claims slags and lets
// glibc grow its arena), then all meet at a barrier and time ITERS
// operations. ITERS is ELFMALLOC_BENCH_ITERS (default 1,000,000, as in the
// original). Reported, like the original and bag_benchmark:
//
//   Mops/s       total operations (threads x ITERS x 2, an alloc and a free
//                per step) / mean per-thread time of the timed region;
//                also the manual iteration time.
//   wall_Mops/s  the same operations / (last thread's end - first thread's
//                start), which is lower if one thread was descheduled.
//
// Workloads, thread counts and subjects are registered so that the three
// subjects of one (workload, threads) pair run back to back: on a shared
// machine the clock speed drifts over a run, and ratios between runs minutes
// apart would carry the drift. Use repetitions for medians:
//
//   ./bazelw run -c opt //elfmalloc:elfmalloc_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "benchmark/benchmark.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/heap.h"

namespace allocators {
namespace elfmalloc {
namespace {

// The original's BenchItem, [usize; 2].
constexpr size_t kObjectSize = 16;
// The original's buffered ring: 64 Ki objects per thread. A power of two so
// that i % kRingSize is a mask, not a division, inside the timed loop.
constexpr size_t kRingSize = size_t{1} << 16;
static_assert((kRingSize & (kRingSize - 1)) == 0);

enum class Workload { kPairs, kBufferedPairs };

size_t ItersPerThread() {
  if (const char* s = std::getenv("ELFMALLOC_BENCH_ITERS")) {
    const long long v = std::atoll(s);
    if (v > 0) return static_cast<size_t>(v);
  }
  return 1000000;
}

// Makes the optimiser assume `p` escapes and that the memory it points to
// is read, so neither the allocation nor the write into it can be elided
// (GCC knows malloc/free and would otherwise drop a pair whose object is
// never read). An input-only operand on purpose: with GCC 12, benchmark
// 1.7.1's DoNotOptimize(T&) on a non-const pointer lvalue (an in-out "+m,r"
// operand) once read the pointer back as null in this repo
// (slab_alloc_benchmark.cc has the story).
inline void Escape(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

// Out of line so that the timed loops carry only a predictable branch.
ABSL_ATTRIBUTE_NOINLINE [[noreturn]] void OutOfMemory(const char* subject) {
  std::fprintf(stderr, "elfmalloc_benchmark: %s returned nullptr\n", subject);
  std::abort();
}

// The subjects share one static interface, so the loops are templates and
// every call is direct (and inlined where the allocator allows it).
struct Glibc {
  static constexpr const char* kName = "glibc";
  static void* Alloc(size_t n) { return std::malloc(n); }
  static void Free(void* p) { std::free(p); }
};

template <typename Config>
struct Elf {
  static constexpr const char* kName = Config::kName;
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* Alloc(size_t n) {
    return internal::Heap<Config>::Alloc(n);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void Free(void* p) {
    internal::Heap<Config>::Free(p);
  }
};

// Allocates one object and writes a word into it, as the original did with
// write_volatile.
template <typename A>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void* AllocAndTouch(size_t i) {
  auto* p = static_cast<uint64_t*>(A::Alloc(kObjectSize));
  if (ABSL_PREDICT_FALSE(p == nullptr)) OutOfMemory(A::kName);
  *p = i;
  Escape(p);
  return p;
}

template <typename A>
void PairsLoop(size_t iters) {
  for (size_t i = 0; i < iters; ++i) A::Free(AllocAndTouch<A>(i));
}

template <typename A>
void BufferedLoop(void** ring, size_t iters) {
  for (size_t i = 0; i < iters; ++i) {
    void*& slot = ring[i & (kRingSize - 1)];
    A::Free(slot);
    slot = AllocAndTouch<A>(i);
  }
}

using Clock = std::chrono::steady_clock;

struct ThreadTimes {
  Clock::time_point start;
  Clock::time_point end;
};

// One thread of one run. The warm-up pass, the ring's allocation and its
// final release are all outside [start, end].
template <typename A>
ThreadTimes Worker(Workload w, size_t iters, std::atomic<size_t>* ready,
                   size_t nthreads) {
  std::vector<void*> ring;
  if (w == Workload::kBufferedPairs) {
    ring.resize(kRingSize);
    for (size_t i = 0; i < kRingSize; ++i) ring[i] = AllocAndTouch<A>(i);
  }
  auto run = [&] {
    if (w == Workload::kPairs) {
      PairsLoop<A>(iters);
    } else {
      BufferedLoop<A>(ring.data(), iters);
    }
  };
  run();  // warm-up
  // All threads start the timed region together. Yield while waiting: on a
  // 2-core machine shared with builds, a pure spin could keep the late
  // thread off its core.
  ready->fetch_add(1, std::memory_order_acq_rel);
  while (ready->load(std::memory_order_acquire) < nthreads) {
    std::this_thread::yield();
  }
  ThreadTimes t;
  t.start = Clock::now();
  run();
  t.end = Clock::now();
  for (void* p : ring) A::Free(p);
  return t;
}

struct RunResult {
  double mean_seconds = 0;
  double wall_seconds = 0;
};

template <typename A>
RunResult RunOnce(Workload w, size_t nthreads, size_t iters) {
  std::atomic<size_t> ready{0};
  std::vector<ThreadTimes> times(nthreads);
  std::vector<std::thread> threads;
  threads.reserve(nthreads);
  for (size_t t = 0; t < nthreads; ++t) {
    threads.emplace_back(
        [&, t] { times[t] = Worker<A>(w, iters, &ready, nthreads); });
  }
  for (auto& t : threads) t.join();
  RunResult r;
  Clock::time_point first = times[0].start;
  Clock::time_point last = times[0].end;
  for (const ThreadTimes& t : times) {
    r.mean_seconds +=
        std::chrono::duration<double>(t.end - t.start).count() / nthreads;
    if (t.start < first) first = t.start;
    if (t.end > last) last = t.end;
  }
  r.wall_seconds = std::chrono::duration<double>(last - first).count();
  return r;
}

template <typename A>
void BM_Alloc(benchmark::State& state, Workload w) {
  const size_t nthreads = static_cast<size_t>(state.range(0));
  const size_t iters = ItersPerThread();
  double mean_seconds = 0;
  double wall_seconds = 0;
  for (auto _ : state) {
    const RunResult r = RunOnce<A>(w, nthreads, iters);
    state.SetIterationTime(r.mean_seconds);
    mean_seconds += r.mean_seconds;
    wall_seconds += r.wall_seconds;
  }
  const double ops = static_cast<double>(nthreads) *
                     static_cast<double>(iters) * 2 *
                     static_cast<double>(state.iterations());
  state.counters["Mops/s"] = ops / mean_seconds / 1e6;
  state.counters["wall_Mops/s"] = ops / wall_seconds / 1e6;
}

template <typename A>
void Register(const char* workload, const char* subject, Workload w,
              int64_t threads) {
  benchmark::RegisterBenchmark((std::string(workload) + "/" + subject).c_str(),
                               &BM_Alloc<A>, w)
      ->Arg(threads)
      ->ArgName("threads")
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
}

const int kRegistered = [] {
  struct W {
    const char* name;
    Workload w;
  };
  const W workloads[] = {{"pairs", Workload::kPairs},
                         {"buffered_pairs", Workload::kBufferedPairs}};
  // The machine has 2 cores; the original ran 1 and num_cpus threads.
  const int64_t thread_counts[] = {1, 2};
  for (const W& w : workloads) {
    for (int64_t t : thread_counts) {
      Register<Glibc>(w.name, "glibc", w.w, t);
      Register<Elf<internal::MagazineConfig>>(w.name, "elfmalloc", w.w, t);
      Register<Elf<internal::LocalConfig>>(w.name, "elfmalloc-l", w.w, t);
    }
  }
  return 0;
}();

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
