// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Port of the original's bench_bag: four workloads over eight bags.
//
//   pairs_strong  every thread: PushMut + PopMut, repeated
//   pairs_try     every thread: TryPushMut + TryPopMut (failures counted)
//   prodcons_strong  half the threads PushMut, half PopMut
//   prodcons_try     half TryPushMut, half TryPopMut (kEmpty not a failure)
//
// Each run spawns the threads, lets them do a warm-up of half the
// operations, then times BAGPIPE_BENCH_OPS operations per thread (default
// 2^20, as in the original) and reports Mops/s = total operations / mean
// per-thread time, like the original. A "/prefill" run first pushes 2^10
// items (the original's prefilled runs), so that pops rarely find the bag
// empty. Thread counts follow the machine: 1 and the CPU count for pairs,
// 2 and twice the CPU count for prodcons. One benchmark iteration is one run
// (manual time), after one unmeasured warm-up run per subject; use
// --benchmark_repetitions for medians:
//
//   ./bazelw run -c opt //bagpipe:bag_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// Subjects: BagPipe over FAAQueueLowLevel and over YangCrummeyQueue (one
// handle per thread, 2 x CPUs pipes), also with prime strides and with the
// YC queue's staggered indexes and the original's segment sizes (2^12,
// 2^15, 2^16 cells; the default is 2^11), and, behind a shared handle, the
// raw FAA and YC queues, their boxing variants, a Treiber stack and a
// Michael-Scott queue (EBR-reclaimed nodes from operator new) and a
// std::mutex + std::deque queue.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bagpipe/bag.h"
#include "bagpipe/bagpipe.h"
#include "bagpipe/boxed_queue.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/internal/ebr.h"
#include "bagpipe/testing/ms_queue.h"
#include "bagpipe/testing/mutex_deque.h"
#include "bagpipe/testing/treiber_stack.h"
#include "bagpipe/yc_queue.h"
#include "benchmark/benchmark.h"
#include "platform/platform.h"

