// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/internal/geometry.h"

#include <cstddef>
#include <cstdint>
#include <optional>

#include "object_alloc/object_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace internal {
namespace {

using object_alloc::Layout;

// round_up(x, align) for a power-of-two align; 0 on overflow.
size_t RoundUp(size_t x, size_t align) {
  size_t r;
  if (__builtin_add_overflow(x, align - 1, &r)) return 0;
  return r & ~(align - 1);
}

// The smallest power of two >= x (x >= 1); 0 on overflow.
size_t NextPow2(size_t x) {
  if (x <= 1) return 1;
  const int bits = 64 - __builtin_clzll(static_cast<unsigned long long>(x - 1));
  if (bits >= static_cast<int>(sizeof(size_t) * 8)) return 0;
  return size_t{1} << bits;
}

// The first candidate of a kind.
size_t FirstCandidate(Layout layout, size_t page, SlabKind kind) {
  return kind == SlabKind::kAligned ? page : layout.size / page * page;
}

// The candidate after `c`, or 0 when it is not representable.
size_t NextCandidate(size_t c, size_t page, SlabKind kind) {
  size_t next;
  if (kind == SlabKind::kAligned) {
    if (__builtin_mul_overflow(c, size_t{2}, &next)) return 0;
  } else {
    if (__builtin_add_overflow(c, page, &next)) return 0;
  }
  return next;
}

// The smallest candidate of `kind` that is >= bytes, or 0 on overflow.
// Large candidates are every page multiple from the first one on, aligned
// candidates every power of two from one page on.
size_t SmallestCandidateAtLeast(size_t bytes, size_t page, SlabKind kind) {
  if (kind == SlabKind::kAligned) {
    const size_t p = NextPow2(bytes);
    return p == 0 ? 0 : (p < page ? page : p);
  }
  return RoundUp(bytes, page);
}

// unused_a / objects_a <= unused_b / objects_b, exactly. The original
// compared f64 quotients; cross-multiplying gives the same order without
// rounding.
bool RatioLeq(size_t unused_a, size_t objects_a, size_t unused_b,
              size_t objects_b) {
  using U128 = unsigned __int128;
  return static_cast<U128>(unused_a) * objects_b <=
         static_cast<U128>(unused_b) * objects_a;
}

// Running state of the choice: the best candidate so far and its ratio.
struct Choice {
  size_t best = 0;
  bool have_min = false;
  size_t min_unused = 0;
  size_t min_objects = 1;
  size_t seen_objects = 0;  // objects in the last candidate offered

  // Feeds candidate `size` with geometry `g`. Returns false when the scan
  // must stop (see SizeLimits).
  bool Offer(size_t size, const SlabGeometry& g, const SizeLimits& limits) {
    if (g.num_obj > limits.max_objects) {
      if (best == 0) best = size;
      return false;
    }
    seen_objects = g.num_obj;
    if (!have_min || RatioLeq(g.unused, g.num_obj, min_unused, min_objects)) {
      best = size;
      have_min = true;
      min_unused = g.unused;
      min_objects = g.num_obj;
    }
    return true;
  }

  // True if candidate `size` is past the byte limit and need not be looked
  // at (nor any larger one).
  bool PastByteLimit(size_t size, const SizeLimits& limits) const {
    return size > limits.max_bytes && best != 0 &&
           seen_objects >= limits.min_objects;
  }
};

}  // namespace

size_t SlabGeometry::BytesFor(size_t n, size_t obj_size, size_t obj_align) {
  size_t stack_bytes, header_and_stack, objects, total;
  if (__builtin_mul_overflow(n, kStackEntrySize, &stack_bytes)) return 0;
  if (__builtin_add_overflow(kStackOffset, stack_bytes, &header_and_stack)) {
    return 0;
  }
  const size_t array_offset = RoundUp(header_and_stack, obj_align);
  if (array_offset == 0) return 0;
  if (__builtin_mul_overflow(n, obj_size, &objects)) return 0;
  if (__builtin_add_overflow(array_offset, objects, &total)) return 0;
  return total;
}

std::optional<SlabGeometry> GeometryFor(Layout layout, size_t slab_size) {
  const size_t size = layout.size;
  const size_t align = layout.align;
  if (slab_size <= kStackOffset) return std::nullopt;
  // Every object costs its own bytes plus one stack word, so this bounds the
  // count from above; alignment padding (< align <= size) can only take away
  // one or two objects, so the loop below runs at most a couple of times.
  size_t n = (slab_size - kStackOffset) / (kStackEntrySize + size);
  while (n > 0) {
    const size_t need = SlabGeometry::BytesFor(n, size, align);
    if (need != 0 && need <= slab_size) break;
    --n;
  }
  if (n == 0) return std::nullopt;
  SlabGeometry g;
  g.slab_size = slab_size;
  g.obj_size = size;
  g.obj_align = align;
  g.num_obj = n;
  g.array_offset = RoundUp(kStackOffset + n * kStackEntrySize, align);
  g.unused = slab_size - g.array_offset - n * size;
  g.max_color = g.unused / align * align;
  return g;
}

size_t ChooseSlabSize(Layout layout, size_t page, SlabKind kind,
                      SizeLimits limits) {
  Choice choice;
  size_t c = FirstCandidate(layout, page, kind);
  for (;;) {
    if (choice.PastByteLimit(c, limits)) break;
    const std::optional<SlabGeometry> g = GeometryFor(layout, c);
    size_t objects = 0;
    if (g.has_value()) {
      if (!choice.Offer(c, *g, limits)) break;
      objects = g->num_obj;
    }
    // Every candidate between here and the first one that holds more
    // objects holds exactly as many as `c` with strictly more unused bytes,
    // so it can neither win (ties must be equal) nor stop the scan before
    // that candidate would (the byte limit, once passed, stays passed): jump
    // straight to the first candidate with more objects.
    const size_t need =
        SlabGeometry::BytesFor(objects + 1, layout.size, layout.align);
    if (need == 0) break;
    const size_t next = NextCandidate(c, page, kind);
    const size_t jump = SmallestCandidateAtLeast(need, page, kind);
    if (next == 0 || jump == 0) break;
    c = next > jump ? next : jump;
  }
  return choice.best;
}

size_t ChooseSlabSizeByScan(Layout layout, size_t page, SlabKind kind,
                            SizeLimits limits) {
  Choice choice;
  // The first large candidate may be 0 (objects under a page); 0 from
  // NextCandidate means overflow.
  size_t c = FirstCandidate(layout, page, kind);
  for (;;) {
    if (choice.PastByteLimit(c, limits)) break;
    const std::optional<SlabGeometry> g = GeometryFor(layout, c);
    if (g.has_value() && !choice.Offer(c, *g, limits)) break;
    c = NextCandidate(c, page, kind);
    if (c == 0) break;
  }
  return choice.best;
}

Layout InternalLayout(Layout layout, size_t min_align) {
  const size_t align = layout.align > min_align ? layout.align : min_align;
  const size_t size = RoundUp(layout.size, align);
  return Layout{size, align};
}

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators
