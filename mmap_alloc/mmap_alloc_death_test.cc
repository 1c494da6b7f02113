// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Misuse of MapAlloc is fatal, with a message naming the problem. Also checks
// that Protect() really takes effect (a write to a read-only page faults).

#include <csignal>
#include <cstddef>
#include <cstdint>

#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/testing/proc.h"
#include "platform/testing/sanitizers.h"

namespace allocators {
namespace mmap_alloc {
namespace {

using platform::testing::kSanitized;

size_t Page() { return PageSize(); }

char* At(void* p, size_t offset) { return static_cast<char*>(p) + offset; }

class MapAllocDeathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Re-execute for each death test instead of forking a process that may
    // hold sanitizer or test-runner threads.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
  }
  void TearDown() override { testing::ClearMapFailures(); }
};

// --- Builder -----------------------------------------------------------------

TEST_F(MapAllocDeathTest, BuilderRejectsObjSizeNotAPageMultiple) {
  EXPECT_DEATH(MapAllocBuilder().obj_size(Page() + 1).Build(),
               "obj_size [0-9]+ is not a multiple of the page size");
  EXPECT_DEATH(MapAllocBuilder().obj_size(100).Build(),
               "not a multiple of the page size");
}

TEST_F(MapAllocDeathTest, BuilderRejectsZeroObjSize) {
  EXPECT_DEATH(MapAllocBuilder().obj_size(0).Build(),
               "obj_size must not be zero");
}

TEST_F(MapAllocDeathTest, BuilderRejectsObjSizeNotAMultipleOfLargeAlign) {
  EXPECT_DEATH(MapAllocBuilder().obj_size(Page()).obj_align(2 * Page()).Build(),
               "obj_size [0-9]+ is not a multiple of obj_align [0-9]+");
  EXPECT_DEATH(
      MapAllocBuilder().obj_size(3 * Page()).obj_align(2 * Page()).Build(),
      "is not a multiple of obj_align");
}

TEST_F(MapAllocDeathTest, BuilderRejectsNonPowerOfTwoAlign) {
  EXPECT_DEATH(
      MapAllocBuilder().obj_size(3 * Page()).obj_align(3 * Page()).Build(),
      "obj_align [0-9]+ is not a power of two");
  EXPECT_DEATH(MapAllocBuilder().obj_align(0).Build(),
               "obj_align 0 is not a power of two");
  EXPECT_DEATH(MapAllocBuilder().obj_align(48).Build(), "not a power of two");
}

TEST_F(MapAllocDeathTest, BuilderRejectsUnknownPermissionBits) {
  EXPECT_DEATH(MapAllocBuilder().perms(8), "permission mask 0x8");
}

// --- Alloc -------------------------------------------------------------------

TEST_F(MapAllocDeathTest, AllocOfZeroLength) {
  const MapAlloc a;
  EXPECT_DEATH(a.Alloc(0), "mmap_alloc: Alloc of zero length");
  EXPECT_DEATH(a.AllocZeroed(0), "Alloc of zero length");
  EXPECT_DEATH(a.Alloc(0, 2 * 1024 * 1024), "Alloc of zero length");
}

TEST_F(MapAllocDeathTest, AllocWithNonPowerOfTwoAlignment) {
  const MapAlloc a;
  EXPECT_DEATH(a.Alloc(Page(), 3), "alignment 3 is not a power of two");
  EXPECT_DEATH(a.Alloc(Page(), 3 * Page()), "is not a power of two");
}

TEST_F(MapAllocDeathTest, InjectedFailuresDoNotHideMisuse) {
  const MapAlloc a;
  testing::FailNextMaps(1);
  EXPECT_DEATH(a.Alloc(0), "Alloc of zero length");
}

// --- Dealloc -----------------------------------------------------------------

TEST_F(MapAllocDeathTest, DeallocOfZeroLength) {
  const MapAlloc a;
  void* p = a.Alloc(Page());
  ASSERT_NE(p, nullptr);
  EXPECT_DEATH(a.Dealloc(p, 0), "mmap_alloc: Dealloc of zero length");
  a.Dealloc(p, Page());
}

TEST_F(MapAllocDeathTest, DeallocOfUnalignedPointer) {
  const MapAlloc a;
  void* p = a.Alloc(2 * Page());
  ASSERT_NE(p, nullptr);
  EXPECT_DEATH(a.Dealloc(At(p, 1), Page()),
               "mmap_alloc: Dealloc of unaligned pointer");
  EXPECT_DEATH(a.Dealloc(At(p, Page() / 2), Page()), "unaligned pointer");
  a.Dealloc(p, 2 * Page());
}

TEST_F(MapAllocDeathTest, DeallocOfNullPointer) {
  const MapAlloc a;
  EXPECT_DEATH(a.Dealloc(nullptr, 4096), "mmap_alloc: Dealloc of null pointer");
}

TEST_F(MapAllocDeathTest, DeallocOfImpossibleLength) {
  const MapAlloc a;
  void* p = a.Alloc(Page());
  ASSERT_NE(p, nullptr);
  EXPECT_DEATH(a.Dealloc(p, SIZE_MAX), "Dealloc length [0-9]+ is too large");
  a.Dealloc(p, Page());
}

TEST_F(MapAllocDeathTest, ObjectDeallocOfUnalignedPointer) {
  const MapAlloc a;
  void* p = a.Alloc();
  ASSERT_NE(p, nullptr);
  EXPECT_DEATH(a.Dealloc(At(p, 8)), "Dealloc of unaligned pointer");
  a.Dealloc(p);
}

// --- Resizing ----------------------------------------------------------------

TEST_F(MapAllocDeathTest, ResizeMisuse) {
  const MapAlloc a;
  void* p = a.Alloc(2 * Page());
  ASSERT_NE(p, nullptr);
  EXPECT_DEATH(a.Realloc(p, 2 * Page(), 0), "Realloc to zero length");
  EXPECT_DEATH(a.Realloc(p, 0, Page()), "Realloc of zero length");
  EXPECT_DEATH(a.Realloc(At(p, 16), Page(), 2 * Page()),
               "Realloc of unaligned pointer");
  EXPECT_DEATH(a.Realloc(nullptr, Page(), 2 * Page()),
               "Realloc of null pointer");
  EXPECT_DEATH(a.GrowInPlace(p, 2 * Page(), Page()),
               "GrowInPlace to a smaller size");
  EXPECT_DEATH(a.ShrinkInPlace(p, Page(), 2 * Page()),
               "ShrinkInPlace to a larger size");
  EXPECT_DEATH(a.ShrinkInPlace(p, Page(), 0), "ShrinkInPlace to zero length");
  EXPECT_DEATH(a.GrowInPlace(At(p, 1), Page(), 2 * Page()),
               "GrowInPlace of unaligned pointer");
  a.Dealloc(p, 2 * Page());
}

// A block that is not one uniform mapping (here: half of it re-protected) is
// not something Alloc() returned; mremap's EFAULT is reported, not ignored.
TEST_F(MapAllocDeathTest, ReallocOfRangeSpanningTwoMappings) {
  const MapAlloc a;
  void* p = a.Alloc(2 * Page());
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(a.Protect(At(p, Page()), Page(), kPermRead));
  EXPECT_DEATH(a.Realloc(p, 2 * Page(), 8 * Page()), "mremap.*EFAULT");
  a.Dealloc(p, 2 * Page());
}

// --- Commit, uncommit, protect, usable size ----------------------------------

TEST_F(MapAllocDeathTest, CommitUncommitProtectMisuse) {
  const MapAlloc a;
  void* p = a.Alloc(Page());
  ASSERT_NE(p, nullptr);
  EXPECT_DEATH(a.Commit(At(p, 1), Page()), "Commit of unaligned pointer");
  EXPECT_DEATH(a.Commit(p, 0), "Commit of zero length");
  EXPECT_DEATH(a.Uncommit(nullptr, Page()), "Uncommit of null pointer");
  EXPECT_DEATH(a.Uncommit(p, 0), "Uncommit of zero length");
  EXPECT_DEATH(a.Protect(p, 0, kPermRead), "Protect of zero length");
  EXPECT_DEATH(a.Protect(p, Page(), 8), "permission mask 0x8");
  EXPECT_DEATH(a.UsableSize(SIZE_MAX), "UsableSize of [0-9]+, larger than");
  a.Dealloc(p, Page());
}

TEST_F(MapAllocDeathTest, UncommitOfUnmappedRange) {
  const MapAlloc a;
  void* p = a.Alloc(Page());
  ASSERT_NE(p, nullptr);
  a.Dealloc(p, Page());
  EXPECT_DEATH(a.Uncommit(p, Page()), "MADV_DONTNEED.*ENOMEM");
}

void WriteByte(void* p) { *static_cast<volatile char*>(p) = 1; }

TEST_F(MapAllocDeathTest, ProtectReadOnlyMakesWritesFault) {
  const MapAlloc a;
  char* p = static_cast<char*>(a.Alloc(2 * Page()));
  ASSERT_NE(p, nullptr);
  p[0] = 42;
  p[Page()] = 43;
  ASSERT_TRUE(a.Protect(p, Page(), kPermRead));
  EXPECT_EQ(platform::testing::PermsAt(p), "r--p");
  EXPECT_EQ(static_cast<volatile char*>(p)[0], 42);  // reading still works
  WriteByte(p + Page());  // the neighbouring page is still writable
  if (kSanitized) {
    // The sanitizer's SIGSEGV handler reports the fault and then aborts.
    EXPECT_DEATH(WriteByte(p), "SEGV");
  } else {
    EXPECT_EXIT(WriteByte(p), ::testing::KilledBySignal(SIGSEGV), "");
  }
  ASSERT_TRUE(a.Protect(p, Page(), kPermReadWrite));
  WriteByte(p);
  EXPECT_EQ(p[0], 1);
  a.Dealloc(p, 2 * Page());
}

TEST_F(MapAllocDeathTest, ProtectNoneMakesReadsFault) {
  const MapAlloc a;
  char* p = static_cast<char*>(a.Alloc(Page()));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(a.Protect(p, Page(), kPermNone));
  EXPECT_FALSE(platform::testing::IsReadable(p));
  if (kSanitized) {
    EXPECT_DEATH((void)static_cast<volatile char*>(p)[0], "SEGV");
  } else {
    EXPECT_EXIT((void)static_cast<volatile char*>(p)[0],
                ::testing::KilledBySignal(SIGSEGV), "");
  }
  a.Dealloc(p, Page());
}

}  // namespace
}  // namespace mmap_alloc
}  // namespace allocators
