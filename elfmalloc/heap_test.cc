// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// elfmalloc/heap.h: the process-heap handle and heaps a program creates.
// Blocks of every kind (small classes, aligned, large, grown by realloc)
// keep their contents; blocks move between threads and handles; Destroy
// gives back every page and large block, leaves the heap usable, and
// leaves no address space behind over many heaps; statistics count what
// the heap did. Misuse is fatal with one line that says where a block
// belongs. Built against every variant.

#include "elfmalloc/heap.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/testing/test_util.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace {

using testing::RunThreads;
using testing::Scaled;

// Sizes across the small classes, the largest slag classes and large
// blocks.
constexpr size_t kSizes[] = {0,    1,     8,     24,    100,    256,
                             1000, 3000,  9000,  40000, 130000, 300000,
                             1 << 20};

unsigned char Pattern(size_t seed, size_t i) {
  return static_cast<unsigned char>(seed * 31 + i * 7 + 1);
}
void Fill(void* p, size_t n, size_t seed) {
  auto* c = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) c[i] = Pattern(seed, i);
}
bool Holds(const void* p, size_t n, size_t seed) {
  const auto* c = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (c[i] != Pattern(seed, i)) return false;
  }
  return true;
}

// The operations every heap interface shares, run through `a` (a Heap, a
// Heap::Handle or a ProcessHandle).
template <typename A>
void ExerciseBlocks(A& a) {
  std::vector<std::pair<void*, size_t>> live;
  size_t seed = 0;
  for (size_t size : kSizes) {
    void* p = a.Alloc(size);
    ASSERT_NE(p, nullptr) << size;
    EXPECT_GE(a.UsableSize(p), size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size >= 16 ? 16 : 8), 0u);
    Fill(p, size, ++seed);
    live.emplace_back(p, seed);
  }
  for (size_t align : {32, 64, 4096, 65536, 1 << 21}) {
    void* p = a.AlignedAlloc(100, align);
    ASSERT_NE(p, nullptr) << align;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align;
    void* q = a.AlignedRealloc(p, 5000, align);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % align, 0u) << align;
    a.Free(q);
  }
  void* z = a.AllocZeroed(70000);
  ASSERT_NE(z, nullptr);
  for (size_t i = 0; i < 70000; ++i) ASSERT_EQ(static_cast<char*>(z)[i], 0);
  a.FreeSized(z, 70000);
  // A buffer grown in small steps through every class into a large block,
  // then shrunk, keeps its contents.
  size_t n = 16;
  void* b = a.Alloc(n);
  Fill(b, n, 99);
  while (n < (size_t{3} << 20)) {
    const size_t m = n + n / 3 + 16;
    b = a.Realloc(b, m);
    ASSERT_NE(b, nullptr);
    ASSERT_TRUE(Holds(b, n, 99)) << n;
    Fill(b, m, 99);
    n = m;
  }
  b = a.Realloc(b, 100);
  ASSERT_TRUE(Holds(b, 100, 99));
  a.Free(b);
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_TRUE(Holds(live[i].first, kSizes[i], live[i].second)) << kSizes[i];
    if (i % 2 == 0) {
      a.Free(live[i].first);
    } else {
      a.FreeSized(live[i].first, kSizes[i]);
    }
  }
  a.Free(nullptr);
  void* r = a.Realloc(nullptr, 0);  // Alloc(0): a unique block
  EXPECT_NE(r, nullptr);
  a.Free(r);
}

TEST(ProcessHandleTest, BehavesAsTheProcessHeap) {
  ProcessHandle h;
  ExerciseBlocks(h);
}

TEST(ProcessHandleTest, ClonesFreeEachOthersBlocks) {
  ProcessHandle h;
  void* p = h.Alloc(48);
  std::thread([&, other = h.Clone()] { other.Free(p); }).join();
  EXPECT_EQ(h.AlignedAlloc(8, 3), nullptr);  // not a power of two
}

TEST(HeapTest, BehavesAsAHeapWithAndWithoutAHandle) {
  Heap heap;
  ExerciseBlocks(heap);
  Heap::Handle h(heap);
  ExerciseBlocks(h);
}

