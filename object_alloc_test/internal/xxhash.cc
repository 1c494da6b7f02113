// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/internal/xxhash.h"

#include <cstring>

namespace allocators {
namespace object_alloc_test {
namespace internal {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

constexpr size_t kStripe = 32;

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// The format is defined on little-endian words. On little-endian hosts a
// memcpy is one unaligned load (which also matters under TSan, where every
// load is instrumented); elsewhere assemble the word byte by byte.
inline uint64_t Load64(const unsigned char* p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
#else
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
#endif
}

inline uint32_t Load32(const unsigned char* p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
#else
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
#endif
}

inline uint64_t Round(uint64_t acc, uint64_t lane) {
  acc += lane * kPrime2;
  acc = Rotl(acc, 31);
  return acc * kPrime1;
}

inline uint64_t MergeAccumulator(uint64_t acc, uint64_t v) {
  acc ^= Round(0, v);
  return acc * kPrime1 + kPrime4;
}

inline void ConsumeStripe(uint64_t acc[4], const unsigned char* p) {
  for (int i = 0; i < 4; ++i) acc[i] = Round(acc[i], Load64(p + 8 * i));
}

}  // namespace

XxHash64::XxHash64(uint64_t seed) : seed_(seed) {
  acc_[0] = seed + kPrime1 + kPrime2;
  acc_[1] = seed + kPrime2;
  acc_[2] = seed;
  acc_[3] = seed - kPrime1;
}

void XxHash64::Update(const void* data, size_t len) {
  if (len == 0) return;  // also keeps memcpy away from a null `data`
  const unsigned char* p = static_cast<const unsigned char*>(data);
  total_len_ += len;
  // Top up a partial stripe first.
  if (buffered_ > 0) {
    size_t take = kStripe - buffered_;
    if (take > len) take = len;
    std::memcpy(buffer_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    len -= take;
    if (buffered_ < kStripe) return;
    ConsumeStripe(acc_, buffer_);
    buffered_ = 0;
  }
  while (len >= kStripe) {
    ConsumeStripe(acc_, p);
    p += kStripe;
    len -= kStripe;
  }
  if (len > 0) {
    std::memcpy(buffer_, p, len);
    buffered_ = len;
  }
}

uint64_t XxHash64::Digest() const {
  uint64_t h;
  if (total_len_ >= kStripe) {
    h = Rotl(acc_[0], 1) + Rotl(acc_[1], 7) + Rotl(acc_[2], 12) +
        Rotl(acc_[3], 18);
    for (int i = 0; i < 4; ++i) h = MergeAccumulator(h, acc_[i]);
  } else {
    // Short input: the accumulators were never used.
    h = seed_ + kPrime5;
  }
  h += total_len_;

  // The tail: whatever did not fill a stripe, in 8-, 4- and 1-byte steps.
  const unsigned char* p = buffer_;
  size_t rest = buffered_;
  while (rest >= 8) {
    h ^= Round(0, Load64(p));
    h = Rotl(h, 27) * kPrime1 + kPrime4;
    p += 8;
    rest -= 8;
  }
  if (rest >= 4) {
    h ^= static_cast<uint64_t>(Load32(p)) * kPrime1;
    h = Rotl(h, 23) * kPrime2 + kPrime3;
    p += 4;
    rest -= 4;
  }
  while (rest > 0) {
    h ^= static_cast<uint64_t>(*p) * kPrime5;
    h = Rotl(h, 11) * kPrime1;
    ++p;
    --rest;
  }

  // Final avalanche.
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

uint64_t XxHash64Of(const void* data, size_t len, uint64_t seed) {
  XxHash64 hasher(seed);
  hasher.Update(data, len);
  return hasher.Digest();
}

}  // namespace internal
}  // namespace object_alloc_test
}  // namespace allocators
