// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// What every benchmark workload shares: the command line, deterministic
// random numbers, an order-independent checksum, a start barrier, wall-clock
// timing of the measured part, allocation-failure handling and the RESULT
// line.
//
// The workloads are plain C++ programs: they use the C library's malloc
// family and the default operator new/delete and link no allocator of this
// project, so //bench:compare can swap the allocator with LD_PRELOAD. The
// contract of every workload binary is
//
//   <name> [--threads N] [--scale S]
//
// N is the thread count (default 1) and S multiplies the amount of work
// (default 1.0). The last line on stdout is
//
//   RESULT name=<name> threads=<N> ops=<count> seconds=<%.6f> check=<hex>
//          peak_rss_kib=<k>
//
// where `ops` counts the allocation calls, `seconds` is the wall time of the
// measured (threaded) part, `check` is a checksum of the data the workload
// wrote and read back, and `peak_rss_kib` is the process's VmHWM. `ops` and
// `check` depend only on N and S, never on the allocator, on addresses or on
// timing, so equal values prove that every allocator did the same work. A
// workload may print one line before it,
//
//   SERIES interval=<rounds> rounds=<r,r,...> rss_kib=<k,k,...>
//
// its resident memory sampled against time (long_churn); nothing else goes
// to stdout. Exit status: 0 on success, 1 on allocation failure, 2 on a bad
// command line, 3 if data read back differs from what was written (a
// corrupting allocator).

#ifndef BENCH_WORKLOADS_COMMON_H_
#define BENCH_WORKLOADS_COMMON_H_

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "platform/testing/proc.h"

namespace allocators {
namespace bench {

// The parsed command line.
struct Options {
  int threads = 1;     // --threads N, 1..kMaxThreads.
  double scale = 1.0;  // --scale S, > 0.
};

inline constexpr int kMaxThreads = 1024;

// The program name used in diagnostics and the RESULT line. Set once by
// ParseArgs before any thread starts; read-only afterwards.
inline const char*& ProgramName() {
  static const char* name = "workload";
  return name;
}

// Reports a failed allocation of `bytes` bytes and ends the process with
// exit status 1. Safe to call from any thread: _Exit runs no destructors or
// atexit handlers that could race with the other threads.
[[noreturn]] inline void AllocationFailed(size_t bytes) {
  std::fprintf(stderr, "%s: allocation of %zu bytes failed\n", ProgramName(),
               bytes);
  std::fflush(stderr);
  std::_Exit(1);
}

// Reports data that differs from what the workload wrote (the allocator
// handed out overlapping or corrupted memory) and ends the process with exit
// status 3.
[[noreturn]] inline void Corrupted(const char* what, uint64_t expected,
                                   uint64_t got) {
  std::fprintf(stderr,
               "%s: data corrupted (%s): expected 0x%016" PRIx64
               ", got 0x%016" PRIx64 "\n",
               ProgramName(), what, expected, got);
  std::fflush(stderr);
  std::_Exit(3);
}

// Called by operator new when it cannot allocate: the process ends like for
// a failed malloc instead of unwinding with std::bad_alloc.
inline void NewHandler() {
  std::fprintf(stderr, "%s: operator new failed\n", ProgramName());
  std::fflush(stderr);
  std::_Exit(1);
}

// malloc / realloc that end the process with status 1 instead of returning
// null. REQUIRES: bytes > 0.
inline void* Malloc(size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) AllocationFailed(bytes);
  return p;
}
inline void* Realloc(void* old, size_t bytes) {
  void* p = std::realloc(old, bytes);
  if (p == nullptr) AllocationFailed(bytes);
  return p;
}

// Makes the compiler assume that `p` and the memory it points to are read and
// written by unknown code here. Without it GCC may forward stores to loads and
// then delete a malloc/free pair whose memory is otherwise unused, measuring
// nothing.
inline void Escape(const void* p) { asm volatile("" : : "g"(p) : "memory"); }

[[noreturn]] inline void Usage(const char* message) {
  std::fprintf(stderr,
               "%s: %s\nusage: %s [--threads N] [--scale S]\n"
               "  N: threads, 1..%d (default 1)\n"
               "  S: work multiplier, > 0 (default 1.0)\n",
               ProgramName(), message, ProgramName(), kMaxThreads);
  std::exit(2);
}

// Parses `[--threads N] [--scale S]` (also `--threads=N`, `--scale=S`),
// records `name` for messages and installs the new-handler. On a bad command
// line prints the usage to stderr and exits with status 2.
inline Options ParseArgs(int argc, char** argv, const char* name) {
  ProgramName() = name;
  std::set_new_handler(NewHandler);
  Options options;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = nullptr;
    bool threads = false;
    if (std::strcmp(arg, "--threads") == 0 ||
        std::strcmp(arg, "--scale") == 0) {
      threads = arg[2] == 't';
      if (i + 1 >= argc) Usage("missing value");
      value = argv[++i];
    } else if (std::strncmp(arg, "--threads=", 10) == 0) {
      threads = true;
      value = arg + 10;
    } else if (std::strncmp(arg, "--scale=", 8) == 0) {
      value = arg + 8;
    } else if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      Usage("help");
    } else {
      Usage("unknown argument");
    }
    char* end = nullptr;
    if (threads) {
      const long n = std::strtol(value, &end, 10);
      if (end == value || *end != '\0' || n < 1 || n > kMaxThreads) {
        Usage("bad --threads value");
      }
      options.threads = static_cast<int>(n);
    } else {
      const double s = std::strtod(value, &end);
      if (end == value || *end != '\0' || !(s > 0) || !std::isfinite(s)) {
        Usage("bad --scale value");
      }
      options.scale = s;
    }
  }
  return options;
}

