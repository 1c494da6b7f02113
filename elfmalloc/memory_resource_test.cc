// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// elfmalloc/memory_resource.h: std::pmr resources over the process heap, a
// Heap and a Heap::Handle, and the stateless and stateful STL allocators,
// under std::vector, std::map, std::pmr containers and
// absl::flat_hash_map, with contents checked; over-aligned types;
// resource equality; blocks that really come from the heap named; and the
// one-line errors for a deallocation with the wrong size or of another
// heap's block. Built against every variant.

#include "elfmalloc/memory_resource.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory_resource>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "elfmalloc/heap.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace {

struct alignas(64) Wide {
  uint64_t v[8];
};

// Fills, grows, reads back and erases containers on `mr`.
void ExercisePmr(std::pmr::memory_resource* mr) {
  std::pmr::vector<int> v(mr);
  for (int i = 0; i < 100000; ++i) v.push_back(i);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(v[i], i);
  std::pmr::map<int, std::pmr::string> m(mr);
  for (int i = 0; i < 2000; ++i) {
    m.emplace(i, std::pmr::string(40 + i % 100, static_cast<char>('a' + i % 26)));
  }
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(m.at(i).size(), 40u + i % 100);
    ASSERT_EQ(m.at(i)[0], static_cast<char>('a' + i % 26));
  }
  for (int i = 0; i < 2000; i += 2) m.erase(i);
  EXPECT_EQ(m.size(), 1000u);
  std::pmr::vector<Wide> w(mr);
  for (int i = 0; i < 1000; ++i) {
    w.push_back(Wide{{static_cast<uint64_t>(i)}});
    ASSERT_EQ(reinterpret_cast<uintptr_t>(w.data()) % 64, 0u);
  }
  // Over-aligned raw requests beyond 16, up to a page and beyond.
  for (size_t align : {32, 128, 4096, 1 << 16}) {
    void* p = mr->allocate(300, align);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align;
    mr->deallocate(p, 300, align);
  }
}

TEST(MemoryResourceTest, ProcessResourceServesContainers) {
  ExercisePmr(ProcessResource());
  EXPECT_EQ(ProcessResource(), ProcessResource());
}

TEST(MemoryResourceTest, HeapResourcesServeContainersFromTheirHeap) {
  Heap heap;
  HeapResource<Heap> shared(heap);
  ExercisePmr(&shared);
  Heap::Handle h(heap);
  HeapResource<Heap::Handle> local(h);
  ExercisePmr(&local);
  // The blocks are the heap's.
  std::pmr::vector<char> v(1000, 'x', &local);
  EXPECT_TRUE(heap.Owns(v.data()));
  EXPECT_GT(heap.GetStats().allocated, 0u);
}

TEST(MemoryResourceTest, ResourcesOfOneHeapAreEqual) {
  Heap a, b;
  Heap::Handle ha(a);
  HeapResource<Heap> ra(a), ra2(a), rb(b);
  HeapResource<Heap::Handle> rha(ha);
  EXPECT_TRUE(ra.is_equal(ra2));
  EXPECT_TRUE(ra.is_equal(rha));
  EXPECT_TRUE(rha.is_equal(ra));
  EXPECT_FALSE(ra.is_equal(rb));
  EXPECT_FALSE(ra.is_equal(*ProcessResource()));
  EXPECT_FALSE(ra.is_equal(*std::pmr::new_delete_resource()));
  // Equal resources free each other's blocks.
  void* p = rha.allocate(100, 8);
  ra.deallocate(p, 100, 8);
}

TEST(StlAllocatorTest, StatelessAllocatorServesStdContainers) {
  std::vector<int, StlAllocator<int>> v;
  for (int i = 0; i < 100000; ++i) v.push_back(i);
  EXPECT_EQ(v[99999], 99999);
  EXPECT_GT(UsableSize(v.data()), 0u);  // the process heap's block
  std::map<int, std::string, std::less<int>,
           StlAllocator<std::pair<const int, std::string>>>
      m;
  for (int i = 0; i < 1000; ++i) m[i] = std::string(50, 'k');
  EXPECT_EQ(m.at(500), std::string(50, 'k'));
  absl::flat_hash_map<int, int, absl::Hash<int>, std::equal_to<int>,
                      StlAllocator<std::pair<const int, int>>>
      f;
  for (int i = 0; i < 50000; ++i) f[i] = 2 * i;
  for (int i = 0; i < 50000; ++i) ASSERT_EQ(f.at(i), 2 * i);
  std::vector<Wide, StlAllocator<Wide>> w(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.data()) % 64, 0u);
  EXPECT_TRUE(StlAllocator<int>() == StlAllocator<int>());
}

