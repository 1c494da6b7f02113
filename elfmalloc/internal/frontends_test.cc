// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The front-ends' stacks: LIFO reuse with the last freed object held back,
// the magazine's return of its upper half when full, Local's current-slag
// rule, the depot cache's magazine swaps and depot trades, and Shutdown
// returning every object and slag (all pages back in the page allocator).

#include "elfmalloc/internal/frontends.h"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "alloc_fmt/spin_lock.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/depot.h"
#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/internal/slag_geometry.h"
#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

constexpr size_t kPage = size_t{64} << 10;

using Magazine = MagazineCache<MagazineConfig>;
using Local = LocalCache<LocalConfig>;
using Depot = DepotCache<DepotConfig>;

struct Pools {
  explicit Pools(size_t size)
      : pages(PageAllocOptions{kPage, 1, 1, SIZE_MAX, -1}), bag(1) {
    pool.geom = ComputeGeometry(size, kPage, 0.6, kPage, 16);
    pool.pages = &pages;
    pool.available = &bag;
  }
  PageAlloc pages;
  AvailableBag bag;
  ClassPool pool;
};

// One magazine of `capacity` pointers over its own class of `size`-byte
// objects.
struct OneMagazine {
  OneMagazine(size_t size, size_t capacity) : p(size), h(&p.pages) {
    m.Setup(&p.pool, &h, capacity);
  }
  // Shuts the magazine down; every object is back, so every page must be.
  void ShutdownAndExpectAllPagesFree() {
    m.Shutdown();
    EXPECT_EQ(m.cached(), 0u);
    EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
  }
  Pools p;
  PageAlloc::Handle h;
  Magazine m;
};

TEST(MagazineCacheTest, StackIsLifoAndSpillsItsUpperHalf) {
  OneMagazine one(256, 8);
  Magazine& m = one.m;
  std::vector<void*> objs;
  for (int i = 0; i < 20; ++i) objs.push_back(AllocFrom(m));
  for (int i = 0; i < 8; ++i) m.Free(objs[i]);
  EXPECT_EQ(m.cached(), 8u);  // objs[7] held back, the others stacked
  EXPECT_EQ(m.capacity(), 8u);
  m.Free(objs[8]);  // the stack's 8 slots are full now
  EXPECT_EQ(m.cached(), 9u);
  m.Free(objs[9]);  // full: objects 4..7 go back to the slag
  EXPECT_EQ(m.cached(), 6u);
  EXPECT_TRUE(m.IsLastFreed(objs[9]));
  EXPECT_EQ(AllocFrom(m), objs[8]);  // last in, first out, after the held one
  EXPECT_EQ(AllocFrom(m), objs[3]);
  for (int i = 10; i < 20; ++i) m.Free(objs[i]);
  m.Free(objs[3]);
  m.Free(objs[8]);
  one.ShutdownAndExpectAllPagesFree();
}

// A magazine given first stacks caches its first kFirstStackEntries
// objects there and moves to a mapped stack of its full capacity, keeping
// every cached object, only when it needs more room.
TEST(MagazineCacheTest, FirstStackGrowsIntoAMappedStack) {
  Pools p(256);
  PageAlloc::Handle h(&p.pages);
  FirstStacks firsts;
  Magazine m;
  m.Setup(&p.pool, &h, 1024, &firsts, 3);
  const size_t n = kFirstStackEntries + 20;  // below kMagazineMinLimit
  std::vector<void*> objs;
  for (size_t i = 0; i < n; ++i) objs.push_back(AllocFrom(m));
  for (size_t i = 0; i < kFirstStackEntries; ++i) m.Free(objs[i]);
  EXPECT_TRUE(m.on_first_stack());
  EXPECT_EQ(m.capacity(), 1024u);
  for (size_t i = kFirstStackEntries; i < n; ++i) m.Free(objs[i]);
  EXPECT_FALSE(m.on_first_stack());
  ASSERT_EQ(m.cached(), n);  // nothing went back to the slag
  // The stacked objects come back last in, first out, the held one stays.
  EXPECT_TRUE(m.IsLastFreed(objs[n - 1]));
  for (size_t i = n - 1; i-- > 0;) EXPECT_EQ(AllocFrom(m), objs[i]);
  objs.pop_back();
  for (void* o : objs) m.Free(o);
  m.Shutdown();
  EXPECT_EQ(m.cached(), 0u);
  EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
}

