// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The slag lifecycle and the page allocator, driven directly so that every
// transition can be observed: claim, iterate, remote and bulk frees, the
// cutoff push, the full revoke, and the original's bulk-free leak.

#include "elfmalloc/internal/slag.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/slag_geometry.h"
#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

constexpr size_t kPage = size_t{64} << 10;

// One size class with its own page allocator (no decay, so page counts are
// exact) and a one-pipe available bag.
struct Pools {
  Pools(size_t size, double cutoff)
      : pages(PageAllocOptions{kPage, 2, 1, SIZE_MAX, -1}), bag(1) {
    pool.geom = ComputeGeometry(size, kPage, cutoff, kPage, 16);
    pool.pages = &pages;
    pool.available = &bag;
  }
  PageAlloc pages;
  AvailableBag bag;
  ClassPool pool;
};

// What one thread holds: a page handle, a slag allocator and an iterator.
struct Side {
  explicit Side(Pools& p) : Side(p.pool, p.pages) {}
  Side(ClassPool& pool, PageAlloc& pages) : handle(&pages) {
    slags.Init(&pool, &handle);
  }
  ~Side() { slags.Shutdown(&it); }
  std::vector<void*> TakeAll() {
    std::vector<void*> out;
    while (void* o = it.Next()) out.push_back(o);
    return out;
  }
  PageAlloc::Handle handle;
  SlagAllocator slags;
  AllocIter it;
};

TEST(SlagTest, IteratesEveryObjectOnce) {
  for (size_t size : {8, 24, 48, 100, 1024, 5000}) {
    Pools p(size, 0.6);
    Side owner(p);
    ASSERT_TRUE(owner.slags.Refresh(&owner.it));
    const std::vector<void*> objs = owner.TakeAll();
    ASSERT_EQ(objs.size(), p.pool.geom.n_objects) << size;
    std::set<void*> distinct(objs.begin(), objs.end());
    EXPECT_EQ(distinct.size(), objs.size());
    char* base = reinterpret_cast<char*>(owner.slags.slag());
    for (size_t i = 0; i < objs.size(); ++i) {
      EXPECT_EQ(static_cast<char*>(objs[i]),
                base + p.pool.geom.objects_offset + i * p.pool.geom.object_size)
          << size;
    }
    for (void* o : objs) owner.slags.Free(o);
  }
}

// Remote frees into a claimed slag only count; the owner keeps the slag when
// at least `cutoff` objects came back.
TEST(SlagTest, RefreshKeepsSlagWithEnoughFreeObjects) {
  Pools p(1024, 0.6);
  Side owner(p), other(p);
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  Slag* first = owner.slags.slag();
  const std::vector<void*> objs = owner.TakeAll();
  for (size_t i = 0; i < p.pool.geom.cutoff; ++i) other.slags.Free(objs[i]);
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  EXPECT_EQ(owner.slags.slag(), first);
  EXPECT_EQ(owner.TakeAll().size(), p.pool.geom.cutoff);
  for (size_t i = 0; i < objs.size(); ++i) other.slags.Free(objs[i]);
}

// The original's latent leak: a floating slag (unclaimed, below the cutoff)
// that one bulk free makes completely free was "revoked" from a bag it was
// never in, and lost. Here its page goes back to the page allocator.
TEST(SlagTest, BulkFreeFromFloatingToFullReturnsThePage) {
  Pools p(1024, 0.6);  // 63 objects: the whole slag is one bitset word
  ASSERT_EQ(p.pool.geom.n_bitset_words, 1u);
  Side owner(p), other(p);
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  Slag* old = owner.slags.slag();
  const std::vector<void*> objs = owner.TakeAll();
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));  // unclaims `old`: 0 free
  ASSERT_NE(owner.slags.slag(), old);
  EXPECT_EQ(p.pages.dirty_pages(), 0u);
  uint64_t mask = 0;
  for (void* o : objs) mask |= BitOf(old, o).mask;
  other.slags.BulkFree(old, 0, mask);
  EXPECT_EQ(p.pages.dirty_pages(), 1u) << "the full slag's page was leaked";
}

