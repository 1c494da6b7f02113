// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// churn_small: small-object churn on independent threads.
//
// Models: code that allocates many short-lived small objects (strings,
// nodes, closures): immediate alloc/free pairs, and a FIFO of objects that
// each live for a fixed number of allocations. It measures the fast paths
// for 16-128 B objects: the LIFO reuse of a just-freed object, and reuse in
// FIFO order from a large live set that does not fit in the thread cache.
//
// Work: each thread runs independently on its share of the totals. Phase 1:
// kPairs * S pairs of (allocate 16..128 B, write a value at both ends, read
// back, free). Phase 2: a ring of kRingSlots (64 Ki) objects; it is filled,
// then kRingOps * S times the oldest object is checked and freed and a new
// one put in its place; finally the ring is emptied. ops = allocations.
// check = sum of the values read back, plus sizes.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kPairs = 30'000'000;
constexpr uint64_t kRingOps = 12'000'000;
constexpr size_t kRingSlots = 64 * 1024;
constexpr size_t kMinSize = 16;
constexpr size_t kMaxSize = 128;

struct Slot {
  char* object;
  uint32_t size;
  uint64_t value;
};

Slot NewObject(Rng& rng) {
  Slot slot;
  slot.size = static_cast<uint32_t>(rng.Uniform(kMinSize, kMaxSize));
  slot.value = rng.Next();
  slot.object = static_cast<char*>(Malloc(slot.size));
  std::memcpy(slot.object, &slot.value, sizeof(slot.value));
  std::memcpy(slot.object + slot.size - sizeof(slot.value), &slot.value,
              sizeof(slot.value));
  Escape(slot.object);
  return slot;
}

void FreeObject(const Slot& slot, Checksum& check) {
  uint64_t head, tail;
  std::memcpy(&head, slot.object, sizeof(head));
  std::memcpy(&tail, slot.object + slot.size - sizeof(tail), sizeof(tail));
  if (head != slot.value) Corrupted("object head", slot.value, head);
  if (tail != slot.value) Corrupted("object tail", slot.value, tail);
  check.Add(head + slot.size);
  std::free(slot.object);
}

void Worker(int thread, uint64_t pairs, uint64_t ring_ops,
            ThreadResult* result) {
  Rng rng(0x4368'0000 + thread);
  for (uint64_t i = 0; i < pairs; ++i) {
    FreeObject(NewObject(rng), result->check);
  }
  std::vector<Slot> ring(kRingSlots);
  for (Slot& slot : ring) slot = NewObject(rng);
  size_t oldest = 0;
  for (uint64_t i = 0; i < ring_ops; ++i) {
    FreeObject(ring[oldest], result->check);
    ring[oldest] = NewObject(rng);
    oldest = (oldest + 1) % kRingSlots;
  }
  for (const Slot& slot : ring) FreeObject(slot, result->check);
  result->ops = pairs + kRingSlots + ring_ops;
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "churn_small");
  const int n = options.threads;
  const uint64_t pairs = Scaled(kPairs, options.scale);
  const uint64_t ring_ops = Scaled(kRingOps, options.scale);
  const Totals totals = RunThreads(n, [&](int i, ThreadResult* result) {
    Worker(i, Share(pairs, n, i), Share(ring_ops, n, i), result);
  });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