// The most recently freed object is not the next allocation: it is held
// back until another free takes its place (a stale second free of it is
// then still caught, CheckNotLastFreed). With only it cached, the slag
// serves first; it goes out when the slag has nothing left, before a new
// slag is taken.
TEST(MagazineCacheTest, TheLastFreedObjectIsHeldBack) {
  Pools p(4096);  // 15 objects per 64 KiB slag
  PageAlloc::Handle h(&p.pages);
  Magazine m;
  m.Setup(&p.pool, &h, 64);
  const size_t n = p.pool.geom.n_objects;
  std::vector<void*> objs;
  for (size_t i = 0; i < n - 1; ++i) objs.push_back(AllocFrom(m));
  void* last = objs.back();
  m.Free(last);
  EXPECT_TRUE(m.IsLastFreed(last));
  void* fresh = AllocFrom(m);  // the slag's last object, not `last`
  EXPECT_NE(fresh, last);
  EXPECT_EQ(SlagOf(fresh, kPage), SlagOf(last, kPage));
  EXPECT_TRUE(m.IsLastFreed(last));
  EXPECT_EQ(AllocFrom(m), last);  // the slag is used up: the held object
  m.Free(objs[0]);
  m.Free(objs[1]);
  m.Free(fresh);
  EXPECT_EQ(AllocFrom(m), objs[1]);
  EXPECT_EQ(AllocFrom(m), objs[0]);
  EXPECT_TRUE(m.IsLastFreed(fresh));
  EXPECT_EQ(AllocFrom(m), fresh);
  m.Free(fresh);
  for (void* o : objs) m.Free(o);
  m.Shutdown();
  EXPECT_EQ(m.cached(), 0u);
  EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
}

TEST(MagazineCacheDeathTest, StaleFreeAfterAnAllocationIsReported) {
  EXPECT_DEATH(
      {
        OneMagazine one(64, 64);
        Magazine& m = one.m;
        void* a = AllocFrom(m);
        void* b = AllocFrom(m);
        m.Free(a);
        m.Free(b);
        if (AllocFrom(m) != a) abort();
        m.Free(b);
      },
      "elfmalloc: free\\(\\): double free of 0x");
}

// The magazine's limit follows how the thread uses the class: a thread that
// only frees (a consumer) keeps at most kMagazineMinLimit objects, one that
// allocates as much as it frees keeps them all, and one that turns into a
// consumer gives the room back.
TEST(MagazineCacheTest, LimitAdaptsToHowTheThreadUsesTheClass) {
  Pools p(256);
  PageAlloc::Handle h(&p.pages);
  Magazine producer, consumer, source;
  producer.Setup(&p.pool, &h, 4096);
  consumer.Setup(&p.pool, &h, 4096);
  source.Setup(&p.pool, &h, 4096);

  std::vector<void*> objs;
  for (int i = 0; i < 2000; ++i) objs.push_back(AllocFrom(producer));
  for (void* o : objs) consumer.Free(o);
  EXPECT_EQ(consumer.limit(), kMagazineMinLimit);
  EXPECT_LE(consumer.cached(), kMagazineMinLimit);

  objs.clear();
  for (int i = 0; i < 2000; ++i) objs.push_back(AllocFrom(producer));
  for (void* o : objs) producer.Free(o);
  EXPECT_EQ(producer.cached(), 2000u);
  const uint32_t grown = producer.limit();
  EXPECT_GE(grown, 2000u);
  EXPECT_LE(grown, 4096u);

  // Now the producer only frees objects another cache allocated.
  objs.clear();
  for (int i = 0; i < 20000; ++i) objs.push_back(AllocFrom(source));
  for (void* o : objs) producer.Free(o);
  EXPECT_LT(producer.limit(), grown);

  producer.Shutdown();
  consumer.Shutdown();
  source.Shutdown();
  EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
}

