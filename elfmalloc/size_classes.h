// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// elfmalloc's size classes: the object sizes slags are carved into.
//
// Requests up to kMaxSmallSize bytes are rounded up to the smallest class
// that holds them; larger requests are large objects mapped on their own.
// The table keeps the original's classes up to 128 KiB and adds three
// between each pair of powers of two from 256 B on, as jemalloc, mimalloc
// and snmalloc do, so that no request of 256 B or more wastes more than a
// quarter of its size (the original's powers of two wasted up to half):
//
//   8                        word class (requests 0..8)
//   16, 32, ..., 192, 224    multiples of 16, then 224 (13 classes)
//   256 B .. 128 KiB         2^k, 1.25 * 2^k, 1.5 * 2^k, 1.75 * 2^k
//                            (37 classes)
//
// Every class except the word class is a multiple of 16, so malloc results
// of 16 bytes or more keep glibc's 16-byte alignment. Powers of two are
// aligned to their own size (slags place them so), which is how aligned
// allocation is served.
//
// The lookup is two constexpr tables (one byte per 8 bytes of request up to
// kSmallLookupMax, one byte per 128 bytes above), generated from kClassSizes
// at compile time so that a finer class list only changes kClassSizes.

#ifndef ELFMALLOC_SIZE_CLASSES_H_
#define ELFMALLOC_SIZE_CLASSES_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"

namespace allocators {
namespace elfmalloc {

inline constexpr size_t kMaxSmallSize = size_t{128} << 10;

// clang-format off
inline constexpr std::array<uint32_t, 51> kClassSizes = {
    8,                                                          // word
    16,     32,     48,     64,     80,     96,     112,  128,  // x16
    144,    160,    176,    192,    224,    256,                // x16, x32
    320,    384,    448,    512,    640,    768,    896,  1024,  // 4 per 2x
    1280,   1536,   1792,   2048,   2560,   3072,   3584, 4096,
    5120,   6144,   7168,   8192,   10240,  12288,  14336, 16384,
    20480,  24576,  28672,  32768,  40960,  49152,  57344, 65536,
    81920,  98304,  114688, 131072,
};
// clang-format on

inline constexpr size_t kNumClasses = kClassSizes.size();

namespace internal {

inline constexpr size_t kSmallLookupMax = 1024;  // 8-byte steps up to here
inline constexpr size_t kSmallStep = 8;
inline constexpr size_t kLargeStep = 128;  // then 128-byte steps

constexpr uint8_t ClassForSizeSlow(size_t size) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    if (size <= kClassSizes[c]) return static_cast<uint8_t>(c);
  }
  return static_cast<uint8_t>(kNumClasses);  // large object
}

// t[i] = ClassForSizeSlow(i * step) for i < n, in one sweep (sizes and
// classes both increase). Calling ClassForSizeSlow per entry is quadratic
// enough to exceed clang's constexpr step limit for the 8193-entry table.
constexpr void FillByStep(uint8_t* t, size_t n, size_t step) {
  size_t c = 0;
  for (size_t i = 0; i < n; ++i) {
    while (c < kNumClasses && i * step > kClassSizes[c]) ++c;
    t[i] = static_cast<uint8_t>(c);
  }
}

// kSmallTable[i]: class of a request of (i * 8) bytes, i.e. of any size in
// ((i - 1) * 8, i * 8]. Index = (size + 7) / 8.
constexpr std::array<uint8_t, kSmallLookupMax / kSmallStep + 1>
MakeSmallTable() {
  std::array<uint8_t, kSmallLookupMax / kSmallStep + 1> t{};
  FillByStep(t.data(), t.size(), kSmallStep);
  return t;
}

// kLargeTable[i]: class of a request of (i * 128) bytes. Valid because every
// class above kSmallLookupMax is a multiple of 128.
constexpr std::array<uint8_t, kMaxSmallSize / kLargeStep + 1>
MakeLargeTable() {
  std::array<uint8_t, kMaxSmallSize / kLargeStep + 1> t{};
  FillByStep(t.data(), t.size(), kLargeStep);
  return t;
}

inline constexpr auto kSmallTable = MakeSmallTable();
inline constexpr auto kLargeTable = MakeLargeTable();

constexpr bool ClassesAreValid() {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const size_t s = kClassSizes[c];
    if (c > 0 && s <= kClassSizes[c - 1]) return false;  // strictly increasing
    if (c > 0 && s % 16 != 0) return false;  // 16-byte alignment above 8
    if (s > kSmallLookupMax && s % kLargeStep != 0) return false;
  }
  return kClassSizes[0] == 8 && kClassSizes[kNumClasses - 1] == kMaxSmallSize;
}

}  // namespace internal

static_assert(internal::ClassesAreValid(),
              "size classes must increase, be multiples of 16 (after the "
              "word class), of 128 above 1 KiB, and end at kMaxSmallSize");
static_assert(kNumClasses < 0x70,
              "class indices + 1 are page-map tags below the user-heap bit, "
              "and user-heap tags stay below the SizedHeap ones");

// The class for a request of `size` bytes, or kNumClasses if size exceeds
// kMaxSmallSize (a large object). Size 0 maps to the smallest class.
ABSL_ATTRIBUTE_ALWAYS_INLINE constexpr size_t SizeToClass(size_t size) {
  if (size <= internal::kSmallLookupMax) {
    return internal::kSmallTable[(size + internal::kSmallStep - 1) /
                                 internal::kSmallStep];
  }
  if (size <= kMaxSmallSize) {
    return internal::kLargeTable[(size + internal::kLargeStep - 1) /
                                 internal::kLargeStep];
  }
  return kNumClasses;
}

// The object size of class `c`. REQUIRES: c < kNumClasses.
constexpr size_t ClassSize(size_t c) { return kClassSizes[c]; }

// The alignment every object of class `c` has: its size for powers of two,
// else the largest power of two dividing the size, capped at 16 (objects of
// other sizes are placed on 16-byte boundaries).
constexpr size_t ClassAlignment(size_t c) {
  const size_t s = kClassSizes[c];
  if ((s & (s - 1)) == 0) return s;
  return (s & (~s + 1)) < 16 ? (s & (~s + 1)) : 16;
}

// Spot checks of the mapping (the full sweep is in size_classes_test.cc).
static_assert(SizeToClass(0) == 0 && SizeToClass(8) == 0);
static_assert(SizeToClass(9) == 1 && SizeToClass(16) == 1);
static_assert(ClassSize(SizeToClass(193)) == 224);
static_assert(ClassSize(SizeToClass(1025)) == 1280);
static_assert(ClassSize(SizeToClass(kMaxSmallSize)) == kMaxSmallSize);
static_assert(SizeToClass(kMaxSmallSize + 1) == kNumClasses);
static_assert(ClassAlignment(SizeToClass(48)) == 16);
static_assert(ClassAlignment(SizeToClass(4096)) == 4096);

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_SIZE_CLASSES_H_
