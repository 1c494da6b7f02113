// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// threadtest_small: Hoard's threadtest with small objects.
//
// Models: many threads that each allocate a batch of same-size short-lived
// objects, use them, and free them all, with no sharing between threads
// (Berger et al., "Hoard", ASPLOS 2000). It measures the throughput of the
// thread-local fast paths for 8-64 byte objects and how an allocator scales
// when threads never share objects.
//
// Work: kRounds * S rounds. In each round every thread allocates its share
// of kObjectsPerRound objects (the total is split across the threads), all of
// one size drawn per round from 8..64 bytes, fills each object, then reads
// back and frees them all in allocation order. ops = objects allocated.
// check = sum over objects of a value derived from the object's global index
// and size,
// so it is the same for every allocator and every thread count.

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kRounds = 200;
constexpr uint64_t kObjectsPerRound = 100000;
constexpr size_t kMinSize = 8;
constexpr size_t kMaxSize = 64;

void Worker(int thread, int threads, uint64_t rounds, ThreadResult* result) {
  const uint64_t count = Share(kObjectsPerRound, threads, thread);
  uint64_t first = 0;  // Global index of this thread's first object.
  for (int t = 0; t < thread; ++t) first += Share(kObjectsPerRound, threads, t);
  char** objects = static_cast<char**>(Malloc(sizeof(char*) * (count + 1)));
  for (uint64_t round = 0; round < rounds; ++round) {
    // Every thread draws the same size for this round.
    Rng round_rng(0x7470'0000 + round);
    const size_t size = round_rng.Uniform(kMinSize, kMaxSize);
    const uint64_t base = round * kObjectsPerRound + first;
    for (uint64_t j = 0; j < count; ++j) {
      char* p = static_cast<char*>(Malloc(size));
      const uint64_t value = Mix64(base + j);
      std::memset(p, static_cast<int>(value >> 56), size);
      std::memcpy(p, &value, sizeof(value));
      Escape(p);
      objects[j] = p;
    }
    for (uint64_t j = 0; j < count; ++j) {
      char* p = objects[j];
      uint64_t value;
      std::memcpy(&value, p, sizeof(value));
      const uint64_t expected = Mix64(base + j);
      // The last byte is the fill byte, or the value's top byte when
      // size == 8; both are expected >> 56 (little-endian).
      if (value != expected || static_cast<unsigned char>(p[size - 1]) !=
                                   static_cast<unsigned char>(expected >> 56)) {
        Corrupted("threadtest object", expected, value);
      }
      result->check.Add(value + size);
      std::free(p);
    }
    result->ops += count;
  }
  std::free(objects);
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "threadtest_small");
  const uint64_t rounds = Scaled(kRounds, options.scale);
  const Totals totals =
      RunThreads(options.threads, [&](int i, ThreadResult* result) {
        Worker(i, options.threads, rounds, result);
      });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
