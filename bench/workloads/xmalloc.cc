// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// xmalloc: cross-thread free in a ring, after Lever and Boreham's
// xmalloc-test ("malloc() performance in a multithreaded Linux
// environment", USENIX 2000).
//
// Models: threads that hand batches of freshly allocated objects to a
// neighbour, which releases them: every object is freed remotely, and each
// thread both allocates and frees. It measures the remote-free path and the
// return of memory to its owner under a steady cross-thread flow.
//
// Work: kBatches * S batches of kBatchSize objects (16..512 B, a random value
// at both ends) split across the threads. Thread i sends its batches to the
// mailbox of thread (i + 1) % N (with N = 1 a thread sends to itself); a
// mailbox is a mutex-protected list holding at most kMailboxLimit batches.
// Each thread loops: produce a batch if the target mailbox has room, then
// drain its own mailbox, checking and freeing every object and the batch
// record, until it has received all its predecessor's batches. ops =
// allocations (objects and batch records). check = sum of the values read
// back, plus sizes.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kBatches = 60'000;
constexpr size_t kBatchSize = 256;
constexpr size_t kMailboxLimit = 8;
constexpr size_t kMinSize = 16;
constexpr size_t kMaxSize = 512;

// A batch record; allocated with malloc and freed by the receiver too.
struct Batch {
  Batch* next;
  char* objects[kBatchSize];
  uint32_t sizes[kBatchSize];
  uint64_t values[kBatchSize];
};

// A thread's incoming batches. Thread-safe (mutex); `size` is also read
// without the lock as a hint by the sender.
struct alignas(64) Mailbox {
  std::mutex mu;
  Batch* head = nullptr;  // LIFO list; order does not matter.
  std::atomic<size_t> size{0};
};

Batch* MakeBatch(Rng& rng) {
  Batch* batch = static_cast<Batch*>(Malloc(sizeof(Batch)));
  batch->next = nullptr;
  for (size_t i = 0; i < kBatchSize; ++i) {
    const size_t size = rng.Uniform(kMinSize, kMaxSize);
    const uint64_t value = rng.Next();
    char* p = static_cast<char*>(Malloc(size));
    std::memcpy(p, &value, sizeof(value));
    std::memcpy(p + size - sizeof(value), &value, sizeof(value));
    Escape(p);
    batch->objects[i] = p;
    batch->sizes[i] = static_cast<uint32_t>(size);
    batch->values[i] = value;
  }
  return batch;
}

void FreeBatch(Batch* batch, Checksum& check) {
  for (size_t i = 0; i < kBatchSize; ++i) {
    const char* p = batch->objects[i];
    const size_t size = batch->sizes[i];
    uint64_t head, tail;
    std::memcpy(&head, p, sizeof(head));
    std::memcpy(&tail, p + size - sizeof(tail), sizeof(tail));
    const uint64_t value = batch->values[i];
    if (head != value) Corrupted("object head", value, head);
    if (tail != value) Corrupted("object tail", value, tail);
    check.Add(head + size);
    std::free(batch->objects[i]);
  }
  std::free(batch);
}

// Takes every batch out of `box`, checks and frees them; returns how many.
uint64_t Drain(Mailbox& box, Checksum& check) {
  Batch* list;
  {
    std::lock_guard<std::mutex> lock(box.mu);
    list = box.head;
    box.head = nullptr;
    box.size.store(0, std::memory_order_relaxed);
  }
  uint64_t n = 0;
  while (list != nullptr) {
    Batch* next = list->next;
    FreeBatch(list, check);
    list = next;
    ++n;
  }
  return n;
}

void Worker(int thread, int threads, uint64_t total,
            std::vector<Mailbox>& boxes, ThreadResult* result) {
  Rng rng(0x586d'0000 + thread);
  const uint64_t to_send = Share(total, threads, thread);
  const uint64_t to_receive =
      Share(total, threads, (thread + threads - 1) % threads);
  Mailbox& out = boxes[(thread + 1) % threads];
  Mailbox& in = boxes[thread];
  uint64_t sent = 0, received = 0;
  while (sent < to_send || received < to_receive) {
    bool progress = false;
    if (sent < to_send &&
        out.size.load(std::memory_order_relaxed) < kMailboxLimit) {
      Batch* batch = MakeBatch(rng);
      {
        std::lock_guard<std::mutex> lock(out.mu);
        batch->next = out.head;
        out.head = batch;
        out.size.fetch_add(1, std::memory_order_relaxed);
      }
      ++sent;
      progress = true;
    }
    const uint64_t n = Drain(in, result->check);
    received += n;
    if (!progress && n == 0) std::this_thread::yield();
  }
  result->ops = to_send * (kBatchSize + 1);
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "xmalloc");
  const uint64_t total = Scaled(kBatches, options.scale);
  std::vector<Mailbox> boxes(options.threads);
  const Totals totals =
      RunThreads(options.threads, [&](int i, ThreadResult* result) {
        Worker(i, options.threads, total, boxes, result);
      });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
