// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Runs the conformance suite against this package's reference allocators,
// through every path a factory can take (typed and untyped, by value and by
// unique_ptr, with and without the backing LeakyAlloc, caching and not), and
// unit-tests the drivers. conformance_negative_test.cc shows the checks fail
// on broken allocators.

#include <stdlib.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "object_alloc_test/conformance.h"
#include "object_alloc_test/leaky_alloc.h"

namespace allocators {
namespace object_alloc_test {
namespace {

// A typed allocator that caches freed objects constructed (Bonwick-style)
// and hands them out again, LIFO. Destroys every cached object when it is
// destroyed, as initialising object allocators must. Memory comes from a
// LeakyAlloc, so it stays readable for DropAndCheck.
template <typename T>
class CachingObjectAlloc {
 public:
  using value_type = T;

  CachingObjectAlloc(LeakyAlloc* backing, size_t align)
      : backing_(backing), align_(align) {}
  ~CachingObjectAlloc() {
    for (T* p : cache_) {
      p->~T();
      backing_->Dealloc(p, sizeof(T), align_);
    }
  }
  CachingObjectAlloc(const CachingObjectAlloc&) = delete;
  CachingObjectAlloc& operator=(const CachingObjectAlloc&) = delete;

  T* Alloc() {
    if (!cache_.empty()) {
      T* p = cache_.back();
      cache_.pop_back();
      return p;
    }
    return ::new (backing_->Alloc(sizeof(T), align_)) T();
  }
  void Dealloc(T* p) { cache_.push_back(p); }

 private:
  LeakyAlloc* backing_;
  size_t align_;
  std::vector<T*> cache_;
};

// Shared by every ArenaObjectAlloc<T>; only one exists at a time. Sized for
// long runs (OBJECT_ALLOC_TEST_ITERS=100000 keeps up to ~1000 objects of up
// to 8 KiB live); untouched pages of the zero-filled array cost nothing.
constexpr size_t kArenaSize = size_t{64} << 20;
alignas(4096) unsigned char arena[kArenaSize];

// A typed, caching allocator over a static arena, i.e. memory that is never
// the C++ heap's and stays mapped after the allocator is gone: the case for
// DropCheck::kAllReadable. Freed objects are cached constructed and reused;
// fresh ones are carved from the arena. One instance at a time (the suite
// creates one allocator per run).
template <typename T>
class ArenaObjectAlloc {
 public:
  using value_type = T;

  explicit ArenaObjectAlloc(size_t align) : align_(align) {}
  ~ArenaObjectAlloc() {
    for (T* p : cache_) p->~T();
  }
  ArenaObjectAlloc(const ArenaObjectAlloc&) = delete;
  ArenaObjectAlloc& operator=(const ArenaObjectAlloc&) = delete;

  T* Alloc() {
    if (!cache_.empty()) {
      T* p = cache_.back();
      cache_.pop_back();
      return p;
    }
    used_ = (used_ + align_ - 1) / align_ * align_;
    if (used_ + sizeof(T) > kArenaSize) return nullptr;
    void* p = arena + used_;
    used_ += sizeof(T);
    return ::new (p) T();
  }
  void Dealloc(T* p) { cache_.push_back(p); }

  static bool Contains(const void* p) {
    return p >= arena && p < arena + kArenaSize;
  }

