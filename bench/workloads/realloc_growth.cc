// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// realloc_growth: buffers grown by realloc in small steps.
//
// Models: growing strings, logs and serialisation buffers that are extended
// a little at a time, several at once, up to 1 MiB. It measures realloc:
// growth in place, copying, the move from small to large size classes and
// to page-mapped memory (mremap for allocators that use it), and that the
// contents survive every move.
//
// Work: kBuffers * S buffers split across the threads; a thread grows
// kGroup buffers at a time, round-robin, so their growths interleave. A
// buffer starts with 16..256 B and each step reallocs it to 16..8192 B more,
// capped at kFinalSize (1 MiB). The new bytes get a pattern that depends on
// the buffer and the position; after every realloc the first and last old
// bytes and one random old byte are checked, and before the buffer is freed
// every byte is. ops = malloc + realloc calls. check = per buffer, a
// position-weighted sum of its contents, and its length.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bench/workloads/common.h"

namespace allocators {
namespace bench {
namespace {

constexpr uint64_t kBuffers = 300;
constexpr size_t kGroup = 8;
constexpr size_t kFinalSize = 1 << 20;
constexpr size_t kMaxStep = 8192;

// The byte at `pos` of a buffer with seed `seed`.
inline unsigned char Pattern(uint64_t seed, size_t pos) {
  return static_cast<unsigned char>(seed + pos * 131 + (pos >> 9));
}

struct Buffer {
  unsigned char* data = nullptr;
  size_t size = 0;
  uint64_t seed = 0;
};

void Fill(Buffer& b, size_t from, size_t to) {
  for (size_t pos = from; pos < to; ++pos) b.data[pos] = Pattern(b.seed, pos);
}

void CheckByte(const Buffer& b, size_t pos) {
  if (b.data[pos] != Pattern(b.seed, pos)) {
    Corrupted("buffer byte after realloc", Pattern(b.seed, pos), b.data[pos]);
  }
}

// Checks every byte, adds the buffer to `check` and frees it.
void Finish(Buffer& b, Checksum& check) {
  unsigned char bad = 0;
  for (size_t pos = 0; pos < b.size; ++pos) {
    bad |= b.data[pos] ^ Pattern(b.seed, pos);
  }
  if (bad != 0) Corrupted("buffer contents", 0, bad);
  // A position-weighted sum of the contents as 64-bit words. (A plain sum
  // would not do: over whole periods of the pattern it is the same for
  // every seed.)
  uint64_t sum = 0;
  size_t pos = 0;
  for (; pos + sizeof(uint64_t) <= b.size; pos += sizeof(uint64_t)) {
    uint64_t word;
    std::memcpy(&word, b.data + pos, sizeof(word));
    sum += word * (2 * pos + 1);
  }
  for (; pos < b.size; ++pos) sum += b.data[pos] * (2 * pos + 1);
  check.Add(sum);
  check.Add(b.size);
  std::free(b.data);
  b.data = nullptr;
}

void Worker(int thread, uint64_t buffers, ThreadResult* result) {
  Rng rng(0x5265'0000 + thread);
  Buffer group[kGroup];
  for (uint64_t started = 0; started < buffers;) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kGroup, buffers - started));
    for (size_t i = 0; i < n; ++i) {
      Buffer& b = group[i];
      b.seed = rng.Next();
      b.size = rng.Uniform(16, 256);
      b.data = static_cast<unsigned char*>(Malloc(b.size));
      Fill(b, 0, b.size);
      ++result->ops;
    }
    started += n;
    for (size_t growing = n; growing > 0;) {
      growing = 0;
      for (size_t i = 0; i < n; ++i) {
        Buffer& b = group[i];
        if (b.size == kFinalSize) continue;
        const size_t old_size = b.size;
        b.size =
            std::min<size_t>(kFinalSize, old_size + rng.Uniform(16, kMaxStep));
        b.data = static_cast<unsigned char*>(Realloc(b.data, b.size));
        ++result->ops;
        CheckByte(b, 0);
        CheckByte(b, old_size - 1);
        CheckByte(b, rng.Uniform(0, old_size - 1));
        Fill(b, old_size, b.size);
        Escape(b.data);
        if (b.size < kFinalSize) ++growing;
      }
    }
    for (size_t i = 0; i < n; ++i) Finish(group[i], result->check);
  }
}

int Main(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv, "realloc_growth");
  const int n = options.threads;
  const uint64_t total = Scaled(kBuffers, options.scale);
  const Totals totals = RunThreads(n, [&](int i, ThreadResult* result) {
    Worker(i, Share(total, n, i), result);
  });
  return PrintResult(options, totals);
}

}  // namespace
}  // namespace bench
}  // namespace allocators

int main(int argc, char** argv) { return allocators::bench::Main(argc, argv); }
