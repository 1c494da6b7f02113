// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Out of memory through the C++ operators of a program whose malloc is
// elfmalloc (cc_test malloc = :malloc): with maps failing, throwing
// operator new calls the installed new_handler and, once there is none,
// throws std::bad_alloc; nothrow new returns nullptr; malloc returns NULL
// with ENOMEM. Once maps succeed again everything allocates and the
// invariants hold. Between injecting and clearing failures only the
// operation under test runs (gtest itself allocates).

#include <errno.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <new>

#include "elfmalloc/elfmalloc.h"
#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"

namespace allocators {
namespace elfmalloc {
namespace {

namespace fi = ::allocators::mmap_alloc::testing;

// Large enough that it must map (no class, no cached block after Release).
constexpr size_t kBig = size_t{96} << 20;
constexpr size_t kForever = size_t{1} << 40;

int g_handler_calls = 0;

// Gives up: the next failure throws.
void CountAndUninstall() {
  ++g_handler_calls;
  std::set_new_handler(nullptr);
}

// Makes memory available again, as a handler is meant to.
void CountAndRecover() {
  ++g_handler_calls;
  fi::ClearMapFailures();
}

class OomOperatorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_handler_calls = 0;
    Release();
  }
  void TearDown() override {
    fi::ClearMapFailures();
    std::set_new_handler(nullptr);
    EXPECT_TRUE(CheckInvariants());
  }
};

TEST_F(OomOperatorsTest, NewCallsTheHandlerThenThrows) {
  std::set_new_handler(&CountAndUninstall);
  bool threw = false;
  char* p = nullptr;
  fi::FailNextMaps(kForever);
  try {
    p = new char[kBig];
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  fi::ClearMapFailures();
  EXPECT_TRUE(threw);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(g_handler_calls, 1);
  // Recovery.
  p = new char[kBig];
  std::memset(p, 1, kBig);
  delete[] p;
}

TEST_F(OomOperatorsTest, HandlerThatFreesMemoryLetsNewSucceed) {
  std::set_new_handler(&CountAndRecover);
  fi::FailNextMaps(kForever);
  char* p = new char[kBig];  // fails, the handler clears the failures
  fi::ClearMapFailures();
  EXPECT_EQ(g_handler_calls, 1);
  ASSERT_NE(p, nullptr);
  p[0] = 1;
  p[kBig - 1] = 2;
  delete[] p;
}

TEST_F(OomOperatorsTest, AlignedNewThrows) {
  bool threw = false;
  fi::FailNextMaps(kForever);
  try {
    void* p = ::operator new(kBig, std::align_val_t{size_t{1} << 21});
    ::operator delete(p, std::align_val_t{size_t{1} << 21});
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  fi::ClearMapFailures();
  EXPECT_TRUE(threw);
}

TEST_F(OomOperatorsTest, NothrowNewAndMallocReturnNull) {
  fi::FailNextMaps(kForever);
  char* p = new (std::nothrow) char[kBig];
  errno = 0;
  void* m = malloc(kBig);
  const int err = errno;
  fi::ClearMapFailures();
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(err, ENOMEM);
  p = new (std::nothrow) char[kBig];
  m = malloc(kBig);
  EXPECT_NE(p, nullptr);
  EXPECT_NE(m, nullptr);
  delete[] p;
  free(m);
}

// Small objects: a class whose thread cache and slag exist keeps serving
// from its slag even while maps fail (no NULL), and a failure of a class
// that needs a page throws; either way the process keeps running.
TEST_F(OomOperatorsTest, SmallNewUnderFailuresEitherSucceedsOrThrows) {
  int* warm = new int(5);
  int successes = 0, throws = 0;
  for (size_t k = 1; k <= 8; ++k) {
    char* p = nullptr;
    bool threw = false;
    fi::FailNextMaps(k);
    try {
      p = new char[(k * 40) << 10];
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    fi::ClearMapFailures();
    if (threw) {
      ++throws;
    } else {
      ++successes;
      delete[] p;
    }
  }
  EXPECT_EQ(successes + throws, 8);
  EXPECT_EQ(*warm, 5);
  delete warm;
  std::printf("small new under k=1..8 failures: %d ok, %d threw\n", successes,
              throws);
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