// `base` (the amount of work at scale 1) times `scale`, rounded, and at least
// `minimum`.
inline uint64_t Scaled(uint64_t base, double scale, uint64_t minimum = 1) {
  const double v = std::round(static_cast<double>(base) * scale);
  return v < static_cast<double>(minimum) ? minimum : static_cast<uint64_t>(v);
}

// Part `i` of `total` split as evenly as possible into `n` parts; the parts
// add up to `total` exactly.
inline uint64_t Share(uint64_t total, uint64_t n, uint64_t i) {
  return total / n + (i < total % n ? 1 : 0);
}

// The SplitMix64 finaliser: a bijective 64-bit mixer.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A small deterministic pseudo-random generator (xorshift64*), seeded from a
// workload-specific value so every allocator sees the same request sequence.
// Not thread-safe: one per thread (or per object handed between threads).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(Mix64(seed) | 1) {}

  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dULL;
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    const unsigned __int128 span = static_cast<unsigned __int128>(hi - lo) + 1;
    return lo + static_cast<uint64_t>((Next() * span) >> 64);
  }

  // True with probability 1 / n. REQUIRES: n > 0.
  bool OneIn(uint64_t n) { return Uniform(0, n - 1) == 0; }

 private:
  uint64_t state_;
};

// An order-independent checksum: the sum of mixed values, so per-thread or
// per-consumer sums can be added in any order and still agree.
class Checksum {
 public:
  void Add(uint64_t v) { sum_ += Mix64(v); }
  void Merge(const Checksum& other) { sum_ += other.sum_; }
  uint64_t value() const { return sum_; }

 private:
  uint64_t sum_ = 0;
};

// A reusable barrier for a fixed number of threads. Thread-safe.
class Barrier {
 public:
  explicit Barrier(int parties) : parties_(parties) {}

  // Blocks until `parties` threads have called Wait in this generation.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t generation = generation_;
    if (++waiting_ == parties_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return generation_ != generation; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const int parties_;
  int waiting_ = 0;
  uint64_t generation_ = 0;
};

// What one worker thread reports. Padded to a cache line so the threads'
// counters do not share one.
struct alignas(64) ThreadResult {
  uint64_t ops = 0;
  Checksum check;
};

// The totals of a run.
struct Totals {
  uint64_t ops = 0;
  uint64_t check = 0;
  double seconds = 0;
};

// Starts `n` threads running fn(i, &results[i]), releases them together and
// returns the wall time from the release until all have finished, with the
// per-thread ops and checksums added up. Thread creation is not measured.
template <typename Fn>
Totals RunThreads(int n, Fn fn) {
  std::vector<ThreadResult> results(n);
  Barrier start(n + 1);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.Wait();
      fn(i, &results[i]);
    });
  }
  start.Wait();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::thread& t : threads) t.join();
  const auto t1 = std::chrono::steady_clock::now();
  Totals totals;
  totals.seconds = std::chrono::duration<double>(t1 - t0).count();
  Checksum check;
  for (const ThreadResult& r : results) {
    totals.ops += r.ops;
    check.Merge(r.check);
  }
  totals.check = check.value();
  return totals;
}

// This process's peak resident memory in KiB (VmHWM), or 0 if unknown. Read
// here rather than by the runner: wait4's ru_maxrss also counts the memory
// of the runner's process image before exec, which hides small peaks.
inline unsigned long PeakRssKib() {
  const int64_t kib = platform::testing::StatusKib("VmHWM");
  return kib < 0 ? 0 : static_cast<unsigned long>(kib);
}

// Prints the RESULT line (the last line on stdout) and returns exit status 0.
inline int PrintResult(const Options& options, const Totals& totals) {
  std::printf("RESULT name=%s threads=%d ops=%" PRIu64
              " seconds=%.6f check=%016" PRIx64 " peak_rss_kib=%lu\n",
              ProgramName(), options.threads, totals.ops, totals.seconds,
              totals.check, PeakRssKib());
  std::fflush(stdout);
  return 0;
}

}  // namespace bench
}  // namespace allocators

#endif  // BENCH_WORKLOADS_COMMON_H_