// Two caches that keep passing objects to each other, each allocating a
// little more than its cache holds now and then (xmalloc's ring of
// threads): every refresh puts a fresh slag's objects into circulation.
// The limit is what one run of refreshes without frees needed, so it stays
// at a slag's worth and overflows take the surplus out; growing by a slag
// at every refresh let both magazines grow to their capacity.
TEST(MagazineCacheTest, PassingObjectsBackAndForthKeepsTheLimitBounded) {
  Pools p(256);  // 255 objects per 64 KiB slag
  PageAlloc::Handle h(&p.pages);
  Magazine a, b;
  a.Setup(&p.pool, &h, 65536);
  b.Setup(&p.pool, &h, 65536);
  const uint32_t slag = static_cast<uint32_t>(p.pool.geom.n_objects);
  std::vector<void*> batch;
  uint64_t x = 1;
  for (int round = 0; round < 4000; ++round) {
    Magazine& from = round % 2 == 0 ? a : b;
    Magazine& to = round % 2 == 0 ? b : a;
    // Batches of 100..299 objects: the caches drift apart and refresh.
    x = x * 6364136223846793005u + 1442695040888963407u;
    const size_t n = 100 + (x >> 33) % 200;
    batch.clear();
    for (size_t i = 0; i < n; ++i) batch.push_back(AllocFrom(from));
    for (void* o : batch) to.Free(o);
  }
  EXPECT_LE(a.limit(), 2 * slag);
  EXPECT_LE(b.limit(), 2 * slag);
  EXPECT_LE(p.pages.mapped_pages(), 8u);
  a.Shutdown();
  b.Shutdown();
  EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
}

// A thread that allocates many slags' worth in one go and then frees them
// all (Hoard's threadtest) keeps every one of them cached.
TEST(MagazineCacheTest, OneLongRunIsKeptWhole) {
  OneMagazine one(256, 65536);
  Magazine& m = one.m;
  std::vector<void*> objs;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5000; ++i) objs.push_back(AllocFrom(m));
    for (void* o : objs) m.Free(o);
    objs.clear();
    // From the second round on, the last allocation may come from the
    // claimed slag rather than the held object.
    EXPECT_GE(m.cached(), 5000u) << round;
    EXPECT_LE(m.cached(), 5001u) << round;
  }
  one.ShutdownAndExpectAllPagesFree();
}

// Objects returned in address order take ReturnObjects' sequential path
// (the next object's bit is the previous one's shifted); across bitset
// words and up to the last object of each slag every bit is set once, so
// each slag is seen whole and its page goes back.
TEST(MagazineCacheTest, ObjectsReturnedInOrderFreeWholeSlags) {
  for (size_t size : {16, 48, 256, 4096}) {
    OneMagazine one(size, 65536);
    Magazine& m = one.m;
    const size_t n = 3 * one.p.pool.geom.n_objects + 7;
    std::vector<void*> objs;
    for (size_t i = 0; i < n; ++i) objs.push_back(AllocFrom(m));
    for (void* o : objs) m.Free(o);
    ASSERT_EQ(m.cached(), n) << size;
    m.Trim();
    EXPECT_EQ(m.cached(), 0u);
    EXPECT_EQ(one.p.pages.dirty_pages(), one.p.pages.mapped_pages()) << size;
    m.Shutdown();
  }
}

// A double free that the last-freed check cannot see (another free came
// between) is found when the objects go back to their slag, on the
// sequential path too: b, a, b returns b's bit twice, the second time as
// the object right after a.
TEST(MagazineCacheDeathTest, DoubleFreeInAnOrderedReturnIsReported) {
  EXPECT_DEATH(
      {
        OneMagazine one(64, 64);
        Magazine& m = one.m;
        void* a = AllocFrom(m);
        void* b = AllocFrom(m);
        m.Free(b);
        m.Free(a);
        m.Free(b);
        m.Trim();
      },
      "elfmalloc: free\\(\\): double free of 0x");
}

