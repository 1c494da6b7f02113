// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Every allocator adapter of the repository under the same container
// tests: the original's vector cases (push, pop, reserve, resize, extend,
// index, slices, comparisons) over std::vector with the adapter's
// allocator, plus std::map, std::pmr::string and absl::flat_hash_map on
// it, with contents checked. The adapters:
//
//   std::pmr resources   elfmalloc's ProcessResource(), HeapResource over a
//                        Heap and a Heap::Handle, SizedHeapResource (the
//                        global heap and one of its own); bsalloc's and
//                        mmap_alloc's Resource; slab_alloc's PoolResource
//   STL allocators       StlAllocator<T> (process heap), HeapAllocator<T>
//                        over a Heap::Handle and over a Heap
//
// A pmr resource is used through std::pmr::polymorphic_allocator, so its
// std::vector is std::pmr::vector.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <memory_resource>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bsalloc/memory_resource.h"
#include "elfmalloc/heap.h"
#include "elfmalloc/memory_resource.h"
#include "elfmalloc/sized_heap.h"
#include "gtest/gtest.h"
#include "mmap_alloc/memory_resource.h"
#include "slab_alloc/memory_resource.h"

namespace allocators {
namespace {

using elfmalloc::Heap;

// An environment: Alloc<T>, the adapter's allocator type, and alloc<T>(),
// an instance. Each owns what its allocator needs.
//
// PmrOver<Derived>: std::pmr::polymorphic_allocator over Derived::get().
template <typename Derived>
struct PmrOver {
  template <typename T>
  using Alloc = std::pmr::polymorphic_allocator<T>;
  template <typename T>
  Alloc<T> alloc() {
    return Alloc<T>(static_cast<Derived*>(this)->get());
  }
};

template <typename R>
struct PmrEnv : PmrOver<PmrEnv<R>> {
  std::pmr::memory_resource* get() { return &resource; }
  R resource;
};

struct ProcessEnv : PmrOver<ProcessEnv> {
  std::pmr::memory_resource* get() { return elfmalloc::ProcessResource(); }
};

struct HeapEnv : PmrOver<HeapEnv> {
  HeapEnv() : resource(heap) {}
  std::pmr::memory_resource* get() { return &resource; }
  Heap heap;
  elfmalloc::HeapResource<Heap> resource;
};

struct HandleEnv : PmrOver<HandleEnv> {
  HandleEnv() : handle(heap), resource(handle) {}
  std::pmr::memory_resource* get() { return &resource; }
  Heap heap;
  Heap::Handle handle;
  elfmalloc::HeapResource<Heap::Handle> resource;
};

struct SizedOwnEnv : PmrOver<SizedOwnEnv> {
  SizedOwnEnv() : resource(heap) {}
  std::pmr::memory_resource* get() { return &resource; }
  elfmalloc::SizedHeap heap;
  elfmalloc::SizedHeapResource resource;
};

struct StlEnv {
  template <typename T>
  using Alloc = elfmalloc::StlAllocator<T>;
  template <typename T>
  Alloc<T> alloc() {
    return Alloc<T>();
  }
};

template <typename H>
struct HeapAllocatorEnv {
  HeapAllocatorEnv() : h(MakeH()) {}
  template <typename T>
  using Alloc = elfmalloc::HeapAllocator<T, H>;
  template <typename T>
  Alloc<T> alloc() {
    return Alloc<T>(*h);
  }
  H* MakeH() {
    if constexpr (std::is_same_v<H, Heap>) {
      return &heap;
    } else {
      handle = std::make_unique<Heap::Handle>(heap);
      return handle.get();
    }
  }
  Heap heap;
  std::unique_ptr<Heap::Handle> handle;
  H* h;
};

template <typename Env>
class AdapterTest : public ::testing::Test {
 protected:
  template <typename T>
  using Vec = std::vector<T, typename Env::template Alloc<T>>;

  template <typename T>
  Vec<T> MakeVec() {
    return Vec<T>(env_.template alloc<T>());
  }