TEST(StlAllocatorTest, HeapAllocatorKeepsContainersOnTheirHeap) {
  Heap heap;
  Heap::Handle h(heap);
  using A = HeapAllocator<int>;
  std::vector<int, A> v{A(h)};
  for (int i = 0; i < 100000; ++i) v.push_back(i);
  EXPECT_TRUE(heap.Owns(v.data()));
  using PA = HeapAllocator<std::pair<const int, int>, Heap>;
  absl::flat_hash_map<int, int, absl::Hash<int>, std::equal_to<int>, PA> f{
      0, absl::Hash<int>(), std::equal_to<int>(), PA(heap)};
  for (int i = 0; i < 50000; ++i) f[i] = i + 1;
  for (int i = 0; i < 50000; ++i) ASSERT_EQ(f.at(i), i + 1);
  std::map<int, int, std::less<int>,
           HeapAllocator<std::pair<const int, int>>>
      m{std::less<int>(), HeapAllocator<std::pair<const int, int>>(h)};
  for (int i = 0; i < 1000; ++i) m[i] = i;
  EXPECT_EQ(m.size(), 1000u);
  std::vector<Wide, HeapAllocator<Wide>> w(10, Wide{}, HeapAllocator<Wide>(h));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w.data()) % 64, 0u);
  // A copy keeps its heap; allocators of one heap compare equal.
  std::vector<int, A> copy = v;
  EXPECT_TRUE(copy.get_allocator() == v.get_allocator());
  EXPECT_TRUE(heap.Owns(copy.data()));
  Heap other;
  const HeapAllocator<int, Heap> on_heap(heap), on_other(other);
  EXPECT_FALSE(on_heap == on_other);
}

class MemoryResourceDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MemoryResourceDeathTest, DeallocateWithTheWrongSize) {
  void* p = ProcessResource()->allocate(48, 8);
  EXPECT_DEATH(ProcessResource()->deallocate(p, 4000, 8),
               "^elfmalloc: ProcessHandle::FreeSized\\(\\): size mismatch "
               "0x[0-9a-f]+\n$");
  ProcessResource()->deallocate(p, 48, 8);
  Heap heap;
  HeapResource<Heap> r(heap);
  void* q = r.allocate(1 << 20, 8);
  EXPECT_DEATH(r.deallocate(q, 64, 8),
               "^elfmalloc: Heap::FreeSized\\(\\): size mismatch "
               "0x[0-9a-f]+\n$");
  r.deallocate(q, 1 << 20, 8);
}

TEST_F(MemoryResourceDeathTest, DeallocateAnotherResourcesBlock) {
  Heap a, b;
  HeapResource<Heap> ra(a), rb(b);
  void* p = rb.allocate(100, 8);
  EXPECT_DEATH(ra.deallocate(p, 100, 8),
               "^elfmalloc: Heap::FreeSized\\(\\): pointer 0x[0-9a-f]+ "
               "belongs to another heap\n$");
  EXPECT_DEATH(ProcessResource()->deallocate(p, 100, 8),
               "^elfmalloc: ProcessHandle::FreeSized\\(\\): pointer "
               "0x[0-9a-f]+ belongs to an elfmalloc::Heap\n$");
  void* q = ProcessResource()->allocate(100, 8);
  EXPECT_DEATH(ra.deallocate(q, 100, 8),
               "^elfmalloc: Heap::FreeSized\\(\\): pointer 0x[0-9a-f]+ "
               "belongs to the process heap");
  ProcessResource()->deallocate(q, 100, 8);
  rb.deallocate(p, 100, 8);
}

TEST_F(MemoryResourceDeathTest, StlDeallocateWithTheWrongCount) {
  StlAllocator<uint64_t> a;
  uint64_t* p = a.allocate(10);
  EXPECT_DEATH(a.deallocate(p, 1000),
               "^elfmalloc: ProcessHandle::FreeSized\\(\\): size mismatch "
               "0x[0-9a-f]+\n$");
  a.deallocate(p, 10);
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
