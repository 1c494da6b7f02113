// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/corruption_tester.h"

#include <atomic>
#include <cstring>

#include "object_alloc_test/internal/failure.h"
#include "object_alloc_test/internal/rng.h"
#include "object_alloc_test/internal/xxhash.h"

namespace allocators {
namespace object_alloc_test {
namespace {

uint32_t LoadU32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

void StoreU32(unsigned char* p, uint32_t v) { std::memcpy(p, &v, sizeof(v)); }

uint64_t AddressOf(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// The checksum: XXH64 seeded with `seed` over the nonce (little-endian, as
// the original's write_u32 on the little-endian machines it ran on) and the
// payload, truncated to 32 bits.
uint32_t Hash(uint64_t seed, uint32_t nonce, const unsigned char* object,
              size_t size) {
  const unsigned char le[4] = {static_cast<unsigned char>(nonce),
                               static_cast<unsigned char>(nonce >> 8),
                               static_cast<unsigned char>(nonce >> 16),
                               static_cast<unsigned char>(nonce >> 24)};
  internal::XxHash64 hasher(seed);
  hasher.Update(le, sizeof(le));
  hasher.Update(object + kHeaderSize, size - kHeaderSize);
  return static_cast<uint32_t>(hasher.Digest());
}

// Writes `nonce` and the matching address-seeded hash.
void WriteState(unsigned char* object, size_t size, uint32_t nonce) {
  StoreU32(object, nonce);
  StoreU32(object + 4, Hash(AddressOf(object), nonce, object, size));
}

// Payload randomness. Each thread has its own generator (no locking, no
// races under TSan), seeded from a global counter so that threads differ.
// Quality barely matters: the payload only has to make distinct objects
// differ, and deterministic payloads keep runs reproducible.
internal::SplitMix64& PayloadRng() {
  static std::atomic<uint64_t> threads{0};
  thread_local internal::SplitMix64 rng(internal::MixSeed(
      0x6F626A5F74657374ULL, threads.fetch_add(1, std::memory_order_relaxed)));
  return rng;
}

void CheckSize(size_t size) {
  if (size < kMinSize) {
    internal::Fail("corruption tester of %zu bytes is below the minimum %zu",
                   size, kMinSize);
  }
}

}  // namespace

const char* TesterStateName(TesterState state) {
  switch (state) {
    case TesterState::kNew:
      return "New";
    case TesterState::kValid:
      return "Valid";
    case TesterState::kDropped:
      return "Dropped";
    case TesterState::kInvalid:
      return "Invalid";
  }
  return "?";
}

TesterState StateAt(const void* p, size_t size) {
  CheckSize(size);
  const unsigned char* object = static_cast<const unsigned char*>(p);
  const uint32_t nonce = LoadU32(object);
  const uint32_t hash = LoadU32(object + 4);
  switch (nonce) {
    case kNonceNew:
      // Either constructor may have made it; try the address first because
      // that is what UnsafeDefault, the stronger variant, writes.
      if (hash == Hash(AddressOf(p), nonce, object, size) ||
          hash == Hash(0, nonce, object, size)) {
        return TesterState::kNew;
      }
      return TesterState::kInvalid;
    case kNonceValid:
      return hash == Hash(AddressOf(p), nonce, object, size)
                 ? TesterState::kValid
                 : TesterState::kInvalid;
    case kNonceDropped:
      return hash == Hash(AddressOf(p), nonce, object, size)
                 ? TesterState::kDropped
                 : TesterState::kInvalid;
    default:
      return TesterState::kInvalid;
  }
}

namespace internal {

void WriteNew(void* p, size_t size, bool address_bound) {
  CheckSize(size);
  unsigned char* object = static_cast<unsigned char*>(p);
  SplitMix64& rng = PayloadRng();
  for (size_t i = kHeaderSize; i < size; i += 8) {
    const uint64_t word = rng.Next();
    const size_t n = size - i < 8 ? size - i : 8;
    std::memcpy(object + i, &word, n);
  }
  StoreU32(object, kNonceNew);
  StoreU32(object + 4,
           Hash(address_bound ? AddressOf(p) : 0, kNonceNew, object, size));
}

void CheckReusable(const void* p, size_t size) {
  const TesterState state = StateAt(p, size);
  if (state != TesterState::kInvalid && state != TesterState::kDropped) {
    Fail(
        "UnsafeDefault at %p: memory holds a live object in state %s "
        "(expected Invalid or Dropped)",
        p, TesterStateName(state));
  }
}

void MarkValid(void* p, size_t size) {
  const TesterState state = StateAt(p, size);
  if (state != TesterState::kNew && state != TesterState::kValid) {
    Fail(
        "MarkValid: object at %p in unexpected state %s (expected New or "
        "Valid)",
        p, TesterStateName(state));
  }
  WriteState(static_cast<unsigned char*>(p), size, kNonceValid);
}

void Drop(void* p, size_t size) {
  const TesterState state = StateAt(p, size);
  if (state != TesterState::kNew && state != TesterState::kValid) {
    Fail(
        "destroying object at %p in unexpected state %s (expected New or "
        "Valid): dropped twice, never constructed, or corrupted",
        p, TesterStateName(state));
  }
  WriteState(static_cast<unsigned char*>(p), size, kNonceDropped);
}

}  // namespace internal
}  // namespace object_alloc_test
}  // namespace allocators
