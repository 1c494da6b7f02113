// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The size-specific allocators: the shared conformance suite (typed and
// untyped), the original's frontends tests (obj_alloc_basic, many pages on
// one thread, many threads), and the typed allocators' object caching.

#include "elfmalloc/object_allocators.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
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
    ::allocators::object_alloc_test::ConformanceTypes<
        Factory<UntypedMagazineAllocator>>,
    ::allocators::object_alloc_test::ConformanceNames);

INSTANTIATE_TYPED_TEST_SUITE_P(
    Local, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<
        Factory<UntypedLocalAllocator>>,
    ::allocators::object_alloc_test::ConformanceNames);

// The typed allocators, driven as typed: objects come back constructed.
template <template <typename> class A>
struct TypedFactory {
  static constexpr size_t kMaxAlign = 8192;
  template <typename T>
  static std::unique_ptr<A<T>> Make(size_t align) {
    ObjectAllocOptions o;
    o.align = align;
    return std::make_unique<A<T>>(o);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(
    TypedMagazine, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<
        TypedFactory<MagazineAllocator>>,
    ::allocators::object_alloc_test::ConformanceNames);

INSTANTIATE_TYPED_TEST_SUITE_P(
    TypedLocal, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<
        TypedFactory<LocalAllocator>>,
    ::allocators::object_alloc_test::ConformanceNames);

size_t Scale(size_t ci, size_t full) {
  const char* s = std::getenv("ELFMALLOC_TEST_SCALE");
  return s != nullptr && std::string(s) == "full" ? full : ci;
}

template <typename A>
class SizedAllocatorTest : public ::testing::Test {};
using Allocators =
    ::testing::Types<UntypedMagazineAllocator, UntypedLocalAllocator>;
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

// A type that counts its constructions and destructions, and remembers
// which construction made it.
struct Counted {
  static std::atomic<int64_t> made;
  static std::atomic<int64_t> ended;
  Counted() : serial(made.fetch_add(1) + 1) {}
  explicit Counted(uint64_t tag) : serial(made.fetch_add(1) + 1), tag(tag) {}
  ~Counted() { ended.fetch_add(1); }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  int64_t serial;
  uint64_t tag = 0;
  std::string name = "a name long enough to live on the heap, not inline";
};
std::atomic<int64_t> Counted::made{0};
std::atomic<int64_t> Counted::ended{0};

template <typename A>
class TypedAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Counted::made = 0;
    Counted::ended = 0;
  }
};
using TypedAllocators =
    ::testing::Types<MagazineAllocator<Counted>, LocalAllocator<Counted>>;
TYPED_TEST_SUITE(TypedAllocatorTest, TypedAllocators);

static_assert(object_alloc::kIsObjectAlloc<MagazineAllocator<Counted>, Counted>);
static_assert(object_alloc::kIsObjectAlloc<LocalAllocator<Counted>, Counted>);

// What a typed handle hands out: fresh objects (tag 0, a new serial) or
// objects freed earlier, exactly as they were freed (no second
// construction). Counts both kinds.
template <typename A>
class Checker {
 public:
  explicit Checker(A* a) : a_(a) {}
  Counted* Alloc() {
    Counted* c = a_->Alloc();
    EXPECT_NE(c, nullptr);
    auto it = freed_.find(c);
    if (c->tag == 0) {
      ++fresh_;
    } else {
      ++reused_;
      EXPECT_NE(it, freed_.end()) << "a used object that was never freed";
      if (it != freed_.end()) {
        EXPECT_EQ(c->serial, it->second.first) << "constructed again";
        EXPECT_EQ(c->tag, it->second.second) << "lost its state";
      }
    }
    if (it != freed_.end()) freed_.erase(it);
    c->tag = ++next_tag_;
    return c;
  }
  void Dealloc(Counted* c) {
    freed_[c] = {c->serial, c->tag};
    a_->Dealloc(c);
  }
  size_t fresh() const { return fresh_; }
  size_t reused() const { return reused_; }

 private:
  A* a_;
  std::map<Counted*, std::pair<int64_t, uint64_t>> freed_;
  uint64_t next_tag_ = 0;
  size_t fresh_ = 0, reused_ = 0;
};

// A freed object comes back as it was, without a second construction, or a
// fresh one is made; the destructors run once each.
TYPED_TEST(TypedAllocatorTest, ReusedObjectsAreNotConstructedAgain) {
  constexpr size_t kN = 3000;  // several slags
  {
    TypeParam a;
    Checker<TypeParam> check(&a);
    std::vector<Counted*> objs(kN);
    for (Counted*& c : objs) c = check.Alloc();
    EXPECT_EQ(check.fresh(), kN);
    for (size_t round = 0; round < 3; ++round) {
      for (Counted* c : objs) check.Dealloc(c);
      for (Counted*& c : objs) c = check.Alloc();
    }
    // A slag whose objects are all free goes back to the page allocator,
    // and its objects are destroyed; the rest are reused.
    EXPECT_GT(check.reused(), 0u);
    EXPECT_EQ(Counted::made.load(), static_cast<int64_t>(check.fresh()));
    for (Counted* c : objs) check.Dealloc(c);
  }
  EXPECT_EQ(Counted::ended.load(), Counted::made.load());
}

