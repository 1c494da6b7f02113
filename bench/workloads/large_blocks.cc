// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// large_blocks: allocate, touch and free multi-megabyte blocks.
//
// Models: programs that repeatedly take large buffers (images, column
// chunks, I/O staging) of varying size. It measures the large-object path:
// mapping and unmapping versus caching freed blocks, the page faults of
// touching fresh memory, and the madvise/decommit policy.
//
// Work: kBlocks * S blocks split across the threads. Each thread keeps at
// most kLive blocks alive: it allocates a block of 5..25 MiB, writes one
// 8-byte value into every 4 KiB page, then (once kLive blocks are alive)
// reads back every page of its oldest block and frees it. ops = allocations.
// check = sum of the page values read back, plus block sizes.

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kBlocks = 32;
constexpr size_t kLive = 2;
constexpr size_t kMiB = 1 << 20;
constexpr size_t kMinSize = 5 * kMiB;
constexpr size_t kMaxSize = 25 * kMiB;
// The page stride of the touches: the usual x86-64 page. A fixed constant,
// not the system page size, so the work is the same everywhere.
constexpr size_t kPage = 4096;

struct Block {
  char* data = nullptr;
  size_t size = 0;
  uint64_t seed = 0;
};

void Touch(const Block& b) {
  for (size_t off = 0; off < b.size; off += kPage) {
    const uint64_t value = b.seed + off;
    std::memcpy(b.data + off, &value, sizeof(value));
  }
  Escape(b.data);
}

void Release(Block& b, Checksum& check) {
  uint64_t sum = 0;
  for (size_t off = 0; off < b.size; off += kPage) {
    uint64_t value;
    std::memcpy(&value, b.data + off, sizeof(value));
    if (value != b.seed + off) Corrupted("page value", b.seed + off, value);
    sum += value;
  }
  check.Add(sum + b.size);
  std::free(b.data);
  b.data = nullptr;
}

void Worker(int thread, uint64_t blocks, ThreadResult* result) {
  Rng rng(0x4c42'0000 + thread);
  Block live[kLive];
  size_t oldest = 0;
  for (uint64_t i = 0; i < blocks; ++i) {
    Block& b = live[oldest];
    if (b.data != nullptr) Release(b, result->check);
    // Whole 8-byte units so the last page's value fits.
    b.size = rng.Uniform(kMinSize / 8, kMaxSize / 8) * 8;
    b.seed = rng.Next();
    b.data = static_cast<char*>(Malloc(b.size));
    Touch(b);
    oldest = (oldest + 1) % kLive;
  }
  for (Block& b : live) {
    if (b.data != nullptr) Release(b, result->check);
  }
  result->ops = blocks;
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "large_blocks");
  const int n = options.threads;
  const uint64_t total = Scaled(kBlocks, options.scale);
  const Totals totals = RunThreads(n, [&](int i, ThreadResult* result) {
    Worker(i, Share(total, n, i), result);
  });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