// Out of address space, a cache whose stack cannot be mapped frees straight
// to the slags, and asks for a stack again only every kStackRetryFrees
// frees (asking on every free cost a failing mmap call each). Once maps
// work, the stack comes back.
TEST(MagazineCacheTest, AFailedStackMapIsNotRetriedOnEveryFree) {
  OneMagazine one(64, 4096);
  Magazine& m = one.m;
  std::vector<void*> objs;
  for (int i = 0; i < 20000; ++i) objs.push_back(AllocFrom(m));
  // The frees below free whole slags. The page bags are built by their
  // first push: build the dirty one now, so that the maps counted below are
  // the stack's alone.
  one.h.Free(one.h.Alloc(), /*decommit=*/false);
  const size_t kForever = size_t{1} << 40;
  mmap_alloc::testing::FailNextMaps(kForever);
  for (int i = 0; i < 9000; ++i) m.Free(objs[i]);
  const size_t tries = kForever - mmap_alloc::testing::PendingMapFailures();
  mmap_alloc::testing::ClearMapFailures();
  EXPECT_EQ(m.cached(), 0u);
  EXPECT_LE(tries, 9000 / kStackRetryFrees + 1);
  // Within kStackRetryFrees more frees the cache maps its stack again.
  for (int i = 9000; i < 20000; ++i) m.Free(objs[i]);
  EXPECT_GT(m.cached(), 0u) << "the stack did not come back";
  one.ShutdownAndExpectAllPagesFree();
}

// A cache that shuts down (its thread exited) leaves its stack for the
// next cache of the class, which then needs no map (row 32 of
// info/reliability.md: short-lived threads).
TEST(MagazineCacheTest, AShutDownCachesStackServesTheNextCache) {
  Pools p(64);
  StackSpares spares;
  p.pool.spares = &spares;
  PageAlloc::Handle h(&p.pages);
  std::vector<void*> objs;
  {
    Magazine first;
    first.Setup(&p.pool, &h, 1024);
    for (int i = 0; i < 100; ++i) objs.push_back(AllocFrom(first));
    for (void* o : objs) first.Free(o);
    EXPECT_GT(first.cached(), 0u);
    first.Shutdown();
  }
  EXPECT_EQ(p.pool.n_spare_stacks, 1u);
  {
    SpinLockHolder l(&spares.lock);
    EXPECT_GT(spares.touched_bytes, 0u);
  }
  const size_t kForever = size_t{1} << 40;
  mmap_alloc::testing::FailNextMaps(kForever);
  Magazine next;
  next.Setup(&p.pool, &h, 1024);
  objs.clear();
  for (int i = 0; i < 10; ++i) objs.push_back(AllocFrom(next));
  for (void* o : objs) next.Free(o);
  const size_t maps = kForever - mmap_alloc::testing::PendingMapFailures();
  mmap_alloc::testing::ClearMapFailures();
  EXPECT_EQ(maps, 0u) << "the cache mapped a stack of its own";
  EXPECT_EQ(next.cached(), 10u);
  EXPECT_EQ(p.pool.n_spare_stacks, 0u);
  next.Shutdown();
  EXPECT_EQ(DrainSpareStacks(&p.pool), 1u);
  EXPECT_EQ(p.pool.n_spare_stacks, 0u);
  SpinLockHolder l(&spares.lock);
  EXPECT_EQ(spares.touched_bytes, 0u);
}

// A class keeps at most StackSpares::kPerClass stacks; the rest are
// unmapped.
TEST(MagazineCacheTest, SpareStacksAreBounded) {
  Pools p(64);
  StackSpares spares;
  p.pool.spares = &spares;
  PageAlloc::Handle h(&p.pages);
  constexpr size_t kCaches = StackSpares::kPerClass + 3;
  std::vector<Magazine> caches(kCaches);
  for (Magazine& c : caches) {
    c.Setup(&p.pool, &h, 256);
    void* o = AllocFrom(c);
    void* o2 = AllocFrom(c);
    c.Free(o);
    c.Free(o2);
  }
  for (Magazine& c : caches) c.Shutdown();
  EXPECT_EQ(p.pool.n_spare_stacks, StackSpares::kPerClass);
  EXPECT_EQ(DrainSpareStacks(&p.pool), StackSpares::kPerClass);
  EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
}