// Allocate-and-free pairs run on the same few objects: construction once.
TYPED_TEST(TypedAllocatorTest, PairsReuseTheirObjects) {
  {
    TypeParam a;
    Checker<TypeParam> check(&a);
    for (int i = 0; i < 1000; ++i) check.Dealloc(check.Alloc());
    EXPECT_LE(check.fresh(), 2u);  // the held-back object may take a second
    EXPECT_EQ(Counted::made.load(), static_cast<int64_t>(check.fresh()));
  }
  EXPECT_EQ(Counted::ended.load(), Counted::made.load());
}

// Objects made by a factory; a handle on another thread frees them; every
// object made is destroyed once.
TYPED_TEST(TypedAllocatorTest, FactoryAndCrossThreadFrees) {
  const size_t n = Scale(20000, 200000);
  {
    TypeParam a(ObjectAllocOptions{}, [] { return Counted(7); });
    std::vector<Counted*> objs(n);
    for (int round = 0; round < 2; ++round) {
      std::thread producer([b = a, &objs]() mutable {
        for (Counted*& c : objs) {
          c = b.Alloc();
          ASSERT_NE(c, nullptr);
          ASSERT_TRUE(c->tag == 7 || c->tag == 8);  // fresh, or freed as 8
          c->tag = 8;
        }
      });
      producer.join();
      std::thread consumer([b = a, &objs]() mutable {
        for (Counted* c : objs) {
          ASSERT_EQ(c->tag, 8u);
          b.Dealloc(c);
        }
      });
      consumer.join();
    }
    EXPECT_GE(Counted::made.load(), static_cast<int64_t>(n));
  }
  EXPECT_EQ(Counted::ended.load(), Counted::made.load());
}

TYPED_TEST(TypedAllocatorTest, AlignmentAboveTheTypes) {
  ObjectAllocOptions o;
  o.align = 256;
  TypeParam a(o);
  EXPECT_EQ(a.layout().align, 256u);
  std::vector<Counted*> objs;
  for (int i = 0; i < 500; ++i) {
    objs.push_back(a.Alloc());
    ASSERT_EQ(reinterpret_cast<uintptr_t>(objs.back()) % 256, 0u);
  }
  for (Counted* c : objs) a.Dealloc(c);
}

// A trivially destructible type needs no destructor calls; its state
// survives reuse all the same.
TEST(TypedAllocatorTest, TrivialTypesKeepTheirState) {
  struct Plain {
    uint64_t words[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  };
  MagazineAllocator<Plain> a;
  std::vector<Plain*> objs(100);
  for (Plain*& p : objs) {
    p = a.Alloc();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->words[0], 1u);
    EXPECT_EQ(p->words[7], 8u);
    p->words[0] = 99;
  }
  for (Plain* p : objs) a.Dealloc(p);
  size_t reused = 0;
  for (Plain*& p : objs) {
    p = a.Alloc();
    ASSERT_TRUE(p->words[0] == 1 || p->words[0] == 99);
    reused += p->words[0] == 99;
  }
  EXPECT_GT(reused, 0u);
  for (Plain* p : objs) a.Dealloc(p);
}

// An object still allocated when the last handle goes is left alone (its
// slag stays mapped); the objects of fully free slags are destroyed.
struct Tag {
  static std::atomic<int64_t> ended;
  ~Tag() { ended.fetch_add(1); }
  uint64_t tag = 0;
};
std::atomic<int64_t> Tag::ended{0};

TEST(TypedAllocatorTest, ALiveObjectOutlivesItsPools) {
  Tag* kept;
  size_t per_slag;
  Tag::ended = 0;
  {
    MagazineAllocator<Tag> a;
    per_slag = a.geometry().n_objects;
    std::vector<Tag*> objs;
    for (int i = 0; i < 20000; ++i) objs.push_back(a.Alloc());
    kept = objs[10000];
    kept->tag = 42;
    for (Tag* t : objs) {
      if (t != kept) a.Dealloc(t);
    }
  }
  EXPECT_EQ(kept->tag, 42u);  // still mapped, still constructed
  // Every object but those of kept's slag (all constructed: a whole slag's
  // worth was handed out after it) was destroyed.
  EXPECT_EQ(Tag::ended.load(), static_cast<int64_t>(20000 - per_slag));
}

// A constructor that throws cannot unwind through the allocator: the
// process stops with a one-line error.
TEST(TypedAllocatorDeathTest, AThrowingConstructorIsFatal) {
  struct Fussy {
    explicit Fussy(int) {}
  };
  EXPECT_DEATH(
      {
        MagazineAllocator<Fussy> a(ObjectAllocOptions{}, []() -> Fussy {
          throw std::runtime_error("no");
        });
        a.Alloc();
      },
      "elfmalloc: an object allocator's constructor threw");
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
