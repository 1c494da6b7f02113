// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Fuzz target: the size-class mapping (size_classes.h) and the aligned class
// choice (internal/class_layout.h AlignedClass) for sizes and alignments taken
// from the input, checked against definitions written independently of the
// lookup tables:
//
//   SizeToClass(n)       the smallest class whose size is >= n, or
//                        kNumClasses (a large object) iff n > kMaxSmallSize;
//                        monotonic in n; equal to ClassForSizeSlow
//   ClassSize            strictly increasing, class 0 is 8 bytes, the last
//                        is kMaxSmallSize
//   ClassAlignment(c)    a power of two dividing ClassSize(c); >= 16 for
//                        every class but the word class
//   AlignedClass(n, a)   the smallest class with size >= n and alignment
//                        >= a, or kNumClasses when none exists
//
// Input: records of 10 bytes (missing bytes read as 0): a selector byte, an
// 8-byte little-endian value and an alignment byte. The selector shapes the
// value into a size (raw, below 2 MiB, near a class boundary, near a power
// of two); the alignment is 2^(byte % 64). Each record is checked at the
// size and its neighbours n - 2 .. n + 2. A violation traps.

#include <stddef.h>
#include <stdint.h>

#include <cstdio>

#include "elfmalloc/internal/class_layout.h"
#include "elfmalloc/size_classes.h"

namespace allocators {
namespace elfmalloc {
namespace {

[[noreturn]] void Fail(const char* what, size_t a, size_t b) {
  std::fprintf(stderr, "size_class_fuzzer: %s (%zu, %zu)\n", what, a, b);
  __builtin_trap();
}

void Check(bool ok, const char* what, size_t a, size_t b = 0) {
  if (__builtin_expect(!ok, 0)) Fail(what, a, b);
}

// The reference answers: linear scans of the class list.
size_t ExpectedClass(size_t n) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    if (kClassSizes[c] >= n) return c;
  }
  return kNumClasses;
}

size_t ExpectedAlignedClass(size_t n, size_t align) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    if (kClassSizes[c] >= n && ClassAlignment(c) >= align) return c;
  }
  return kNumClasses;
}

void CheckTable() {
  Check(kNumClasses > 1 && ClassSize(0) == 8, "word class", ClassSize(0));
  Check(ClassSize(kNumClasses - 1) == kMaxSmallSize, "last class",
        ClassSize(kNumClasses - 1));
  for (size_t c = 0; c < kNumClasses; ++c) {
    const size_t a = ClassAlignment(c);
    Check(a != 0 && (a & (a - 1)) == 0, "alignment not a power of two", c, a);
    Check(ClassSize(c) % a == 0, "alignment does not divide the size", c, a);
    Check(c == 0 || a >= 16, "class below 16-byte alignment", c, a);
    Check(c == 0 || ClassSize(c) > ClassSize(c - 1), "sizes not increasing",
          c);
  }
}

void CheckSize(size_t n) {
  const size_t c = SizeToClass(n);
  Check(c == ExpectedClass(n), "SizeToClass is not the smallest fit", n, c);
  Check(c == internal::ClassForSizeSlow(n),
        "SizeToClass differs from ClassForSizeSlow", n, c);
  Check((c == kNumClasses) == (n > kMaxSmallSize), "large boundary", n, c);
  if (c < kNumClasses) {
    Check(ClassSize(c) >= n, "class too small", n, ClassSize(c));
    Check(c == 0 || ClassSize(c - 1) < n, "a smaller class fits", n, c);
  }
  if (n > 0) {
    Check(SizeToClass(n - 1) <= c, "SizeToClass not monotonic", n, c);
  }
}

void CheckAligned(size_t n, size_t align) {
  const size_t c = internal::AlignedClass(n, align);
  Check(c == ExpectedAlignedClass(n, align), "AlignedClass not minimal", n,
        align);
  if (c < kNumClasses) {
    Check(ClassSize(c) >= n, "aligned class too small", n, c);
    Check(ClassAlignment(c) >= align, "aligned class under-aligned", align, c);
  }
}

size_t Shape(uint8_t sel, uint64_t v) {
  switch (sel % 5) {
    case 0:
      return v;
    case 1:
      return v % (2 * kMaxSmallSize);
    case 2:  // a class boundary -4 .. +3
      return ClassSize(v % kNumClasses) + (v >> 8) % 8 - 4;
    case 3:  // a power of two -4 .. +3 (wraps around at 0 and 2^64)
      return (size_t{1} << (v % 64)) + (v >> 8) % 8 - 4;
    default:
      return v % 4096;
  }
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace allocators::elfmalloc;  // NOLINT(build/namespaces)
  CheckTable();
  size_t pos = 0;
  auto byte = [&]() -> uint8_t { return pos < size ? data[pos++] : 0; };
  do {
    const uint8_t sel = byte();
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{byte()} << (8 * i);
    const size_t align = size_t{1} << (byte() % 64);
    const size_t n = Shape(sel, v);
    for (size_t d = 0; d < 5; ++d) {
      const size_t m = n + d - 2;  // wraps at 0 and SIZE_MAX: both are checked
      CheckSize(m);
      CheckAligned(m, align);
      CheckAligned(m, 1);
      CheckAligned(m, 16);
    }
  } while (pos < size);
  return 0;
}
