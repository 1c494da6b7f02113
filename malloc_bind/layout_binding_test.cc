// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// layout_binding.h and CApi's per-function overrides: the C-API
// conformance suite over a sized allocator (bsalloc, which must be told a
// block's size to free it) bound through a layout table; the finder's
// hooks run once per block and a refused record fails the allocation;
// an overriding binding gets its C function called and no other; global
// allocator objects, constant-initialised and built on first use.

#include "malloc_bind/layout_binding.h"

#include <errno.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "bsalloc/bsalloc.h"
#include "malloc_bind/bsalloc_binding.h"
#include "malloc_bind/c_api_conformance.h"
#include "malloc_bind/malloc_bind.h"

namespace allocators {
namespace malloc_bind {
namespace {

// bsalloc's sized interface: every block is page-aligned (a page, five
// pages, or a mapping of its own), as AddressLayoutTable needs.
struct BsallocSized {
  static void* Allocate(size_t size, size_t align) {
    return bsalloc::Alloc(size, align);
  }
  static void Deallocate(void* p, size_t size, size_t) {
    bsalloc::Free(p, size);
  }
};
using SizedBinding = LayoutBinding<BsallocSized, AddressLayoutTable<BsallocSized>>;

// A finder that keeps one layout per block in a small array and counts its
// calls, and can refuse to record.
struct CountingFinder {
  static inline std::atomic<int> inserts{0};
  static inline std::atomic<int> erases{0};
  static inline std::atomic<bool> refuse{false};
  static Layout Find(const void* p) {
    return AddressLayoutTable<CountingFinder>::Find(p);
  }
  static bool Insert(void* p, Layout l) {
    if (refuse.load()) return false;
    inserts.fetch_add(1);
    return AddressLayoutTable<CountingFinder>::Insert(p, l);
  }
  static void Erase(const void* p) {
    erases.fetch_add(1);
    AddressLayoutTable<CountingFinder>::Erase(p);
  }
};
using CountingBinding = LayoutBinding<BsallocSized, CountingFinder>;

// BsallocBinding whose calloc is its own (and counts).
struct OverridingBinding : BsallocBinding {
  static inline std::atomic<int> callocs{0};
  static void* CCalloc(size_t n, size_t size) {
    callocs.fetch_add(1);
    if (n != 0 && size > SIZE_MAX / n) {
      errno = ENOMEM;
      return nullptr;
    }
    void* p = Alloc(n * size == 0 ? 1 : n * size);
    if (p != nullptr) std::memset(p, 0, n * size);
    return p;
  }
};

// An allocator object: bsalloc underneath, with a count of its calls.
class CountingHeap {
 public:
  constexpr CountingHeap() = default;
  void* Alloc(size_t size) {
    calls_.fetch_add(1, std::memory_order_relaxed);
    return BsallocBinding::Alloc(size);
  }
  void* AlignedAlloc(size_t size, size_t align) {
    calls_.fetch_add(1, std::memory_order_relaxed);
    return BsallocBinding::AlignedAlloc(size, align);
  }
  void Free(void* p) { BsallocBinding::Free(p); }
  void* Realloc(void* p, size_t size) {
    return BsallocBinding::Realloc(p, size);
  }
  size_t UsableSize(const void* p) { return BsallocBinding::UsableSize(p); }
  uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> calls_{0};
};

// The same, with a constructor that must run (and is counted).
std::atomic<int> g_lazy_constructed{0};
class LazyHeap : public CountingHeap {
 public:
  LazyHeap() { g_lazy_constructed.fetch_add(1); }
};

using ConstHeap = ConstInstance<CountingHeap>;
using LazyHeapInstance = LazyInstance<LazyHeap>;

}  // namespace
}  // namespace malloc_bind
}  // namespace allocators

MALLOC_BIND_DEFINE_C(lb_, ::allocators::malloc_bind::SizedBinding)
MALLOC_BIND_DEFINE_C(cf_, ::allocators::malloc_bind::CountingBinding)
MALLOC_BIND_DEFINE_C(ov_, ::allocators::malloc_bind::OverridingBinding)
MALLOC_BIND_DEFINE_C(
    ci_, ::allocators::malloc_bind::InstanceBinding<
             ::allocators::malloc_bind::ConstHeap>)
