// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/internal/xxhash.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace object_alloc_test {
namespace internal {
namespace {

constexpr uint64_t kPrime32 = 2654435761u;
constexpr uint64_t kPrime64 = 11400714785074694797ull;

// The input of xxHash's own sanity check: byte i is the top byte of
// kPrime32 * kPrime64^i (mod 2^64).
std::vector<unsigned char> SanityBuffer(size_t len) {
  std::vector<unsigned char> buf(len);
  uint64_t gen = kPrime32;
  for (size_t i = 0; i < len; ++i) {
    buf[i] = static_cast<unsigned char>(gen >> 56);
    gen *= kPrime64;
  }
  return buf;
}

struct Vector {
  size_t len;
  uint64_t seed;
  uint64_t expected;
};

// Produced by the reference C implementation (libxxhash 0.8.1, XXH64()),
// covering every code path: short input (< 32 bytes) with 1-, 4- and 8-byte
// tails, exactly one stripe, stripes plus each kind of tail, and long input.
// The zero-length, 1-, 4-, 14- and 222-byte values at seeds 0 and kPrime32
// are also the published values of xxHash's own sanity test.
constexpr Vector kVectors[] = {
    {0, 0, 0xef46db3751d8e999ull},
    {0, kPrime32, 0xac75fda2929b17efull},
    {0, 0x00007f0012345678ull, 0x8e058478eb51e38full},
    {1, 0, 0xe934a84adb052768ull},
    {1, kPrime32, 0x5014607643a9b4c3ull},
    {3, 0, 0xff7e1959cb50794aull},
    {4, 0, 0x9136a0dca57457eeull},
    {4, kPrime32, 0xcaab286bd8e9fdb5ull},
    {7, 0, 0x6c83909a9f01ed25ull},
    {8, 0, 0xcdbcf538e71d1348ull},
    {14, 0, 0x8282dcc4994e35c8ull},
    {14, kPrime32, 0xc3bd6bf63deb6df0ull},
    {31, 0, 0x299b39a290e6d783ull},
    {32, 0, 0x18b216492bb44b70ull},
    {32, kPrime32, 0xb3f33bdf93ade409ull},
    {33, 0, 0x55c8dc3e578f5b59ull},
    {63, 0, 0xa9efbe0fa0f3f4e7ull},
    {64, 0, 0xef558f8acac2b5cdull},
    {100, 0, 0x4bfe019cd91d9ea4ull},
    {222, 0, 0xb641ae8cb691c174ull},
    {222, kPrime32, 0x20cb8ab7ae10c14aull},
    {222, 0x00007f0012345678ull, 0xcf73e7d5e2cd0661ull},
    {1024, 0, 0x4775bf7cace4d177ull},
    {2367, 0, 0xa82418ddec0ea581ull},
    {2367, 0x00007f0012345678ull, 0xc68c064cccb8b44aull},
};

TEST(XxHash64Test, EmptyInput) {
  EXPECT_EQ(XxHash64Of(nullptr, 0, 0), 0xEF46DB3751D8E999ull);
  EXPECT_EQ(XxHash64Of(nullptr, 0, 1), 0xD5AFBA1336A3BE4Bull);
}

TEST(XxHash64Test, Strings) {
  // Also from the reference library.
  EXPECT_EQ(XxHash64Of("a", 1, 0), 0xd24ec4f1a98c6e5bull);
  EXPECT_EQ(XxHash64Of("abc", 3, 0), 0x44bc2cf5ad770999ull);
  const char kFox[] = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(XxHash64Of(kFox, std::strlen(kFox), 0), 0x0b242d361fda71bcull);
  EXPECT_EQ(XxHash64Of(kFox, std::strlen(kFox), 1), 0xdf5091b6dad2c6dbull);
}

TEST(XxHash64Test, ReferenceVectors) {
  const std::vector<unsigned char> buf = SanityBuffer(2367);
  for (const Vector& v : kVectors) {
    EXPECT_EQ(XxHash64Of(buf.data(), v.len, v.seed), v.expected)
        << "len " << v.len << " seed " << v.seed;
  }
}

TEST(XxHash64Test, StreamingMatchesOneShotAtEverySplit) {
  const std::vector<unsigned char> buf = SanityBuffer(222);
  const uint64_t expected = 0xb641ae8cb691c174ull;
  for (size_t split = 0; split <= buf.size(); ++split) {
    XxHash64 h(0);
    h.Update(buf.data(), split);
    h.Update(buf.data() + split, buf.size() - split);
    EXPECT_EQ(h.Digest(), expected) << "split at " << split;
  }
}

TEST(XxHash64Test, ByteAtATimeAndDigestIsRepeatable) {
  const std::vector<unsigned char> buf = SanityBuffer(2367);
  XxHash64 h(0x00007f0012345678ull);
  for (unsigned char c : buf) h.Update(&c, 1);
  EXPECT_EQ(h.Digest(), 0xc68c064cccb8b44aull);
  EXPECT_EQ(h.Digest(), 0xc68c064cccb8b44aull);  // Digest does not consume
  h.Update(nullptr, 0);
  EXPECT_EQ(h.Digest(), 0xc68c064cccb8b44aull);
}

}  // namespace
}  // namespace internal
}  // namespace object_alloc_test
}  // namespace allocators
