// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// prodcons: producer-consumer, in the style of the rpmalloc benchmark's
// cross-thread patterns.
//
// Models: a pipeline where one thread builds messages and another consumes
// and releases them, so every object is freed by a thread other than its
// allocator. It measures remote-free cost (returning memory to the owning
// thread's heap) and whether freed memory flows back to the producer
// efficiently.
//
// Threads: with N >= 2 threads there are N / 2 producer-consumer pairs, each
// joined by a bounded lock-free single-producer single-consumer queue of
// kQueueCapacity pointers; if N is odd the remaining thread is a "solo"
// unit. With N = 1 the single thread is a solo unit. A solo unit alternates
// in one thread: it produces kQueueCapacity objects into its queue, then
// consumes them all (so threads=N always uses exactly N threads, and with
// N = 1 nothing is freed remotely).
//
// Work: kObjects * S objects split across the units. A producer allocates an
// object of 16..1024 B, stores its size and a random value in the first 16
// bytes, fills the rest with a byte derived from the value, and pushes it; the
// consumer verifies every byte and frees it. ops = objects. check = sum of
// the values and sizes consumed (depends on N and S only).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kObjects = 3'000'000;
constexpr size_t kQueueCapacity = 1024;  // A power of two.
constexpr size_t kMinSize = 16;
constexpr size_t kMaxSize = 1024;

// A bounded single-producer single-consumer queue of pointers. Thread-safe
// for exactly one pushing and one popping thread.
class SpscQueue {
 public:
  // Returns false if full.
  bool TryPush(void* p) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ == kQueueCapacity) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ == kQueueCapacity) return false;
    }
    slots_[tail % kQueueCapacity] = p;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Returns nullptr if empty.
  void* TryPop() {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return nullptr;
    }
    void* p = slots_[head % kQueueCapacity];
    head_.store(head + 1, std::memory_order_release);
    return p;
  }

 private:
  void* slots_[kQueueCapacity] = {};
  // Producer side.
  alignas(64) std::atomic<uint64_t> tail_{0};
  uint64_t head_cache_ = 0;
  // Consumer side.
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t tail_cache_ = 0;
};

// The work of one unit: its objects come from a generator seeded by the unit
// index, so they are the same whoever runs them.
class Producer {
 public:
  explicit Producer(int unit) : rng_(0x5072'0000 + unit) {}

  void* Make() {
    const uint64_t size = rng_.Uniform(kMinSize, kMaxSize);
    const uint64_t value = rng_.Next();
    char* p = static_cast<char*>(Malloc(size));
    std::memcpy(p, &size, sizeof(size));
    std::memcpy(p + 8, &value, sizeof(value));
    std::memset(p + 16, static_cast<int>(value & 0xff), size - 16);
    Escape(p);
    return p;
  }

 private:
  Rng rng_;
};

void Consume(void* object, Checksum& check) {
  const char* p = static_cast<const char*>(object);
  uint64_t size, value;
  std::memcpy(&size, p, sizeof(size));
  std::memcpy(&value, p + 8, sizeof(value));
  if (size < kMinSize || size > kMaxSize) Corrupted("size", 0, size);
  const unsigned char fill = static_cast<unsigned char>(value & 0xff);
  unsigned char bad = 0;
  for (size_t i = 16; i < size; ++i) {
    bad |= static_cast<unsigned char>(p[i]) ^ fill;
  }
  if (bad != 0) Corrupted("fill bytes", fill, bad);
  check.Add(value + size);
  std::free(object);
}

void RunProducer(int unit, uint64_t count, SpscQueue& queue) {
  Producer producer(unit);
  for (uint64_t i = 0; i < count; ++i) {
    void* p = producer.Make();
    while (!queue.TryPush(p)) std::this_thread::yield();
  }
}

void RunConsumer(uint64_t count, SpscQueue& queue, Checksum& check) {
  for (uint64_t i = 0; i < count; ++i) {
    void* p;
    while ((p = queue.TryPop()) == nullptr) std::this_thread::yield();
    Consume(p, check);
  }
}

void RunSolo(int unit, uint64_t count, Checksum& check) {
  Producer producer(unit);
  std::vector<void*> batch(kQueueCapacity);
  for (uint64_t done = 0; done < count;) {
    const uint64_t n = std::min<uint64_t>(kQueueCapacity, count - done);
    for (uint64_t i = 0; i < n; ++i) batch[i] = producer.Make();
    for (uint64_t i = 0; i < n; ++i) Consume(batch[i], check);
    done += n;
  }
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "prodcons");
  const int n = options.threads;
  const int pairs = n / 2;
  const bool solo = n % 2 == 1;
  const int units = pairs + (solo ? 1 : 0);
  const uint64_t total = Scaled(kObjects, options.scale);
  std::vector<std::unique_ptr<SpscQueue>> queues;
  for (int u = 0; u < pairs; ++u) {
    queues.push_back(std::make_unique<SpscQueue>());
  }
  // Threads 2u and 2u+1 are unit u's producer and consumer; thread n-1 is the
  // solo unit if n is odd.
  const Totals totals = RunThreads(n, [&](int i, ThreadResult* result) {
    const int unit = i / 2;
    const uint64_t count = Share(total, units, unit);
    if (unit == pairs) {
      RunSolo(unit, count, result->check);
      result->ops = count;
    } else if (i % 2 == 0) {
      RunProducer(unit, count, *queues[unit]);
      result->ops = count;
    } else {
      RunConsumer(count, *queues[unit], result->check);
    }
  });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
