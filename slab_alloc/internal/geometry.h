// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Slab geometry: where the header, the free-pointer stack and the objects go
// inside one slab, how many objects fit, how big a slab should be, and the
// colour offsets that stagger successive slabs.
//
// Layout of one slab (every slab is at least page-aligned):
//
//   0        32               array_offset  +colour
//   | header | stack: num_obj | pad to  | colour | obj 0 | ... | obj n-1 |
//   | 32 B   | words          | align   |        |       |     |         |
//
//   followed by the unused tail.
//
//   * The header is 32 bytes on 64-bit targets, so the stack that follows it
//     is already word-aligned (the "pre-stack padding" of the original is 0).
//   * The object array starts at array_offset = round_up(stack end, align),
//     plus the slab's colour, a multiple of align in [0, max_color].
//   * unused = slab_size - array_offset - num_obj * obj_size is the tail left
//     over with colour 0; colours are carved out of it, so every colour keeps
//     every object inside the slab.
//
// Everything here is a pure function of its arguments (the page size is a
// parameter, so tests can pin it); thread-safe.

#ifndef SLAB_ALLOC_INTERNAL_GEOMETRY_H_
#define SLAB_ALLOC_INTERNAL_GEOMETRY_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "object_alloc/object_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace internal {

// Target number of objects per slab used by the size choice (the original's
// OBJECTS_PER_SLAB).
inline constexpr size_t kObjectsPerSlab = 8;

// Size of the inline slab header ({count, owner, color, next, prev}) and the
// offset of the pointer stack, which follows it directly.
inline constexpr size_t kSlabHeaderSize = 32;
inline constexpr size_t kStackOffset = kSlabHeaderSize;
inline constexpr size_t kStackEntrySize = sizeof(uintptr_t);
static_assert(kStackOffset % alignof(uintptr_t) == 0,
              "the pointer stack must be word-aligned");

// The geometry of one slab of `slab_size` bytes holding objects of
// `obj_size` bytes aligned to `obj_align` (the cache's internal layout).
struct SlabGeometry {
  size_t slab_size = 0;
  size_t obj_size = 0;
  size_t obj_align = 1;
  size_t num_obj = 0;       // objects per slab, >= 1
  size_t array_offset = 0;  // offset of object 0 before colouring
  size_t unused = 0;        // tail bytes left with colour 0
  size_t max_color = 0;     // floor(unused / obj_align) * obj_align

  // The smallest slab that holds `n` objects of this layout, or 0 on
  // overflow. REQUIRES: n >= 1.
  static size_t BytesFor(size_t n, size_t obj_size, size_t obj_align);
};

// The original's Layout::for_slab_size: the largest number of objects (at
// least one) that fit in a slab of `slab_size` bytes, with the offsets that
// go with it. Returns nullopt if not even one object fits.
// REQUIRES: layout.IsValid(); layout.size is a multiple of layout.align; the
// slab will be aligned to at least layout.align.
std::optional<SlabGeometry> GeometryFor(object_alloc::Layout layout,
                                        size_t slab_size);

// The two kinds of slab (see SlabCache): aligned slabs are aligned to their
// own power-of-two size, so an object's slab is found by masking; large
// slabs are page-aligned multiples of the page size, found through a hash
// map.
enum class SlabKind { kAligned, kLarge };

// How far the slab-size scan goes. The scan stops at the first candidate
// holding more than `max_objects` objects, or at the first candidate larger
// than `max_bytes` once an earlier one held at least `min_objects`.
struct SizeLimits {
  size_t max_objects = kObjectsPerSlab;
  size_t max_bytes = SIZE_MAX;
  size_t min_objects = 0;
};

// The original's rule: at most kObjectsPerSlab objects, any size.
inline constexpr SizeLimits kOriginalLimits{};

// The rule for large slabs: up to 64 objects within 64 KiB, and beyond
// 64 KiB only until a slab holds kObjectsPerSlab objects. With 8, objects of
// about a page left up to 1/8 of each slab unused: wasted, and holes that
// slow the first writes to fresh objects (slab_alloc/README.md).
inline constexpr SizeLimits kLargeSlabLimits{64, size_t{64} << 10,
                                             kObjectsPerSlab};

// Aligned slabs are used only if their unused tail is at most 1/this of the
// slab (see kLargeSlabLimits for why holes matter); otherwise large slabs,
// which can grow until the tail is small, serve the cache.
inline constexpr size_t kMaxAlignedTailFraction = 16;

// The original's choose_size over the candidate sizes of `kind`, within
// `limits`:
//   aligned: page, 2*page, 4*page, ... (powers of two from one page);
//   large:   floor(size/page)*page, then + page, + 2*page, ...
// Scanning candidates in increasing order until `limits` stops it (see
// SizeLimits), it returns the candidate with the smallest
// unused-bytes-per-object, ties going to the later (larger) candidate; if
// the first candidate that fits anything already holds more than
// `limits.max_objects`, that candidate. Candidates that cannot hold one
// object are skipped.
// Returns 0 if no candidate is representable (object too large).
// REQUIRES: layout valid, size a multiple of align, align <= page; page a
// power of two.
size_t ChooseSlabSize(object_alloc::Layout layout, size_t page, SlabKind kind,
                      SizeLimits limits = kOriginalLimits);

// The reference version of ChooseSlabSize: the same rule, evaluated on every
// candidate one by one, exactly as the original iterates. ChooseSlabSize
// skips candidates that provably cannot win; tests check the two agree.
// Slow for very large objects (one step per page up to ~9 objects).
size_t ChooseSlabSizeByScan(object_alloc::Layout layout, size_t page,
                            SlabKind kind,
                            SizeLimits limits = kOriginalLimits);

// The internal layout of a cache: the user's layout with the stride rounded
// up to the alignment, then size and alignment raised to `min_align` (the
// original's satisfy_min_align; init tracking needs bit 0 of every object
// address, so it asks for 2).
// REQUIRES: layout valid; min_align a power of two.
object_alloc::Layout InternalLayout(object_alloc::Layout layout,
                                    size_t min_align);

// Hands out slab colours in the cycle 0, align, 2*align, ..., max_color, 0,
// ... (Bonwick's slab colouring: successive slabs start their objects at
// different cache-line offsets). With colouring disabled every colour is 0.
// A value type; thread-compatible.
class ColorCycle {
 public:
  ColorCycle() = default;
  // REQUIRES: max_color is a multiple of align.
  ColorCycle(size_t align, size_t max_color, bool enabled)
      : align_(align), max_color_(enabled ? max_color : 0) {}

  // Returns the colour for the next slab and advances the cycle.
  size_t Next() {
    const size_t color = cur_;
    cur_ = cur_ >= max_color_ ? 0 : cur_ + align_;
    return color;
  }

  size_t max_color() const { return max_color_; }

 private:
  size_t align_ = 1;
  size_t max_color_ = 0;
  size_t cur_ = 0;
};

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_INTERNAL_GEOMETRY_H_