  Env env_;
};

using Envs = ::testing::Types<
    ProcessEnv, HeapEnv, HandleEnv, PmrEnv<elfmalloc::SizedHeapResource>,
    SizedOwnEnv, PmrEnv<bsalloc::Resource>, PmrEnv<mmap_alloc::Resource>,
    PmrEnv<slab_alloc::PoolResource>, StlEnv, HeapAllocatorEnv<Heap::Handle>,
    HeapAllocatorEnv<Heap>>;
TYPED_TEST_SUITE(AdapterTest, Envs);

// The original's vector tests: pushes, then pops in reverse.
TYPED_TEST(AdapterTest, VectorPushAndPop) {
  auto v = this->template MakeVec<uint64_t>();
  for (uint64_t i = 0; i < 100000; ++i) v.push_back(i * 3);
  ASSERT_EQ(v.size(), 100000u);
  for (uint64_t i = 100000; i-- > 0;) {
    ASSERT_EQ(v.back(), i * 3);
    v.pop_back();
  }
  EXPECT_TRUE(v.empty());
}

TYPED_TEST(AdapterTest, VectorReserveResizeExtend) {
  auto v = this->template MakeVec<int>();
  v.reserve(5000);
  ASSERT_GE(v.capacity(), 5000u);
  const int* data = v.data();
  for (int i = 0; i < 5000; ++i) v.push_back(i);
  EXPECT_EQ(v.data(), data);  // no reallocation within the reservation
  v.resize(8000, -1);
  EXPECT_EQ(v[4999], 4999);
  EXPECT_EQ(v[7999], -1);
  v.resize(10);
  EXPECT_EQ(v.size(), 10u);
  std::vector<int> more(20000);
  std::iota(more.begin(), more.end(), 100);
  v.insert(v.end(), more.begin(), more.end());  // extend
  ASSERT_EQ(v.size(), 20010u);
  EXPECT_EQ(v[10], 100);
  EXPECT_EQ(v[20009], 20099);
  v.shrink_to_fit();
  EXPECT_EQ(v[20009], 20099);
}

TYPED_TEST(AdapterTest, VectorIndexSlicesAndComparisons) {
  auto a = this->template MakeVec<int>();
  auto b = this->template MakeVec<int>();
  for (int i = 0; i < 1000; ++i) {
    a.push_back(i);
    b.push_back(i);
  }
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a[i], i);
  EXPECT_TRUE(a == b);
  b[999] = 5000;
  EXPECT_TRUE(a != b);
  EXPECT_TRUE(a < b);
  // A slice: a view of elements [100, 200), compared element by element.
  const int* slice = a.data() + 100;
  EXPECT_TRUE(std::equal(slice, slice + 100, b.begin() + 100));
  EXPECT_EQ(std::accumulate(slice, slice + 100, 0), 14950);
  // Over-aligned elements.
  struct alignas(64) Wide {
    int v;
  };
  auto w = this->template MakeVec<Wide>();
  for (int i = 0; i < 300; ++i) {
    w.push_back(Wide{i});
    ASSERT_EQ(reinterpret_cast<uintptr_t>(w.data()) % 64, 0u);
  }
}

TYPED_TEST(AdapterTest, MapsAndStrings) {
  using Env = TypeParam;
  using Str = std::basic_string<char, std::char_traits<char>,
                                typename Env::template Alloc<char>>;
  using Pair = std::pair<const int, Str>;
  std::map<int, Str, std::less<int>, typename Env::template Alloc<Pair>> m(
      this->env_.template alloc<Pair>());
  for (int i = 0; i < 3000; ++i) {
    m.emplace(i, Str(30 + i % 50, static_cast<char>('a' + i % 26),
                     this->env_.template alloc<char>()));
  }
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(m.at(i).size(), 30u + i % 50);
    ASSERT_EQ(m.at(i)[0], static_cast<char>('a' + i % 26));
  }
  for (int i = 0; i < 3000; i += 3) m.erase(i);
  EXPECT_EQ(m.size(), 2000u);
  using HPair = std::pair<const int, int>;
  absl::flat_hash_map<int, int, absl::Hash<int>, std::equal_to<int>,
                      typename Env::template Alloc<HPair>>
      f(0, absl::Hash<int>(), std::equal_to<int>(),
        this->env_.template alloc<HPair>());
  for (int i = 0; i < 30000; ++i) f[i] = i ^ 0x5555;
  for (int i = 0; i < 30000; ++i) ASSERT_EQ(f.at(i), i ^ 0x5555);
  for (int i = 0; i < 30000; i += 2) f.erase(i);
  EXPECT_EQ(f.size(), 15000u);
}

}  // namespace
}  // namespace allocators