namespace allocators {
namespace bagpipe {
namespace {

enum class Workload { kPairsStrong, kPairsTry, kProdConsStrong, kProdConsTry };

size_t OpsPerThread() {
  if (const char* s = std::getenv("BAGPIPE_BENCH_OPS")) {
    const long long v = std::atoll(s);
    if (v > 0) return static_cast<size_t>(v);
  }
  return size_t{1} << 20;
}

struct RunStats {
  double total_ops = 0;
  double mean_seconds = 0;
  double failed_push = 0;
  double failed_pop = 0;
};

struct ThreadStats {
  double seconds = 0;
  uint64_t failed_push = 0;
  uint64_t failed_pop = 0;
};

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

// One thread of a workload. `producer` only matters for prodcons.
template <typename H>
ThreadStats Worker(Workload w, H bag, uint64_t tnum, bool producer, size_t ops,
                   std::atomic<size_t>* ready, size_t nthreads) {
  ThreadStats st;
  ready->fetch_add(1);
  while (ready->load() < nthreads) {
  }
  uint64_t out = 0;
  switch (w) {
    case Workload::kPairsStrong:
    case Workload::kPairsTry: {
      for (uint64_t i = 0; i < ops / 2; ++i) {
        bag.PushMut(tnum * nthreads + i);
        bag.TryPopMut(&out);
      }
      const auto t0 = std::chrono::steady_clock::now();
      if (w == Workload::kPairsStrong) {
        for (uint64_t i = 0; i < ops; ++i) {
          bag.PushMut(tnum * nthreads + i);
          bag.PopMut(&out);
        }
      } else {
        for (uint64_t i = 0; i < ops; ++i) {
          if (!bag.TryPushMut(tnum * nthreads + i)) ++st.failed_push;
          if (bag.TryPopMut(&out) == PopStatus::kTransientFailure) {
            ++st.failed_pop;
          }
        }
      }
      st.seconds = Since(t0);
      break;
    }
    case Workload::kProdConsStrong:
    case Workload::kProdConsTry: {
      const bool strong = w == Workload::kProdConsStrong;
      if (producer) {
        for (uint64_t i = 0; i < ops / 2; ++i) bag.PushMut(tnum * nthreads + i);
      } else {
        for (uint64_t i = 0; i < ops / 2; ++i) bag.TryPopMut(&out);
      }
      const auto t0 = std::chrono::steady_clock::now();
      if (producer) {
        for (uint64_t i = 0; i < ops; ++i) {
          if (strong) {
            bag.PushMut(tnum * nthreads + i);
          } else if (!bag.TryPushMut(tnum * nthreads + i)) {
            ++st.failed_push;
          }
        }
      } else {
        for (uint64_t i = 0; i < ops; ++i) {
          if (strong) {
            bag.PopMut(&out);
          } else if (bag.TryPopMut(&out) == PopStatus::kTransientFailure) {
            ++st.failed_pop;
          }
        }
      }
      st.seconds = Since(t0);
      break;
    }
  }
  benchmark::DoNotOptimize(out);
  return st;
}

// Items pushed before a "/prefill" run starts.
constexpr size_t kPrefill = size_t{1} << 10;

template <typename H>
RunStats RunOnce(Workload w, size_t nthreads, size_t ops, size_t prefill) {
  H bag;  // a fresh bag per run; each thread gets its own handle (a copy)
  {
    H filler = bag;
    // Values above any a worker pushes (the two largest words are
    // reserved: internal/word.h).
    for (uint64_t i = 0; i < prefill; ++i) {
      filler.PushMut((uint64_t{1} << 40) + i);
    }
  }
  std::atomic<size_t> ready{0};
  std::vector<ThreadStats> stats(nthreads);
  std::vector<std::thread> threads;
  const bool pairs = w == Workload::kPairsStrong || w == Workload::kPairsTry;
  for (size_t t = 0; t < nthreads; ++t) {
    const bool producer = t < nthreads / 2;
    threads.emplace_back([&, t, producer] {
      stats[t] = Worker<H>(w, bag, t, producer, ops, &ready, nthreads);
    });
  }
  for (auto& t : threads) t.join();
  RunStats r;
  for (const auto& s : stats) {
    r.mean_seconds += s.seconds / nthreads;
    r.failed_push += s.failed_push;
    r.failed_pop += s.failed_pop;
  }
  // pairs: a push and a pop per step; prodcons: one op per step.
  r.total_ops = static_cast<double>(ops) * nthreads * (pairs ? 2 : 1);
  return r;
}

template <typename H>
void BM_Bag(benchmark::State& state, Workload w, size_t prefill) {
  const size_t nthreads = static_cast<size_t>(state.range(0));
  const size_t ops = OpsPerThread();
  // One unmeasured run per subject, so that its first benchmark does not pay
  // for cold memory (fresh pages, EBR records, empty bsalloc caches).
  static bool warmed_up = false;
  if (!warmed_up) {
    RunOnce<H>(w, nthreads, ops, prefill);
    warmed_up = true;
  }
  RunStats total;
  const uint64_t blocks_before = internal::GetEbrStats().blocks_allocated;
  for (auto _ : state) {
    const RunStats r = RunOnce<H>(w, nthreads, ops, prefill);
    state.SetIterationTime(r.mean_seconds);
    total.total_ops += r.total_ops;
    total.mean_seconds += r.mean_seconds;
    total.failed_push += r.failed_push;
    total.failed_pop += r.failed_pop;
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["Mops/s"] = total.total_ops / total.mean_seconds / 1e6;
  state.counters["failed_push"] = total.failed_push / iters;
  state.counters["failed_pop"] = total.failed_pop / iters;
  // Queue blocks (nodes, segments) taken from bsalloc per run rather than
  // recycled through EBR's per-record caches.
  state.counters["bsalloc_blocks"] =
      static_cast<double>(internal::GetEbrStats().blocks_allocated -
                          blocks_before) /
      iters;
}

template <typename B>
using Shared = SharedHandle<B>;

// Registers the four workloads over subject H, and with `prefill` their
// prefilled runs too.
template <typename H>
void RegisterSubject(const char* name, bool prefill = false) {
  struct W {
    const char* name;
    Workload w;
    std::vector<int64_t> threads;
  };
  const int64_t cpus = static_cast<int64_t>(platform::CpuCount());
  const std::vector<int64_t> pairs =
      cpus > 1 ? std::vector<int64_t>{1, cpus} : std::vector<int64_t>{1};
  const std::vector<int64_t> prodcons{2, 2 * (cpus > 1 ? cpus : 1)};
  const W workloads[] = {
      {"pairs_strong", Workload::kPairsStrong, pairs},
      {"pairs_try", Workload::kPairsTry, pairs},
      {"prodcons_strong", Workload::kProdConsStrong, prodcons},
      {"prodcons_try", Workload::kProdConsTry, prodcons},
  };
  for (const size_t fill : {size_t{0}, kPrefill}) {
    if (fill != 0 && !prefill) break;
    for (const W& w : workloads) {
      const std::string label = std::string(w.name) + "/" + name +
                                (fill != 0 ? "/prefill" : "");
      auto* b =
          benchmark::RegisterBenchmark(label.c_str(), &BM_Bag<H>, w.w, fill);
      for (int64_t t : w.threads) b->Arg(t);
      b->ArgName("threads")->UseManualTime()->Iterations(1)->Unit(
          benchmark::kMillisecond);
    }
  }
}

const int kRegistered = [] {
  RegisterSubject<BagPipe<FAAQueueLowLevel<uint64_t>>>("BagPipe<FAA>", true);
  RegisterSubject<BagPipe<YangCrummeyQueue<uint64_t>>>("BagPipe<YC>", true);
  RegisterSubject<BagPipe<FAAQueueLowLevel<uint64_t>, NoCleanup, PrimeStrides>>(
      "BagPipe<FAA>-primes");
  RegisterSubject<BagPipe<YangCrummeyQueue<uint64_t>, NoCleanup, PrimeStrides>>(
      "BagPipe<YC>-primes");
  RegisterSubject<
      BagPipe<YangCrummeyQueue<uint64_t, kDefaultYcSegShift, true, true>>>(
      "BagPipe<YC>-staggered");
  RegisterSubject<BagPipe<YangCrummeyQueue<uint64_t, 12>>>("BagPipe<YC-2^12>");
  RegisterSubject<BagPipe<YangCrummeyQueue<uint64_t, 15>>>("BagPipe<YC-2^15>");
  RegisterSubject<BagPipe<YangCrummeyQueue<uint64_t, 16>>>("BagPipe<YC-2^16>");
  RegisterSubject<Shared<FAAQueueLowLevel<uint64_t>>>("FAA", true);
  RegisterSubject<Shared<YangCrummeyQueue<uint64_t>>>("YC", true);
  RegisterSubject<Shared<FAAArrayQueue<uint64_t>>>("FAA-boxed");
  RegisterSubject<Shared<GeneralYC<uint64_t>>>("YC-boxed");
  RegisterSubject<Shared<testing::TreiberStack<uint64_t>>>("Treiber", true);
  RegisterSubject<Shared<testing::MsQueue<uint64_t>>>("MS-queue", true);
  RegisterSubject<Shared<testing::MutexDeque<uint64_t>>>("mutex-deque", true);
  return 0;
}();

}  // namespace
}  // namespace bagpipe
}  // namespace allocators
