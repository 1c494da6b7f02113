// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/byte_types.h"

#include <type_traits>
#include <vector>

#include "gtest/gtest.h"

namespace allocators {
namespace object_alloc_test {
namespace {

template <typename... Ts>
std::vector<size_t> SizesOf(TypeList<Ts...>) {
  return {sizeof(Ts)...};
}

template <typename T>
struct Wrapped {
  T value;
};

template <typename... Ts>
struct Collect {
  static constexpr size_t kCount = sizeof...(Ts);
};

TEST(ByteTypesTest, SizesAreTheOriginals) {
  const std::vector<size_t> sizes = SizesOf(AllByteTypes{});
  ASSERT_EQ(sizes.size(), 47u);
  EXPECT_EQ(sizes,
            std::vector<size_t>(kAllByteSizes.begin(), kAllByteSizes.end()));
  EXPECT_EQ(sizes.front(), 1u);
  EXPECT_EQ(sizes.back(), 8192u);
}

TEST(ByteTypesTest, PowersOfTwoAndMidpointsArePresent) {
  auto has = [](size_t n) {
    for (size_t s : kAllByteSizes) {
      if (s == n) return true;
    }
    return false;
  };
  for (size_t p = 1; p <= 8192; p *= 2) {
    EXPECT_TRUE(has(p)) << p;
    if (p >= 4 && p < 8192) {
      EXPECT_TRUE(has(p + p / 2)) << p + p / 2;
    }
  }
}

TEST(ByteTypesTest, DefaultIsZeroedAndTriviallyCopyable) {
  static_assert(std::is_trivially_copyable_v<Byte1277>);
  static_assert(std::is_standard_layout_v<Byte1277>);
  Byte1277 b;
  for (uint8_t x : b.bytes) EXPECT_EQ(x, 0);
  Byte3 c{};
  c.bytes[1] = 7;
  Byte3 d = c;
  EXPECT_EQ(d.bytes[1], 7);
}

TEST(ByteTypesTest, MapAndApply) {
  using Mapped = MapTypeList<Wrapped, AllByteTypes>;
  static_assert(Mapped::kSize == 47);
  static_assert(std::is_same_v<ApplyTypeList<Collect, TypeList<int, char>>,
                               Collect<int, char>>);
  static_assert(ApplyTypeList<Collect, Mapped>::kCount == 47);
  const std::vector<size_t> sizes = SizesOf(Mapped{});
  EXPECT_EQ(sizes[46], 8192u);
}

}  // namespace
}  // namespace object_alloc_test
}  // namespace allocators
