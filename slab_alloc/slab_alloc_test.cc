// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Behaviour of the public API: builders, init tracking (constructor and
// destructor counts), slab kinds and sizes, list discipline, colouring and
// working-set reclamation with an injected clock. Misuse is in
// slab_alloc_death_test.cc; the shared conformance suite in
// slab_alloc_conformance_test.cc.

#include "slab_alloc/slab_alloc.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"
#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc/object_alloc.h"
#include "object_alloc_test/leaky_alloc.h"
#include "slab_alloc/internal/map_memory.h"
#include "slab_alloc/internal/test_support.h"

namespace allocators {
namespace slab_alloc {
namespace {

using object_alloc::Layout;
using object_alloc_test::LeakyAlloc;
using std::chrono::seconds;
using testing::AlignedPolicy;
using testing::BackingStats;
using testing::FakeClock;
using testing::FakeTime;
using testing::LeakyBacking;

size_t Page() { return mmap_alloc::PageSize(); }

// Counts constructions and destructions; remembers a value across reuse.
struct Counted {
  static int ctors;
  static int dtors;
  static void Reset() { ctors = dtors = 0; }

  Counted() { ++ctors; }
  explicit Counted(int v) : value(v) { ++ctors; }
  ~Counted() { ++dtors; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

  int value = 42;
  char pad[20] = {};
};
int Counted::ctors = 0;
int Counted::dtors = 0;

class SlabAllocTest : public ::testing::Test {
 protected:
  void SetUp() override { Counted::Reset(); }
};

TEST_F(SlabAllocTest, DefaultConstructsOnlyNeverInitialisedObjects) {
  {
    auto cache = SlabAllocBuilder<Counted>::Default().Build();
    EXPECT_EQ(cache.layout(), Layout::Of<Counted>());
    std::vector<Counted*> objs;
    for (int i = 0; i < 100; ++i) objs.push_back(cache.Alloc());
    EXPECT_EQ(Counted::ctors, 100);
    for (Counted* p : objs) {
      EXPECT_EQ(p->value, 42);
      p->value = 7;  // state survives a free
    }
    for (Counted* p : objs) cache.Dealloc(p);
    EXPECT_EQ(Counted::dtors, 0);  // freed objects stay constructed
    // Reuse: no constructor runs, and the state is as it was freed.
    for (int i = 0; i < 100; ++i) {
      Counted* p = cache.Alloc();
      EXPECT_EQ(p->value, 7);
      objs[i] = p;
    }
    EXPECT_EQ(Counted::ctors, 100);
    for (Counted* p : objs) cache.Dealloc(p);
    cache.CheckInvariants();
  }
  // Destroying the cache destroys exactly the constructed objects.
  EXPECT_EQ(Counted::dtors, 100);
}

TEST_F(SlabAllocTest, FreedObjectIsHandedOutAgainFirst) {
  auto cache = SlabAllocBuilder<Counted>::Default().Build();
  Counted* a = cache.Alloc();
  Counted* b = cache.Alloc();
  cache.Dealloc(a);
  EXPECT_EQ(cache.Alloc(), a);  // LIFO within a slab
  cache.Dealloc(a);
  cache.Dealloc(b);
}

TEST_F(SlabAllocTest, FuncInitialisesWithTheFactory) {
  int calls = 0;
  {
    auto cache = SlabAllocBuilder<Counted>::Func([&calls] {
                   ++calls;
                   return Counted(calls * 10);
                 }).Build();
    Counted* a = cache.Alloc();
    Counted* b = cache.Alloc();
    EXPECT_EQ(a->value, 10);
    EXPECT_EQ(b->value, 20);
    cache.Dealloc(a);
    EXPECT_EQ(cache.Alloc(), a);
    EXPECT_EQ(calls, 2);
    cache.Dealloc(a);
    cache.Dealloc(b);
  }
  // Guaranteed elision: T(f()) constructs once, no temporary.
  EXPECT_EQ(Counted::ctors, 2);
  EXPECT_EQ(Counted::dtors, 2);
}

TEST_F(SlabAllocTest, UnsafeFuncConstructsInPlace) {
  std::set<Counted*> seen;
  {
    auto cache = SlabAllocBuilder<Counted>::UnsafeFunc([&seen](Counted* p) {
                   seen.insert(p);
                   ::new (p) Counted(5);
                 }).Build();
    Counted* a = cache.Alloc();
    EXPECT_EQ(a->value, 5);
    EXPECT_EQ(seen.count(a), 1u);
    cache.Dealloc(a);
    cache.Alloc();
    cache.Dealloc(a);
    EXPECT_EQ(seen.size(), 1u);
  }
  EXPECT_EQ(Counted::dtors, 1);
}

TEST_F(SlabAllocTest, NoInitializeNeverConstructsOrDestroys) {
  {
    auto cache = SlabAllocBuilder<Counted>::NoInitialize().Build();
    std::vector<Counted*> objs;
    for (int i = 0; i < 50; ++i) objs.push_back(cache.Alloc());
    for (Counted* p : objs) cache.Dealloc(p);
  }
  EXPECT_EQ(Counted::ctors, 0);
  EXPECT_EQ(Counted::dtors, 0);
}

struct Odd {
  char bytes[9];
};

TEST_F(SlabAllocTest, NoInitializeKeepsAlignmentOne) {
  // Without init tracking there is no status bit, so 9-byte objects are
  // packed at a 9-byte stride.
  auto cache = SlabAllocBuilder<Odd>::NoInitialize().Build();
  EXPECT_EQ(cache.cache_for_testing().geometry().obj_size, 9u);
  auto tracked = SlabAllocBuilder<Odd>::Default().Build();
  EXPECT_EQ(tracked.cache_for_testing().geometry().obj_size, 10u);
  EXPECT_EQ(tracked.cache_for_testing().geometry().obj_align, 2u);
  EXPECT_EQ(tracked.layout(), (Layout{9, 1}));  // the user's layout
}

// A type whose constructor throws on demand.
struct Fragile {
  static int countdown;  // throw when it reaches 0
  static int ctors;
  static int dtors;
  Fragile() {
    if (countdown-- == 0) throw std::runtime_error("ctor failed");
    ++ctors;
  }
  ~Fragile() { ++dtors; }
  long payload[4];
};
int Fragile::countdown = -1;
int Fragile::ctors = 0;
int Fragile::dtors = 0;

TEST_F(SlabAllocTest, ThrowingConstructorLeavesTheSlotUninitialised) {
  Fragile::ctors = Fragile::dtors = 0;
  {
    auto cache = SlabAllocBuilder<Fragile>::Default().Build();
    Fragile* a = cache.Alloc();
    Fragile::countdown = 0;
    EXPECT_THROW(cache.Alloc(), std::runtime_error);
    EXPECT_EQ(cache.live_objects(), 1u);
    cache.CheckInvariants();
    // The failed slot is handed out again and constructed this time.
    Fragile* b = cache.Alloc();
    EXPECT_NE(b, nullptr);
    EXPECT_EQ(Fragile::ctors, 2);
    cache.Dealloc(a);
    cache.Dealloc(b);
    // A throw from the last free object of a fresh slab also unwinds the
    // list bookkeeping correctly.
    std::vector<Fragile*> objs;
    for (size_t i = 0; i < cache.objects_per_slab(); ++i) {
      objs.push_back(cache.Alloc());
    }
    Fragile::countdown = 0;
    EXPECT_THROW(cache.Alloc(), std::runtime_error);
    cache.CheckInvariants();
    EXPECT_EQ(cache.slabs(), 2u);
    EXPECT_EQ(cache.free_slabs(), 1u);
    for (Fragile* p : objs) cache.Dealloc(p);
    cache.CheckInvariants();
  }
  EXPECT_EQ(Fragile::dtors, Fragile::ctors);
}

struct alignas(8) Bytes48 {
  char b[48];
};

TEST_F(SlabAllocTest, LargestAlignmentWins) {
  auto builder = SlabAllocBuilder<Bytes48>::Default();
  builder.align(16).align(8).align(16).align(2);
  EXPECT_EQ(builder.config().layout.align, 16u);
  auto cache = builder.Build();
  EXPECT_EQ(cache.layout(), (Layout{48, 16}));
  std::vector<Bytes48*> objs;
  for (int i = 0; i < 500; ++i) {
    objs.push_back(cache.Alloc());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(objs.back()) % 16, 0u);
  }
  for (Bytes48* p : objs) cache.Dealloc(p);
}

TEST_F(SlabAllocTest, AlignmentUpToAPage) {
  struct Page {
    char b[4096];
  };
  auto cache = SlabAllocBuilder<Page>::Default().align(4096).Build();
  Page* p = cache.Alloc();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 4096, 0u);
  cache.Dealloc(p);
}

template <size_t N>
struct Blob {
  char b[N];
};

TEST_F(SlabAllocTest, SlabKindFollowsTheBackingRules) {
  // 16-byte objects: one-page aligned slabs, found by masking.
  auto small_heap = SlabAllocBuilder<Blob<16>>::Default().Build();
  EXPECT_TRUE(small_heap.uses_aligned_slabs());
  EXPECT_EQ(small_heap.slab_size(), Page());
  auto small_mmap = SlabAllocBuilder<Blob<16>>::Default().BuildMmap();
  EXPECT_TRUE(small_mmap.uses_aligned_slabs());
  if (Page() != 4096) GTEST_SKIP() << "sizes below assume 4 KiB pages";
  EXPECT_EQ(small_heap.objects_per_slab(), 169u);
  // 512-byte objects fit 7 per page with 424 bytes (more than 1/16) left
  // over: large slabs, of 7 pages with 55 objects, serve them instead.
  auto half_kib = SlabAllocBuilder<Blob<512>>::Default().Build();
  EXPECT_FALSE(half_kib.uses_aligned_slabs());
  EXPECT_EQ(half_kib.slab_size(), 7 * 4096u);
  EXPECT_EQ(half_kib.objects_per_slab(), 55u);
  // 1 KiB objects would want 8 KiB aligned slabs (7 objects, 936 bytes
  // unused), so large ones: 64 KiB with 63 objects, through the hash map.
  auto kib_heap = SlabAllocBuilder<Blob<1024>>::Default().Build();
  EXPECT_FALSE(kib_heap.uses_aligned_slabs());
  EXPECT_EQ(kib_heap.slab_size(), 65536u);
  EXPECT_EQ(kib_heap.objects_per_slab(), 63u);
  // 1536-byte objects want 8 KiB aligned slabs with 5 objects and 440 bytes
  // (under 1/16) unused, which neither the heap nor the mmap backing
  // provides.
  auto odd_heap = SlabAllocBuilder<Blob<1536>>::Default().Build();
  EXPECT_FALSE(odd_heap.uses_aligned_slabs());
  EXPECT_EQ(odd_heap.slab_size(), 14 * 4096u);
  EXPECT_EQ(odd_heap.objects_per_slab(), 37u);
  auto odd_mmap = SlabAllocBuilder<Blob<1536>>::Default().BuildMmap();
  EXPECT_FALSE(odd_mmap.uses_aligned_slabs());
  // A backing that provides them gets aligned 8 KiB slabs.
  LeakyAlloc leaky;
  auto odd_any = SlabAllocBuilder<Blob<1536>>::Default().BuildBacking(
      LeakyBacking{&leaky, AlignedPolicy::kAny});
  EXPECT_TRUE(odd_any.uses_aligned_slabs());
  EXPECT_EQ(odd_any.slab_size(), 8192u);
  EXPECT_EQ(odd_any.objects_per_slab(), 5u);
  // 8 KiB objects: large slabs of 17 pages with 8 objects, keyed by object.
  auto big = SlabAllocBuilder<Blob<8192>>::NoInitialize().Build();
  EXPECT_FALSE(big.uses_aligned_slabs());
  EXPECT_EQ(big.slab_size(), 69632u);
  EXPECT_EQ(big.objects_per_slab(), 8u);
}

TEST_F(SlabAllocTest, HeapSlabsAreCarvedBackToBackFromRuns) {
  if (Page() != 4096) GTEST_SKIP() << "sizes below assume 4 KiB pages";
  // 768-byte objects: one-page aligned slabs of 5; the heap backing hands
  // out 16 of them from one 64 KiB run, with no gap between them.
  auto cache = SlabAllocBuilder<Blob<768>>::Default().Build();
  ASSERT_TRUE(cache.uses_aligned_slabs());
  const size_t per_run = HeapRunAlloc::kRunBytes / Page();
  std::vector<Blob<768>*> objs;
  std::set<uintptr_t> pages;
  for (size_t i = 0; i < per_run * cache.objects_per_slab(); ++i) {
    objs.push_back(cache.Alloc());
    pages.insert(reinterpret_cast<uintptr_t>(objs.back()) & ~(Page() - 1));
  }
  EXPECT_EQ(cache.slabs(), per_run);
  ASSERT_EQ(pages.size(), per_run);
  EXPECT_EQ(*pages.rbegin() - *pages.begin(), (per_run - 1) * Page());
  for (Blob<768>* p : objs) cache.Dealloc(p);
}

// Drives a cache through random alloc/free steps, checking invariants and
// the large-slab map's key count along the way.
template <typename Cache>
void RandomWalk(Cache& cache, size_t steps, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<void*> live;
  std::set<void*> live_set;
  for (size_t i = 0; i < steps; ++i) {
    if (live.empty() || rng() % 100 < 55) {
      void* p = cache.Alloc();
      ASSERT_NE(p, nullptr);
      ASSERT_TRUE(live_set.insert(p).second) << "handed out twice: " << p;
      live.push_back(p);
    } else {
      const size_t k = rng() % live.size();
      void* p = live[k];
      live[k] = live.back();
      live.pop_back();
      live_set.erase(p);
      cache.Dealloc(static_cast<decltype(cache.Alloc())>(p));
    }
    if (i % 97 == 0) cache.CheckInvariants();
  }
  ASSERT_EQ(cache.live_objects(), live.size());
  for (void* p : live) cache.Dealloc(static_cast<decltype(cache.Alloc())>(p));
  cache.CheckInvariants();
}

TEST_F(SlabAllocTest, LargeSlabsKeyedByPage) {
  auto cache = SlabAllocBuilder<Blob<1024>>::Default().Build();
  ASSERT_FALSE(cache.uses_aligned_slabs());
  RandomWalk(cache, 5000, 1);
  EXPECT_EQ(cache.cache_for_testing().map_entries(),
            cache.slabs() * (cache.slab_size() / Page()));
}

TEST_F(SlabAllocTest, LargeSlabsKeyedByObject) {
  auto cache = SlabAllocBuilder<Blob<8192>>::Default().BuildMmap();
  ASSERT_FALSE(cache.uses_aligned_slabs());
  RandomWalk(cache, 3000, 2);
  EXPECT_EQ(cache.cache_for_testing().map_entries(),
            cache.slabs() * cache.objects_per_slab());
}

// A fresh slab hands out slot 0 first and then each next slot up, for
// every slab kind and init policy, so first writes run forward through it.
template <typename Cache>
void ExpectAscendingSlots(Cache& cache) {
  const auto& g = cache.cache_for_testing().geometry();
  const size_t n = cache.objects_per_slab();
  std::vector<uintptr_t> addrs;
  for (size_t i = 0; i < n; ++i) {
    addrs.push_back(reinterpret_cast<uintptr_t>(cache.Alloc()));
  }
  const uintptr_t base = addrs[0] - g.array_offset;  // colour 0: coloring off
  EXPECT_EQ(base % Page(), 0u);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(addrs[i], base + g.array_offset + i * g.obj_size) << i;
  }
  EXPECT_EQ(cache.slabs(), 1u);
  for (uintptr_t a : addrs) {
    cache.Dealloc(reinterpret_cast<decltype(cache.Alloc())>(a));
  }
  cache.CheckInvariants();
}

TEST_F(SlabAllocTest, FreshSlabHandsOutSlotsInAscendingOrder) {
  {
    auto aligned =
        SlabAllocBuilder<Blob<64>>::Default().coloring(false).Build();
    ASSERT_TRUE(aligned.uses_aligned_slabs());
    ExpectAscendingSlots(aligned);
  }
  {
    auto by_page =
        SlabAllocBuilder<Blob<1024>>::NoInitialize().coloring(false).Build();
    ASSERT_FALSE(by_page.uses_aligned_slabs());
    ExpectAscendingSlots(by_page);
  }
  {
    auto by_object =
        SlabAllocBuilder<Blob<8192>>::Default().coloring(false).BuildMmap();
    ASSERT_FALSE(by_object.uses_aligned_slabs());
    ExpectAscendingSlots(by_object);
  }
  {
    // Constructing objects does not change the order either.
    auto counted = SlabAllocBuilder<Counted>::Default().coloring(false).Build();
    ExpectAscendingSlots(counted);
    EXPECT_EQ(Counted::ctors, static_cast<int>(counted.objects_per_slab()));
  }
}

// A large-slab map's tables come from MapMemory's process-wide pool: once
// one cache has grown and gone, another grown to the same size maps no new
// memory for its map (here every new mapping fails, so a map that needed
// one would make Alloc return null).
TEST_F(SlabAllocTest, RebuiltCacheGrowsItsMapOnPooledMemory) {
  namespace fi = mmap_alloc::testing;
  constexpr size_t kForever = size_t{1} << 40;
  constexpr size_t kSlabs = 600;  // 1200 page keys: 256 -> 2048 buckets
  fi::ClearMapFailures();
  internal::MapMemory::ReleaseRetained();
  auto grow = [&] {
    auto cache = SlabAllocBuilder<Blob<1024>>::NoInitialize().Build();
    ASSERT_FALSE(cache.uses_aligned_slabs());
    std::vector<Blob<1024>*> objs;
    for (size_t i = 0; i < kSlabs * cache.objects_per_slab(); ++i) {
      Blob<1024>* p = cache.Alloc();
      ASSERT_NE(p, nullptr) << "object " << i;
      objs.push_back(p);
    }
    EXPECT_EQ(cache.slabs(), kSlabs);
    cache.CheckInvariants();
    for (Blob<1024>* p : objs) cache.Dealloc(p);
  };
  grow();
  const size_t retained = internal::MapMemory::RetainedBytes();
  EXPECT_GT(retained, 0u);
  fi::FailNextMaps(kForever);
  grow();
  EXPECT_EQ(fi::PendingMapFailures(), kForever);
  fi::ClearMapFailures();
  EXPECT_EQ(internal::MapMemory::RetainedBytes(), retained);
}

TEST_F(SlabAllocTest, LargeSlabsForSmallObjects) {
  LeakyAlloc leaky;
  auto cache = SlabAllocBuilder<Blob<24>>::Default().BuildBacking(
      LeakyBacking{&leaky, AlignedPolicy::kNone});
  ASSERT_FALSE(cache.uses_aligned_slabs());
  RandomWalk(cache, 20000, 3);
}

TEST_F(SlabAllocTest, AlignedSlabsLargerThanAPage) {
  LeakyAlloc leaky;
  auto cache = SlabAllocBuilder<Blob<3072>>::Default().BuildBacking(
      LeakyBacking{&leaky, AlignedPolicy::kAny});
  ASSERT_TRUE(cache.uses_aligned_slabs());
  EXPECT_GT(cache.slab_size(), Page());
  RandomWalk(cache, 3000, 4);
}

TEST_F(SlabAllocTest, PartialSlabsAreUsedBeforeFreeOnes) {
  LeakyAlloc leaky;
  BackingStats stats;
  auto cache =
      SlabAllocBuilder<Blob<256>>::Default()
          .working_period(std::chrono::nanoseconds::max())
          .BuildBacking(LeakyBacking{&leaky, AlignedPolicy::kPageOnly, &stats});
  const size_t n = cache.objects_per_slab();
  // Fill two slabs, then a third with one object.
  std::vector<Blob<256>*> first, second;
  for (size_t i = 0; i < n; ++i) first.push_back(cache.Alloc());
  for (size_t i = 0; i < n; ++i) second.push_back(cache.Alloc());
  Blob<256>* third = cache.Alloc();
  EXPECT_EQ(cache.slabs(), 3u);
  // Empty the first slab completely (it moves to the back) and free one
  // object of the second. Partial slabs join the front as they become
  // partial, so the second slab serves the next allocation, ahead of the
  // third (partial since its first allocation) and of the free first one.
  for (Blob<256>* p : first) cache.Dealloc(p);
  EXPECT_EQ(cache.free_slabs(), 1u);
  cache.Dealloc(second[3]);
  cache.CheckInvariants();
  EXPECT_EQ(cache.Alloc(), second[3]);
  // Now only the third slab is partial: it is used before the free one.
  Blob<256>* next = cache.Alloc();
  const uintptr_t mask = ~static_cast<uintptr_t>(cache.slab_size() - 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(next) & mask,
            reinterpret_cast<uintptr_t>(third) & mask);
  EXPECT_EQ(cache.free_slabs(), 1u);
  cache.Dealloc(next);
  cache.Dealloc(third);
  for (Blob<256>* p : second) cache.Dealloc(p);
  EXPECT_EQ(cache.free_slabs(), 3u);
  cache.CheckInvariants();
  EXPECT_EQ(stats.aligned_allocs, 3u);
}

TEST_F(SlabAllocTest, SlabColoursCycle) {
  // 1000-byte objects at align 8 in one-page slabs: 4 per slab and 32
  // unused bytes, so colours cycle 0, 8, 16, 24, 32.
  if (Page() != 4096) GTEST_SKIP() << "geometry below assumes 4 KiB pages";
  struct alignas(8) K {
    char b[1000];
  };
  for (bool coloring : {true, false}) {
    auto cache = SlabAllocBuilder<K>::NoInitialize().coloring(coloring).Build();
    ASSERT_TRUE(cache.uses_aligned_slabs());
    const auto& g = cache.cache_for_testing().geometry();
    ASSERT_EQ(g.num_obj, 4u);
    ASSERT_EQ(g.max_color, 32u);  // the room; used only with colouring
    std::vector<K*> all;
    for (size_t slab = 0; slab < 12; ++slab) {
      // The first object out of a fresh slab is its slot 0.
      K* first = cache.Alloc();
      all.push_back(first);
      const uintptr_t addr = reinterpret_cast<uintptr_t>(first);
      const uintptr_t base = addr & ~static_cast<uintptr_t>(Page() - 1);
      const size_t color = coloring ? (slab % 5) * 8 : 0;
      EXPECT_EQ(addr - base, g.array_offset + color) << slab;
      EXPECT_EQ(cache.cache_for_testing().ColorOf(first), color);
      for (int i = 0; i < 3; ++i) all.push_back(cache.Alloc());
    }
    for (K* p : all) cache.Dealloc(p);
  }
}

TEST_F(SlabAllocTest, WorkingSetReclaimsIdleFreeSlabs) {
  LeakyAlloc leaky;
  BackingStats stats;
  FakeTime time;
  {
    auto cache = SlabAllocBuilder<Counted>::Default()
                     .clock(FakeClock{&time})
                     .BuildBacking(LeakyBacking{
                         &leaky, AlignedPolicy::kPageOnly, &stats});
    const size_t n = cache.objects_per_slab();
    std::vector<Counted*> objs;
    for (size_t i = 0; i < 4 * n; ++i) objs.push_back(cache.Alloc());
    EXPECT_EQ(cache.slabs(), 4u);
    for (Counted* p : objs) cache.Dealloc(p);
    // All free, but the first period (which saw 0 free slabs at times) has
    // not ended: nothing is released.
    EXPECT_EQ(cache.slabs(), 4u);
    EXPECT_EQ(cache.free_slabs(), 4u);

    // End the period at the next slab-becomes-free event. Its minimum was 0
    // (the cache started empty), so nothing goes; a new period starts with 4
    // free slabs.
    time.Advance(seconds(15));
    Counted* p = cache.Alloc();  // free slabs: 3 (the new minimum)
    cache.Dealloc(p);            // 4 again -> reclaim check
    EXPECT_EQ(cache.slabs(), 4u);

    // During the next period at most one free slab is used at a time: the
    // minimum is 3, so when it ends 3 slabs are released.
    p = cache.Alloc();
    cache.Dealloc(p);
    time.Advance(seconds(14));
    p = cache.Alloc();
    cache.Dealloc(p);
    EXPECT_EQ(cache.slabs(), 4u);  // 14 s is not a period yet
    time.Advance(seconds(1));
    p = cache.Alloc();
    cache.Dealloc(p);
    EXPECT_EQ(cache.slabs(), 1u);
    EXPECT_EQ(cache.free_slabs(), 1u);
    EXPECT_EQ(stats.deallocs, 3u);
    // Releasing a slab destroys the objects it cached.
    EXPECT_EQ(Counted::dtors, static_cast<int>(3 * n));
    cache.CheckInvariants();
  }
  // The cache's destruction releases the rest.
  EXPECT_EQ(stats.deallocs, stats.aligned_allocs);
  EXPECT_EQ(Counted::dtors, Counted::ctors);
}

TEST_F(SlabAllocTest, WorkingSetKeepsSlabsThatWereNeeded) {
  LeakyAlloc leaky;
  BackingStats stats;
  FakeTime time;
  auto cache =
      SlabAllocBuilder<Blob<512>>::Default()
          .clock(FakeClock{&time})
          .BuildBacking(LeakyBacking{&leaky, AlignedPolicy::kPageOnly, &stats});
  const size_t n = cache.objects_per_slab();
  std::vector<Blob<512>*> objs;
  auto burst = [&] {
    for (size_t i = 0; i < 3 * n; ++i) objs.push_back(cache.Alloc());
    for (Blob<512>* p : objs) cache.Dealloc(p);
    objs.clear();
  };
  // A burst that needs every slab in each period: the minimum of free
  // slabs is 0 every time, so nothing is ever released.
  for (int period = 0; period < 5; ++period) {
    burst();
    time.Advance(seconds(16));
    burst();
    EXPECT_EQ(cache.slabs(), 3u) << period;
  }
  EXPECT_EQ(stats.deallocs, 0u);
}

TEST_F(SlabAllocTest, ConfigurablePeriod) {
  LeakyAlloc leaky;
  FakeTime time;
  auto cache = SlabAllocBuilder<Blob<64>>::Default()
                   .working_period(seconds(1))
                   .clock(FakeClock{&time})
                   .BuildBacking(LeakyBacking{&leaky});
  EXPECT_EQ(cache.cache_for_testing().working_period(), seconds(1));
  const size_t n = cache.objects_per_slab();
  std::vector<Blob<64>*> objs;
  for (size_t i = 0; i < 2 * n; ++i) objs.push_back(cache.Alloc());
  for (Blob<64>* p : objs) cache.Dealloc(p);
  time.Advance(seconds(1));
  Blob<64>* p = cache.Alloc();
  cache.Dealloc(p);  // period 1 ends (minimum 0); period 2 starts with 2
  time.Advance(seconds(1));
  p = cache.Alloc();
  cache.Dealloc(p);  // period 2 ends with minimum 1
  EXPECT_EQ(cache.slabs(), 1u);
}

TEST_F(SlabAllocTest, DefaultPeriodIsFifteenSeconds) {
  auto cache = SlabAllocBuilder<int>::Default().Build();
  EXPECT_EQ(cache.cache_for_testing().working_period(), seconds(15));
  EXPECT_EQ(kDefaultWorkingPeriod, seconds(15));
}

TEST_F(SlabAllocTest, ClockIsReadOnlyWhenASlabBecomesFree) {
  FakeTime time;
  auto cache =
      SlabAllocBuilder<Blob<32>>::Default().clock(FakeClock{&time}).Build();
  Blob<32>* keep = cache.Alloc();  // keeps the slab partial
  const size_t reads = time.reads;
  for (int i = 0; i < 1000; ++i) {
    Blob<32>* p = cache.Alloc();
    cache.Dealloc(p);
  }
  EXPECT_EQ(time.reads, reads);
  cache.Dealloc(keep);  // the slab becomes free: one check
  EXPECT_EQ(time.reads, reads + 1);
}

TEST_F(SlabAllocTest, ExhaustedBackingReturnsNull) {
  LeakyAlloc leaky;
  BackingStats stats;
  for (AlignedPolicy policy :
       {AlignedPolicy::kPageOnly, AlignedPolicy::kNone}) {
    auto cache = SlabAllocBuilder<Counted>::Default().BuildBacking(
        LeakyBacking{&leaky, policy, &stats});
    stats.fail_next = 1;
    EXPECT_EQ(cache.Alloc(), nullptr);
    EXPECT_EQ(cache.live_objects(), 0u);
    EXPECT_EQ(cache.slabs(), 0u);
    Counted* p = cache.Alloc();  // the backing recovered
    ASSERT_NE(p, nullptr);
    cache.Dealloc(p);
    cache.CheckInvariants();
  }
}

TEST_F(SlabAllocTest, UntypedNoInitialize) {
  auto cache = UntypedSlabAllocBuilder<>::NoInitialize(Layout{100, 4})
                   .align(4)
                   .BuildMmap();
  EXPECT_EQ(cache.layout(), (Layout{100, 4}));
  EXPECT_TRUE(object_alloc::kIsUntypedObjectAlloc<decltype(cache)>);
  RandomWalk(cache, 3000, 5);
}

TEST_F(SlabAllocTest, UntypedUnsafeFuncRunsOncePerSlot) {
  std::set<void*> inited;
  auto cache =
      UntypedSlabAllocBuilder<>::UnsafeFunc(Layout{64, 8}, [&inited](void* p) {
        EXPECT_TRUE(inited.insert(p).second);
        static_cast<char*>(p)[0] = 'x';
      }).Build();
  std::vector<void*> objs;
  for (int i = 0; i < 300; ++i) objs.push_back(cache.Alloc());
  for (void* p : objs) cache.Dealloc(p);
  for (int i = 0; i < 300; ++i) {
    objs[i] = cache.Alloc();
    EXPECT_EQ(static_cast<char*>(objs[i])[0], 'x');
  }
  EXPECT_EQ(inited.size(), 300u);
  for (void* p : objs) cache.Dealloc(p);
}

TEST_F(SlabAllocTest, UntypedFromATypedBuilderConstructsAndDestroys) {
  {
    auto cache = SlabAllocBuilder<Counted>::Default().BuildUntyped();
    EXPECT_EQ(cache.layout(), Layout::Of<Counted>());
    void* p = cache.Alloc();
    EXPECT_EQ(static_cast<Counted*>(p)->value, 42);
    cache.Dealloc(p);
    auto mm = SlabAllocBuilder<Counted>::Default().BuildUntypedMmap();
    mm.Dealloc(mm.Alloc());
  }
  EXPECT_EQ(Counted::ctors, 2);
  EXPECT_EQ(Counted::dtors, 2);
}

TEST_F(SlabAllocTest, TypedCacheThroughUntypedView) {
  auto cache = SlabAllocBuilder<Blob<40>>::NoInitialize().Build();
  object_alloc::UntypedView<decltype(cache)> view(&cache);
  void* p = view.Alloc();
  EXPECT_EQ(view.layout(), (Layout{40, 1}));
  view.Dealloc(p);
}

TEST_F(SlabAllocTest, EveryObjectSizeAndAlignmentRoundTrips) {
  // A quick sweep of odd sizes through every backing kind; the conformance
  // suite covers the 47 ByteN sizes in depth.
  LeakyAlloc leaky;
  for (size_t size : {1, 3, 8, 17, 100, 500, 777, 2000, 4095, 4097, 10000}) {
    for (size_t align = 1; align <= size && align <= 64; align *= 2) {
      if (size % align != 0) continue;
      for (AlignedPolicy policy : {AlignedPolicy::kPageOnly,
                                   AlignedPolicy::kAny, AlignedPolicy::kNone}) {
        auto cache = UntypedSlabAllocBuilder<>::NoInitialize(Layout{size, 1})
                         .align(align)
                         .BuildBacking(LeakyBacking{&leaky, policy});
        std::vector<char*> objs;
        for (int i = 0; i < 40; ++i) {
          char* p = static_cast<char*>(cache.Alloc());
          ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
          std::fill(p, p + size, static_cast<char>(i));
          objs.push_back(p);
        }
        for (int i = 0; i < 40; ++i) {
          for (size_t b = 0; b < size; ++b) {
            ASSERT_EQ(objs[i][b], static_cast<char>(i));
          }
          cache.Dealloc(objs[i]);
        }
        cache.CheckInvariants();
      }
    }
  }
}

}  // namespace
}  // namespace slab_alloc
}  // namespace allocators