// A cache's first operation, a free of an object from another cache's slag,
// sends it back to that slag (no passive false sharing); later frees are
// cached as usual.
TEST(MagazineCacheTest, FirstFreeOfAForeignObjectGoesBackToItsSlag) {
  Pools p(256);
  PageAlloc::Handle h(&p.pages);
  Magazine owner, other;
  owner.Setup(&p.pool, &h, 64);
  other.Setup(&p.pool, &h, 64);
  void* a = AllocFrom(owner);
  void* b = AllocFrom(owner);
  other.Free(a);
  EXPECT_EQ(other.cached(), 0u);
  other.Free(b);
  EXPECT_EQ(other.cached(), 1u);
  owner.Shutdown();
  other.Shutdown();
  EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
}

// A cross-thread double free: another cache gave the object back to its
// slag, and the owner freed it too, so the owner holds it. When the owner
// runs out of other objects, the held object leaves its cache on the slow
// path, finds its bit set in the slag, and is reported.
TEST(MagazineCacheDeathTest, HeldObjectFreedElsewhereIsReportedWhenTaken) {
  EXPECT_DEATH(
      {
        Pools p(4096);  // 15 objects per 64 KiB slag
        PageAlloc::Handle h(&p.pages);
        Magazine owner;
        Magazine other;
        owner.Setup(&p.pool, &h, 64);
        other.Setup(&p.pool, &h, 64);
        void* a = AllocFrom(owner);
        other.Free(a);  // its first operation: straight back to the slag
        owner.Free(a);  // the second free: held
        for (size_t i = 0; i < p.pool.geom.n_objects; ++i) AllocFrom(owner);
      },
      "elfmalloc: free\\(\\): double free of 0x");
}

TEST(LocalCacheTest, CachesOnlyTheCurrentSlag) {
  Pools p(4096);  // 15 objects per 64 KiB slag
  PageAlloc::Handle h(&p.pages);
  Local l;
  l.Setup(&p.pool, &h, Local::CapacityFor(p.pool.geom));
  const size_t n = p.pool.geom.n_objects;
  std::vector<void*> first, second;
  for (size_t i = 0; i < n; ++i) first.push_back(AllocFrom(l));
  for (size_t i = 0; i < n; ++i) second.push_back(AllocFrom(l));  // new slag
  ASSERT_NE(SlagOf(first[0], kPage), SlagOf(second[0], kPage));
  for (void* o : first) l.Free(o);  // not the current slag: batched
  EXPECT_EQ(l.cached(), 0u);
  for (void* o : second) l.Free(o);  // current slag: stacked
  EXPECT_EQ(l.cached(), n);
  EXPECT_EQ(AllocFrom(l), second[n - 2]);  // the last freed one is held back
  l.Free(second[n - 2]);
  l.Shutdown();
  EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
}

// Frees of other slags' big objects are batched by bytes, not just by
// count: each batched object keeps its whole slag from going back to the
// page allocator.
TEST(LocalCacheTest, BigObjectsFromOtherSlagsGoBackSoon) {
  Pools p(16384);  // 3 objects per 64 KiB slag
  PageAlloc::Handle h(&p.pages);
  Local owner, other;
  owner.Setup(&p.pool, &h, Local::CapacityFor(p.pool.geom));
  other.Setup(&p.pool, &h, Local::CapacityFor(p.pool.geom));
  const size_t n = p.pool.geom.n_objects;
  ASSERT_EQ(RemoteBatchFor(16384), 4u);
  std::vector<void*> objs;
  for (size_t i = 0; i < 10 * n; ++i) objs.push_back(AllocFrom(owner));
  other.Free(AllocFrom(owner));  // other's stack exists from here on
  // The first five slags' objects, freed by a thread that owns none of
  // them: at most four wait in its batch, so at least three whole slags are
  // free pages again (with a 256-object batch none would be).
  for (size_t i = 0; i < 5 * n; ++i) other.Free(objs[i]);
  EXPECT_LE(other.remote_batched(), 4u);
  EXPECT_GE(p.pages.dirty_pages(), 3u);
  for (size_t i = 5 * n; i < objs.size(); ++i) owner.Free(objs[i]);
  owner.Shutdown();
  other.Shutdown();
  EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
}


// --- DepotCache -------------------------------------------------------------

