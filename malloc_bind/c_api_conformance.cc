// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "malloc_bind/c_api_conformance.h"

#include <errno.h>
#include <stdint.h>

#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace malloc_bind {
namespace {

bool Aligned(const void* p, size_t a) {
  return reinterpret_cast<uintptr_t>(p) % a == 0;
}

size_t Page() { return mmap_alloc::PageSize(); }

TEST_P(CApiConformanceTest, MallocZeroIsUniqueAndFreeable) {
  std::set<void*> seen;
  std::vector<void*> all;
  for (int i = 0; i < 100; ++i) {
    void* p = api().malloc(0);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(seen.insert(p).second);
    all.push_back(p);
  }
  for (void* p : all) api().free(p);
}

TEST_P(CApiConformanceTest, FreeNullIsANoOp) {
  api().free(nullptr);
  api().free_sized(nullptr, 0);
  api().free_aligned_sized(nullptr, 64, 0);
  EXPECT_EQ(api().malloc_usable_size(nullptr), 0u);
}

TEST_P(CApiConformanceTest, MallocAlignmentAndUsableSize) {
  std::vector<void*> all;
  for (size_t n = 1; n <= 4096; n += (n < 256 ? 1 : 61)) {
    auto* p = static_cast<unsigned char*>(api().malloc(n));
    ASSERT_NE(p, nullptr) << n;
    EXPECT_TRUE(Aligned(p, n >= 16 ? 16 : 8)) << n;
    const size_t usable = api().malloc_usable_size(p);
    EXPECT_GE(usable, n);
    std::memset(p, static_cast<int>(n & 0xff), usable);  // all usable bytes
    all.push_back(p);
  }
  for (void* p : all) {
    const size_t usable = api().malloc_usable_size(p);
    const auto* b = static_cast<unsigned char*>(p);
    ASSERT_EQ(b[0], b[usable - 1]) << "a neighbour overwrote this block";
    api().free(p);
  }
}

TEST_P(CApiConformanceTest, ImpossibleSizesFailWithEnomem) {
  const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095,
                          SIZE_MAX / 2 + 1, static_cast<size_t>(PTRDIFF_MAX) + 1};
  for (size_t n : sizes) {
    errno = 0;
    EXPECT_EQ(api().malloc(n), nullptr) << n;
    EXPECT_EQ(errno, ENOMEM) << n;
  }
  // Every size within 70 000 bytes of the top (rounding must never wrap).
  for (size_t k = 0; k < 70000; k += 7) {
    errno = 0;
    ASSERT_EQ(api().malloc(SIZE_MAX - k), nullptr) << k;
    ASSERT_EQ(errno, ENOMEM);
  }
}

TEST_P(CApiConformanceTest, CallocZeroesAndChecksOverflow) {
  // Reused memory must come back zeroed.
  for (size_t n : {size_t{16}, size_t{100}, size_t{5000}, size_t{3} << 20}) {
    auto* p = static_cast<unsigned char*>(api().malloc(n));
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xff, n);
    api().free(p);
    auto* q = static_cast<unsigned char*>(api().calloc(1, n));
    ASSERT_NE(q, nullptr);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(q[i], 0) << n << " " << i;
    api().free(q);
  }
  // Bigger and much smaller than a dirty block just freed (which an
  // allocator may grow or shrink to serve the calloc).
  const size_t pairs[][2] = {{size_t{1} << 20, size_t{3} << 20},
                             {size_t{16} << 20, (size_t{1} << 20) + 5}};
  for (const auto& [dirty, n] : pairs) {
    void* p = api().malloc(dirty);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xff, dirty);
    api().free(p);
    auto* q = static_cast<unsigned char*>(api().calloc(n, 1));
    ASSERT_NE(q, nullptr);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(q[i], 0) << n << " " << i;
    api().free(q);
  }
  void* z = api().calloc(0, 16);
  EXPECT_NE(z, nullptr);
  api().free(z);
  errno = 0;
  EXPECT_EQ(api().calloc(SIZE_MAX / 2 + 1, 2), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(api().calloc(size_t{1} << 32, size_t{1} << 32), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST_P(CApiConformanceTest, ReallocSemantics) {
  auto* p = static_cast<unsigned char*>(api().realloc(nullptr, 10));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 10; ++i) p[i] = static_cast<unsigned char>(i);
  // Grow through small, medium and large sizes; the prefix survives.
  for (size_t n : {size_t{100}, size_t{5000}, size_t{200000}, size_t{3} << 20,
                   size_t{5} << 20, size_t{1000}, size_t{10}}) {
    p = static_cast<unsigned char*>(api().realloc(p, n));
    ASSERT_NE(p, nullptr) << n;
    for (int i = 0; i < 10; ++i) ASSERT_EQ(p[i], i) << n;
    EXPECT_GE(api().malloc_usable_size(p), n);
  }
  // Failure leaves the block intact.
  errno = 0;
  EXPECT_EQ(api().realloc(p, SIZE_MAX - 10), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p[i], i);
  // realloc(p, 0) frees p and returns NULL, like glibc.
  EXPECT_EQ(api().realloc(p, 0), nullptr);
  void* q = api().realloc(nullptr, 0);
  EXPECT_NE(q, nullptr);
  api().free(q);
}

TEST_P(CApiConformanceTest, ReallocArray) {
  auto* p = static_cast<int*>(api().reallocarray(nullptr, 10, sizeof(int)));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 10; ++i) p[i] = i;
  errno = 0;
  EXPECT_EQ(api().reallocarray(p, SIZE_MAX / 2, 4), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p[i], i);
  p = static_cast<int*>(api().reallocarray(p, 1000, sizeof(int)));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p[i], i);
  api().free(p);
}

