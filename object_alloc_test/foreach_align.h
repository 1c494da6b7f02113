// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Alignment sweeps for allocator tests (the original's `foreach_align`).

#ifndef OBJECT_ALLOC_TEST_FOREACH_ALIGN_H_
#define OBJECT_ALLOC_TEST_FOREACH_ALIGN_H_

#include <cstddef>
#include <cstdint>

namespace allocators {
namespace object_alloc_test {

// Calls f(a), in increasing order, for every power of two `a` with
//
//   min_align <= a <= min(size, max_align)   and   size % a == 0.
//
// Exactly the original's loop: start at min_align, double while
// a <= size && a <= max_align, call f when a divides size. Consequences:
// - if max_align < min_align (or size < min_align) f is never called; no
//   fallback call is made;
// - when min_align divides size (always true for the typed overload, since a
//   type's size is a multiple of its alignment) and max_align >= min_align,
//   f(min_align) is always the first call;
// - a power of two that does not divide size has no larger power of two that
//   does, so the calls are min_align, 2*min_align, ... up to the largest
//   power of two dividing size, capped at max_align.
// REQUIRES: min_align is a power of two.
template <typename F>
void ForEachAlign(size_t size, size_t min_align, size_t max_align, F f) {
  for (size_t a = min_align; a <= size && a <= max_align; a *= 2) {
    if (size % a == 0) f(a);
    if (a > SIZE_MAX / 2) break;  // a *= 2 would overflow
  }
}

// ForEachAlign over sizeof(T) starting at alignof(T): every valid alignment
// of T not greater than max_align. Argument order follows the original
// (`foreach_align::<T>(f, max)`).
template <typename T, typename F>
void ForEachAlign(F f, size_t max_align) {
  ForEachAlign(sizeof(T), alignof(T), max_align, f);
}

}  // namespace object_alloc_test
}  // namespace allocators

#endif  // OBJECT_ALLOC_TEST_FOREACH_ALIGN_H_