MALLOC_BIND_DEFINE_C(
    li_, ::allocators::malloc_bind::InstanceBinding<
             ::allocators::malloc_bind::LazyHeapInstance>)

namespace allocators {
namespace malloc_bind {
namespace {

const CApiTable kSized = MALLOC_BIND_TABLE("bsalloc_with_layout_table", lb_);
const CApiTable kConst = MALLOC_BIND_TABLE("const_instance", ci_);
const CApiTable kLazy = MALLOC_BIND_TABLE("lazy_instance", li_);
INSTANTIATE_TEST_SUITE_P(LayoutBindings, CApiConformanceTest,
                         ::testing::Values(&kSized, &kConst, &kLazy),
                         CApiConformanceTest::Name);

TEST(LayoutBindingTest, TheTableHoldsExactlyTheLiveBlocks) {
  const size_t before = AddressLayoutTable<BsallocSized>::count();
  std::vector<void*> blocks;
  for (size_t size : {1, 100, 4096, 5000, 30000, 1 << 20}) {
    void* p = lb_malloc(size);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(lb_malloc_usable_size(p), size);
    blocks.push_back(p);
  }
  void* a = lb_aligned_alloc(65536, 100);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 65536, 0u);
  blocks.push_back(a);
  EXPECT_EQ(AddressLayoutTable<BsallocSized>::count(), before + 7);
  // realloc keeps the alignment the block was made with.
  a = lb_realloc(a, 200000);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 65536, 0u);
  blocks.back() = a;
  for (void* p : blocks) lb_free(p);
  EXPECT_EQ(AddressLayoutTable<BsallocSized>::count(), before);
}

TEST(LayoutBindingTest, FinderHooksRunOncePerBlock) {
  const int inserts = CountingFinder::inserts.load();
  const int erases = CountingFinder::erases.load();
  void* p = cf_malloc(64);
  void* q = cf_calloc(4, 16);
  ASSERT_NE(p, nullptr);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(CountingFinder::inserts.load(), inserts + 2);
  cf_free(p);
  cf_free(q);
  EXPECT_EQ(CountingFinder::erases.load(), erases + 2);
}

TEST(LayoutBindingTest, ARefusedRecordFailsTheAllocation) {
  CountingFinder::refuse = true;
  errno = 0;
  EXPECT_EQ(cf_malloc(64), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void* out = nullptr;
  EXPECT_EQ(cf_posix_memalign(&out, 64, 64), ENOMEM);
  EXPECT_EQ(out, nullptr);
  CountingFinder::refuse = false;
}

TEST(LayoutBindingDeathTest, FreeOfABlockItNeverRecordedIsFatal) {
  static char global[64];
  EXPECT_DEATH(lb_free(global),
               "^malloc_bind: no layout for 0x[0-9a-f]+ \\(not allocated "
               "here\\)\n$");
}

TEST(OverrideTest, AnOverriddenFunctionReplacesCApisOnly) {
  const int before = OverridingBinding::callocs.load();
  void* p = ov_calloc(10, 10);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(OverridingBinding::callocs.load(), before + 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(static_cast<char*>(p)[i], 0);
  ov_free(p);
  errno = 0;
  EXPECT_EQ(ov_calloc(SIZE_MAX / 2, 4), nullptr);  // its own overflow check
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(OverridingBinding::callocs.load(), before + 2);
  // The functions it did not replace are CApi's: malloc(0) is unique.
  void* a = ov_malloc(0);
  void* b = ov_malloc(0);
  EXPECT_NE(a, b);
  ov_free(a);
  ov_free(b);
  EXPECT_EQ(OverridingBinding::callocs.load(), before + 2);
}

TEST(InstanceTest, AConstantInitialisedInstanceServesTheCalls) {
  const uint64_t before = ConstHeap::Get().calls();
  void* p = ci_malloc(100);
  ASSERT_NE(p, nullptr);
  ci_free(p);
  EXPECT_EQ(ConstHeap::Get().calls(), before + 1);
}

TEST(InstanceTest, ALazyInstanceIsBuiltOnceUnderRacingThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 100; ++i) li_free(li_malloc(32));
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(g_lazy_constructed.load(), 1);
  EXPECT_GE(LazyHeapInstance::Get().calls(), 800u);
}

}  // namespace
}  // namespace malloc_bind
}  // namespace allocators