// A floating slag crosses the cutoff (pushed to the available bag) and then
// becomes full (revoked from the bag, page returned).
TEST(SlagTest, CutoffPushThenFullRevoke) {
  Pools p(1024, 0.6);
  Side owner(p), other(p);
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  Slag* old = owner.slags.slag();
  const std::vector<void*> objs = owner.TakeAll();
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  for (void* o : objs) other.slags.Free(o);
  EXPECT_EQ(p.pages.dirty_pages(), 1u);
  EXPECT_EQ(old->handle.load(), 0u);
  // The bag no longer holds it: a new claim must come from the pages.
  Slag* s;
  AvailableBag probe(p.bag);
  EXPECT_FALSE(probe.PopMut(&s));
}

// A class's available bag is built by the first slag that needs it, not
// before (an empty bag costs a node per pipe); until then a refresh takes
// pages without looking for one.
// One 1 KiB class without an available bag (built on first use), and a
// slag its owner took every object of and then gave up (floating, none
// free). Frees by `other` then decide whether it becomes available; a
// `third` side's refresh must find it.
struct LazyBag {
  explicit LazyBag(size_t pipes)
      : pages(PageAllocOptions{kPage, 2, 1, SIZE_MAX, -1}) {
    pool.geom = ComputeGeometry(1024, kPage, 0.6, kPage, 16);
    pool.pages = &pages;
    pool.bag_pipes = pipes;
    owner.emplace(pool, pages);
    other.emplace(pool, pages);
    third.emplace(pool, pages);
    EXPECT_TRUE(owner->slags.Refresh(&owner->it));
    old = owner->slags.slag();
    objs = owner->TakeAll();
    EXPECT_TRUE(owner->slags.Refresh(&owner->it));
  }
  // Frees objs[from, to) on `other`.
  void FreeObjects(size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) other->slags.Free(objs[i]);
  }
  // Checks that `third`'s refresh claims `old`.
  void ExpectReclaimed() {
    ASSERT_TRUE(third->slags.Refresh(&third->it));
    EXPECT_EQ(third->slags.slag(), old);
  }
  PageAlloc pages;
  ClassPool pool;
  std::optional<Side> owner, other, third;
  Slag* old = nullptr;
  std::vector<void*> objs;
};

TEST(SlagTest, AvailableBagIsBuiltOnFirstPush) {
  LazyBag lb(2);
  EXPECT_EQ(lb.pool.available.load(), nullptr);
  lb.FreeObjects(0, lb.pool.geom.cutoff);
  AvailableBag* bag = lb.pool.available.load();
  ASSERT_NE(bag, nullptr);
  EXPECT_EQ(bag->pipe_count(), 2u);
  const char* what = nullptr;
  EXPECT_TRUE(CheckAvailableSlags(&lb.pool, &what)) << what;
  lb.ExpectReclaimed();
  for (void* o : lb.third->TakeAll()) lb.third->slags.Free(o);
  lb.FreeObjects(lb.pool.geom.cutoff, lb.objs.size());
}

// Out of memory for the bag: the slag that needed it goes on the overflow
// list and is still found by the next refresh; the bag is built later.
TEST(SlagTest, AvailableBagOutOfMemoryUsesTheOverflowList) {
  LazyBag lb(1);
  // Building the class's bag fails (out of memory), so the slag that
  // crosses the cutoff goes to the overflow list.
  testing::FailNextBagBuilds(1);
  lb.FreeObjects(0, lb.pool.geom.cutoff);
  testing::FailNextBagBuilds(0);
  ASSERT_EQ(lb.pool.available.load(), nullptr);
  EXPECT_EQ(lb.pool.overflow_count.load(), 1u);
  const char* what = nullptr;
  EXPECT_TRUE(CheckAvailableSlags(&lb.pool, &what)) << what;
  lb.ExpectReclaimed();
  EXPECT_EQ(lb.pool.overflow_count.load(), 0u);
  // With memory back, the next slag that needs the bag builds it: `old`,
  // given up with its free objects back.
  for (void* o : lb.third->TakeAll()) lb.third->slags.Free(o);
  lb.third->slags.Shutdown(&lb.third->it);
  EXPECT_NE(lb.pool.available.load(), nullptr);
  EXPECT_TRUE(CheckAvailableSlags(&lb.pool, &what)) << what;
  lb.FreeObjects(lb.pool.geom.cutoff, lb.objs.size());
}

