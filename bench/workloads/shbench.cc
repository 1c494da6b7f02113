// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// shbench: mixed sizes and mixed lifetimes, after MicroQuill's SmartHeap
// benchmark.
//
// Models: an application heap with a wide spread of request sizes (many
// small, a tail up to 4 KiB and rare 64 KiB buffers) where some objects die
// at once and others live for a random, roughly exponential time. It
// measures general allocation throughput across many size classes, the
// cost of fragmentation, and scaling when threads are independent.
//
// Work: kOps * S operations split across the threads. Each thread owns a
// pool of kSlots slots. An operation is, with probability 1/4, a temporary
// (allocate, write, read back, free at once), otherwise it replaces a random
// slot (free the old object after checking it, allocate a new one). Sizes:
// log-uniform over 8 B..4 KiB (a power-of-two range is drawn uniformly, then
// a size in it), and 64 KiB once in kLargeOneIn. Each object gets a random
// 64-bit value at its start and (if at least 16 B) its end. At the end the
// pools are emptied. ops = allocations. check = sum of the values read back,
// plus sizes.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kOps = 12'000'000;
constexpr size_t kSlots = 4096;
constexpr uint64_t kLargeOneIn = 512;
constexpr size_t kLargeSize = 64 * 1024;

size_t DrawSize(Rng& rng) {
  if (rng.OneIn(kLargeOneIn)) return kLargeSize;
  const unsigned log2 = static_cast<unsigned>(rng.Uniform(3, 12));  // 8..4096
  const size_t hi = size_t{1} << log2;
  const size_t lo = log2 == 3 ? 8 : hi / 2 + 1;
  return rng.Uniform(lo, hi);
}

// Allocates `size` bytes and writes `value` at the start and, if the two do
// not overlap (size >= 16), at the end.
char* NewObject(size_t size, uint64_t value) {
  char* p = static_cast<char*>(Malloc(size));
  std::memcpy(p, &value, sizeof(value));
  if (size >= 2 * sizeof(value)) {
    std::memcpy(p + size - sizeof(value), &value, sizeof(value));
  }
  Escape(p);
  return p;
}

// Checks both ends of an object made by NewObject, adds it to `check` and
// frees it.
void FreeObject(char* p, size_t size, uint64_t value, Checksum& check) {
  uint64_t head, tail = value;
  std::memcpy(&head, p, sizeof(head));
  if (size >= 2 * sizeof(tail)) {
    std::memcpy(&tail, p + size - sizeof(tail), sizeof(tail));
  }
  if (head != value) Corrupted("object head", value, head);
  if (tail != value) Corrupted("object tail", value, tail);
  check.Add(head + size);
  std::free(p);
}

struct Slot {
  char* object = nullptr;
  size_t size = 0;
  uint64_t value = 0;
};

void Worker(int thread, uint64_t ops, ThreadResult* result) {
  Rng rng(0x5368'0000 + thread);
  std::vector<Slot> slots(kSlots);
  for (uint64_t i = 0; i < ops; ++i) {
    const size_t size = DrawSize(rng);
    const uint64_t value = rng.Next();
    if (rng.OneIn(4)) {
      FreeObject(NewObject(size, value), size, value, result->check);
    } else {
      Slot& slot = slots[rng.Uniform(0, kSlots - 1)];
      if (slot.object != nullptr) {
        FreeObject(slot.object, slot.size, slot.value, result->check);
      }
      slot.object = NewObject(size, value);
      slot.size = size;
      slot.value = value;
    }
  }
  for (Slot& slot : slots) {
    if (slot.object != nullptr) {
      FreeObject(slot.object, slot.size, slot.value, result->check);
    }
  }
  result->ops = ops;
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "shbench");
  const uint64_t total = Scaled(kOps, options.scale);
  const Totals totals =
      RunThreads(options.threads, [&](int i, ThreadResult* result) {
        Worker(i, Share(total, options.threads, i), result);
      });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
