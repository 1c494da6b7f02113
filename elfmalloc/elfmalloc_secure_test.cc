// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The hardened build (//elfmalloc:elfmalloc_secure, libelfmalloc-secure.so):
// what each defence catches, with the one-line message it prints, and what
// it changes for correct programs (usable sizes, zeroed freed memory,
// unpredictable reuse order).

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "elfmalloc/elfmalloc.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace {

class SecureDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// Keeps the compiler from reasoning about the misuse below.
template <typename T>
T* Launder(T* p) {
  asm volatile("" : "+r"(p));
  return p;
}

TEST(SecureTest, UsableSizeLeavesRoomForTheCanary) {
  for (size_t n :
       {size_t{1}, size_t{8}, size_t{24}, size_t{100}, size_t{4000}}) {
    void* p = Alloc(n);
    ASSERT_NE(p, nullptr);
    EXPECT_GE(UsableSize(p), n);
    std::memset(p, 0xab, UsableSize(p));  // the whole usable size is legal
    Free(p);
  }
}

TEST(SecureTest, FreedObjectsAreZeroedAndReuseOrderIsNotLifo) {
  constexpr int kN = 64;
  std::vector<char*> first;
  for (int i = 0; i < kN; ++i) {
    first.push_back(static_cast<char*>(Alloc(48)));
    std::memset(first.back(), 0x5a, 48);
  }
  for (char* p : first) Free(p);
  // Zero on free: the freed memory holds no old contents (read through a
  // laundered pointer; the allocator itself guarantees it is mapped).
  const char* probe = Launder(first[kN / 2]);
  for (int i = 0; i < 48; ++i) EXPECT_EQ(probe[i], 0) << i;
  std::vector<char*> second;
  for (int i = 0; i < kN; ++i) second.push_back(static_cast<char*>(Alloc(48)));
  // A LIFO cache would give them back exactly reversed.
  std::vector<char*> reversed(first.rbegin(), first.rend());
  EXPECT_NE(second, reversed);
  // Every reused object reads as zero.
  for (char* p : second) {
    for (int i = 0; i < 48; ++i) ASSERT_EQ(p[i], 0);
  }
  for (char* p : second) Free(p);
}

TEST(SecureTest, AFreshSlagHandsOutItsObjectsInRandomOrder) {
  // A new thread starts with an empty cache, so its objects come straight
  // from a slag's bitset, where the default build takes them in address
  // order.
  std::vector<uintptr_t> got;
  std::thread([&got] {
    for (int i = 0; i < 32; ++i) {
      got.push_back(reinterpret_cast<uintptr_t>(Alloc(700)));
    }
  }).join();
  std::set<uintptr_t> distinct(got.begin(), got.end());
  EXPECT_EQ(distinct.size(), got.size());
  EXPECT_FALSE(std::is_sorted(got.begin(), got.end()));
  size_t adjacent = 0;  // next object right after the previous one
  for (size_t i = 1; i < got.size(); ++i) {
    adjacent += got[i] > got[i - 1] && got[i] - got[i - 1] <= 1024;
  }
  EXPECT_LT(adjacent, got.size() / 2);
  for (uintptr_t p : got) Free(reinterpret_cast<void*>(p));
}

TEST_F(SecureDeathTest, SlagsEndInAGuardPage) {
  EXPECT_EXIT(
      {
        // 4000 bytes (+ the 8-byte canary) is the 5 KiB class, in 256 KiB
        // slags (the hardened build's smallest). Take objects until one is the
        // last of its slag, then run off its end, through the slag's unused
        // tail, up to the first byte of the guard page.
        constexpr uintptr_t kSlag = uintptr_t{256} << 10;
        constexpr uintptr_t kGuard = 4096;
        for (int i = 0; i < 1000; ++i) {
          char* p = static_cast<char*>(Alloc(4000));
          const uintptr_t a = reinterpret_cast<uintptr_t>(p);
          const uintptr_t end = a + UsableSize(p) + 8;
          const uintptr_t guard = (a & ~(kSlag - 1)) + kSlag - kGuard;
          if (end <= guard && guard - end < 4096) {
            char* q = Launder(p);
            for (uintptr_t k = end - a; k <= guard - a; ++k) q[k] = 1;
            break;  // nothing else may touch the heap afterwards
          }
        }
        // Reached if the write did not fault: the statement then fails
        // to die.
      },
      // SIGSEGV; under ASan its handler reports the fault and exits instead.
      [](int status) {
        return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      },
      "");
}