// A slag that crossed the cutoff is handed to the next thread that needs
// one, instead of a new page.
TEST(SlagTest, AvailableSlagIsReused) {
  Pools p(1024, 0.6);
  Side owner(p), other(p), third(p);
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  Slag* old = owner.slags.slag();
  const std::vector<void*> objs = owner.TakeAll();
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  for (size_t i = 0; i < p.pool.geom.cutoff; ++i) other.slags.Free(objs[i]);
  const size_t mapped = p.pages.mapped_pages();
  ASSERT_TRUE(third.slags.Refresh(&third.it));
  EXPECT_EQ(third.slags.slag(), old);
  EXPECT_EQ(p.pages.mapped_pages(), mapped);
  EXPECT_EQ(third.TakeAll().size(), p.pool.geom.cutoff);
  for (size_t i = 0; i < p.pool.geom.cutoff; ++i) third.slags.Free(objs[i]);
  for (size_t i = p.pool.geom.cutoff; i < objs.size(); ++i) {
    other.slags.Free(objs[i]);
  }
}

// One object per slag (like the 1 MiB class, n = cutoff = 1): its free must
// return the page, not park it.
TEST(SlagTest, SingleObjectSlagsReturnTheirPage) {
  Pools p(40000, 0.6);
  ASSERT_EQ(p.pool.geom.n_objects, 1u);
  Side owner(p), other(p);
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(owner.slags.Refresh(&owner.it));
    const std::vector<void*> objs = owner.TakeAll();
    ASSERT_EQ(objs.size(), 1u);
    ASSERT_TRUE(owner.slags.Refresh(&owner.it));  // floats the old one
    const size_t dirty = p.pages.dirty_pages();
    other.slags.Free(objs[0]);
    EXPECT_EQ(p.pages.dirty_pages(), dirty + 1);
  }
}

TEST(SlagTest, ConcurrentRemoteFreesAndRefreshes) {
  Pools p(64, 0.6);
  Side owner(p);
  std::vector<void*> objs;
  for (int i = 0; i < 20000; ++i) {
    void* o = owner.it.Next();
    if (o == nullptr) {
      ASSERT_TRUE(owner.slags.Refresh(&owner.it));
      o = owner.it.Next();
    }
    ASSERT_NE(o, nullptr);
    objs.push_back(o);
  }
  std::thread freer([&] {
    Side other(p);
    for (void* o : objs) other.slags.Free(o);
  });
  std::set<void*> seen;
  for (int i = 0; i < 20000; ++i) {
    void* o = owner.it.Next();
    if (o == nullptr) {
      ASSERT_TRUE(owner.slags.Refresh(&owner.it));
      o = owner.it.Next();
    }
    ASSERT_NE(o, nullptr);
    seen.insert(o);
  }
  freer.join();
  EXPECT_EQ(seen.size(), 20000u) << "an object was handed out twice";
  for (void* o : seen) owner.slags.Free(o);
}

using SlagDeathTest = ::testing::Test;

TEST(SlagDeathTest, DoubleFreeIsReported) {
  Pools p(64, 0.6);
  Side owner(p);
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  void* o = owner.it.Next();
  owner.slags.Free(o);
  EXPECT_DEATH(owner.slags.Free(o),
               "^elfmalloc: free\\(\\): double free of 0x");
}

TEST(SlagDeathTest, InteriorPointerIsReported) {
  Pools p(64, 0.6);
  Side owner(p);
  ASSERT_TRUE(owner.slags.Refresh(&owner.it));
  char* o = static_cast<char*>(owner.it.Next());
  EXPECT_DEATH(owner.slags.Free(o + 16),
               "^elfmalloc: free\\(\\): invalid pointer \\(not the start of "
               "an object\\) 0x");
  EXPECT_DEATH(owner.slags.Free(owner.slags.slag()),
               "^elfmalloc: free\\(\\): invalid pointer 0x");
}