 private:
  size_t align_;
  size_t used_ = 0;
  std::vector<T*> cache_;
};

struct ArenaFactory {
  static constexpr size_t kMaxAlign = 4096;
  static constexpr DropCheck kDropCheck = DropCheck::kAllReadable;
  template <typename T>
  static std::unique_ptr<ArenaObjectAlloc<T>> Make(size_t align) {
    return std::make_unique<ArenaObjectAlloc<T>>(align);
  }
};

// Typed, non-caching, borrowed backing, returned by unique_ptr.
struct LeakyTypedFactory {
  static constexpr size_t kMaxAlign = 4096;
  template <typename T>
  static std::unique_ptr<LeakyObjectAlloc<T>> Make(size_t align,
                                                   LeakyAlloc& backing) {
    return std::make_unique<LeakyObjectAlloc<T>>(&backing, align);
  }
};

// Untyped, returned by value although it is neither copyable nor movable.
struct LeakyUntypedFactory {
  static constexpr size_t kMaxAlign = 4096;
  template <typename T>
  static LeakyUntypedObjectAlloc Make(size_t align, LeakyAlloc& backing) {
    return LeakyUntypedObjectAlloc(&backing,
                                   object_alloc::Layout{sizeof(T), align});
  }
};

// Typed and caching: exercises the recycled-Valid path.
struct CachingTypedFactory {
  static constexpr size_t kMaxAlign = 256;
  template <typename T>
  static std::unique_ptr<CachingObjectAlloc<T>> Make(size_t align,
                                                     LeakyAlloc& backing) {
    return std::make_unique<CachingObjectAlloc<T>>(&backing, align);
  }
};

// The original's test_memory_corruption setup: the allocator owns its
// LeakyAlloc (one-argument Make), so its memory goes back to the heap when
// the allocator is destroyed. With the default DropCheck::kBackingOnly the
// suite therefore does not read it afterwards (that would be a
// use-after-free); every other check still runs. Run at one size only.
struct OwnedLeakyFactory {
  static constexpr size_t kMaxAlign = 64;
  template <typename T>
  static std::unique_ptr<LeakyObjectAlloc<T>> Make(size_t align) {
    return std::make_unique<LeakyObjectAlloc<T>>(align);
  }
};

// The suite at all 47 sizes once, in the one-line form from the
// documentation; the other reference allocators do not depend on the size,
// so they run a sample (each instantiation is a large share of this file's
// build time, in every CI configuration).
INSTANTIATE_TYPED_TEST_SUITE_P(
    LeakyTyped, ObjectAllocConformanceTest,
    ::allocators::object_alloc_test::ConformanceTypes<LeakyTypedFactory>);
using LeakyUntypedCases =
    ConformanceTypesOver<LeakyUntypedFactory, SampleByteTypes>;
using CachingTypedCases =
    ConformanceTypesOver<CachingTypedFactory, SampleByteTypes>;
using ArenaCases = ConformanceTypesOver<ArenaFactory, SampleByteTypes>;
INSTANTIATE_TYPED_TEST_SUITE_P(LeakyUntyped, ObjectAllocConformanceTest,
                               LeakyUntypedCases, ConformanceNames);
INSTANTIATE_TYPED_TEST_SUITE_P(CachingTyped, ObjectAllocConformanceTest,
                               CachingTypedCases, ConformanceNames);
INSTANTIATE_TYPED_TEST_SUITE_P(Arena, ObjectAllocConformanceTest, ArenaCases,
                               ConformanceNames);

TEST(ConformanceSelfTest, FactoryDropCheckDefaultsToBackingOnly) {
  static_assert(internal::FactoryDropCheck<LeakyTypedFactory>() ==
                DropCheck::kBackingOnly);
  static_assert(internal::FactoryDropCheck<ArenaFactory>() ==
                DropCheck::kAllReadable);
}

// kAllReadable inspects memory outside the backing (here the static arena);
// kBackingOnly skips it.
TEST(ConformanceSelfTest, DropCheckPolicySelectsWhatIsInspected) {
  using T = CorruptionTester<Byte32>;
  LeakyAlloc backing;
  std::vector<const void*> handed_out;
  {
    ArenaObjectAlloc<T> alloc(8);
    AllocDriver<ArenaObjectAlloc<T>, T> driver(alloc, 8);
    for (int i = 0; i < 10; ++i) driver.Alloc();
    driver.DeallocAll();
    handed_out = driver.HandedOut();
  }
  ASSERT_EQ(handed_out.size(), 10u);
  EXPECT_TRUE(ArenaObjectAlloc<T>::Contains(handed_out[0]));
  EXPECT_EQ(CheckDropped<T>(handed_out, backing, DropCheck::kBackingOnly), 0u);
  EXPECT_EQ(CheckDropped<T>(handed_out, backing, DropCheck::kAllReadable), 10u);
}

TEST(ConformanceSelfTest, OneArgumentFactoryWithOwnedBacking) {
  using T = CorruptionTester<Byte48>;
  static_assert(!internal::MakeTakesBacking<OwnedLeakyFactory, T>::value);
  static_assert(internal::MakeTakesBacking<LeakyTypedFactory, T>::value);
  ForEachAlign<T>(
      [](size_t align) {
        RunRandomTest<T>(internal::FactoryMaker<OwnedLeakyFactory, T>{align},
                         align, 300, 7);
        RunRandomSequences<T>(
            internal::FactoryMaker<OwnedLeakyFactory, T>{align}, align, 3,
            kMaxSequenceLength, 8);
        RunAlignmentTest<T>(internal::FactoryMaker<OwnedLeakyFactory, T>{align},
                            align, 16);
      },
      OwnedLeakyFactory::kMaxAlign);
}

// A MakeFn may be any callable, returning the allocator by value.
TEST(ConformanceSelfTest, LambdaMakeFnByValue) {
  using T = CorruptionTester<Byte24>;
  auto make = [](LeakyAlloc& backing) {
    return LeakyUntypedObjectAlloc(&backing, object_alloc::Layout{32, 8});
  };
  RunRandomTest<T>(make, 8, 1000, 1);
  RunAlignmentTest<T>(make, 8, 100);
}

TEST(ConformanceSelfTest, CachingAllocatorRecyclesValidObjects) {
  using T = CorruptionTester<Byte16>;
  LeakyAlloc backing;
  std::vector<const void*> handed_out;
  {
    CachingObjectAlloc<T> alloc(&backing, 1);
    AllocDriver<CachingObjectAlloc<T>, T> driver(alloc, 1);
    T* a = driver.Alloc();
    EXPECT_EQ(a->state(), TesterState::kValid);
    driver.Dealloc(0);
    EXPECT_EQ(a->state(), TesterState::kValid);  // cached, still constructed
    T* b = driver.Alloc();                       // recycled, accepted as Valid
    EXPECT_EQ(a, b);
    EXPECT_EQ(driver.live(), 1u);
    driver.DeallocAll();
    handed_out = driver.HandedOut();
  }
  ASSERT_EQ(handed_out.size(), 1u);
  EXPECT_EQ(T::StateAt(handed_out[0]), TesterState::kDropped);
  EXPECT_EQ(CheckDropped<T>(handed_out, backing, DropCheck::kBackingOnly), 1u);
}

TEST(ConformanceSelfTest, UntypedPathConstructsAndDestroysInPlace) {
  using T = CorruptionTester<Byte64>;
  LeakyAlloc backing;
  LeakyUntypedObjectAlloc alloc(&backing, object_alloc::Layout{64, 16});
  AllocDriver<LeakyUntypedObjectAlloc, T> driver(alloc, 16);
  T* a = driver.Alloc();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  EXPECT_EQ(a->state(), TesterState::kValid);
  driver.Dealloc(0);
  EXPECT_EQ(T::StateAt(a), TesterState::kDropped);  // leaky: still readable
  EXPECT_EQ(backing.released(), 1u);
}

TEST(ConformanceSelfTest, GenerateOpsIsDeterministicAndBounded) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const std::vector<AllocOp> a = GenerateOps(seed, 50);
    const std::vector<AllocOp> b = GenerateOps(seed, 50);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_LE(a.size(), 50u);
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].kind, b[i].kind);
      EXPECT_EQ(a[i].index, b[i].index);
      if (a[i].kind == AllocOp::Kind::kDealloc) {
        EXPECT_LT(a[i].index, i > 0 ? i : 1);
      }
    }
  }
  EXPECT_TRUE(GenerateOps(1, 0).empty());
  // Different seeds give different sequences (overwhelmingly likely).
  size_t differing = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    differing +=
        GenerateOps(seed, 100).size() != GenerateOps(seed + 1000, 100).size()
            ? 1
            : 0;
  }
  EXPECT_GT(differing, 10u);
}

