// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The general allocator's class layout, all computed at compile time: each
// size class's slag geometry, the free-time object-start check, the sizes a
// sized free may name for a class, and which class serves a size and an
// alignment. Testable without a heap; the static_asserts below check every
// class.
//
// The tables depend on one switch only, kHardened: the hardened build ends
// every slag with a guard page, which takes objects from the slag.
//
// Thread-safety: constants and pure functions.

#ifndef ELFMALLOC_INTERNAL_CLASS_LAYOUT_H_
#define ELFMALLOC_INTERNAL_CLASS_LAYOUT_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/page_map.h"
#include "elfmalloc/internal/slag_geometry.h"
#include "elfmalloc/size_classes.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// The slag layout of class c.
constexpr SlagGeometry GeneralGeometry(size_t c, bool hardened) {
  const size_t size = ClassSize(c);
  const size_t slag = kSlagBytes[SlagKindFor(size, hardened)];
  const size_t guard = hardened ? kHardenedGuardBytes : 0;
  return ComputeGeometry(size, slag, kCutoffFactor, slag - guard,
                         c == 0 ? 8 : 16);
}

template <bool kHardened>
constexpr std::array<SlagGeometry, kNumClasses> MakeGeneralGeometry() {
  std::array<SlagGeometry, kNumClasses> t{};
  for (size_t c = 0; c < kNumClasses; ++c) t[c] = GeneralGeometry(c, kHardened);
  return t;
}

template <bool kHardened>
inline constexpr std::array<SlagGeometry, kNumClasses> kGeneralGeometry =
    MakeGeneralGeometry<kHardened>();

template <bool kHardened>
constexpr bool GeneralGeometryIsValid() {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = kGeneralGeometry<kHardened>[c];
    if (!GeometryIsValid(g)) return false;
    // Padding never grows a class: usable sizes are exactly the classes.
    if (g.object_size != ClassSize(c)) return false;
    if (g.object_align < ClassAlignment(c)) return false;
    if (g.slag_bytes < PageMap::kGranule) return false;
  }
  return true;
}
static_assert(GeneralGeometryIsValid<false>() && GeneralGeometryIsValid<true>(),
              "every size class needs a valid slag layout with its alignment");

template <bool kHardened>
constexpr std::array<ObjectCheck, kNumClasses> MakeObjectChecks() {
  std::array<ObjectCheck, kNumClasses> t{};
  for (size_t c = 0; c < kNumClasses; ++c) {
    t[c] = MakeObjectCheck(kGeneralGeometry<kHardened>[c]);
  }
  return t;
}
// Internal linkage on purpose: each translation unit addresses its own copy
// directly, where a shared variable in a shared library costs a load of its
// address from the GOT on every free.
template <bool kHardened>
static constexpr std::array<ObjectCheck, kNumClasses> kObjectChecks =
    MakeObjectChecks<kHardened>();

template <bool kHardened>
constexpr bool ObjectChecksAreExact() {
  // Every class, at the offsets around its first and last objects and
  // around the end of the slag; object_check_test checks every offset.
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = kGeneralGeometry<kHardened>[c];
    const ObjectCheck& k = kObjectChecks<kHardened>[c];
    if (!ObjectCheckIsExact(g)) return false;
    const uint64_t first = g.objects_offset;
    const uint64_t last = first + (g.n_objects - 1) * g.object_size;
    if (!IsObjectOffset(k, first) || !IsObjectOffset(k, last)) return false;
    if (IsObjectOffset(k, first - 1) || IsObjectOffset(k, first + 1) ||
        IsObjectOffset(k, 0) || IsObjectOffset(k, last + g.object_size) ||
        IsObjectOffset(k, last - g.object_size / 2) ||
        IsObjectOffset(k, g.slag_bytes - 1)) {
      return false;
    }
  }
  return true;
}
static_assert(ObjectChecksAreExact<false>() && ObjectChecksAreExact<true>());

// True if `p`, which lies in a slag of class c, is the start of one of its
// objects. One table entry, a subtraction, a mask, a multiply and a
// comparison: cheap enough for every free, so an interior pointer is
// reported instead of being handed out again. The thread-cache path reads
// the same constants from its cache (CacheBase::IsObjectStart).
template <bool kHardened>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool IsObjectStart(size_t c,
                                                       const void* p) {
  const ObjectCheck& k = kObjectChecks<kHardened>[c];
  return IsObjectOffset(k, reinterpret_cast<uintptr_t>(p));
}