// While keep_freed is on, a handle keeps up to local_pages of the pages it
// frees for its own next Allocs (another handle does not see them); they
// count as dirty, and Release, a decay step or the handle's end files them
// in the shared bags.
TEST(PageAllocTest, KeptPagesServeTheirHandleFirst) {
  PageAllocOptions o{kPage, 4, 1, SIZE_MAX, -1};
  o.local_pages = 2;
  PageAlloc pa(o);
  PageAlloc::Handle h(&pa);
  char* p[4];
  for (char*& x : p) x = h.Alloc();
  h.set_keep_freed(true);
  for (char* x : p) h.Free(x, false);
  h.set_keep_freed(false);
  EXPECT_EQ(h.local_pages(), 2u);
  EXPECT_EQ(pa.dirty_pages(), 4u);
  const char* what = nullptr;
  EXPECT_TRUE(pa.CheckInvariants(h, &what)) << what;
  {
    // Another thread's handle gets the two filed pages, never the kept.
    PageAlloc::Handle other(&pa);
    char* a = other.Alloc();
    char* b = other.Alloc();
    EXPECT_TRUE((a == p[2] || a == p[3]) && (b == p[2] || b == p[3]));
    other.Free(a, false);  // keep_freed is off: filed in the bags
    other.Free(b, false);
    EXPECT_EQ(other.local_pages(), 0u);
  }
  EXPECT_EQ(h.Alloc(), p[1]);  // most recently kept first
  EXPECT_EQ(h.local_pages(), 1u);
  h.Free(p[1], false);
  EXPECT_EQ(h.local_pages(), 1u);
  EXPECT_TRUE(pa.CheckInvariants(h, &what)) << what;
  EXPECT_EQ(pa.Release(h), 4u);
  EXPECT_EQ(h.local_pages(), 0u);
  EXPECT_EQ(pa.dirty_pages(), 0u);
  EXPECT_EQ(pa.clean_pages(), 4u);
  EXPECT_TRUE(pa.CheckInvariants(h, &what)) << what;
}

TEST(PageAllocTest, AHandleFilesItsKeptPagesWhenItGoes) {
  PageAllocOptions o{kPage, 2, 1, SIZE_MAX, -1};
  o.local_pages = 4;
  PageAlloc pa(o);
  PageAlloc::Handle h(&pa);
  {
    PageAlloc::Handle t(&pa);
    char* a = t.Alloc();
    t.set_keep_freed(true);
    t.Free(a, false);
    EXPECT_EQ(t.local_pages(), 1u);
  }
  EXPECT_EQ(pa.dirty_pages(), 1u);
  const char* what = nullptr;
  EXPECT_TRUE(pa.CheckInvariants(h, &what)) << what;
  EXPECT_EQ(pa.Release(h), 1u);
}

// A page allocator maps nothing until its first page; a process that never
// frees a page never builds the dirty bags.
TEST(PageAllocTest, BagsAreBuiltByTheirFirstPage) {
  namespace fi = ::allocators::mmap_alloc::testing;
  const size_t kForever = size_t{1} << 40;
  fi::FailNextMaps(kForever);
  std::optional<PageAlloc> pa;
  pa.emplace(PageAllocOptions{kPage, 1, 1, SIZE_MAX, -1});
  std::optional<PageAlloc::Handle> h;
  h.emplace(&*pa);
  EXPECT_EQ(fi::PendingMapFailures(), kForever) << "a map before the first page";
  // A refill of one page files nothing: one map, for the page.
  EXPECT_EQ(h->Alloc(), nullptr);
  EXPECT_EQ(fi::PendingMapFailures(), kForever - 1);
  fi::ClearMapFailures();
  char* a = h->Alloc();
  ASSERT_NE(a, nullptr);
  h->Free(a, false);  // builds the current dirty bag
  EXPECT_EQ(h->Alloc(), a);
  h->Free(a, false);
  h.reset();
  pa.reset();
}

