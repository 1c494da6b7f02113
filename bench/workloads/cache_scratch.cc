// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// cache_scratch: Hoard's passive false-sharing test (Berger et al., "Hoard",
// ASPLOS 2000).
//
// Models: a main thread that allocates small objects back to back (so they
// share cache lines) and hands one to each worker; each worker frees it and
// then repeatedly allocates, writes and frees its own object. An allocator
// that gives the freed object (or its neighbours) back to the freeing thread
// keeps the workers writing to one shared cache line. It measures that
// passively induced false sharing; with one thread it is a baseline.
//
// Work: before the measured part the main thread allocates one
// kObjectSize-byte object per thread and writes it. In the measured part
// each thread checks and frees its object, then runs its share of
// kIterations * S iterations: allocate a kObjectSize-byte object, write and
// read back every byte kRepetitions times (volatile), add the contents to the
// checksum, free it. ops = allocations in the measured part. check = sum of
// the handed-over and final object contents.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kIterations = 700'000;
constexpr size_t kObjectSize = 8;
constexpr uint64_t kRepetitions = 200;

void Worker(char* handed, uint64_t handed_value, uint64_t first,
            uint64_t iterations, ThreadResult* result) {
  uint64_t got;
  std::memcpy(&got, handed, sizeof(got));
  if (got != handed_value) Corrupted("handed-over object", handed_value, got);
  result->check.Add(got);
  delete[] handed;
  for (uint64_t i = first; i < first + iterations; ++i) {
    char* object = new char[kObjectSize];
    volatile char* p = object;
    for (uint64_t r = 0; r < kRepetitions; ++r) {
      for (size_t k = 0; k < kObjectSize; ++k) {
        p[k] = static_cast<char>(i + r + k);
        const char c = p[k];
        p[k] = static_cast<char>(c + 1);
      }
    }
    uint64_t contents;
    std::memcpy(&contents, object, sizeof(contents));
    result->check.Add(contents ^ i);
    delete[] object;
  }
  result->ops = iterations;
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "cache_scratch");
  const int n = options.threads;
  const uint64_t total = Scaled(kIterations, options.scale);
  // Allocated back to back by one thread, so likely in shared cache lines.
  std::vector<char*> handed(n);
  for (int i = 0; i < n; ++i) {
    handed[i] = new char[kObjectSize];
    const uint64_t value = Mix64(i);
    std::memcpy(handed[i], &value, sizeof(value));
    Escape(handed[i]);
  }
  const Totals totals = RunThreads(n, [&](int i, ThreadResult* result) {
    uint64_t first = 0;
    for (int t = 0; t < i; ++t) first += Share(total, n, t);
    Worker(handed[i], Mix64(i), first, Share(total, n, i), result);
  });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