// A pool with a depot, and two depot caches over it ("two threads").
struct DepotPools {
  explicit DepotPools(size_t size) : p(size), h(&p.pages) {
    depot.Init(&lock, size);
    p.pool.depot = &depot;
  }
  void Setup(Depot& d, size_t rounds) { d.Setup(&p.pool, &h, rounds); }
  void ExpectAllPagesFree() {
    EXPECT_EQ(p.pages.dirty_pages(), p.pages.mapped_pages());
  }
  void ExpectInvariants(const Depot& d) {
    const char* what = nullptr;
    EXPECT_TRUE(d.CheckInvariants(&what)) << what;
  }
  Pools p;
  PageAlloc::Handle h;
  SpinLock lock;
  MagazineDepot depot;
};

TEST(DepotCacheTest, SwapsFullAndEmptyMagazines) {
  DepotPools dp(256);
  Depot d;
  dp.Setup(d, 4);
  std::vector<void*> objs;
  for (int i = 0; i < 20; ++i) objs.push_back(AllocFrom(d));
  // o0 held; o1..o4 push o0..o3: the loaded magazine is full.
  for (int i = 0; i < 5; ++i) d.Free(objs[i]);
  EXPECT_EQ(d.cached(), 5u);
  EXPECT_EQ(d.previous_count(), 0u);
  // Full, no previous one: it becomes the previous one, an empty one loads.
  d.Free(objs[5]);
  EXPECT_EQ(d.previous_count(), 4u);
  EXPECT_EQ(d.cached(), 6u);
  dp.ExpectInvariants(d);
  // The loaded magazine's one object, then the full previous one swaps in
  // before any new object of the slag.
  EXPECT_EQ(AllocFrom(d), objs[4]);
  EXPECT_EQ(AllocFrom(d), objs[3]);
  EXPECT_EQ(d.previous_count(), 0u);
  EXPECT_EQ(AllocFrom(d), objs[2]);
  // A free with the loaded magazine not full: no trade.
  d.Free(objs[2]);
  EXPECT_EQ(d.previous_count(), 0u);
  EXPECT_EQ(dp.depot.full_count(), 0u);
  dp.ExpectInvariants(d);
  for (int i = 6; i < 20; ++i) d.Free(objs[i]);
  d.Free(objs[3]);
  d.Free(objs[4]);
  dp.ExpectInvariants(d);
  d.Shutdown();
  d.DrainDepot();  // what the shut-down cache handed to the depot
  d.Shutdown();
  dp.ExpectAllPagesFree();
}

TEST(DepotCacheTest, FullMagazinesPassThroughTheDepot) {
  DepotPools dp(256);
  Depot freer, taker;
  dp.Setup(freer, 4);
  dp.Setup(taker, 4);
  std::vector<void*> objs;
  for (int i = 0; i < 16; ++i) objs.push_back(AllocFrom(freer));
  // Behind the held object, o0..o3 fill the loaded magazine and o4..o7 the
  // next one; at o9 both are full and the first goes to the depot.
  for (int i = 0; i < 13; ++i) freer.Free(objs[i]);
  EXPECT_EQ(dp.depot.full_count(), 1u);
  dp.ExpectInvariants(freer);
  // The other cache, with nothing of its own, takes the depot's magazine:
  // the oldest objects the first cache freed, last in first out.
  void* got = AllocFrom(taker);
  EXPECT_EQ(dp.depot.full_count(), 0u);
  EXPECT_EQ(got, objs[3]);
  EXPECT_EQ(taker.cached(), 3u);
  dp.ExpectInvariants(taker);
  taker.Free(got);
  for (int i = 13; i < 16; ++i) freer.Free(objs[i]);
  freer.Shutdown();
  taker.Shutdown();
  // Shut-down caches hand their full magazines to the depot; a drain
  // returns their objects.
  taker.DrainDepot();
  taker.Shutdown();
  EXPECT_EQ(dp.depot.full_count(), 0u);
  dp.ExpectAllPagesFree();
}

