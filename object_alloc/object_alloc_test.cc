// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc/object_alloc.h"

#include <cstdint>
#include <new>
#include <vector>

#include <unistd.h>
#include <cstdlib>

#include "gtest/gtest.h"

namespace allocators {
namespace object_alloc {
namespace {

struct Point {
  int x = 7;
  int y = 9;
};

// A minimal typed allocator over operator new, counting calls.
class CountingPointAlloc {
 public:
  using value_type = Point;
  Point* Alloc() {
    ++allocs;
    return new (std::nothrow) Point();
  }
  void Dealloc(Point* p) {
    ++deallocs;
    delete p;
  }
  int allocs = 0;
  int deallocs = 0;
};

class OomPointAlloc : public CountingPointAlloc {
 public:
  [[noreturn]] void Oom() {
    static const char kMsg[] = "custom oom handler\n";
    (void)!write(2, kMsg, sizeof(kMsg) - 1);
    abort();
  }
};

// A minimal untyped allocator.
class Untyped {
 public:
  Layout layout() const { return {24, 8}; }
  void* Alloc() { return ::operator new(24, std::nothrow); }
  void Dealloc(void* p) { ::operator delete(p); }
};

struct NotAnAllocator {};

struct WrongReturnType {
  using value_type = Point;
  void* Alloc();
  void Dealloc(Point*);
};

static_assert(kIsObjectAlloc<CountingPointAlloc, Point>);
static_assert(!kIsObjectAlloc<CountingPointAlloc, int>);
static_assert(!kIsObjectAlloc<NotAnAllocator, Point>);
static_assert(!kIsObjectAlloc<WrongReturnType, Point>);
static_assert(kIsUntypedObjectAlloc<Untyped>);
static_assert(!kIsUntypedObjectAlloc<CountingPointAlloc>);
static_assert(!kIsUntypedObjectAlloc<NotAnAllocator>);
static_assert(kIsUntypedObjectAlloc<UntypedView<CountingPointAlloc>>);
static_assert(internal::HasOom<OomPointAlloc>::value);
static_assert(!internal::HasOom<CountingPointAlloc>::value);

TEST(LayoutTest, OfAndValidity) {
  constexpr Layout l = Layout::Of<Point>();
  EXPECT_EQ(l.size, sizeof(Point));
  EXPECT_EQ(l.align, alignof(Point));
  EXPECT_TRUE(l.IsValid());
  EXPECT_FALSE(Layout::IsValid(16, 0));
  EXPECT_FALSE(Layout::IsValid(16, 24));
  EXPECT_TRUE(Layout::IsValid(SIZE_MAX - 15, 16));
  EXPECT_FALSE(Layout::IsValid(SIZE_MAX - 14, 16));
  EXPECT_EQ(Layout({8, 8}), Layout({8, 8}));
  EXPECT_NE(Layout({8, 8}), Layout({8, 16}));
}

TEST(UntypedViewTest, ForwardsToTypedAllocator) {
  CountingPointAlloc typed;
  UntypedView<CountingPointAlloc> view(&typed);
  EXPECT_EQ(view.layout(), Layout::Of<Point>());
  std::vector<void*> ptrs;
  for (int i = 0; i < 10; ++i) {
    void* p = view.Alloc();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(Point), 0u);
    // The typed allocator constructed it.
    EXPECT_EQ(static_cast<Point*>(p)->x, 7);
    ptrs.push_back(p);
  }
  for (void* p : ptrs) view.Dealloc(p);
  EXPECT_EQ(typed.allocs, 10);
  EXPECT_EQ(typed.deallocs, 10);
}

TEST(OomDeathTest, DefaultHandlerNamesTheLayout) {
  CountingPointAlloc typed;
  EXPECT_DEATH(Oom(typed, Layout{48, 16}),
               "object allocator out of memory \\(size 48, align 16\\)");
}

TEST(OomDeathTest, AllocatorsOwnHandlerWins) {
  OomPointAlloc typed;
  UntypedView<OomPointAlloc> view(&typed);
  EXPECT_DEATH(view.Oom(), "custom oom handler");
}

}  // namespace
}  // namespace object_alloc
}  // namespace allocators
