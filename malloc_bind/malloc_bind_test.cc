// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// CApi<B> over bindings that record what they are asked for: calloc goes
// through the optional AllocZeroed hook when the binding has one, and is
// Alloc plus memset otherwise, with the same overflow and ENOMEM rules.

#include "malloc_bind/malloc_bind.h"

#include <errno.h>
#include <stdint.h>

#include <cstddef>
#include <cstring>

#include "gtest/gtest.h"
#include "malloc_bind/bsalloc_binding.h"

namespace allocators {
namespace malloc_bind {
namespace {

// A bump arena whose untouched bytes are kFresh, so that a clear calloc
// should have done, or one it should not have done, shows.
constexpr unsigned char kFresh = 0xaa;
alignas(16) unsigned char g_arena[1 << 16];
size_t g_used = 0;
bool g_fail = false;  // the next calls fail (nullptr, errno untouched)
int g_allocs = 0;     // Alloc calls
int g_zeroed = 0;     // AllocZeroed calls
size_t g_size = 0;    // the size of the last of either

void* Take(size_t size) {
  const size_t rounded = (size + 15) & ~size_t{15};
  if (g_fail || rounded > sizeof(g_arena) - g_used) return nullptr;
  void* p = g_arena + g_used;
  g_used += rounded;
  return p;
}

struct PlainBinding {
  static void* Alloc(size_t size) {
    ++g_allocs;
    g_size = size;
    return Take(size);
  }
  static void* AlignedAlloc(size_t size, size_t) { return Alloc(size); }
  static void Free(void*) {}
  static void* Realloc(void*, size_t) { return nullptr; }
  static size_t UsableSize(const void*) { return 0; }
};

// Its AllocZeroed hands out the arena's bytes as they are (not zero, which
// breaks the hook's contract on purpose): what calloc returns then shows
// that calloc trusted the hook and cleared nothing itself.
struct HookBinding : PlainBinding {
  static void* AllocZeroed(size_t size) {
    ++g_zeroed;
    g_size = size;
    return Take(size);
  }
};

static_assert(internal::HasAllocZeroed<HookBinding>::value);
static_assert(!internal::HasAllocZeroed<PlainBinding>::value);
static_assert(!internal::HasAllocZeroed<BsallocBinding>::value);

class CallocHookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::memset(g_arena, kFresh, sizeof(g_arena));
    g_used = 0;
    g_fail = false;
    g_allocs = g_zeroed = 0;
    g_size = 0;
  }
};

TEST_F(CallocHookTest, WithoutTheHookCallocIsAllocPlusMemset) {
  auto* p = static_cast<unsigned char*>(CApi<PlainBinding>::Calloc(3, 40));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(g_allocs, 1);
  EXPECT_EQ(g_size, 120u);
  for (size_t i = 0; i < 120; ++i) ASSERT_EQ(p[i], 0) << i;
  EXPECT_EQ(p[120], kFresh) << "only the request is cleared";
}

TEST_F(CallocHookTest, WithTheHookCallocCallsItInsteadOfAlloc) {
  auto* p = static_cast<unsigned char*>(CApi<HookBinding>::Calloc(3, 40));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(g_zeroed, 1);
  EXPECT_EQ(g_allocs, 0);
  EXPECT_EQ(g_size, 120u);
  EXPECT_EQ(p[0], kFresh) << "calloc cleared memory the hook vouched for";
}

TEST_F(CallocHookTest, ZeroBytesAskForOne) {
  EXPECT_NE(CApi<HookBinding>::Calloc(0, 8), nullptr);
  EXPECT_EQ(g_size, 1u);
  EXPECT_NE(CApi<HookBinding>::Calloc(8, 0), nullptr);
  EXPECT_EQ(g_size, 1u);
  EXPECT_NE(CApi<PlainBinding>::Calloc(0, 0), nullptr);
  EXPECT_EQ(g_size, 1u);
  EXPECT_EQ(g_zeroed, 2);
  EXPECT_EQ(g_allocs, 1);
}

// Overflowing products and sizes above PTRDIFF_MAX fail before any call.
template <typename B>
void ExpectImpossibleCallocsFail() {
  const size_t big = static_cast<size_t>(PTRDIFF_MAX) + 1;
  const size_t cases[][2] = {{SIZE_MAX / 2 + 1, 2},
                             {size_t{1} << 32, size_t{1} << 32},
                             {1, big},
                             {big / 16, 16},
                             {1, SIZE_MAX}};
  for (const auto& c : cases) {
    errno = 0;
    EXPECT_EQ(CApi<B>::Calloc(c[0], c[1]), nullptr) << c[0] << " " << c[1];
    EXPECT_EQ(errno, ENOMEM) << c[0] << " " << c[1];
  }
  EXPECT_EQ(g_allocs, 0);
  EXPECT_EQ(g_zeroed, 0);
}

TEST_F(CallocHookTest, ImpossibleSizesFailBeforeTheBinding) {
  ExpectImpossibleCallocsFail<PlainBinding>();
  ExpectImpossibleCallocsFail<HookBinding>();
}

TEST_F(CallocHookTest, AFailedHookGivesEnomem) {
  g_fail = true;
  errno = 0;
  EXPECT_EQ(CApi<HookBinding>::Calloc(4, 16), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(g_zeroed, 1);
  errno = 0;
  EXPECT_EQ(CApi<PlainBinding>::Calloc(4, 16), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST_F(CallocHookTest, OnlyCallocUsesTheHook) {
  EXPECT_NE(CApi<HookBinding>::Malloc(64), nullptr);
  EXPECT_NE(CApi<HookBinding>::New(64), nullptr);
  EXPECT_NE(CApi<HookBinding>::NewNothrow(64), nullptr);
  EXPECT_NE(CApi<HookBinding>::Realloc(nullptr, 64), nullptr);
  EXPECT_EQ(g_allocs, 4);
  EXPECT_EQ(g_zeroed, 0);
}

}  // namespace
}  // namespace malloc_bind
}  // namespace allocators