TEST(DepotCacheTest, TheDepotIsBounded) {
  DepotPools dp(16384);  // 3 objects per 64 KiB slag, 4 rounds: 16 magazines
  Depot d;
  const size_t rounds = DepotMagazineRounds(16384);
  ASSERT_EQ(rounds, 4u);
  dp.Setup(d, rounds);
  const size_t bound = dp.depot.max_full();
  EXPECT_EQ(bound, size_t{1 << 20} / (rounds * 16384));
  std::vector<void*> objs;
  const size_t n = (bound + 10) * rounds;
  for (size_t i = 0; i < n; ++i) objs.push_back(AllocFrom(d));
  for (void* o : objs) d.Free(o);
  EXPECT_EQ(dp.depot.full_count(), bound);
  EXPECT_LE(dp.depot.empty_count(), bound);
  // Beyond the bound, magazines' objects went back to their slags: some
  // pages are free although no cache shut down.
  EXPECT_GT(dp.p.pages.dirty_pages(), 0u);
  dp.ExpectInvariants(d);
  d.Shutdown();
  d.DrainDepot();  // what the shut-down cache handed to the depot
  d.Shutdown();
  dp.ExpectAllPagesFree();
}

TEST(DepotCacheTest, IdleMagazinesGoBackWithinTwoTrims) {
  DepotPools dp(256);
  Depot d;
  Depot other;
  dp.Setup(d, 4);
  dp.Setup(other, 4);
  std::vector<void*> objs;
  for (int i = 0; i < 41; ++i) objs.push_back(AllocFrom(d));
  for (void* o : objs) d.Free(o);
  const size_t n = dp.depot.full_count();
  ASSERT_GE(n, 6u);
  // The depot had none at the start of this period: nothing is idle yet.
  d.TrimDepot();
  EXPECT_EQ(dp.depot.full_count(), n);
  // One is taken during the next period: the rest were not needed.
  void* taken = AllocFrom(other);
  d.TrimDepot();
  EXPECT_EQ(dp.depot.full_count(), 0u);
  dp.ExpectInvariants(d);
  // Idle again for a whole period after a take: all go at the next trim.
  d.Shutdown();  // hands its two full magazines to the depot
  d.TrimDepot();
  EXPECT_EQ(dp.depot.full_count(), 2u);
  d.TrimDepot();
  EXPECT_EQ(dp.depot.full_count(), 0u);
  d.Shutdown();
  other.Free(taken);
  other.Shutdown();
  other.DrainDepot();
  other.Shutdown();
  dp.ExpectAllPagesFree();
}

TEST(DepotCacheTest, TrimReturnsBothMagazinesObjects) {
  DepotPools dp(256);
  Depot d;
  dp.Setup(d, 4);
  std::vector<void*> objs;
  for (int i = 0; i < 8; ++i) objs.push_back(AllocFrom(d));
  for (void* o : objs) d.Free(o);
  ASSERT_EQ(d.previous_count(), 4u);
  EXPECT_TRUE(d.HoldsMemory());
  d.Trim();
  EXPECT_EQ(d.cached(), 0u);
  EXPECT_FALSE(d.HoldsMemory());
  dp.ExpectInvariants(d);
  dp.ExpectAllPagesFree();
  d.Shutdown();
}

TEST(DepotCacheDeathTest, DoubleFreeOfTheLastFreedObjectIsReported) {
  EXPECT_DEATH(
      {
        DepotPools dp(64);
        Depot d;
        dp.Setup(d, 8);
        void* a = AllocFrom(d);
        d.Free(a);
        d.Free(a);
      },
      "elfmalloc: free\\(\\): double free of 0x");
}

// A magazine's object that its slag also has as free (freed twice, once
// into each of two caches) is reported when the depot returns it.
TEST(DepotCacheDeathTest, DoubleFreeIsReportedWhenAMagazineIsReturned) {
  EXPECT_DEATH(
      {
        DepotPools dp(256);
        Depot owner;
        Depot other;
        dp.Setup(owner, 4);
        dp.Setup(other, 4);
        std::vector<void*> objs;
        for (int i = 0; i < 9; ++i) objs.push_back(AllocFrom(owner));
        for (int i = 0; i < 9; ++i) owner.Free(objs[i]);  // objs[0..3] in
        other.Free(objs[1]);          // "previous"; freed again elsewhere
        other.Shutdown();             // objs[1] back to its slag
        owner.Trim();                 // returns objs[1] a second time
      },
      "elfmalloc: free\\(\\): double free of 0x");
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
