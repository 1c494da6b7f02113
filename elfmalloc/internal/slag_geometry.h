// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Slag geometry: how objects of one size are laid out in one slag.
//
//   slag (slag_bytes, aligned to slag_bytes)
//   +--------+-------------------+---------+--------------------------------+
//   | header | bitset            | padding | objects (n_objects x size) ... |
//   | 64 B   | n_bitset_words x8 |         |                                |
//   +--------+-------------------+---------+--------------------------------+
//   0        64                            objects_offset
//
// The bitset marks free objects. To avoid a division on every free, a bit
// stands for a power-of-two "granule" of 2^bit_shift bytes rather than for
// an object: object i starts at objects_offset + i * object_size and is
// represented by bit (i * bits_per_object), where bits_per_object =
// object_size >> bit_shift. The bit of pointer p is therefore
// (p - objects) >> bit_shift, a shift instead of a divide.
//
// ComputeGeometry() is the original's exhaustive search (compute_metadata):
// for every granule 2^s, s = 1 .. log2(next_pow2(size)), pad the object to
// a multiple of the granule, fit as many objects as the usable bytes allow,
// and score the layout by utilisation (n * size / usable). A granule whose
// objects need more than 64 bits of "slush" across a word boundary is
// invalid (negative score). Ties within 1e-5 go to fewer bitset words.
//
// Alignment: powers of two are aligned to their own size (padding after the
// bitset), as in the original; every other size is aligned to `align`
// (16 for the general classes). The original aligned non-powers of two only
// to 8, which the C API cannot accept; for the default classes this changes
// no object count (see slag_geometry_test.cc, which checks the original's
// derived table).
//
// Everything here is constexpr so that the general allocator's table is
// computed at compile time and checked with static_assert.

#ifndef ELFMALLOC_INTERNAL_SLAG_GEOMETRY_H_
#define ELFMALLOC_INTERNAL_SLAG_GEOMETRY_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// Bytes reserved for the slag header; the bitset starts here.
inline constexpr size_t kSlagHeaderBytes = 64;
inline constexpr size_t kBitsPerWord = 64;

struct SlagGeometry {
  size_t object_size = 0;      // padded object size (a multiple of the granule)
  size_t n_objects = 0;        // objects per slag, >= 1
  size_t n_bitset_words = 0;   // 64-bit words in the bitset
  size_t slag_bytes = 0;       // power of two; the slag is aligned to it
  size_t usable_bytes = 0;     // bytes of the slag the layout may use
  size_t objects_offset = 0;   // first object, from the slag start
  size_t bit_shift = 0;        // log2 of the granule one bit stands for
  size_t bits_per_object = 0;  // object_size >> bit_shift
  size_t cutoff = 0;           // free objects that make a slag "available"
  size_t object_align = 0;     // every object's address is a multiple of this
  uint64_t object_mask = 0;    // the first bitset word of a fresh slag
  // Lemire's divisibility constant for bits_per_object: a bit index i
  // (< 2^32) starts an object iff i * div_magic <= div_magic - 1. Lets a
  // free validate its pointer without a division.
  uint64_t div_magic = 0;
  double score = 0;  // utilisation n * size / usable (negative: bad)

  // The address of object `bit` (a bit index with an object's first granule).
  constexpr size_t ObjectOffset(size_t bit) const {
    return objects_offset + (bit << bit_shift);
  }
};