TEST(HeapTest, OwnsItsBlocksOnly) {
  Heap a, b;
  void* small = a.Alloc(64);
  void* large = a.Alloc(1 << 20);
  void* process = Alloc(64);
  EXPECT_TRUE(a.Owns(small));
  EXPECT_TRUE(a.Owns(large));
  EXPECT_FALSE(b.Owns(small));
  EXPECT_FALSE(b.Owns(large));
  EXPECT_FALSE(a.Owns(process));
  EXPECT_FALSE(a.Owns(nullptr));
  EXPECT_FALSE(a.Owns(static_cast<char*>(small) + 8));
  a.Free(large);
  EXPECT_FALSE(a.Owns(large));
  a.Free(small);
  Free(process);
}

TEST(HeapTest, DestroyGivesBackEveryBlockAndPage) {
  Heap heap;
  Heap::Handle h(heap);
  const size_t n = Scaled(20000, 4000, 100000);
  for (size_t i = 0; i < n; ++i) {
    void* p = (i % 2 ? heap.Alloc(i % 3000) : h.Alloc(i % 700));
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, i % 700 < i % 3000 ? i % 700 : i % 3000);
  }
  for (int i = 0; i < 5; ++i) ASSERT_NE(h.Alloc(size_t{1} << 20), nullptr);
  Heap::Stats s = heap.GetStats();
  EXPECT_GT(s.slag_bytes_mapped, 0u);
  EXPECT_EQ(s.large_count, 5u);
  EXPECT_GE(s.large_bytes, size_t{5} << 20);
  EXPECT_GE(s.allocated, n);
  EXPECT_EQ(s.freed, 0u);
  {
    Heap::Handle gone = std::move(h);  // a moved-from handle holds nothing
  }
  heap.Destroy();
  s = heap.GetStats();
  EXPECT_EQ(s.slag_bytes_mapped, 0u);
  EXPECT_EQ(s.large_count, 0u);
  EXPECT_EQ(s.large_bytes, 0u);
  EXPECT_EQ(s.allocated, 0u);
  // Usable again.
  Heap::Handle again(heap);
  ExerciseBlocks(again);
}

TEST(HeapTest, CountsItsOwnAllocationsAndFrees) {
  Heap heap;
  const Stats before = GetStats();
  std::vector<void*> blocks;
  for (int i = 0; i < 100; ++i) blocks.push_back(heap.Alloc(32));
  for (int i = 0; i < 40; ++i) heap.Free(blocks[i]);
  const Heap::Stats s = heap.GetStats();
  EXPECT_EQ(s.allocated, 100u);
  EXPECT_EQ(s.freed, 40u);
  // The process heap's pages are not the heap's.
  EXPECT_EQ(GetStats().slag_bytes_mapped, before.slag_bytes_mapped);
}

TEST(HeapTest, ManyHeapsLeaveNoAddressSpaceBehind) {
  const size_t rounds = Scaled(60, 15, 300);
  auto round = [] {
    Heap heap;
    Heap::Handle h(heap);
    for (size_t i = 0; i < 3000; ++i) ASSERT_NE(h.Alloc(16 + i % 2000), nullptr);
    for (int i = 0; i < 4; ++i) ASSERT_NE(heap.Alloc(300000), nullptr);
    // Nothing is freed: the destructor gives it all back.
  };
  round();
  const size_t base = platform::testing::TotalMappedBytes();
  for (size_t r = 0; r < rounds; ++r) round();
  // Each round maps several MiB; a leak of one would show many times over.
  EXPECT_LT(platform::testing::TotalMappedBytes(), base + (size_t{8} << 20));
}