TEST_P(CApiConformanceTest, PosixMemalign) {
  void* const kUntouched = reinterpret_cast<void*>(0x1234);
  for (size_t bad : {size_t{0}, size_t{3}, size_t{4}, size_t{24}, size_t{48},
                     sizeof(void*) / 2}) {
    void* out = kUntouched;
    EXPECT_EQ(api().posix_memalign(&out, bad, 16), EINVAL) << bad;
    EXPECT_EQ(out, kUntouched);
  }
  for (size_t a = sizeof(void*); a <= (size_t{4} << 20); a *= 2) {
    for (size_t n : {size_t{0}, size_t{1}, a - 1, a, a + 1}) {
      void* out = kUntouched;
      ASSERT_EQ(api().posix_memalign(&out, a, n), 0) << a << " " << n;
      ASSERT_NE(out, kUntouched);
      ASSERT_TRUE(Aligned(out, a)) << a << " " << n;
      if (n > 0) std::memset(out, 0xab, n);
      api().free(out);
    }
  }
  void* out = kUntouched;
  EXPECT_EQ(api().posix_memalign(&out, 64, SIZE_MAX - 100), ENOMEM);
  EXPECT_EQ(out, kUntouched);
}

TEST_P(CApiConformanceTest, AlignedAlloc) {
  for (size_t bad : {size_t{0}, size_t{3}, size_t{48}, size_t{100}}) {
    errno = 0;
    EXPECT_EQ(api().aligned_alloc(bad, 96), nullptr) << bad;
    EXPECT_EQ(errno, EINVAL) << bad;
  }
  // Sizes need not be multiples of the alignment (DR 460).
  for (size_t a = 1; a <= (size_t{64} << 20); a *= 2) {
    for (size_t n : {size_t{1}, a / 2 + 1, a, 3 * a}) {
      if (n > (size_t{64} << 20)) continue;
      void* p = api().aligned_alloc(a, n);
      ASSERT_NE(p, nullptr) << a << " " << n;
      ASSERT_TRUE(Aligned(p, a)) << a << " " << n;
      EXPECT_GE(api().malloc_usable_size(p), n);
      api().free_aligned_sized(p, a, n);
    }
  }
  errno = 0;
  EXPECT_EQ(api().aligned_alloc(4096, SIZE_MAX - 4095), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

// Blocks below 16 bytes may be only 8-aligned from malloc, but an explicit
// 16-byte alignment must hold for them too. Many blocks are kept live at
// once so that some land on odd multiples of 8 (found by c_api_fuzzer).
TEST_P(CApiConformanceTest, SixteenByteAlignmentOfSmallBlocks) {
  std::vector<void*> live;
  for (size_t n = 0; n <= 16; ++n) {
    for (int k = 0; k < 16; ++k) {
      void* out = nullptr;
      ASSERT_EQ(api().posix_memalign(&out, 16, n), 0) << n;
      live.push_back(out);
      live.push_back(api().aligned_alloc(16, n));
      live.push_back(api().memalign(16, n));
      live.push_back(api().memalign(9, n));  // rounded up to 16
    }
  }
  for (void* p : live) {
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(Aligned(p, 16)) << p;
  }
  for (void* p : live) api().free(p);
}

TEST_P(CApiConformanceTest, MemallocRoundsAlignmentUpLikeGlibc) {
  void* p = api().memalign(48, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(Aligned(p, 64));
  api().free(p);
  p = api().memalign(0, 100);
  ASSERT_NE(p, nullptr);
  api().free(p);
  errno = 0;
  EXPECT_EQ(api().memalign(SIZE_MAX / 2 + 2, 1), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

TEST_P(CApiConformanceTest, VallocAndPvalloc) {
  const size_t page = Page();
  void* v = api().valloc(1);
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(Aligned(v, page));
  api().free(v);
  void* p0 = api().pvalloc(0);
  ASSERT_NE(p0, nullptr);
  EXPECT_TRUE(Aligned(p0, page));
  EXPECT_GE(api().malloc_usable_size(p0), page);
  std::memset(p0, 1, page);
  api().free(p0);
  void* p1 = api().pvalloc(page + 1);
  ASSERT_NE(p1, nullptr);
  EXPECT_GE(api().malloc_usable_size(p1), 2 * page);
  api().free(p1);
  errno = 0;
  EXPECT_EQ(api().pvalloc(SIZE_MAX - 100), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST_P(CApiConformanceTest, FreeSized) {
  for (size_t n : {size_t{1}, size_t{64}, size_t{3000}, size_t{2} << 20}) {
    void* p = api().malloc(n);
    ASSERT_NE(p, nullptr);
    api().free_sized(p, n);
  }
}

// Blocks allocated on one thread and freed on another, with contents
// checked on the way.
TEST_P(CApiConformanceTest, CrossThreadFrees) {
  constexpr int kN = 20000;
  std::vector<unsigned char*> blocks(kN);
  std::vector<size_t> sizes(kN);
  std::mt19937_64 rng(7);
  std::thread producer([&] {
    for (int i = 0; i < kN; ++i) {
      sizes[i] = 1 + rng() % (i % 100 == 0 ? 300000 : 600);
      blocks[i] = static_cast<unsigned char*>(api().malloc(sizes[i]));
      ASSERT_NE(blocks[i], nullptr);
      std::memset(blocks[i], i & 0xff, sizes[i]);
    }
  });
  producer.join();
  std::thread consumer([&] {
    for (int i = 0; i < kN; ++i) {
      ASSERT_EQ(blocks[i][0], i & 0xff);
      ASSERT_EQ(blocks[i][sizes[i] - 1], i & 0xff);
      api().free(blocks[i]);
    }
  });
  consumer.join();
}

}  // namespace
}  // namespace malloc_bind
}  // namespace allocators
