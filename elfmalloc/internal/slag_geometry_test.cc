// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/slag_geometry.h"

#include <cstddef>

#include "elfmalloc/internal/class_layout.h"
#include "elfmalloc/size_classes.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

// The original's derived geometry table for its size classes: class size,
// slag bytes, objects, granule, cutoff. (Its 256 KiB and 1 MiB classes are
// large objects here; their rows still check the layout computation.)
struct Expected {
  size_t size, slag, objects, granule, cutoff;
};
constexpr Expected kOriginalTable[] = {
    {8, 256 << 10, 32256, 8, 19353},   {16, 256 << 10, 16253, 16, 9751},
    {32, 256 << 10, 8158, 32, 4894},   {48, 256 << 10, 5417, 16, 3250},
    {64, 256 << 10, 4087, 64, 2452},   {96, 256 << 10, 2719, 32, 1631},
    {128, 256 << 10, 2045, 128, 1227}, {192, 256 << 10, 1362, 64, 817},
    {256, 256 << 10, 1023, 256, 613},  {512, 256 << 10, 511, 512, 306},
    {1024, 256 << 10, 255, 1024, 153}, {2048, 256 << 10, 127, 2048, 76},
    {4096, 256 << 10, 63, 4096, 37},   {8192, 256 << 10, 31, 4096, 18},
    {16384, 256 << 10, 15, 4096, 9},   {32768, 256 << 10, 7, 4096, 4},
    {65536, 2 << 20, 31, 32768, 18},   {262144, 2 << 20, 7, 32768, 4},
    {1 << 20, 2 << 20, 1, 16384, 1},
};

TEST(SlagGeometryTest, ReproducesTheOriginalTable) {
  for (const Expected& e : kOriginalTable) {
    // The original's cutoff factor (this build's default, kCutoffFactor,
    // is lower).
    const SlagGeometry g =
        ComputeGeometry(e.size, e.slag, 0.6, e.slag, e.size == 8 ? 8 : 16);
    if (e.size <= kMaxSmallSize) {
      const size_t c = SizeToClass(e.size);
      ASSERT_EQ(ClassSize(c), e.size);
      if (kGeneralGeometry<false>[c].slag_bytes == e.slag) {
        EXPECT_EQ(kGeneralGeometry<false>[c].n_objects, g.n_objects);
      }
    }
    EXPECT_EQ(g.slag_bytes, e.slag) << e.size;
    EXPECT_EQ(g.n_objects, e.objects) << e.size;
    EXPECT_EQ(size_t{1} << g.bit_shift, e.granule) << e.size;
    EXPECT_EQ(g.cutoff, e.cutoff) << e.size;
  }
}

TEST(SlagGeometryTest, EveryClassIsValidAndAligned) {
  for (bool hardened : {false, true}) {
    for (size_t c = 0; c < kNumClasses; ++c) {
      const SlagGeometry& g =
          hardened ? kGeneralGeometry<true>[c] : kGeneralGeometry<false>[c];
      EXPECT_TRUE(GeometryIsValid(g)) << ClassSize(c);
      EXPECT_EQ(g.object_size, ClassSize(c));
      EXPECT_EQ(g.objects_offset % ClassAlignment(c), 0u) << ClassSize(c);
      EXPECT_EQ(g.object_size % ClassAlignment(c), 0u) << ClassSize(c);
    }
  }
}

// The hardened build's slags end in a guard page that no object reaches;
// the guard costs a class no more than the objects it covers, plus one.
TEST(SlagGeometryTest, HardenedObjectsStopBeforeTheGuard) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = kGeneralGeometry<true>[c];
    EXPECT_LE(g.objects_offset + g.n_objects * g.object_size,
              g.slag_bytes - kHardenedGuardBytes)
        << ClassSize(c);
    EXPECT_GE(g.n_objects + kHardenedGuardBytes / g.object_size + 1,
              kGeneralGeometry<false>[c].n_objects)
        << ClassSize(c);
  }
}

// The divisibility constant accepts exactly the object-start bits.
TEST(SlagGeometryTest, DivMagicMatchesModulo) {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = kGeneralGeometry<false>[c];
    const size_t bits = g.n_objects * g.bits_per_object;
    for (size_t i = 0; i < bits; ++i) {
      const bool magic = i * g.div_magic <= g.div_magic - 1;
      ASSERT_EQ(magic, i % g.bits_per_object == 0) << ClassSize(c) << " " << i;
    }
  }
}

// The original's metadata_basic smoke cases (size, slag, usable): each must
// produce a consistent layout.
TEST(SlagGeometryTest, OriginalSmokeCases) {
  struct Case {
    size_t size, slag, usable;
  };
  const Case cases[] = {{8, 4096, 4},       {16, 4096, 1024},
                        {24, 4096, 1024},   {127, 4096, 1024},
                        {800, 2 << 20, 32 << 10}, {514, 4096, 1024},
                        {513, 2 << 20, 1024},     {768, 4096, 1024},
                        {800, 4096, 32 << 10},    {1025, 4096, 32 << 10}};
  for (const Case& k : cases) {
    const SlagGeometry g = ComputeGeometry(k.size, k.slag, 0.6, k.usable, 8);
    EXPECT_GE(g.n_objects, 1u);
    EXPECT_GE(g.object_size, k.size);
    EXPECT_GE(g.cutoff, 1u);
    EXPECT_LE(g.cutoff, g.n_objects);
    EXPECT_EQ(g.object_size, g.bits_per_object << g.bit_shift);
    // (8, 4096, 4): not even the header fits in 4 usable bytes; the search
    // still returns one object with a negative score, as the original did.
    if (g.score > 0) {
      EXPECT_TRUE(GeometryIsValid(g)) << k.size;
    }
  }
}

TEST(SlagGeometryTest, AlignedClassHonoursAlignment) {
  for (size_t align = 1; align <= kMaxSmallSize; align *= 2) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{8}, size_t{24}, size_t{100},
                        align / 2, align, align + 1, size_t{65536}}) {
      const size_t c = AlignedClass(size, align);
      if (c == kNumClasses) {
        EXPECT_GT(size > align ? size : align, kMaxSmallSize);
        continue;
      }
      EXPECT_GE(ClassSize(c), size);
      EXPECT_GE(kGeneralGeometry<false>[c].object_align, align)
          << size << " " << align;
    }
  }
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