// A tracked allocator unmaps every page it mapped, in use or free, but never
// a page it had already unmapped alone (whose addresses the OS may have
// handed out again).
TEST(PageAllocTest, UnmapAllGivesBackEveryPageOnce) {
  PageAllocOptions o{kPage, 4, 1, SIZE_MAX, -1};
  o.track_mappings = true;
  PageAlloc pa(o);
  PageAlloc::Handle h(&pa);
  char* in_use[6];
  for (char*& p : in_use) {
    p = h.Alloc();  // two refills of 4 pages
    ASSERT_NE(p, nullptr);
    p[0] = 1;
  }
  EXPECT_EQ(pa.mapped_pages(), 8u);
  h.Free(in_use[5], false);
  // The three free pages go back to the OS alone; a new mapping may now
  // take their addresses, and must survive UnmapAll.
  EXPECT_EQ(pa.Unmap(h), 3u);
  const mmap_alloc::MapAlloc map;
  char* other = static_cast<char*>(map.Alloc(2 * kPage, kPage));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(pa.UnmapAll(h), 5u);
  EXPECT_EQ(pa.mapped_pages(), 0u);
  other[0] = 1;
  other[2 * kPage - 1] = 1;
  map.Dealloc(other, 2 * kPage);
  // The allocator works again afterwards.
  char* again = h.Alloc();
  ASSERT_NE(again, nullptr);
  again[0] = 2;
  h.Free(again, false);
}

TEST(PageAllocTest, FreedPagesAreReusedAndReleased) {
  PageAlloc pa(PageAllocOptions{kPage, 4, 1, SIZE_MAX, -1});
  PageAlloc::Handle h(&pa);
  char* a = h.Alloc();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % kPage, 0u);
  a[100] = 7;
  h.Free(a, false);
  EXPECT_EQ(pa.dirty_pages(), 1u);
  EXPECT_EQ(h.Alloc(), a);  // dirty pages first, contents kept
  EXPECT_EQ(a[100], 7);
  h.Free(a, false);
  EXPECT_EQ(pa.Release(h), 1u);
  EXPECT_EQ(pa.dirty_pages(), 0u);
  EXPECT_EQ(a[100], 0) << "released pages read as zero";
  EXPECT_EQ(pa.mapped_pages(), 4u);
}

TEST(PageAllocTest, EagerDecommitKeepsTheHeaderPage) {
  PageAlloc pa(PageAllocOptions{kPage, 2, 1, SIZE_MAX, -1});
  PageAlloc::Handle h(&pa);
  char* a = h.Alloc();
  a[0] = 1;
  a[kPage - 1] = 2;
  h.Free(a, /*decommit=*/true);
  EXPECT_EQ(a[0], 1);
  EXPECT_EQ(a[kPage - 1], 0);
}

TEST(PageAllocTest, DecayZeroUncommitsAtOnce) {
  PageAlloc pa(PageAllocOptions{kPage, 2, 1, SIZE_MAX, 0});
  PageAlloc::Handle h(&pa);
  char* a = h.Alloc();
  a[5] = 5;
  h.Free(a, false);
  EXPECT_EQ(pa.dirty_pages(), 0u);
  EXPECT_EQ(a[5], 0);
}

TEST(PageAllocTest, DirtyCapUncommitsBeyondIt) {
  PageAlloc pa(PageAllocOptions{kPage, 4, 1, 2 * kPage, -1});
  PageAlloc::Handle h(&pa);
  char* pages[4];
  for (char*& pg : pages) {
    pg = h.Alloc();
    pg[1] = 1;
  }
  for (char* pg : pages) h.Free(pg, false);
  EXPECT_EQ(pa.dirty_pages(), 2u);
}

// Pages freed in one decay period are uncommitted once the next period has
// passed and the page allocator is used again.
TEST(PageAllocTest, DecayPurgesOldPages) {
  PageAlloc pa(PageAllocOptions{kPage, 4, 1, SIZE_MAX, 30});
  PageAlloc::Handle h(&pa);
  char* a = h.Alloc();
  char* b = h.Alloc();
  a[1] = 1;
  h.Free(a, false);
  // Two full periods guarantee one rotation moved `a` to the old bag and a
  // second purged it, whatever the phase of the period when `a` was freed.
  for (int i = 0; i < 200 && pa.dirty_pages() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pa.MaybePurge(h);
  }
  EXPECT_EQ(pa.dirty_pages(), 0u);
  EXPECT_EQ(a[1], 0);
  h.Free(b, false);
}

}  // namespace
}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
