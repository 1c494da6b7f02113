// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A tiny deterministic PRNG for test drivers and tester payloads.

#ifndef OBJECT_ALLOC_TEST_INTERNAL_RNG_H_
#define OBJECT_ALLOC_TEST_INTERNAL_RNG_H_

#include <cstddef>
#include <cstdint>

namespace allocators {
namespace object_alloc_test {
namespace internal {

// SplitMix64 (Steele, Lea and Flood). Chosen over <random> engines because
// its output for a given seed is fixed by the algorithm rather than by the
// standard library, so a seed printed by a failing test replays the same run
// everywhere; it is also a single add-and-mix, cheap enough to fill every
// tester's payload. Not cryptographic. Thread-compatible.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // A value in [0, n). REQUIRES: n > 0. The modulo bias (at most n / 2^64)
  // is irrelevant for test-case generation.
  uint64_t Below(uint64_t n) { return Next() % n; }

  bool Coin() { return (Next() >> 63) != 0; }

 private:
  uint64_t state_;
};

// Mixes `a` and `b` into one well-spread seed (for deriving per-case seeds).
inline uint64_t MixSeed(uint64_t a, uint64_t b) {
  SplitMix64 r(a ^ (b * 0xD6E8FEB86659FD93ULL));
  return r.Next();
}

}  // namespace internal
}  // namespace object_alloc_test
}  // namespace allocators

#endif  // OBJECT_ALLOC_TEST_INTERNAL_RNG_H_