TEST_F(SecureDeathTest, OverflowIntoTheCanaryIsCaughtAtFree) {
  EXPECT_DEATH(
      {
        char* p = static_cast<char*>(Alloc(24));
        std::memset(Launder(p), 1, UsableSize(p) + 8);
        Free(p);
      },
      "^elfmalloc: free\\(\\): heap overflow detected 0x[0-9a-f]+\n$");
}

TEST_F(SecureDeathTest, DoubleFreeIsCaughtEvenAcrossThreads) {
  EXPECT_DEATH(
      {
        void* p = Alloc(48);
        void* q = Alloc(48);  // freed after p: p is not the held object
        Free(p);
        Free(q);
        std::thread([p] { Free(p); }).join();
      },
      "^elfmalloc: free\\(\\): double free of 0x[0-9a-f]+\n$");
}

TEST_F(SecureDeathTest, ReallocOfAFreedBlock) {
  EXPECT_DEATH(
      {
        void* p = Alloc(48);
        Free(p);
        Realloc(Launder(p), 100);
      },
      "^elfmalloc: realloc\\(\\): freed pointer 0x[0-9a-f]+\n$");
}

TEST_F(SecureDeathTest, WriteAfterFreeIsCaughtWhenTheObjectIsReused) {
  EXPECT_DEATH(
      {
        char* p = static_cast<char*>(Alloc(48));
        Free(p);
        Launder(p)[5] = 1;
        // Another free covers p (the last freed object stays on top).
        Free(Alloc(48));
        for (int i = 0; i < 1000; ++i) Alloc(48);
      },
      "^elfmalloc: malloc\\(\\): write after free detected 0x[0-9a-f]+\n$");
}

TEST_F(SecureDeathTest, LargeObjectsEndInAGuardPage) {
  EXPECT_EXIT(
      {
        char* p = static_cast<char*>(Alloc(3 << 20));
        Launder(p)[UsableSize(p)] = 1;  // the first byte past the object
      },
      // SIGSEGV; under ASan its handler reports the fault and exits instead.
      [](int status) {
        return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      },
      "");
}

TEST(SecureTest, LargeReallocKeepsContentsAndUsableSize) {
  char* p = static_cast<char*>(Alloc(3 << 20));
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < (3 << 20); i += 4096)
    p[i] = static_cast<char>(i >> 12);
  for (size_t size : {size_t{5} << 20, size_t{3} << 20, size_t{6} << 20}) {
    p = static_cast<char*>(Realloc(p, size));
    ASSERT_NE(p, nullptr);
    EXPECT_GE(UsableSize(p), size);
    std::memset(p + (3 << 20), 0, UsableSize(p) - (3 << 20));  // all usable
    for (size_t i = 0; i < (3 << 20); i += 4096) {
      ASSERT_EQ(p[i], static_cast<char>(i >> 12)) << i;
    }
  }
  Free(p);
}

TEST_F(SecureDeathTest, ResizedLargeObjectsEndInAGuardPage) {
  for (size_t to : {size_t{5} << 20, size_t{2} << 20}) {
    EXPECT_EXIT(
        {
          char* p = static_cast<char*>(Realloc(Alloc(3 << 20), to));
          Launder(p)[UsableSize(p)] = 1;  // the first byte past the object
        },
        [](int status) {
          return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        },
        "")
        << "resized to " << to;
  }
}

TEST_F(SecureDeathTest, FreedLargeObjectsAreUnmapped) {
  EXPECT_EXIT(
      {
        char* p = static_cast<char*>(Alloc(3 << 20));
        Free(p);
        Launder(p)[100] = 1;
      },
      [](int status) {
        return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      },
      "");
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
