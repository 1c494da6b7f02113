// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The size-specific allocators: the shared conformance suite, and the
// original's frontends tests (obj_alloc_basic, many pages on one thread,
// many threads).

#include "elfmalloc/object_allocators.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <unordered_set>
#include <vector>

#include "gtest/gtest.h"
#include "object_alloc/object_alloc.h"
#include "object_alloc_test/conformance.h"

namespace allocators {
namespace elfmalloc {
namespace {

template <typename A>
struct Factory {
  // Alignments up to a quarter of the smallest (32 KiB) slag.
  static constexpr size_t kMaxAlign = 8192;
  template <typename T>
  static A Make(size_t align) {
    return A(object_alloc::Layout{sizeof(T), align});
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(
    Magazine, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<Factory<MagazineAllocator>>,
    ::allocators::object_alloc_test::ConformanceNames);

INSTANTIATE_TYPED_TEST_SUITE_P(
    Local, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<Factory<LocalAllocator>>,
    ::allocators::object_alloc_test::ConformanceNames);

size_t Scale(size_t ci, size_t full) {
  const char* s = std::getenv("ELFMALLOC_TEST_SCALE");
  return s != nullptr && std::string(s) == "full" ? full : ci;
}

template <typename A>
class SizedAllocatorTest : public ::testing::Test {};
using Allocators = ::testing::Types<MagazineAllocator, LocalAllocator>;
TYPED_TEST_SUITE(SizedAllocatorTest, Allocators);

// obj_alloc_basic: alloc, write, free, with 4 KiB slags like the original.
TYPED_TEST(SizedAllocatorTest, Basic) {
  ObjectAllocOptions o;
  o.slag_bytes = 4096;
  TypeParam a(object_alloc::Layout::Of<uint64_t>(), o);
  auto* p = static_cast<uint64_t*>(a.Alloc());
  ASSERT_NE(p, nullptr);
  *p = 42;
  EXPECT_EQ(*p, 42u);
  a.Dealloc(p);
}

// obj_alloc_many_pages_single_threaded_{usize,u24,u32}: 81 920 pairs, then
// 81 920 simultaneous distinct objects, then free them all.
template <typename A, size_t kSize>
void ManyPagesOneThread() {
  ObjectAllocOptions o;
  o.slag_bytes = 4096;
  A a(object_alloc::Layout{kSize, 8}, o);
  constexpr size_t kN = 81920;
  for (size_t i = 0; i < kN; ++i) {
    void* p = a.Alloc();
    ASSERT_NE(p, nullptr);
    static_cast<unsigned char*>(p)[kSize - 1] = 1;
    a.Dealloc(p);
  }
  std::vector<void*> live;
  std::unordered_set<void*> seen;
  for (size_t i = 0; i < kN; ++i) {
    void* p = a.Alloc();
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 8, 0u);
    ASSERT_TRUE(seen.insert(p).second) << "object handed out twice: " << p;
    live.push_back(p);
  }
  for (void* p : live) a.Dealloc(p);
}

TYPED_TEST(SizedAllocatorTest, ManyPagesOneThread8) {
  ManyPagesOneThread<TypeParam, 8>();
}
TYPED_TEST(SizedAllocatorTest, ManyPagesOneThread24) {
  ManyPagesOneThread<TypeParam, 24>();
}
TYPED_TEST(SizedAllocatorTest, ManyPagesOneThread32) {
  ManyPagesOneThread<TypeParam, 32>();
}

// obj_alloc_many_pages_many_threads: a handle cloned into 40 threads, each
// doing pairs, then holding distinct objects, then freeing them. Objects
// carry their owner's id so a double hand-out across threads is caught.
TYPED_TEST(SizedAllocatorTest, ManyThreads) {
  ObjectAllocOptions o;
  o.slag_bytes = 4096;
  TypeParam a(object_alloc::Layout{24, 8}, o);
  constexpr size_t kThreads = 40;
  const size_t n = Scale(2048, 16384);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([b = a, n, t]() mutable {
      for (size_t i = 0; i < n; ++i) {
        void* p = b.Alloc();
        ASSERT_NE(p, nullptr);
        static_cast<uint64_t*>(p)[0] = t;
        b.Dealloc(p);
      }
      std::vector<uint64_t*> live;
      for (size_t i = 0; i < n; ++i) {
        auto* p = static_cast<uint64_t*>(b.Alloc());
        ASSERT_NE(p, nullptr);
        p[0] = t;
        p[1] = i;
        live.push_back(p);
      }
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(live[i][0], t);
        ASSERT_EQ(live[i][1], i);
        b.Dealloc(live[i]);
      }
    });
  }
  for (auto& th : threads) th.join();
}

// Objects freed through another thread's handle (producer/consumer).
TYPED_TEST(SizedAllocatorTest, CrossHandleFrees) {
  TypeParam a(object_alloc::Layout{48, 16});
  const size_t n = Scale(20000, 200000);
  std::vector<uint64_t*> objs(n);
  std::thread producer([b = a, &objs]() mutable {
    for (size_t i = 0; i < objs.size(); ++i) {
      objs[i] = static_cast<uint64_t*>(b.Alloc());
      ASSERT_NE(objs[i], nullptr);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(objs[i]) % 16, 0u);
      for (size_t w = 0; w < 6; ++w) objs[i][w] = i * 6 + w;
    }
  });
  producer.join();
  std::thread consumer([b = a, &objs]() mutable {
    for (size_t i = 0; i < objs.size(); ++i) {
      for (size_t w = 0; w < 6; ++w) ASSERT_EQ(objs[i][w], i * 6 + w);
      b.Dealloc(objs[i]);
    }
  });
  consumer.join();
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