// Destroy() of a heap holding 1 GiB in 64-byte blocks gives the memory
// back: resident memory returns to within 16 MiB of where it started.
TEST(HeapTest, DestroyReturnsAGibibyteOf64ByteBlocks) {
  if (testing::kSanitized) {
    GTEST_SKIP() << "sanitizer shadow memory is resident too, and kept";
  }
  constexpr size_t kBytes = size_t{1} << 30;
  Heap heap;
  const size_t before = testing::ResidentBytes();
  {
    Heap::Handle h(heap);
    for (size_t i = 0; i < kBytes / 64; ++i) {
      auto* p = static_cast<char*>(h.Alloc(64));
      if (p == nullptr) FAIL() << "out of memory at block " << i;
      *p = 1;  // resident
    }
  }
  EXPECT_GT(testing::ResidentBytes(), before + kBytes / 10 * 9);
  heap.Destroy();
  EXPECT_LT(testing::ResidentBytes(), before + (size_t{16} << 20));
}

// Threads allocate through handles of their own and hand half of their
// blocks to the next thread, which checks and frees them through its
// handle; handle-less calls run at the same time.
TEST(HeapThreadsTest, BlocksMoveBetweenThreadsAndHandles) {
  Heap heap;
  constexpr size_t kThreads = 4;
  const size_t per_thread = Scaled(20000, 2000, 200000);
  std::mutex mu;
  std::vector<std::pair<void*, size_t>> inbox[kThreads];
  std::atomic<size_t> freed{0};
  {
    Heap::Handle first(heap);
    std::vector<Heap::Handle> handles;
    for (size_t i = 0; i < kThreads; ++i) handles.push_back(first.Clone());
    RunThreads(kThreads, [&](size_t t) {
      Heap::Handle& h = handles[t];
      std::vector<std::pair<void*, size_t>> mine;
      for (size_t i = 0; i < per_thread; ++i) {
        const size_t seed = t * per_thread + i;
        const size_t size = (seed * 37) % (i % 64 == 0 ? 200000 : 1500);
        void* p = i % 8 == 0 ? heap.Alloc(size) : h.Alloc(size);
        ASSERT_NE(p, nullptr);
        Fill(p, size < 64 ? size : 64, seed);
        if (i % 2 == 0) {
          std::lock_guard<std::mutex> l(mu);
          inbox[(t + 1) % kThreads].emplace_back(p, seed);
        } else {
          mine.emplace_back(p, seed);
        }
        if (i % 256 == 255) {
          std::vector<std::pair<void*, size_t>> got;
          {
            std::lock_guard<std::mutex> l(mu);
            got.swap(inbox[t]);
          }
          for (auto& [q, s] : got) {
            const size_t n = (s * 37) % ((s % per_thread) % 64 == 0 ? 200000
                                                                     : 1500);
            ASSERT_TRUE(Holds(q, n < 64 ? n : 64, s));
            h.Free(q);
            freed.fetch_add(1);
          }
        }
      }
      for (auto& [q, s] : mine) {
        if (s % 3 == 0) {
          heap.Free(q);
        } else {
          h.Free(q);
        }
        freed.fetch_add(1);
      }
    });
    for (auto& box : inbox) {
      for (auto& [q, s] : box) {
        first.Free(q);
        freed.fetch_add(1);
      }
    }
  }
  EXPECT_EQ(freed.load(), kThreads * per_thread);
  const Heap::Stats s = heap.GetStats();
  EXPECT_EQ(s.allocated, s.freed);
  EXPECT_EQ(s.large_count, 0u);
}

// --- Misuse

class HeapDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(HeapDeathTest, FreeOfAHeapBlock) {
  Heap heap;
  void* p = heap.Alloc(48);
  EXPECT_DEATH(Free(p),
               "^elfmalloc: free\\(\\): pointer 0x[0-9a-f]+ belongs to an "
               "elfmalloc::Heap\n$");
  heap.Free(p);
}

TEST_F(HeapDeathTest, HeapFreeOfAProcessBlock) {
  Heap heap;
  void* small = Alloc(48);
  void* large = Alloc(1 << 20);
  EXPECT_DEATH(heap.Free(small),
               "^elfmalloc: Heap::Free\\(\\): pointer 0x[0-9a-f]+ belongs to "
               "the process heap \\(free it with free\\(\\)\\)\n$");
  Heap::Handle h(heap);
  EXPECT_DEATH(h.Free(large),
               "^elfmalloc: Heap::Handle::Free\\(\\): pointer 0x[0-9a-f]+ "
               "belongs to the process heap");
  Free(small);
  Free(large);
}