// The smallest class whose objects are `size` bytes or more and aligned to
// `align` (a power of two), or kNumClasses if there is none (large object).
constexpr size_t AlignedClass(size_t size, size_t align) {
  if (align <= 16) {
    const size_t c = SizeToClass(size);
    if (c < kNumClasses && ClassAlignment(c) >= align) return c;
    // Only the word class is less aligned: the 16-byte class is.
    return c == 0 ? 1 : c;
  }
  // Powers of two are self-aligned: round up to one at least `align`.
  size_t s = size < align ? align : size;
  if (s > kMaxSmallSize) return kNumClasses;
  size_t p = 1;
  while (p < s) p <<= 1;
  return SizeToClass(p);
}
static_assert(AlignedClass(8, 64) == SizeToClass(64));
static_assert(AlignedClass(100, 32) == SizeToClass(128));
static_assert(AlignedClass(1, 16) == SizeToClass(16));
static_assert(AlignedClass(kMaxSmallSize, kMaxSmallSize) == kNumClasses - 1);
static_assert(AlignedClass(16, size_t{2} << 20) == kNumClasses);

// True if an object of class c can be what a caller who asked for `size`
// bytes aligned to `align` (0: not given) holds: the class Alloc or
// AlignedAlloc picks for that request, or a bigger class that Realloc kept
// for it because it is less than twice the size (see Heap::Realloc).
ABSL_ATTRIBUTE_ALWAYS_INLINE constexpr bool SizeFitsClass(size_t size,
                                                          size_t align,
                                                          size_t c) {
  if (size > ClassSize(c)) return false;
  const size_t fit = AlignedClass(size, align == 0 ? 1 : align);
  return fit == c || (fit < c && size * 2 > ClassSize(c));
}
static_assert(SizeFitsClass(64, 0, SizeToClass(64)));
static_assert(!SizeFitsClass(4000, 0, SizeToClass(64)));
static_assert(!SizeFitsClass(16, 0, SizeToClass(64)));
static_assert(SizeFitsClass(100, 0, SizeToClass(192)));  // kept by Realloc
static_assert(SizeFitsClass(10, 64, SizeToClass(64)));

// SizeFitsClass without an alignment, as one range check: the sizes that
// fit class c are exactly (lo, ClassSize(c)] with lo the smaller of the
// previous class and half of c (Realloc keeps blocks down to half full).
// Sized delete, the common case, pays one table entry for it.
struct SizedRange {
  uint32_t lo_plus_one;  // the smallest size that fits
  uint32_t span;         // how many sizes fit
};

constexpr std::array<SizedRange, kNumClasses> MakeSizedRanges() {
  std::array<SizedRange, kNumClasses> t{};
  for (size_t c = 0; c < kNumClasses; ++c) {
    const size_t hi = ClassSize(c);
    size_t lo = 0;
    if (c > 0) lo = ClassSize(c - 1) < hi / 2 ? ClassSize(c - 1) : hi / 2;
    t[c] = SizedRange{static_cast<uint32_t>(lo + 1),
                      static_cast<uint32_t>(hi - lo)};
  }
  return t;
}
// Internal linkage, like kObjectChecks (no GOT load on the free path).
static constexpr std::array<SizedRange, kNumClasses> kSizedRanges =
    MakeSizedRanges();

// REQUIRES: size != 0. The same answer as SizeFitsClass(size, 0, c)
// (checked at every boundary below and at every size by object_check_test).
ABSL_ATTRIBUTE_ALWAYS_INLINE constexpr bool SizeFitsClassUnaligned(size_t size,
                                                                   size_t c) {
  const SizedRange& r = kSizedRanges[c];
  return size - r.lo_plus_one < r.span;
}

constexpr bool SizedRangesMatch() {
  for (size_t c = 0; c < kNumClasses; ++c) {
    for (size_t k = 0; k < kNumClasses; ++k) {
      const size_t b = ClassSize(k);
      for (size_t s : {b - 1, b, b + 1, b / 2, b / 2 + 1, b * 2}) {
        if (s != 0 && SizeFitsClassUnaligned(s, c) != SizeFitsClass(s, 0, c)) {
          return false;
        }
      }
    }
  }
  return true;
}
static_assert(SizedRangesMatch());

// The same for a large object of `usable` bytes last allocated or resized
// to `requested` bytes (large_alloc.h records both): at most its usable
// size, and less than 4 KiB short of the request.
constexpr bool SizeFitsLarge(size_t size, size_t usable, size_t requested) {
  return size <= usable && size + 4096 > requested;
}
static_assert(SizeFitsLarge(5000, 8192, 5000) &&
              SizeFitsLarge(8192, 8192, 5000) &&
              SizeFitsLarge(905, 8192, 5000) &&
              !SizeFitsLarge(904, 8192, 5000) &&
              !SizeFitsLarge(8193, 8192, 5000));

// The largest header (objects_offset) of any class whose slags are
// `slag_bytes` long: what the hardened build clears of a reused page.
template <bool kHardened>
constexpr size_t MaxObjectsOffset(size_t slag_bytes) {
  size_t m = 0;
  for (const SlagGeometry& g : kGeneralGeometry<kHardened>) {
    if (g.slag_bytes == slag_bytes && g.objects_offset > m) {
      m = g.objects_offset;
    }
  }
  return m;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_CLASS_LAYOUT_H_
