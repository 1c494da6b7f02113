// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// slab_alloc::PoolResource: std::pmr containers and absl::flat_hash_map on
// it, blocks from the right class (and upstream beyond 2 KiB), alignment,
// and the one-line errors for a block handed back with another size, an
// unknown or twice-freed large block, and destruction with a live block.

#include "slab_alloc/memory_resource.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory_resource>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"

namespace allocators {
namespace slab_alloc {
namespace {

// Counts what reaches the upstream resource.
class CountingResource final : public std::pmr::memory_resource {
 public:
  size_t live = 0;

 private:
  void* do_allocate(size_t bytes, size_t align) override {
    ++live;
    return std::pmr::new_delete_resource()->allocate(bytes, align);
  }
  void do_deallocate(void* p, size_t bytes, size_t align) override {
    --live;
    std::pmr::new_delete_resource()->deallocate(p, bytes, align);
  }
  bool do_is_equal(const memory_resource& o) const noexcept override {
    return this == &o;
  }
};

TEST(PoolResourceTest, ServesContainers) {
  CountingResource upstream;
  {
    PoolResource pool(&upstream);
    std::pmr::map<int, std::pmr::string> m(&pool);
    for (int i = 0; i < 5000; ++i) m.emplace(i, std::pmr::string(50, 'p'));
    for (int i = 0; i < 5000; ++i) ASSERT_EQ(m.at(i), std::pmr::string(50, 'p'));
    absl::flat_hash_map<int, int, absl::Hash<int>, std::equal_to<int>,
                        std::pmr::polymorphic_allocator<std::pair<const int, int>>>
        f(&pool);
    for (int i = 0; i < 20000; ++i) f[i] = i * 3;
    for (int i = 0; i < 20000; ++i) ASSERT_EQ(f.at(i), i * 3);
    std::pmr::vector<int> v(&pool);
    for (int i = 0; i < 100000; ++i) v.push_back(i);  // outgrows the pool
    EXPECT_GT(upstream.live, 0u);
    EXPECT_GT(pool.live_blocks(PoolResource::kNumClasses - 1) +
                  pool.live_blocks(3),
              0u);
  }
  EXPECT_EQ(upstream.live, 0u);
}

TEST(PoolResourceTest, ClassesAndAlignment) {
  CountingResource upstream;
  PoolResource pool(&upstream);
  for (size_t size : {1, 16, 17, 100, 129, 2000, 2048}) {
    void* p = pool.allocate(size, 8);
    EXPECT_EQ(upstream.live, 0u) << size;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << size;
    pool.deallocate(p, size, 8);
  }
  for (size_t align : {32, 64, 256, 1024, 2048}) {
    void* p = pool.allocate(20, align);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align;
    pool.deallocate(p, 20, align);
  }
  void* big = pool.allocate(2049, 16);
  EXPECT_EQ(upstream.live, 1u);
  pool.deallocate(big, 2049, 16);
  void* aligned = pool.allocate(8, 4096);  // beyond the pool's classes
  EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % 4096, 0u);
  pool.deallocate(aligned, 8, 4096);
  EXPECT_EQ(upstream.live, 0u);
}

class PoolResourceDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(PoolResourceDeathTest, Misuse) {
  PoolResource pool;
  void* small = pool.allocate(48, 8);
  void* large = pool.allocate(5000, 8);
  EXPECT_DEATH(pool.deallocate(small, 5000, 8),
               "^slab_alloc: deallocate\\(\\): invalid pointer 0x[0-9a-f]+\n$");
  EXPECT_DEATH(pool.deallocate(large, 6000, 8),
               "^slab_alloc: deallocate\\(\\): size mismatch 0x[0-9a-f]+\n$");
  EXPECT_DEATH(pool.deallocate(small, 16, 8), "^slab_alloc: ");
  pool.deallocate(large, 5000, 8);
  EXPECT_DEATH(pool.deallocate(large, 5000, 8),
               "^slab_alloc: deallocate\\(\\): double free of 0x[0-9a-f]+\n$");
  pool.deallocate(small, 48, 8);
}

TEST_F(PoolResourceDeathTest, DestroyedWithALiveBlock) {
  EXPECT_DEATH(
      {
        PoolResource pool;
        void* p = pool.allocate(48, 8);
        static_cast<void>(p);
      },
      "^slab_alloc: ~PoolResource\\(\\): 1 block still allocated\n$");
}

}  // namespace
}  // namespace slab_alloc
}  // namespace allocators