TEST_F(HeapDeathTest, FreeOfAnotherHeapsBlock) {
  Heap a, b;
  void* small = b.Alloc(48);
  void* large = b.Alloc(1 << 20);
  EXPECT_DEATH(a.Free(small),
               "^elfmalloc: Heap::Free\\(\\): pointer 0x[0-9a-f]+ belongs to "
               "another heap\n$");
  EXPECT_DEATH(a.Free(large),
               "^elfmalloc: Heap::Free\\(\\): invalid pointer 0x[0-9a-f]+\n$");
  EXPECT_DEATH(a.Realloc(small, 100),
               "^elfmalloc: Heap::Realloc\\(\\): pointer 0x[0-9a-f]+ belongs "
               "to another heap\n$");
  b.Free(small);
  b.Free(large);
}

TEST_F(HeapDeathTest, DoubleFreeOfALargeBlock) {
  Heap heap;
  void* p = heap.Alloc(1 << 20);
  heap.Free(p);
  EXPECT_DEATH(heap.Free(p),
               "^elfmalloc: Heap::Free\\(\\): double free of 0x[0-9a-f]+\n$");
}

// A small block freed, another freed after it, then the first again:
// through the heap and through a handle, the freed mark catches it.
TEST_F(HeapDeathTest, DoubleFreeOfASmallBlockWithAnotherFreeBetween) {
  Heap heap;
  EXPECT_DEATH(
      {
        void* a = heap.Alloc(48);
        void* b = heap.Alloc(48);
        heap.Free(a);
        heap.Free(b);
        heap.Free(a);
      },
      "^elfmalloc: Heap::Free\\(\\): double free of 0x[0-9a-f]+\n$");
  EXPECT_DEATH(
      {
        Heap::Handle h(heap);
        void* a = h.Alloc(200);
        void* b = h.Alloc(200);
        h.Free(a);
        h.Free(b);
        h.Free(a);
      },
      "^elfmalloc: Heap::Handle::Free\\(\\): double free of "
      "0x[0-9a-f]+\n$");
}

TEST_F(HeapDeathTest, FreeSizedWithTheWrongSize) {
  Heap heap;
  void* p = heap.Alloc(48);
  EXPECT_DEATH(heap.FreeSized(p, 4000),
               "^elfmalloc: Heap::FreeSized\\(\\): size mismatch "
               "0x[0-9a-f]+\n$");
  heap.FreeSized(p, 48);
}

TEST_F(HeapDeathTest, DestroyWithALiveHandle) {
  Heap heap;
  Heap::Handle h(heap);
  ASSERT_NE(h.Alloc(10), nullptr);
  EXPECT_DEATH(heap.Destroy(),
               "^elfmalloc: Heap::Destroy\\(\\): 1 handle still in use\n$");
}

// Another thread allocating through its handle while the heap is destroyed
// is the fatal error above, not a write to unmapped pages.
TEST_F(HeapDeathTest, DestroyWhileAnotherThreadAllocates) {
  EXPECT_DEATH(
      {
        Heap heap;
        std::atomic<bool> started{false};
        std::thread t([&] {
          Heap::Handle h(heap);
          for (;;) {
            h.Free(h.Alloc(64));
            started.store(true);
          }
        });
        while (!started.load()) std::this_thread::yield();
        heap.Destroy();
        t.join();
      },
      "^elfmalloc: Heap::Destroy\\(\\): 1 handle still in use\n$");
}

// A destroyed heap's slags leave the page map: a stale pointer is an
// invalid pointer to everyone, and nothing reads the unmapped page.
TEST_F(HeapDeathTest, StalePointerAfterDestroy) {
  Heap heap;
  void* p = heap.Alloc(48);
  heap.Destroy();
  EXPECT_DEATH(Free(p),
               "^elfmalloc: free\\(\\): invalid pointer 0x[0-9a-f]+\n$");
  EXPECT_DEATH(heap.Free(p),
               "^elfmalloc: Heap::Free\\(\\): invalid pointer 0x[0-9a-f]+\n$");
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
