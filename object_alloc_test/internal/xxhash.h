// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// 64-bit xxHash (XXH64), written from the published algorithm description.
// The corruption tester uses it to checksum objects: it must give the same
// values as the reference implementation (and as the Rust original's
// `twox_hash::XxHash`), because the checksum layout is part of the port's
// contract. xxhash_test.cc pins it to vectors produced by the reference C
// library.

#ifndef OBJECT_ALLOC_TEST_INTERNAL_XXHASH_H_
#define OBJECT_ALLOC_TEST_INTERNAL_XXHASH_H_

#include <cstddef>
#include <cstdint>

namespace allocators {
namespace object_alloc_test {
namespace internal {

// Incremental XXH64: Update() any number of times, then Digest(). Feeding the
// input in pieces gives the same digest as one call over the concatenation.
// Allocation-free, so it may run inside an allocator under test.
// Thread-compatible.
class XxHash64 {
 public:
  explicit XxHash64(uint64_t seed);

  // Appends `len` bytes at `data` (may be nullptr when len == 0).
  void Update(const void* data, size_t len);

  // Returns the hash of everything fed so far. Does not change the state, so
  // more input may follow.
  uint64_t Digest() const;

 private:
  uint64_t seed_;
  uint64_t acc_[4];
  uint64_t total_len_ = 0;
  // Input not yet consumed as a full 32-byte stripe.
  unsigned char buffer_[32];
  size_t buffered_ = 0;
};

// One-shot XXH64 of `data[0, len)` with `seed`.
uint64_t XxHash64Of(const void* data, size_t len, uint64_t seed);

}  // namespace internal
}  // namespace object_alloc_test
}  // namespace allocators

#endif  // OBJECT_ALLOC_TEST_INTERNAL_XXHASH_H_
