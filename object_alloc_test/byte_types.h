// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Plain byte-array types of 47 sizes from 1 to 8192 bytes, for running
// allocator tests once per object size (the original's `types` module).
//
// The sizes are every power of two, every midpoint x + x/2 between powers of
// two, and a prime between neighbouring even sizes, up to 8 KiB. Each type is
// `ByteN<N>` with alias `ByteN` (e.g. `Byte1277`), alignment 1, and is
// zero-initialised by default.
//
// The original instantiated a macro per type (`call_for_all_types_prefix!`).
// Here the types form a TypeList; MapTypeList applies a template to each and
// ApplyTypeList hands the result to any variadic template, e.g.
//
//   using MyTypes = ApplyTypeList<::testing::Types,
//                                 MapTypeList<MyCase, AllByteTypes>>;
//
// which is how conformance.h builds its 47 gtest type parameters.

#ifndef OBJECT_ALLOC_TEST_BYTE_TYPES_H_
#define OBJECT_ALLOC_TEST_BYTE_TYPES_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace allocators {
namespace object_alloc_test {

// N bytes, zeroed by default. Trivially copyable, like the original's
// `#[derive(Copy)] ByteN([u8; N])`.
template <size_t N>
struct ByteN {
  static constexpr size_t kSize = N;
  uint8_t bytes[N] = {};
};

using Byte1 = ByteN<1>;
using Byte2 = ByteN<2>;
using Byte3 = ByteN<3>;
using Byte4 = ByteN<4>;
using Byte5 = ByteN<5>;
using Byte6 = ByteN<6>;
using Byte7 = ByteN<7>;
using Byte8 = ByteN<8>;
using Byte11 = ByteN<11>;
using Byte12 = ByteN<12>;
using Byte13 = ByteN<13>;
using Byte16 = ByteN<16>;
using Byte19 = ByteN<19>;
using Byte24 = ByteN<24>;
using Byte29 = ByteN<29>;
using Byte32 = ByteN<32>;
using Byte41 = ByteN<41>;
using Byte48 = ByteN<48>;
using Byte59 = ByteN<59>;
using Byte64 = ByteN<64>;
using Byte73 = ByteN<73>;
using Byte96 = ByteN<96>;
using Byte113 = ByteN<113>;
using Byte128 = ByteN<128>;
using Byte157 = ByteN<157>;
using Byte192 = ByteN<192>;
using Byte229 = ByteN<229>;
using Byte256 = ByteN<256>;
using Byte317 = ByteN<317>;
using Byte384 = ByteN<384>;
using Byte457 = ByteN<457>;
using Byte512 = ByteN<512>;
using Byte617 = ByteN<617>;
using Byte768 = ByteN<768>;
using Byte1024 = ByteN<1024>;
using Byte1277 = ByteN<1277>;
using Byte1536 = ByteN<1536>;
using Byte1777 = ByteN<1777>;
using Byte2048 = ByteN<2048>;
using Byte2557 = ByteN<2557>;
using Byte3072 = ByteN<3072>;
using Byte3539 = ByteN<3539>;
using Byte4096 = ByteN<4096>;
using Byte5119 = ByteN<5119>;
using Byte6144 = ByteN<6144>;
using Byte7151 = ByteN<7151>;
using Byte8192 = ByteN<8192>;

// The sizes of all byte types, ascending.
inline constexpr std::array<size_t, 47> kAllByteSizes = {
    1,    2,    3,    4,    5,    6,    7,    8,    11,   12,   13,   16,
    19,   24,   29,   32,   41,   48,   59,   64,   73,   96,   113,  128,
    157,  192,  229,  256,  317,  384,  457,  512,  617,  768,  1024, 1277,
    1536, 1777, 2048, 2557, 3072, 3539, 4096, 5119, 6144, 7151, 8192};

// A compile-time list of types.
template <typename... Ts>
struct TypeList {
  static constexpr size_t kSize = sizeof...(Ts);
};

// All 47 byte types, in the order of kAllByteSizes.
using AllByteTypes =
    TypeList<Byte1, Byte2, Byte3, Byte4, Byte5, Byte6, Byte7, Byte8, Byte11,
             Byte12, Byte13, Byte16, Byte19, Byte24, Byte29, Byte32, Byte41,
             Byte48, Byte59, Byte64, Byte73, Byte96, Byte113, Byte128, Byte157,
             Byte192, Byte229, Byte256, Byte317, Byte384, Byte457, Byte512,
             Byte617, Byte768, Byte1024, Byte1277, Byte1536, Byte1777, Byte2048,
             Byte2557, Byte3072, Byte3539, Byte4096, Byte5119, Byte6144,
             Byte7151, Byte8192>;

// Thirteen of them: below the tester's minimum (padded), odd, powers of
// two and the largest. For allocators whose behaviour cannot depend on the
// object size, such as the suite's own reference allocators; every real
// allocator runs all 47.
using SampleByteTypes =
    TypeList<Byte1, Byte2, Byte3, Byte8, Byte13, Byte16, Byte24, Byte48,
             Byte113, Byte256, Byte1277, Byte4096, Byte8192>;

namespace internal {

template <template <typename> class F, typename List>
struct MapTypeListImpl;
template <template <typename> class F, typename... Ts>
struct MapTypeListImpl<F, TypeList<Ts...>> {
  using type = TypeList<F<Ts>...>;
};

template <template <typename...> class Target, typename List>
struct ApplyTypeListImpl;
template <template <typename...> class Target, typename... Ts>
struct ApplyTypeListImpl<Target, TypeList<Ts...>> {
  using type = Target<Ts...>;
};

template <typename... Ts>
constexpr bool SizesMatch(TypeList<Ts...>) {
  constexpr size_t kSizes[] = {sizeof(Ts)...};
  for (size_t i = 0; i < sizeof...(Ts); ++i) {
    if (kSizes[i] != kAllByteSizes[i]) return false;
    if (i > 0 && kAllByteSizes[i - 1] >= kAllByteSizes[i]) return false;
  }
  return true;
}

}  // namespace internal

// TypeList<F<T>...> for List = TypeList<T...>.
template <template <typename> class F, typename List>
using MapTypeList = typename internal::MapTypeListImpl<F, List>::type;

// Target<T...> for List = TypeList<T...>.
template <template <typename...> class Target, typename List>
using ApplyTypeList = typename internal::ApplyTypeListImpl<Target, List>::type;

static_assert(AllByteTypes::kSize == 47, "the original has 47 byte types");
static_assert(internal::SizesMatch(AllByteTypes{}),
              "each ByteN must be exactly N bytes, in ascending order");
static_assert(alignof(Byte8192) == 1);

}  // namespace object_alloc_test
}  // namespace allocators

#endif  // OBJECT_ALLOC_TEST_BYTE_TYPES_H_
