// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The real override: this test links //elfmalloc:malloc (cc_test malloc
// attribute), so the program's malloc, free, ... and operator new/delete are
// elfmalloc's. Runs the C-API conformance suite through the plain symbols,
// and checks every C++ operator form, the new_handler loop and bad_alloc.

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "elfmalloc/elfmalloc.h"
#include "gtest/gtest.h"
#include "malloc_bind/c_api_conformance.h"

// C23 names glibc 2.36 does not declare yet.
extern "C" void free_sized(void* p, size_t size) noexcept;
extern "C" void free_aligned_sized(void* p, size_t align, size_t size) noexcept;

namespace allocators {
namespace elfmalloc {
namespace {

using malloc_bind::CApiConformanceTest;

const malloc_bind::CApiTable kOverride = {
    "override",        &::malloc,        &::free,    &::calloc,
    &::realloc,        &::reallocarray,  &::posix_memalign,
    &::aligned_alloc,  &::memalign,      &::valloc,  &::pvalloc,
    &::malloc_usable_size, &::free_sized, &::free_aligned_sized};

INSTANTIATE_TEST_SUITE_P(Override, CApiConformanceTest,
                         ::testing::Values(&kOverride),
                         CApiConformanceTest::Name);

// elfmalloc::UsableSize aborts on a pointer elfmalloc did not hand out, so
// a non-zero answer proves the allocation went through elfmalloc.
TEST(OverrideTest, MallocAndLibcInternalsUseElfmalloc) {
  void* p = malloc(10);
  EXPECT_GE(UsableSize(p), 10u);
  free(p);
  char* dup = strdup("allocated inside glibc");
  EXPECT_GE(UsableSize(dup), 23u);
  free(dup);
  std::string s(1000, 'x');  // libstdc++ -> operator new
  EXPECT_GE(UsableSize(s.data()), 1001u);
}

struct alignas(256) Wide {
  char bytes[256];
};

TEST(OverrideTest, EveryOperatorForm) {
  auto* a = new int(7);
  EXPECT_GE(UsableSize(a), sizeof(int));
  delete a;
  auto* b = new int[100];
  EXPECT_GE(UsableSize(b), 100 * sizeof(int));
  delete[] b;
  auto* c = new (std::nothrow) double(1.5);
  ASSERT_NE(c, nullptr);
  operator delete(c, std::nothrow);
  auto* d = new (std::nothrow) char[50];
  ASSERT_NE(d, nullptr);
  operator delete[](d, std::nothrow);
  // Sized delete.
  void* e = operator new(48);
  operator delete(e, 48);
  void* f = operator new[](480);
  operator delete[](f, 480);
  // Over-aligned types use the align_val_t forms.
  auto* w = new Wide;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w) % 256, 0u);
  delete w;
  auto* ws = new Wide[3];
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ws) % 256, 0u);
  delete[] ws;
  for (size_t align : {size_t{64}, size_t{4096}, size_t{1} << 21}) {
    const auto al = static_cast<std::align_val_t>(align);
    void* g = operator new(100, al);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(g) % align, 0u);
    operator delete(g, al);
    void* h = operator new[](100, al, std::nothrow);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(h) % align, 0u);
    operator delete[](h, al, std::nothrow);
    void* i = operator new(100, al, std::nothrow);
    operator delete(i, 100, al);
    void* j = operator new[](100, al);
    operator delete[](j, 100, al);
    void* k = operator new[](100, al);
    operator delete[](k, al);
    void* l = operator new(100, al);
    operator delete(l, al, std::nothrow);
  }
  // Deleting nullptr through every form is a no-op.
  operator delete(nullptr);
  operator delete[](nullptr);
  operator delete(nullptr, std::align_val_t{64});
  operator delete(nullptr, 8, std::align_val_t{64});
}

int g_handler_calls = 0;
void CountingHandler() {
  if (++g_handler_calls == 3) std::set_new_handler(nullptr);
}

TEST(OverrideTest, NewCallsTheHandlerThenThrows) {
  const size_t huge = SIZE_MAX / 2;
  g_handler_calls = 0;
  std::set_new_handler(&CountingHandler);
  EXPECT_THROW(static_cast<void>(operator new(huge)), std::bad_alloc);
  EXPECT_EQ(g_handler_calls, 3);
  g_handler_calls = 0;
  std::set_new_handler(&CountingHandler);
  EXPECT_THROW(static_cast<void>(operator new(huge, std::align_val_t{64})),
               std::bad_alloc);
  EXPECT_EQ(g_handler_calls, 3);
  std::set_new_handler(nullptr);
  EXPECT_THROW(static_cast<void>(operator new[](huge)), std::bad_alloc);
  EXPECT_EQ(operator new(huge, std::nothrow), nullptr);
  EXPECT_EQ(operator new[](huge, std::align_val_t{4096}, std::nothrow),
            nullptr);
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
