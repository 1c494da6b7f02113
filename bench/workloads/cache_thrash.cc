// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// cache_thrash: Hoard's active false-sharing test (Berger et al., "Hoard",
// ASPLOS 2000).
//
// Models: threads that each allocate a small private object and write it
// intensely. An allocator that hands objects in the same cache line to
// different threads (for example from one shared free list) makes the
// threads invalidate each other's caches on every write. It measures that
// actively induced false sharing; with one thread it is a baseline.
//
// Work: kIterations * S iterations split across the threads. An iteration
// allocates a kObjectSize-byte object, then kRepetitions times writes and
// reads back every byte of it (volatile, so every access reaches memory),
// adds the final contents to the checksum and frees the object.
// ops = allocations. check = sum of the final object contents.

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kIterations = 700'000;
constexpr size_t kObjectSize = 8;
constexpr uint64_t kRepetitions = 200;

void Worker(uint64_t first, uint64_t iterations, ThreadResult* result) {
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
  const Options options = ParseArgs(argc, argv, "cache_thrash");
  const int n = options.threads;
  const uint64_t total = Scaled(kIterations, options.scale);
  const Totals totals = RunThreads(n, [&](int i, ThreadResult* result) {
    uint64_t first = 0;
    for (int t = 0; t < i; ++t) first += Share(total, n, t);
    Worker(first, Share(total, n, i), result);
  });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
