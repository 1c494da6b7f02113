// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/internal/ptr_map.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace internal {
namespace {

struct Value {};
using Map = PtrHashMap<Value>;

Value* V(uintptr_t x) { return reinterpret_cast<Value*>(x); }

// The original's basic_map_functionality: 2^20 keys, a table sized for
// them, every get returns its value, delete the even keys, the odd ones are
// still there (and here also: the even ones are gone).
TEST(PtrHashMapTest, MillionKeys) {
  constexpr size_t kKeys = size_t{1} << 20;
  constexpr uintptr_t kBase = 0x7f0000000000;
  Map map(kKeys, 8);
  auto key = [](size_t i) { return kBase + 8 * i; };
  for (size_t i = 0; i < kKeys; ++i) ASSERT_TRUE(map.Insert(key(i), V(i + 1)));
  EXPECT_EQ(map.size(), kKeys);
  EXPECT_EQ(map.bucket_count(), kKeys);  // never needed to grow
  for (size_t i = 0; i < kKeys; ++i) ASSERT_EQ(map.Find(key(i)), V(i + 1));
  map.CheckInvariants();
  for (size_t i = 0; i < kKeys; i += 2) map.Delete(key(i));
  EXPECT_EQ(map.size(), kKeys / 2);
  for (size_t i = 0; i < kKeys; ++i) {
    ASSERT_EQ(map.Find(key(i)), i % 2 == 1 ? V(i + 1) : nullptr) << i;
  }
  map.CheckInvariants();
}

// The same keys, starting from a one-bucket table: 20 doublings on the way
// up, and halvings on the way down as keys are deleted.
TEST(PtrHashMapTest, GrowsAndShrinksThroughMillionKeys) {
  constexpr size_t kKeys = size_t{1} << 20;
  const uintptr_t page = mmap_alloc::PageSize();
  const uintptr_t base = page * 0x1000;
  Map map(1, page);
  auto key = [&](size_t i) { return base + page * i; };
  for (size_t i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(map.Insert(key(i), V(i + 1)));
    // Grows exactly when, at an insert, entries == buckets.
    if (((i + 1) & i) == 0) {
      ASSERT_EQ(map.bucket_count(), i + 1);
    }
  }
  EXPECT_EQ(map.bucket_count(), kKeys);
  map.CheckInvariants();
  // Sequential pages hash to sequential buckets: no overflow at all.
  EXPECT_EQ(map.overflow_buckets(), 0u);
  for (size_t i = 0; i < kKeys; ++i) ASSERT_EQ(map.Find(key(i)), V(i + 1));
  size_t min_buckets = map.bucket_count();
  for (size_t i = 0; i < kKeys; ++i) {
    map.Delete(key(i));
    if (map.bucket_count() < min_buckets) min_buckets = map.bucket_count();
    if ((i & 0xFFFF) == 0) map.CheckInvariants();
  }
  EXPECT_EQ(map.size(), 0u);
  EXPECT_LE(min_buckets, 2u);
  map.CheckInvariants();
}

TEST(PtrHashMapTest, EmptyMapFindsNothing) {
  Map map(256, 4096);
  EXPECT_EQ(map.Find(0x1000), nullptr);
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.bucket_count(), 1u);  // no table until the first insert
  map.CheckInvariants();
  ASSERT_TRUE(map.Insert(0x1000, V(1)));
  EXPECT_EQ(map.bucket_count(), 256u);
}

// Keys that all land in bucket 0 of a 4-bucket table build an overflow
// chain; deletes keep it coalesced and free overflow buckets that empty.
TEST(PtrHashMapTest, DeleteCoalescesTheChain) {
  Map map(4, 8, mmap_alloc::MapAlloc(), /*resize=*/false);
  auto key = [](size_t i) { return uintptr_t{0x1000} + 32 * i; };  // hash 0
  for (size_t i = 0; i < 10; ++i) ASSERT_TRUE(map.Insert(key(i), V(i + 1)));
  map.CheckInvariants();
  EXPECT_EQ(map.ChainLength(0), 3u);  // 4 + 4 + 2
  EXPECT_EQ(map.overflow_buckets(), 2u);

  // Deleting from the head bucket moves the chain's last entry into the
  // hole; the chain stays a prefix.
  map.Delete(key(0));
  map.CheckInvariants();
  EXPECT_EQ(map.ChainLength(0), 3u);  // 4 + 4 + 1
  map.Delete(key(1));
  map.CheckInvariants();
  EXPECT_EQ(map.ChainLength(0), 2u);  // 4 + 4: the last bucket was freed
  EXPECT_EQ(map.overflow_buckets(), 1u);
  EXPECT_GE(map.free_overflow_buckets(), 1u);
  for (size_t i = 2; i < 10; ++i) EXPECT_EQ(map.Find(key(i)), V(i + 1));
  EXPECT_EQ(map.Find(key(0)), nullptr);
  EXPECT_EQ(map.Find(key(1)), nullptr);

  // Delete the rest in an awkward order.
  for (size_t i : {9, 2, 5, 7, 3, 8, 4, 6}) {
    map.Delete(key(i));
    map.CheckInvariants();
  }
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.ChainLength(0), 1u);
  EXPECT_EQ(map.overflow_buckets(), 0u);
}