namespace geometry_detail {

constexpr bool IsPow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

constexpr size_t NextPow2(size_t x) {
  size_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

constexpr size_t Log2(size_t pow2) {
  size_t s = 0;
  while ((size_t{1} << s) < pow2) ++s;
  return s;
}

constexpr size_t RoundUp(size_t x, size_t to) { return (x + to - 1) / to * to; }

constexpr double Abs(double x) { return x < 0 ? -x : x; }

constexpr size_t BitsetBytes(size_t n_objects, size_t bits_per_object) {
  return (n_objects * bits_per_object + kBitsPerWord - 1) / kBitsPerWord * 8;
}

// Where objects start for a layout of n objects.
constexpr size_t ObjectsOffset(size_t n, size_t bits_per_object,
                               size_t object_align) {
  return RoundUp(kSlagHeaderBytes + BitsetBytes(n, bits_per_object),
                 object_align);
}

constexpr size_t TotalBytes(size_t n, size_t padded, size_t bits_per_object,
                            size_t object_align) {
  return ObjectsOffset(n, bits_per_object, object_align) + n * padded;
}

// The layout for one granule shift.
constexpr SlagGeometry Candidate(size_t size, size_t slag_bytes, size_t shift,
                                 double cutoff_factor, size_t usable,
                                 size_t align) {
  SlagGeometry g;
  const size_t granule = size_t{1} << shift;
  const size_t padded = RoundUp(size, granule);
  const size_t bpo = padded >> shift;
  const size_t object_align = IsPow2(padded) ? padded : align;
  // The largest n whose layout fits (at least 1, as in the original).
  size_t lo = 1;
  size_t hi = usable / padded + 1;
  while (lo + 1 < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (TotalBytes(mid, padded, bpo, object_align) <= usable) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const size_t n = lo;
  const size_t slush = bpo - (kBitsPerWord % bpo);
  double score = static_cast<double>(n * size) / static_cast<double>(usable);
  if (TotalBytes(n, padded, bpo, object_align) > usable) score = -score;
  if (slush > kBitsPerWord) score = -Abs(score);
  g.object_size = padded;
  g.n_objects = n;
  g.n_bitset_words = BitsetBytes(n, bpo) / 8;
  g.slag_bytes = slag_bytes;
  g.usable_bytes = usable;
  g.objects_offset = ObjectsOffset(n, bpo, object_align);
  g.bit_shift = shift;
  g.bits_per_object = bpo;
  const size_t cut =
      static_cast<size_t>(static_cast<double>(n) * cutoff_factor);
  g.cutoff = cut < 1 ? 1 : cut;
  g.object_align = object_align;
  g.score = score;
  g.div_magic = UINT64_MAX / bpo + 1;  // wraps to 0 for bpo == 1: all pass
  for (size_t bit = 0; bit < kBitsPerWord; bit += bpo) {
    g.object_mask |= uint64_t{1} << bit;
  }
  return g;
}

}  // namespace geometry_detail

// The best layout of objects of `size` bytes in slags of `slag_bytes`,
// using at most `usable` bytes of each (min(usable, slag_bytes)).
// REQUIRES: slag_bytes is a power of two; size > 0; align is a power of two
// and size is a multiple of align (callers round sizes up); the header,
// bitset and one object fit in the usable bytes.
constexpr SlagGeometry ComputeGeometry(size_t size, size_t slag_bytes,
                                       double cutoff_factor, size_t usable,
                                       size_t align) {
  using namespace geometry_detail;  // NOLINT(build/namespaces): local helpers
  if (usable > slag_bytes) usable = slag_bytes;
  SlagGeometry best;
  best.score = -10;
  best.n_bitset_words = 1000;
  const size_t max_shift = Log2(NextPow2(size));
  for (size_t shift = 1; shift <= max_shift; ++shift) {
    const SlagGeometry c =
        Candidate(size, slag_bytes, shift, cutoff_factor, usable, align);
    if (best.score < c.score || (Abs(best.score - c.score) < 1e-5 &&
                                 best.n_bitset_words > c.n_bitset_words)) {
      best = c;
    }
  }
  return best;
}

// True if `g` is internally consistent: used by static_asserts and tests.
constexpr bool GeometryIsValid(const SlagGeometry& g) {
  using namespace geometry_detail;  // NOLINT(build/namespaces): local helpers
  if (g.n_objects == 0 || g.score <= 0 || !IsPow2(g.slag_bytes)) return false;
  if (g.object_size != (g.bits_per_object << g.bit_shift)) return false;
  if (g.objects_offset % g.object_align != 0) return false;
  if (g.object_size % g.object_align != 0) return false;
  if (g.objects_offset < kSlagHeaderBytes + g.n_bitset_words * 8) return false;
  if (g.objects_offset + g.n_objects * g.object_size > g.usable_bytes) {
    return false;
  }
  if (g.n_bitset_words * kBitsPerWord < g.n_objects * g.bits_per_object) {
    return false;
  }
  return g.cutoff >= 1 && g.cutoff <= g.n_objects;
}

// What a free needs to validate a pointer of one class without touching the
// slag: 24 bytes a free reads with its other hot fields. The offset and mask
// fit 32 bits because the check is only exact for slags under 4 GiB
// (ObjectCheckIsExact), and loading them zero-extended costs nothing.
//
// The test is Lemire, Kaser and Kurz's divisibility check ("Faster
// remainder by direct computation", 2019) with the range folded into its
// bound. Take the object size d, c = floor(2^64 / d) + 1 and
// e = c * d - 2^64, so 0 < e <= d. For off = j * d + r (r < d) below the
// slag size, off * c mod 2^64 is j * e + r * c without wrapping (the bound
// below makes sure): j * e when r == 0, at least c otherwise. So with
// limit = n_objects * e (<= c), "off * c < limit" holds exactly when off is
// a multiple of d and j < n_objects: one multiply and one comparison, no
// shift or rotate. off is taken as (address - objects_offset) & slag_mask,
// so the address needs no masking first, and header addresses (below the
// object area) wrap to the slag's end, past every object, and fail too.
struct ObjectCheck {
  uint32_t objects_offset;  // first object, from the slag start
  uint32_t slag_mask;       // slag_bytes - 1
  uint64_t multiplier;      // c
  uint64_t limit;           // n_objects * e
};
// Front-end caches keep one in their hot cache line (CacheBase).
static_assert(sizeof(ObjectCheck) == 24);

constexpr ObjectCheck MakeObjectCheck(const SlagGeometry& g) {
  const uint64_t d = g.object_size;
  uint64_t c = ~uint64_t{0} / d + 1;  // floor((2^64 - 1) / d) + 1
  if ((d & (d - 1)) == 0) ++c;        // d divides 2^64: floor(2^64 / d) + 1
  const uint64_t e = c * d;           // mod 2^64
  return ObjectCheck{static_cast<uint32_t>(g.objects_offset),
                     static_cast<uint32_t>(g.slag_bytes - 1), c,
                     g.n_objects * e};
}

// True if MakeObjectCheck(g) is exact for g (see ObjectCheck): offsets
// within the slag stay below 2^32, j * e + r * c never wraps for any of
// them, and no non-multiple reaches below the limit.
constexpr bool ObjectCheckIsExact(const SlagGeometry& g) {
  const uint64_t d = g.object_size;
  if (d < 2 || g.slag_bytes > (uint64_t{1} << 32)) return false;
  const ObjectCheck k = MakeObjectCheck(g);
  const uint64_t e = k.multiplier * d;
  if (e == 0 || e > d) return false;
  // The largest j is (slag_bytes - 1) / d; (j + 1) * e < c keeps
  // j * e + (d - 1) * c = 2^64 + (j + 1) * e - c below 2^64.
  return (g.slag_bytes / d + 1) * e < k.multiplier && k.limit <= k.multiplier;
}

// True if `address` (any address in a slag of the layout `k` describes, or
// an offset from the slag start) is the start of one of its objects.
ABSL_ATTRIBUTE_ALWAYS_INLINE constexpr bool IsObjectOffset(const ObjectCheck& k,
                                                           uint64_t address) {
  return ((address - uint64_t{k.objects_offset}) & uint64_t{k.slag_mask}) *
             k.multiplier <
         k.limit;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_SLAG_GEOMETRY_H_
