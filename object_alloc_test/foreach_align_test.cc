// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/foreach_align.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "object_alloc_test/byte_types.h"
#include "object_alloc_test/corruption_tester.h"

namespace allocators {
namespace object_alloc_test {
namespace {

using Aligns = std::vector<size_t>;

template <typename T>
Aligns Collect(size_t max_align) {
  Aligns out;
  ForEachAlign<T>([&](size_t a) { out.push_back(a); }, max_align);
  return out;
}

Aligns Collect(size_t size, size_t min_align, size_t max_align) {
  Aligns out;
  ForEachAlign(size, min_align, max_align, [&](size_t a) { out.push_back(a); });
  return out;
}

TEST(ForEachAlignTest, TypedSweepsDivisorsUpToMax) {
  EXPECT_EQ(Collect<Byte1>(4096), (Aligns{1}));
  EXPECT_EQ(Collect<Byte12>(4096), (Aligns{1, 2, 4}));
  EXPECT_EQ(Collect<Byte13>(4096), (Aligns{1}));
  EXPECT_EQ(Collect<Byte96>(4096), (Aligns{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(Collect<Byte64>(16), (Aligns{1, 2, 4, 8, 16}));
  EXPECT_EQ(Collect<Byte8192>(4096).size(), 13u);  // 1 .. 4096
  EXPECT_EQ(Collect<Byte8192>(4096).back(), 4096u);
}

TEST(ForEachAlignTest, StartsAtAlignofT) {
  struct alignas(8) Eight {
    char c[24];
  };
  EXPECT_EQ(Collect<Eight>(4096), (Aligns{8}));  // 16 does not divide 24
  EXPECT_EQ(Collect<uint64_t>(4096), (Aligns{8}));
  struct alignas(16) Sixteen {
    char c[64];
  };
  EXPECT_EQ(Collect<Sixteen>(4096), (Aligns{16, 32, 64}));
}

TEST(ForEachAlignTest, NoCallWhenMaxIsBelowAlignof) {
  EXPECT_EQ(Collect<uint64_t>(4), Aligns{});
  EXPECT_EQ(Collect(24, 8, 4), Aligns{});
}

TEST(ForEachAlignTest, SizeOverload) {
  EXPECT_EQ(Collect(4096, 1, 4096).size(), 13u);
  EXPECT_EQ(Collect(6144, 64, 1u << 20),
            (Aligns{64, 128, 256, 512, 1024, 2048}));
  EXPECT_EQ(Collect(9, 1, 4096), (Aligns{1}));
  EXPECT_EQ(Collect(4, 8, 4096), Aligns{});  // size below min_align
}

TEST(ForEachAlignTest, TesterSizesMatchTheSuiteSweep) {
  // The conformance suite sweeps CorruptionTester<ByteN>, which is at least
  // kMinSize bytes with alignment 1.
  EXPECT_EQ(Collect<CorruptionTester<Byte1>>(4096), (Aligns{1}));
  EXPECT_EQ(Collect<CorruptionTester<Byte8>>(4096), (Aligns{1}));
  EXPECT_EQ(Collect<CorruptionTester<Byte24>>(4096), (Aligns{1, 2, 4, 8}));
}

}  // namespace
}  // namespace object_alloc_test
}  // namespace allocators
