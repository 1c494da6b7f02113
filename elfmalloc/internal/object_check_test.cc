// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The free-time object-start check (IsObjectStart) against the plain
// definition, at every offset of every class's slag: it must accept exactly
// the object starts, or free() would either reject a valid pointer or let an
// interior pointer into a cache. Likewise sized free's range check.

#include <cstddef>
#include <cstdint>

#include "elfmalloc/internal/heap.h"
#include "elfmalloc/size_classes.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

bool IsObjectStartByDivision(const SlagGeometry& g, uint64_t off) {
  if (off < g.objects_offset) return false;
  const uint64_t rel = off - g.objects_offset;
  return rel % g.object_size == 0 && rel / g.object_size < g.n_objects;
}

TEST(ObjectCheckTest, AcceptsExactlyTheObjectStartsOfEveryClass) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = kGeneralGeometry[c];
    size_t starts = 0;
    for (uint64_t off = 0; off < g.slag_bytes; ++off) {
      const bool want = IsObjectStartByDivision(g, off);
      ASSERT_EQ(IsObjectOffset(kObjectChecks[c], off), want)
          << "class " << c << " size " << g.object_size << " offset " << off;
      starts += want;
    }
    EXPECT_EQ(starts, g.n_objects) << "class " << c;
  }
}

TEST(ObjectCheckTest, UsesTheAddressWithinItsSlag) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = kGeneralGeometry[c];
    // A slag-aligned base far from zero: only the offset may matter.
    const uintptr_t base = uintptr_t{0x7f1200000000};
    ASSERT_EQ(base % g.slag_bytes, 0u);
    const auto at = [&](uint64_t off) {
      return IsObjectStart(c, reinterpret_cast<const void*>(base + off));
    };
    EXPECT_TRUE(at(g.objects_offset));
    EXPECT_EQ(at(g.objects_offset + g.object_size), g.n_objects > 1);
    EXPECT_FALSE(at(g.objects_offset + g.object_size / 2));
    EXPECT_FALSE(at(0));
  }
}

// Offsets far outside a slag, as a wrapped subtraction produces them.
TEST(ObjectCheckTest, RejectsWrappedOffsets) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const ObjectCheck& k = kObjectChecks[c];
    const uint64_t size = kGeneralGeometry[c].object_size;
    for (uint64_t back = 1; back <= 4 * size; ++back) {
      // offset = objects_offset - back, i.e. off wraps to 2^64 - back.
      ASSERT_FALSE(IsObjectOffset(k, k.objects_offset - back))
          << "class " << c << " back " << back;
    }
  }
}

// Sized free's range check against the definition, at every size up to
// twice the largest class.
TEST(ObjectCheckTest, SizedRangeMatchesSizeFitsClassAtEverySize) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    for (size_t s = 1; s <= 2 * kMaxSmallSize; ++s) {
      ASSERT_EQ(SizeFitsClassUnaligned(s, c), SizeFitsClass(s, 0, c))
          << "class " << c << " size " << s;
    }
  }
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
