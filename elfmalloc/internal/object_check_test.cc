// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The free-time object-start check (IsObjectStart) against the plain
// definition, at every offset of every class's slag: it must accept exactly
// the object starts, or free() would either reject a valid pointer or let an
// interior pointer into a cache. Likewise sized free's range check.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "elfmalloc/internal/class_layout.h"
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

// Every test runs on the default layout and on the hardened build's (whose
// slags end in a guard page).
template <typename Hardened>
class ObjectCheckTest : public ::testing::Test {
 protected:
  static constexpr bool kHardened = Hardened::value;
  static constexpr const auto& kGeometry = kGeneralGeometry<kHardened>;
  static constexpr const auto& kChecks = kObjectChecks<kHardened>;
};
using Layouts = ::testing::Types<std::false_type, std::true_type>;
TYPED_TEST_SUITE(ObjectCheckTest, Layouts);

TYPED_TEST(ObjectCheckTest, AcceptsExactlyTheObjectStartsOfEveryClass) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = TestFixture::kGeometry[c];
    size_t starts = 0;
    for (uint64_t off = 0; off < g.slag_bytes; ++off) {
      const bool want = IsObjectStartByDivision(g, off);
      ASSERT_EQ(IsObjectOffset(TestFixture::kChecks[c], off), want)
          << "class " << c << " size " << g.object_size << " offset " << off;
      starts += want;
    }
    EXPECT_EQ(starts, g.n_objects) << "class " << c;
  }
}

TYPED_TEST(ObjectCheckTest, UsesTheAddressWithinItsSlag) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = TestFixture::kGeometry[c];
    // A slag-aligned base far from zero: only the offset may matter.
    const uintptr_t base = uintptr_t{0x7f1200000000};
    ASSERT_EQ(base % g.slag_bytes, 0u);
    const auto at = [&](uint64_t off) {
      return IsObjectStart<TestFixture::kHardened>(
          c, reinterpret_cast<const void*>(base + off));
    };
    EXPECT_TRUE(at(g.objects_offset));
    EXPECT_EQ(at(g.objects_offset + g.object_size), g.n_objects > 1);
    EXPECT_FALSE(at(g.objects_offset + g.object_size / 2));
    EXPECT_FALSE(at(0));
  }
}

// The check masks after subtracting, so any address works: only its
// offset within its slag may matter, wherever the slag lies.
TYPED_TEST(ObjectCheckTest, OnlyTheOffsetWithinTheSlagMatters) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = TestFixture::kGeometry[c];
    const ObjectCheck& k = TestFixture::kChecks[c];
    const uint64_t offsets[] = {0,
                                1,
                                g.objects_offset - 1,
                                g.objects_offset,
                                g.objects_offset + 1,
                                g.objects_offset + g.object_size,
                                g.slag_bytes - g.object_size,
                                g.slag_bytes - 1};
    for (uint64_t slag : {uint64_t{1}, uint64_t{0x7f12345}, ~uint64_t{0}}) {
      const uint64_t base = slag * g.slag_bytes;  // mod 2^64
      for (uint64_t off : offsets) {
        ASSERT_EQ(IsObjectOffset(k, base + off), IsObjectOffset(k, off))
            << "class " << c << " slag " << slag << " offset " << off;
      }
    }
  }
}

// Every general geometry meets the check's exactness conditions, and the
// conditions reject what they must (a slag of 2^32 bytes or more would let
// offsets wrap the multiply).
TYPED_TEST(ObjectCheckTest, ExactnessConditions) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    EXPECT_TRUE(ObjectCheckIsExact(TestFixture::kGeometry[c])) << "class " << c;
  }
  SlagGeometry g = TestFixture::kGeometry[3];
  g.slag_bytes = uint64_t{1} << 33;
  EXPECT_FALSE(ObjectCheckIsExact(g));
  g = TestFixture::kGeometry[3];
  g.object_size = 1;
  EXPECT_FALSE(ObjectCheckIsExact(g));
}

// Sized free's range check against the definition, at every size up to
// twice the largest class.
TEST(SizedRangeTest, MatchesSizeFitsClassAtEverySize) {
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
