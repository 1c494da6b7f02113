// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// larson: the Larson server simulation (Larson and Krishnan, "Memory
// allocation for long-running server applications", ISMM 1998).
//
// Models: a server whose worker threads each keep a table of live requests,
// repeatedly retiring a random one and creating a new one, and where
// connections move between workers, so objects are often freed by a thread
// other than the one that allocated them. It measures small-object
// throughput with a steady live set, remote frees, and memory "blowup" from
// objects migrating between threads.
//
// Work: N tables (N = threads) of kSlots slots, each table with its own
// random generator, so the sequence of requests on a table does not depend
// on which thread runs it. There are kRounds rounds separated by a barrier;
// in round r thread t works on table (t + r) % N: kOps * S / (kRounds * N)
// + 1 times it frees a random slot's object (after checking it) and puts a new
// object of 16..512 B there. After the last round each thread empties the
// table it holds. ops = allocations. check = sum of the values read back,
// plus sizes (depends on N and S only).

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kOps = 32'000'000;
constexpr uint64_t kRounds = 40;
constexpr size_t kSlots = 1000;
constexpr size_t kMinSize = 16;
constexpr size_t kMaxSize = 512;

struct Slot {
  char* object = nullptr;
  size_t size = 0;
  uint64_t value = 0;
};

// One thread's table of live objects. Used by one thread at a time; the
// round barrier orders the hand-over.
struct Table {
  explicit Table(uint64_t seed) : rng(seed), slots(kSlots) {}
  Rng rng;
  std::vector<Slot> slots;
};

void FreeSlot(Slot& slot, Checksum& check) {
  uint64_t head, tail;
  std::memcpy(&head, slot.object, sizeof(head));
  std::memcpy(&tail, slot.object + slot.size - sizeof(tail), sizeof(tail));
  if (head != slot.value) Corrupted("object head", slot.value, head);
  if (tail != slot.value) Corrupted("object tail", slot.value, tail);
  check.Add(head + slot.size);
  std::free(slot.object);
  slot.object = nullptr;
}

void Worker(int thread, int threads, uint64_t ops_per_round,
            std::vector<Table>& tables, Barrier& round_barrier,
            ThreadResult* result) {
  for (uint64_t round = 0; round < kRounds; ++round) {
    Table& table = tables[(thread + round) % threads];
    for (uint64_t i = 0; i < ops_per_round; ++i) {
      Slot& slot = table.slots[table.rng.Uniform(0, kSlots - 1)];
      if (slot.object != nullptr) FreeSlot(slot, result->check);
      slot.size = table.rng.Uniform(kMinSize, kMaxSize);
      slot.value = table.rng.Next();
      slot.object = static_cast<char*>(Malloc(slot.size));
      std::memcpy(slot.object, &slot.value, sizeof(slot.value));
      std::memcpy(slot.object + slot.size - sizeof(slot.value), &slot.value,
                  sizeof(slot.value));
      Escape(slot.object);
    }
    result->ops += ops_per_round;
    // Hand the table to the next thread.
    round_barrier.Wait();
  }
  Table& table = tables[(thread + kRounds - 1) % threads];
  for (Slot& slot : table.slots) {
    if (slot.object != nullptr) FreeSlot(slot, result->check);
  }
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "larson");
  const int n = options.threads;
  const uint64_t ops_per_round =
      Scaled(kOps, options.scale) / (kRounds * static_cast<uint64_t>(n)) + 1;
  std::vector<Table> tables;
  tables.reserve(n);
  for (int i = 0; i < n; ++i) tables.emplace_back(0x4c61'0000 + i);
  Barrier round_barrier(n);
  const Totals totals = RunThreads(n, [&](int i, ThreadResult* result) {
    Worker(i, n, ops_per_round, tables, round_barrier, result);
  });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