// Growth rebuilds chains compactly: long chains split into two halves.
TEST(PtrHashMapTest, GrowthSplitsAndCoalescesChains) {
  Map map(2, 8);
  // Keys hashing to bucket 0 of a 2-bucket table, alternating between
  // buckets 0 and 2 of a 4-bucket one.
  auto key = [](size_t i) { return uintptr_t{0x10000} + 16 * i; };
  ASSERT_TRUE(map.Insert(key(0), V(1)));
  ASSERT_TRUE(map.Insert(key(1), V(2)));
  EXPECT_EQ(map.bucket_count(), 2u);
  ASSERT_TRUE(map.Insert(key(2), V(3)));  // 2 entries == 2 buckets: grow
  EXPECT_EQ(map.bucket_count(), 4u);
  map.CheckInvariants();
  for (size_t i = 3; i < 40; ++i) {
    ASSERT_TRUE(map.Insert(key(i), V(i + 1)));
    map.CheckInvariants();
  }
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(map.Find(key(i)), V(i + 1));
}

TEST(PtrHashMapTest, NoResizeKeepsTheFirstTable) {
  Map map(8, 8, mmap_alloc::MapAlloc(), /*resize=*/false);
  for (size_t i = 1; i <= 100; ++i) ASSERT_TRUE(map.Insert(8 * i, V(i)));
  EXPECT_EQ(map.bucket_count(), 8u);
  map.CheckInvariants();
  for (size_t i = 1; i <= 100; ++i) map.Delete(8 * i);
  EXPECT_EQ(map.bucket_count(), 8u);
  map.CheckInvariants();
}

TEST(PtrHashMapTest, MatchesAReferenceMapUnderRandomOperations) {
  std::mt19937_64 rng(12345);
  Map map(1, 16);
  std::map<uintptr_t, Value*> ref;
  std::vector<uintptr_t> keys;
  for (int step = 0; step < 200000; ++step) {
    const bool insert = keys.empty() || rng() % 100 < 52;
    if (insert) {
      // Clustered keys (a few "slabs" of consecutive objects) and random
      // ones, so chains of several lengths appear.
      uintptr_t k = (rng() % 2 == 0) ? (0x100000 + 16 * (rng() % 50000))
                                     : (16 * (1 + rng() % (1u << 30)));
      if (ref.count(k) != 0) continue;
      ASSERT_TRUE(map.Insert(k, V(k ^ 0x5)));
      ref[k] = V(k ^ 0x5);
      keys.push_back(k);
    } else {
      const size_t i = rng() % keys.size();
      const uintptr_t k = keys[i];
      keys[i] = keys.back();
      keys.pop_back();
      map.Delete(k);
      ref.erase(k);
      ASSERT_EQ(map.Find(k), nullptr);
    }
    if (step % 5000 == 0) {
      map.CheckInvariants();
      ASSERT_EQ(map.size(), ref.size());
      for (const auto& [k, v] : ref) ASSERT_EQ(map.Find(k), v);
    }
  }
  map.CheckInvariants();
  size_t seen = 0;
  map.ForEach([&](size_t bucket, uintptr_t k, Value* v) {
    EXPECT_EQ((k >> 4) & (map.bucket_count() - 1), bucket);
    EXPECT_EQ(ref.at(k), v);
    ++seen;
  });
  EXPECT_EQ(seen, ref.size());
}

// A MetaAlloc that fails after a budget of allocations.
struct BudgetMeta {
  int* budget;
  void* Alloc(size_t size, size_t align) const {
    if (*budget <= 0) return nullptr;
    --*budget;
    return mmap_alloc::MapAlloc().Alloc(size, align);
  }
  void Dealloc(void* p, size_t size) const {
    mmap_alloc::MapAlloc().Dealloc(p, size);
  }
};

TEST(PtrHashMapTest, OutOfMemoryLeavesTheMapUnchanged) {
  int budget = 0;
  PtrHashMap<Value, BudgetMeta> map(4, 8, BudgetMeta{&budget});
  EXPECT_FALSE(map.Insert(8, V(1)));  // no table
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.Find(8), nullptr);
  budget = 1;  // the table, but no overflow chunk and no growth
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(map.Insert(32 * (i + 1), V(i + 1)));  // all in bucket 0
  }
  // A fifth colliding key needs an overflow bucket (and the table wants to
  // grow): both fail, the insert reports it and the map is unchanged.
  EXPECT_FALSE(map.Insert(32 * 5, V(5)));
  EXPECT_EQ(map.size(), 4u);
  EXPECT_EQ(map.bucket_count(), 4u);
  map.CheckInvariants();
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(map.Find(32 * (i + 1)), V(i + 1));
  // Deleting still works without memory (shrinking is skipped).
  map.Delete(32);
  map.Delete(64);
  map.CheckInvariants();
  EXPECT_EQ(map.size(), 2u);
}

TEST(PtrHashMapDeathTest, Misuse) {
  Map map(4, 8);
  ASSERT_TRUE(map.Insert(0x80, V(1)));
  EXPECT_DEATH(map.Insert(0x80, V(2)),
               "slab_alloc: PtrHashMap insert of a duplicate key 0x80");
  EXPECT_DEATH(map.Delete(0x88),
               "slab_alloc: PtrHashMap delete of a missing key 0x88");
  EXPECT_DEATH(map.Insert(0, V(2)),
               "slab_alloc: PtrHashMap insert of a null key");
  EXPECT_DEATH(Map(4, 12), "key alignment 12 is not a power of two");
}

}  // namespace
}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators
