// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The shared conformance suite for object allocators (object_alloc.h): a
// port of the original's corruption tests (TestBuilder::test and
// ::quickcheck) as a typed, parametrised GoogleTest suite.
//
// ## Joining the suite
//
// Write a factory and add ONE line to your test file:
//
//   #include "object_alloc_test/conformance.h"
//
//   struct SlabFactory {
//     // Largest alignment to sweep (alignments above it are skipped).
//     static constexpr size_t kMaxAlign = 4096;
//
//     // Returns a fresh allocator of objects of type T (a
//     // CorruptionTester<ByteN>), aligned to at least `align`.
//     template <typename T>
//     static std::unique_ptr<SlabAlloc<T>> Make(size_t align,
//                                               LeakyAlloc& backing) {
//       return std::make_unique<SlabAlloc<T>>(align, &backing);
//     }
//   };
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(Slab, ObjectAllocConformanceTest,
//       ::allocators::object_alloc_test::ConformanceTypes<SlabFactory>);
//
// The factory contract:
// - `static constexpr size_t kMaxAlign`: every test sweeps
//   ForEachAlign<T>(..., kMaxAlign), i.e. the power-of-two alignments from 1
//   (testers have alignment 1) up to min(sizeof(T), kMaxAlign) that divide
//   sizeof(T): 196 (size, alignment) pairs over the 47 sizes at 4096.
// - `template <typename T> static X Make(size_t align[, LeakyAlloc& backing])`
//   where X is the allocator itself (returned by value; it need not be
//   copyable or movable, C++17 elides the copy) or a std::unique_ptr to it.
//   Make is called once per test run; the allocator is destroyed when the run
//   ends, before the DropAndCheck step. The two-argument form receives a
//   LeakyAlloc that outlives the allocator: allocators that can take their
//   backing memory from it should, so that the memory of objects they free
//   (and finally release) stays readable for DropAndCheck. Allocators that
//   map their own memory (e.g. through mmap_alloc) use the one-argument form
//   and may set kDropCheck (below).
// - The allocator is either
//   * typed (object_alloc::kIsObjectAlloc<A, T>): Alloc() returns a
//     constructed T*, freshly default-constructed (or made with
//     T::UnsafeDefault) or a cached object in the state it was freed in.
//     Typed allocators may cache constructed objects, but must destroy every
//     cached object by the time they are destroyed; or
//   * untyped (object_alloc::kIsUntypedObjectAlloc<A>): the suite constructs
//     each object in place with T::UnsafeDefault after Alloc() and destroys
//     it before Dealloc(). layout().size >= sizeof(T) and
//     layout().align >= align are checked. The memory it returns must not
//     hold a live tester, so an UntypedView of an initialising typed
//     allocator cannot be driven this way (drive the typed one instead).
//   If A is both, it is driven as typed.
// - Optional `static constexpr DropCheck kDropCheck`: which freed objects
//   DropAndCheck may read after the allocator is destroyed. The default,
//   kBackingOnly, reads only objects inside the backing LeakyAlloc (memory
//   known to be alive); kAllReadable also reads any other object that is
//   still mapped, the original's rule, and is only for allocators that map
//   their own memory and never hand it to the C++ heap. See DropCheck.
// - On exhaustion Alloc() may return nullptr, which the suite reports as a
//   failure. The number of live objects follows a random walk: a few dozen
//   with the defaults, up to about a thousand with 100000 iterations.
//
// For readable test names pass the optional name generator:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Slab, ObjectAllocConformanceTest,
//       ::allocators::object_alloc_test::ConformanceTypes<SlabFactory>,
//       ::allocators::object_alloc_test::ConformanceNames);
// which names the cases Slab/ObjectAllocConformanceTest/Byte1277 etc.
//
// ## What is checked
//
// The driver (AllocDriver) checks on every step:
// - no pointer is handed out twice while live, and live objects do not
//   overlap;
// - every pointer is aligned to the requested alignment;
// - typed: a never-seen pointer holds a New object; a recycled one holds a
//   New or Valid object; untyped: the memory holds no live object (Invalid or
//   Dropped) before the suite constructs into it;
// - objects are marked Valid when handed out, and only Valid objects are
//   deallocated (anything else means the object changed while live);
// - DropAndCheck: after everything was deallocated and the allocator
//   destroyed, every object ever handed out that may safely be read (see
//   DropCheck) and is readable (IsReadable) is Dropped or Invalid, i.e.
//   was destroyed. (For untyped allocators the suite itself destroyed every
//   object, so this step can only catch an allocator that rebuilds one.)
// The corruption tester itself aborts if the allocator destroys an object
// twice or destroys memory that holds no object.
//
// Every failure prints one line naming the check, the object, and the run
// (object size, alignment, seed, iteration count or sequence length), then
// aborts; see internal/failure.h for why.
//
// ## Run length
//
// Defaults keep a run of all 47 sizes fast. Environment variables:
//   OBJECT_ALLOC_TEST_ITERS      random-driver iterations (default 500; the
//                                original used 100000)
//   OBJECT_ALLOC_TEST_SEQUENCES  op sequences per case (default 8; quickcheck's
//                                default was 100)
//   OBJECT_ALLOC_TEST_SEED       base seed, decimal or 0x-hex (default fixed)
// e.g. `./bazelw test --test_env=OBJECT_ALLOC_TEST_ITERS=100000
//       --test_env=OBJECT_ALLOC_TEST_SEQUENCES=100 //slab_alloc:all`.
// A malformed value prints a one-line warning and the default is used.
//
// Thread-compatible: the drivers are single-threaded.

#ifndef OBJECT_ALLOC_TEST_CONFORMANCE_H_
#define OBJECT_ALLOC_TEST_CONFORMANCE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "object_alloc/object_alloc.h"
#include "object_alloc_test/byte_types.h"
#include "object_alloc_test/corruption_tester.h"
#include "object_alloc_test/foreach_align.h"
#include "object_alloc_test/internal/failure.h"
#include "object_alloc_test/internal/rng.h"
#include "object_alloc_test/leaky_alloc.h"
#include "platform/testing/proc.h"

namespace allocators {
namespace object_alloc_test {

// ---------------------------------------------------------------------------
// Run-length knobs.

inline constexpr size_t kDefaultTestIters = 500;
inline constexpr size_t kDefaultTestSequences = 8;
inline constexpr uint64_t kDefaultTestSeed = 0x0B1EC7A110C5EEDULL;
// Longest generated op sequence (quickcheck's default size was 100).
inline constexpr size_t kMaxSequenceLength = 100;

// OBJECT_ALLOC_TEST_ITERS (>= 1), or kDefaultTestIters if unset or invalid.
// Read once per process.
size_t TestIters();
// OBJECT_ALLOC_TEST_SEQUENCES (>= 1), or kDefaultTestSequences.
size_t TestSequences();
// OBJECT_ALLOC_TEST_SEED (any value, 0 included), or kDefaultTestSeed.
uint64_t TestSeed();

namespace internal {

// Parses a whole string as an unsigned integer: decimal, or hex with a 0x
// prefix. Returns nullopt for empty strings, trailing junk, signs or
// overflow.
std::optional<uint64_t> ParseUint(const char* text);

// Reads environment variable `name` with ParseUint. Unset gives
// `default_value`; a malformed value or one below `min_value` prints one
// warning line to stderr and gives `default_value`.
uint64_t UintFromEnv(const char* name, uint64_t default_value,
                     uint64_t min_value);

}  // namespace internal

// Which objects DropAndCheck inspects once the allocator is destroyed.
//
// Why not simply "everything still mapped", as the original did: an
// allocator that took its memory from the C++ heap has freed it by then, and
// reading freed heap memory is a use-after-free (undefined behaviour, and
// ASan and TSan report it), while memory it unmapped may already be reused by
// someone else. Only memory whose owner is known to be alive can be read
// safely, which is what the backing LeakyAlloc is for.
enum class DropCheck {
  // Inspect objects inside the backing LeakyAlloc handed to the factory; skip
  // the rest. The default.
  kBackingOnly,
  // Also inspect every other object that platform::testing::IsReadable
  // reports readable (the original's rule). Only for allocators that map their
  // memory themselves
  // and never give it to the C++ heap, so that "still mapped" means "still
  // theirs or unmapped".
  kAllReadable,
};

// ---------------------------------------------------------------------------
// Allocator plumbing.

namespace internal {

template <typename H>
struct IsUniquePtr : std::false_type {};
template <typename A, typename D>
struct IsUniquePtr<std::unique_ptr<A, D>> : std::true_type {};

// The allocator inside what a factory returned (the object or a unique_ptr).
template <typename H>
auto& Deref(H& holder) {
  if constexpr (IsUniquePtr<H>::value) {
    if (holder == nullptr) Fail("factory returned a null allocator");
    return *holder;
  } else {
    return holder;
  }
}

template <typename F, typename T, typename = void>
struct MakeTakesBacking : std::false_type {};
template <typename F, typename T>
struct MakeTakesBacking<F, T,
                        std::void_t<decltype(F::template Make<T>(
                            size_t{1}, std::declval<LeakyAlloc&>()))>>
    : std::true_type {};

template <typename F, typename = void>
struct HasDropCheck : std::false_type {};
template <typename F>
struct HasDropCheck<F, std::void_t<decltype(F::kDropCheck)>> : std::true_type {
};

// F::kDropCheck if the factory declares it, else DropCheck::kBackingOnly.
template <typename F>
constexpr DropCheck FactoryDropCheck() {
  if constexpr (HasDropCheck<F>::value) {
    return F::kDropCheck;
  } else {
    return DropCheck::kBackingOnly;
  }
}

// A MakeFn (see RunRandomTest) that calls a conformance factory.
template <typename F, typename T>
struct FactoryMaker {
  size_t align;
  auto operator()(LeakyAlloc& backing) const {
    if constexpr (MakeTakesBacking<F, T>::value) {
      return F::template Make<T>(align, backing);
    } else {
      return F::template Make<T>(align);
    }
  }
};

template <typename MakeFn>
using AllocOf = std::remove_reference_t<decltype(Deref(
    std::declval<std::invoke_result_t<MakeFn&, LeakyAlloc&>&>()))>;

}  // namespace internal

// One step of an op sequence.
struct AllocOp {
  enum class Kind { kAlloc, kDealloc };
  Kind kind;
  size_t index;  // kDealloc only: which live object

  static AllocOp Alloc() { return {Kind::kAlloc, 0}; }
  static AllocOp Dealloc(size_t index) { return {Kind::kDealloc, index}; }
};

// A random op sequence, a pure function of (seed, max_len): its length is
// uniform in [0, max_len]; each op is Alloc or Dealloc with equal chance; op
// number i deallocates an index uniform in [0, max(i, 1)), which may be out
// of range for the objects live at that point.
std::vector<AllocOp> GenerateOps(uint64_t seed, size_t max_len);

namespace internal {

// AllocDriver's checking logic for CorruptionTester objects of `size`
// bytes, compiled once (conformance.cc) instead of once per (allocator,
// object type) pair: the suite instantiates 47 sizes x 3 tests for every
// allocator, and those copies were most of its build time. The allocator
// and the object type are reached through the function pointers AllocDriver
// supplies. Thread-compatible.
class DriverCore {
 public:
  struct Ops {
    void* (*alloc)(void* allocator);                 // the allocator's Alloc
    void (*dealloc)(void* allocator, void* object);  // and its Dealloc
    // Untyped allocators only (else null): T::UnsafeDefault and ~T.
    void* (*construct)(void* raw);
    void (*destroy)(void* object);
  };
  DriverCore(void* allocator, const Ops& ops, size_t size, size_t align);
  DriverCore(const DriverCore&) = delete;
  DriverCore& operator=(const DriverCore&) = delete;

  // See AllocDriver.
  void* Alloc();
  void Dealloc(size_t index);
  void DeallocAll();
  size_t live() const { return live_.size(); }
  const std::vector<void*>& live_objects() const { return live_; }
  std::vector<const void*> HandedOut() const;
  size_t size() const { return size_; }  // of an object

 private:
  // Fails if [addr, addr + size_) intersects a live object.
  void CheckNotLive(uintptr_t addr) const;

  void* const allocator_;
  const Ops ops_;
  const size_t size_;
  const size_t align_;
  std::vector<void*> live_;              // in allocation order, modulo swaps
  std::set<uintptr_t> live_set_;         // ordered: overlap checks
  std::unordered_set<uintptr_t> freed_;  // freed and not handed out again
  std::set<uintptr_t> handed_out_;       // every address ever deallocated
};

// The drivers' loops, over a DriverCore (see RunRandomTest, RunSequence and
// RunAlignmentTest below). Each ends with every object deallocated.
void RandomSteps(DriverCore& driver, size_t iters, uint64_t seed);
void ReplayOps(DriverCore& driver, const std::vector<AllocOp>& ops);
void FillAndCheckDistinct(DriverCore& driver, size_t count);

// CheckDropped for objects of `size` bytes.
size_t CheckDroppedObjects(const std::vector<const void*>& handed_out,
                           const LeakyAlloc& backing, DropCheck policy,
                           size_t size);

}  // namespace internal

// Drives one allocator of CorruptionTester objects T and checks every step
// (see "What is checked" above). A is typed (kIsObjectAlloc<A, T>) or
// untyped (kIsUntypedObjectAlloc<A>). Failures abort with a message.
// Holds a reference to the allocator, which must outlive the driver.
// Thread-compatible.
template <typename A, typename T>
class AllocDriver {
 public:
  static constexpr bool kTyped = object_alloc::kIsObjectAlloc<A, T>;
  static_assert(kTyped || object_alloc::kIsUntypedObjectAlloc<A>,
                "A must be a typed object allocator of T or an untyped one");
  static constexpr size_t kSize = T::kSize;

  // REQUIRES: align is a power of two. For untyped allocators, checks that
  // the layout fits T at `align`.
  AllocDriver(A& alloc, size_t align) : core_(&alloc, kOps, kSize, align) {
    static_assert(sizeof(T) == kSize, "T must be a CorruptionTester");
    if constexpr (!kTyped) {
      const object_alloc::Layout layout = alloc.layout();
      if (layout.size < kSize || layout.align < align) {
        internal::Fail(
            "untyped allocator layout (size %zu, align %zu) cannot hold "
            "objects of size %zu at align %zu",
            layout.size, layout.align, kSize, align);
      }
    }
  }

  AllocDriver(const AllocDriver&) = delete;
  AllocDriver& operator=(const AllocDriver&) = delete;

  // Allocates one object, checks it and marks it Valid. Returns it.
  T* Alloc() { return static_cast<T*>(core_.Alloc()); }

  // Deallocates live object number `index % live()` (swapping the last one
  // into its slot, as the original did). REQUIRES: live() > 0.
  void Dealloc(size_t index) { core_.Dealloc(index); }

  // Deallocates every live object, last first.
  void DeallocAll() { core_.DeallocAll(); }

  size_t live() const { return core_.live(); }

  // Every distinct address handed out and deallocated so far.
  std::vector<const void*> HandedOut() const { return core_.HandedOut(); }

  // The type-erased driver, for the loops in conformance.cc.
  internal::DriverCore& core() { return core_; }

 private:
  static void* AllocThunk(void* a) {
    return static_cast<void*>(static_cast<A*>(a)->Alloc());
  }
  static void DeallocThunk(void* a, void* object) {
    if constexpr (kTyped) {
      static_cast<A*>(a)->Dealloc(static_cast<T*>(object));
    } else {
      static_cast<A*>(a)->Dealloc(object);
    }
  }
  static void* ConstructThunk(void* raw) {
    return T::UnsafeDefault(raw);  // aborts if raw holds a live object
  }
  static void DestroyThunk(void* object) { static_cast<T*>(object)->~T(); }
  static constexpr internal::DriverCore::Ops kOps = {
      &AllocThunk, &DeallocThunk, kTyped ? nullptr : &ConstructThunk,
      kTyped ? nullptr : &DestroyThunk};

  internal::DriverCore core_;
};

// The DropAndCheck step, run after the allocator was destroyed: every
// address in `handed_out` selected by `policy` (see DropCheck) whose object
// is readable (platform::testing::IsReadable, which also skips ASan-poisoned
// memory) must hold a Dropped or Invalid object; a Valid or New one was never
// destroyed. Returns how many objects were inspected.
template <typename T>
size_t CheckDropped(const std::vector<const void*>& handed_out,
                    const LeakyAlloc& backing, DropCheck policy) {
  return internal::CheckDroppedObjects(handed_out, backing, policy, T::kSize);
}

// ---------------------------------------------------------------------------
// Drivers. Each takes a MakeFn: a callable `make(LeakyAlloc& backing)` that
// returns a fresh allocator by value or as a std::unique_ptr, and may take
// its memory from `backing` (which outlives the allocator). Each run creates
// one allocator, drives it, deallocates everything, destroys the allocator
// and then runs CheckDropped with `drop_check`.

namespace internal {

// Makes an allocator with `make`, runs `loop` on a driver of it, destroys
// it and runs CheckDropped.
template <typename T, typename MakeFn, typename Loop>
void RunDriver(MakeFn& make, size_t align, DropCheck drop_check, Loop loop) {
  using A = AllocOf<MakeFn>;
  LeakyAlloc backing;
  std::vector<const void*> handed_out;
  {
    auto holder = make(backing);
    AllocDriver<A, T> driver(Deref(holder), align);
    loop(driver.core());
    handed_out = driver.HandedOut();
  }  // the allocator is destroyed here
  CheckDroppedObjects(handed_out, backing, drop_check, T::kSize);
}

}  // namespace internal

// The original's TestBuilder::test: `iters` steps, each a coin flip between
// Alloc and (if anything is live) Dealloc of a random live object.
template <typename T, typename MakeFn>
void RunRandomTest(MakeFn&& make, size_t align, size_t iters, uint64_t seed,
                   DropCheck drop_check = DropCheck::kBackingOnly) {
  internal::ScopedFailureContext context(
      "random test: object size %zu, align %zu, %zu iterations, seed 0x%llx",
      T::kSize, align, iters, static_cast<unsigned long long>(seed));
  internal::RunDriver<T>(make, align, drop_check,
                         [&](internal::DriverCore& driver) {
                           internal::RandomSteps(driver, iters, seed);
                         });
}

// Replays `ops` on a fresh allocator: Alloc allocates, Dealloc(i)
// deallocates live object i (in allocation order, with the original's
// swap-remove) and is skipped when i >= the live count. Then deallocates
// everything and runs DropAndCheck.
template <typename T, typename MakeFn>
void RunSequence(MakeFn&& make, size_t align, const std::vector<AllocOp>& ops,
                 DropCheck drop_check = DropCheck::kBackingOnly) {
  internal::RunDriver<T>(
      make, align, drop_check,
      [&](internal::DriverCore& driver) { internal::ReplayOps(driver, ops); });
}

// The original's TestBuilder::quickcheck, minus shrinking: runs `count`
// sequences; sequence k uses seed MixSeed(seed, k) and GenerateOps(that
// seed, max_len). A failure prints that seed and the sequence length, so
//   RunSequence<T>(make, align, GenerateOps(<seed>, <max_len>))
// replays it exactly.
template <typename T, typename MakeFn>
void RunRandomSequences(MakeFn&& make, size_t align, size_t count,
                        size_t max_len, uint64_t seed,
                        DropCheck drop_check = DropCheck::kBackingOnly) {
  for (size_t k = 0; k < count; ++k) {
    const uint64_t seq_seed = internal::MixSeed(seed, k);
    const std::vector<AllocOp> ops = GenerateOps(seq_seed, max_len);
    internal::ScopedFailureContext context(
        "sequence %zu of %zu: object size %zu, align %zu, sequence seed "
        "0x%llx, length %zu, max length %zu; replay with "
        "RunSequence<T>(make, align, GenerateOps(seed, max_len))",
        k + 1, count, T::kSize, align,
        static_cast<unsigned long long>(seq_seed), ops.size(), max_len);
    RunSequence<T>(make, align, ops, drop_check);
  }
}

// Allocates `count` objects at once and checks that they are aligned,
// distinct, non-overlapping and that every byte of each can be written
// (each object is filled with its own pattern, all patterns are verified,
// then the original bytes are restored), then frees them and runs
// DropAndCheck.
template <typename T, typename MakeFn>
void RunAlignmentTest(MakeFn&& make, size_t align, size_t count,
                      DropCheck drop_check = DropCheck::kBackingOnly) {
  internal::ScopedFailureContext context(
      "alignment test: object size %zu, align %zu, %zu objects", T::kSize,
      align, count);
  internal::RunDriver<T>(make, align, drop_check,
                         [&](internal::DriverCore& driver) {
                           internal::FillAndCheckDistinct(driver, count);
                         });
}

// ---------------------------------------------------------------------------
// GoogleTest glue.

// One type parameter of the suite: factory F at object type
// CorruptionTester<B>.
template <typename F, typename B>
struct ConformanceCase {
  using Factory = F;
  using Object = CorruptionTester<B>;
  using Bytes = B;
};

namespace internal {
template <typename F>
struct CaseFor {
  template <typename B>
  using Case = ConformanceCase<F, B>;
};

// A distinct, reproducible seed per (test, size, alignment).
inline uint64_t CaseSeed(uint64_t base, size_t size, size_t align,
                         uint64_t test) {
  return MixSeed(MixSeed(base, size), align * 8 + test);
}
}  // namespace internal

// ::testing::Types<ConformanceCase<F, Byte1>, ..., ConformanceCase<F,
// Byte8192>>: the 47 type parameters for INSTANTIATE_TYPED_TEST_SUITE_P.
template <typename F>
using ConformanceTypes = ApplyTypeList<
    ::testing::Types,
    MapTypeList<internal::CaseFor<F>::template Case, AllByteTypes>>;

// The same over a TypeList of byte types of one's own (e.g.
// SampleByteTypes).
template <typename F, typename List>
using ConformanceTypesOver =
    ApplyTypeList<::testing::Types,
                  MapTypeList<internal::CaseFor<F>::template Case, List>>;

// Optional name generator: names each case "Byte<N>".
struct ConformanceNames {
  template <typename Case>
  static std::string GetName(int) {
    return "Byte" + std::to_string(sizeof(typename Case::Bytes));
  }
};

// Objects allocated at once by AlignmentAndDistinctness.
inline constexpr size_t kAlignmentTestObjects = 64;

}  // namespace object_alloc_test
}  // namespace allocators

// The suite lives in the global namespace on purpose: the
// INSTANTIATE_TYPED_TEST_SUITE_P macro names the suite and gtest's helper
// symbols unqualified, so a global suite can be instantiated from any
// namespace with the single line shown at the top of this file.

template <typename Case>
class ObjectAllocConformanceTest : public ::testing::Test {};

TYPED_TEST_SUITE_P(ObjectAllocConformanceTest);

TYPED_TEST_P(ObjectAllocConformanceTest, RandomAllocFree) {
  namespace oat = ::allocators::object_alloc_test;
  using F = typename TypeParam::Factory;
  using T = typename TypeParam::Object;
  oat::ForEachAlign<T>(
      [](size_t align) {
        oat::RunRandomTest<T>(
            oat::internal::FactoryMaker<F, T>{align}, align, oat::TestIters(),
            oat::internal::CaseSeed(oat::TestSeed(), T::kSize, align, 1),
            oat::internal::FactoryDropCheck<F>());
      },
      F::kMaxAlign);
}

TYPED_TEST_P(ObjectAllocConformanceTest, RandomSequences) {
  namespace oat = ::allocators::object_alloc_test;
  using F = typename TypeParam::Factory;
  using T = typename TypeParam::Object;
  oat::ForEachAlign<T>(
      [](size_t align) {
        oat::RunRandomSequences<T>(
            oat::internal::FactoryMaker<F, T>{align}, align,
            oat::TestSequences(), oat::kMaxSequenceLength,
            oat::internal::CaseSeed(oat::TestSeed(), T::kSize, align, 2),
            oat::internal::FactoryDropCheck<F>());
      },
      F::kMaxAlign);
}

TYPED_TEST_P(ObjectAllocConformanceTest, AlignmentAndDistinctness) {
  namespace oat = ::allocators::object_alloc_test;
  using F = typename TypeParam::Factory;
  using T = typename TypeParam::Object;
  oat::ForEachAlign<T>(
      [](size_t align) {
        oat::RunAlignmentTest<T>(oat::internal::FactoryMaker<F, T>{align},
                                 align, oat::kAlignmentTestObjects,
                                 oat::internal::FactoryDropCheck<F>());
      },
      F::kMaxAlign);
}

REGISTER_TYPED_TEST_SUITE_P(ObjectAllocConformanceTest, RandomAllocFree,
                            RandomSequences, AlignmentAndDistinctness);

// Binaries may include this header only for the drivers (as
// conformance_negative_test does) without instantiating the suite; without
// this line gtest would fail them for the missing instantiation.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ObjectAllocConformanceTest);

#endif  // OBJECT_ALLOC_TEST_CONFORMANCE_H_
