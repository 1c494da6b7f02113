// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// threadtest_medium: Hoard's threadtest with medium (1-8 KiB) objects.
//
// Models: threads that each allocate a batch of same-size buffers, use them
// and free them all, with no sharing between threads (Berger et al.,
// "Hoard", ASPLOS 2000). With 1-8 KiB objects it measures the allocator's
// medium size classes (beyond glibc's tcache, often page-run based) and how
// they scale across threads.
//
// Work: kRounds * S rounds. In each round every thread allocates its share
// of kObjectsPerRound objects (the total is split across the threads), all of
// one size drawn per round from 1024..8192 bytes, writes one 8-byte word per
// 512 bytes and the last word, then reads back and frees them all in
// allocation order. ops = objects allocated. check = sum over objects of a
// value derived from the object's global index and size (same for every
// allocator and every thread count).

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

// Few rounds: with glibc most of the time goes to trimming the heap after
// each round and faulting the pages back in on the next (about 30-40 ms per
// round on the reference VM, where a page fault costs ~14 us), so the round
// count is set to keep glibc near 1 s at one thread. Allocators that keep
// freed pages finish in well under 0.1 s.
constexpr uint64_t kRounds = 30;
constexpr uint64_t kObjectsPerRound = 2000;
constexpr size_t kMinSize = 1024;
constexpr size_t kMaxSize = 8192;
constexpr size_t kStride = 512;

void Worker(int thread, int threads, uint64_t rounds, ThreadResult* result) {
  const uint64_t count = Share(kObjectsPerRound, threads, thread);
  uint64_t first = 0;  // Global index of this thread's first object.
  for (int t = 0; t < thread; ++t) first += Share(kObjectsPerRound, threads, t);
  char** objects = static_cast<char**>(Malloc(sizeof(char*) * (count + 1)));
  for (uint64_t round = 0; round < rounds; ++round) {
    // Every thread draws the same size for this round.
    Rng round_rng(0x7470'1000 + round);
    const size_t size = round_rng.Uniform(kMinSize, kMaxSize);
    const uint64_t base = round * kObjectsPerRound + first;
    for (uint64_t j = 0; j < count; ++j) {
      char* p = static_cast<char*>(Malloc(size));
      const uint64_t value = Mix64(base + j);
      for (size_t off = 0; off + sizeof(value) <= size; off += kStride) {
        std::memcpy(p + off, &value, sizeof(value));
      }
      std::memcpy(p + size - sizeof(value), &value, sizeof(value));
      Escape(p);
      objects[j] = p;
    }
    for (uint64_t j = 0; j < count; ++j) {
      char* p = objects[j];
      uint64_t head, tail;
      std::memcpy(&head, p, sizeof(head));
      std::memcpy(&tail, p + size - sizeof(tail), sizeof(tail));
      const uint64_t expected = Mix64(base + j);
      if (head != expected) Corrupted("object head", expected, head);
      if (tail != expected) Corrupted("object tail", expected, tail);
      result->check.Add(head + size);
      std::free(p);
    }
    result->ops += count;
  }
  std::free(objects);
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "threadtest_medium");
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