TEST(ConformanceSelfTest, SequenceSkipsOutOfRangeDeallocs) {
  using T = CorruptionTester<Byte8>;
  size_t made = 0;
  auto make = [&made](LeakyAlloc& backing) {
    ++made;
    return std::make_unique<LeakyObjectAlloc<T>>(&backing, 1);
  };
  const std::vector<AllocOp> ops = {
      AllocOp::Dealloc(0),  // nothing live: skipped
      AllocOp::Alloc(),    AllocOp::Alloc(),
      AllocOp::Dealloc(5),  // out of range: skipped
      AllocOp::Dealloc(1), AllocOp::Dealloc(0),
      AllocOp::Dealloc(0),  // nothing live again
  };
  RunSequence<T>(make, 1, ops);
  RunSequence<T>(make, 1, {});
  EXPECT_EQ(made, 2u);
}

TEST(ConformanceSelfTest, ParseUint) {
  EXPECT_EQ(internal::ParseUint("0"), 0u);
  EXPECT_EQ(internal::ParseUint("100000"), 100000u);
  EXPECT_EQ(internal::ParseUint("0x1F"), 31u);
  EXPECT_EQ(internal::ParseUint("0XfF"), 255u);
  EXPECT_EQ(internal::ParseUint("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(internal::ParseUint("18446744073709551616").has_value());
  EXPECT_FALSE(internal::ParseUint("").has_value());
  EXPECT_FALSE(internal::ParseUint(nullptr).has_value());
  EXPECT_FALSE(internal::ParseUint("-1").has_value());
  EXPECT_FALSE(internal::ParseUint("12abc").has_value());
  EXPECT_FALSE(internal::ParseUint(" 12").has_value());
  EXPECT_FALSE(internal::ParseUint("0x").has_value());
  EXPECT_FALSE(internal::ParseUint("1e5").has_value());
}

TEST(ConformanceSelfTest, UintFromEnv) {
  const char* kVar = "OBJECT_ALLOC_TEST_SELF_TEST_VAR";
  unsetenv(kVar);
  EXPECT_EQ(internal::UintFromEnv(kVar, 500, 1), 500u);
  setenv(kVar, "2000", 1);
  EXPECT_EQ(internal::UintFromEnv(kVar, 500, 1), 2000u);
  setenv(kVar, "0", 1);
  EXPECT_EQ(internal::UintFromEnv(kVar, 500, 1), 500u);  // below minimum
  EXPECT_EQ(internal::UintFromEnv(kVar, 500, 0), 0u);
  setenv(kVar, "lots", 1);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(internal::UintFromEnv(kVar, 500, 1), 500u);
  const std::string warning = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(warning,
            "object_alloc_test: warning: ignoring "
            "OBJECT_ALLOC_TEST_SELF_TEST_VAR=\"lots\" (expected a decimal or "
            "0x-hex integer >= 1); using 500\n");
  unsetenv(kVar);
}

TEST(ConformanceSelfTest, KnobsHaveSaneValues) {
  // Whatever the environment says, the knobs are usable.
  EXPECT_GE(TestIters(), 1u);
  EXPECT_GE(TestSequences(), 1u);
  (void)TestSeed();
}

TEST(ConformanceSelfTest, NamesAndTypes) {
  using Case = ConformanceCase<LeakyTypedFactory, Byte1277>;
  EXPECT_EQ(ConformanceNames::GetName<Case>(0), "Byte1277");
  static_assert(
      std::is_same_v<ConformanceCase<LeakyTypedFactory, Byte5>::Object,
                     CorruptionTester<Byte5>>);
}

}  // namespace
}  // namespace object_alloc_test
}  // namespace allocators
