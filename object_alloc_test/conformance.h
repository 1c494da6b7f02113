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
//   DropCheck) and is readable (IsMappedRange) is Dropped or Invalid, i.e.
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
#include "object_alloc_test/mapped.h"

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
  // Also inspect every other object that IsMappedRange reports readable (the
  // original's rule). Only for allocators that map their memory themselves
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
  AllocDriver(A& alloc, size_t align) : alloc_(alloc), align_(align) {
    static_assert(sizeof(T) == kSize, "T must be a CorruptionTester");
    if constexpr (!kTyped) {
      const object_alloc::Layout layout = alloc_.layout();
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
  T* Alloc() {
    void* raw = static_cast<void*>(alloc_.Alloc());
    if (raw == nullptr) {
      internal::Fail("Alloc returned nullptr with %zu objects live",
                     live_.size());
    }
    const uintptr_t addr = reinterpret_cast<uintptr_t>(raw);
    if (addr % align_ != 0) {
      internal::Fail("Alloc returned %p, not aligned to %zu", raw, align_);
    }
    CheckNotLive(addr);
    const bool recycled = freed_.erase(addr) > 0;
    T* obj;
    if constexpr (kTyped) {
      obj = static_cast<T*>(raw);
      const TesterState state = obj->state();
      if (state == TesterState::kNew) {
        obj->MarkValid();
      } else if (!(recycled && state == TesterState::kValid)) {
        internal::Fail(
            "Alloc returned %s object at %p in state %s (expected %s)",
            recycled ? "recycled" : "never-seen", raw, TesterStateName(state),
            recycled ? "New or Valid" : "New");
      }
    } else {
      obj = T::UnsafeDefault(raw);  // aborts if raw holds a live object
      obj->MarkValid();
    }
    live_.push_back(obj);
    live_set_.insert(addr);
    return obj;
  }

  // Deallocates live object number `index % live()` (swapping the last one
  // into its slot, as the original did). REQUIRES: live() > 0.
  void Dealloc(size_t index) {
    if (live_.empty()) internal::Fail("Dealloc with no live objects");
    const size_t i = index % live_.size();
    T* obj = live_[i];
    live_[i] = live_.back();
    live_.pop_back();
    const TesterState state = obj->state();
    if (state != TesterState::kValid) {
      internal::Fail(
          "live object at %p is %s before Dealloc (expected Valid): it was "
          "changed while allocated",
          static_cast<void*>(obj), TesterStateName(state));
    }
    const uintptr_t addr = reinterpret_cast<uintptr_t>(obj);
    live_set_.erase(addr);
    freed_.insert(addr);
    handed_out_.insert(addr);
    if constexpr (kTyped) {
      alloc_.Dealloc(obj);
    } else {
      obj->~T();
      alloc_.Dealloc(static_cast<void*>(obj));
    }
  }

  // Deallocates every live object, last first.
  void DeallocAll() {
    while (!live_.empty()) Dealloc(live_.size() - 1);
  }

  size_t live() const { return live_.size(); }
  const std::vector<T*>& live_objects() const { return live_; }

  // Every distinct address handed out and deallocated so far.
  std::vector<const void*> HandedOut() const {
    std::vector<const void*> out;
    out.reserve(handed_out_.size());
    for (uintptr_t a : handed_out_) out.push_back(reinterpret_cast<void*>(a));
    return out;
  }

 private:
  // Fails if [addr, addr + kSize) intersects a live object.
  void CheckNotLive(uintptr_t addr) const {
    auto next = live_set_.lower_bound(addr);
    if (next != live_set_.end() && *next == addr) {
      internal::Fail("Alloc returned %p, which is already allocated",
                     reinterpret_cast<void*>(addr));
    }
    if (next != live_set_.end() && *next - addr < kSize) {
      internal::Fail("Alloc returned %p, overlapping live object at %p",
                     reinterpret_cast<void*>(addr),
                     reinterpret_cast<void*>(*next));
    }
    if (next != live_set_.begin()) {
      const uintptr_t prev = *std::prev(next);
      if (addr - prev < kSize) {
        internal::Fail("Alloc returned %p, overlapping live object at %p",
                       reinterpret_cast<void*>(addr),
                       reinterpret_cast<void*>(prev));
      }
    }
  }

  A& alloc_;
  const size_t align_;
  std::vector<T*> live_;                 // in allocation order, modulo swaps
  std::set<uintptr_t> live_set_;         // ordered: overlap checks
  std::unordered_set<uintptr_t> freed_;  // freed and not handed out again
  std::set<uintptr_t> handed_out_;       // every address ever deallocated
};

// The DropAndCheck step, run after the allocator was destroyed: every
// address in `handed_out` selected by `policy` (see DropCheck) whose object
// is readable (IsMappedRange, which also skips ASan-poisoned memory) must
// hold a Dropped or Invalid object; a Valid or New one was never destroyed.
// Returns how many objects were inspected.
template <typename T>
size_t CheckDropped(const std::vector<const void*>& handed_out,
                    const LeakyAlloc& backing, DropCheck policy) {
  size_t inspected = 0;
  for (const void* p : handed_out) {
    if (policy == DropCheck::kBackingOnly && !backing.Owns(p, T::kSize)) {
      continue;
    }
    if (!IsMappedRange(p, T::kSize)) continue;
    ++inspected;
    const TesterState state = T::StateAt(p);
    if (state != TesterState::kDropped && state != TesterState::kInvalid) {
      internal::Fail(
          "after the allocator was destroyed, object at %p is %s (expected "
          "Dropped, Invalid or unmapped): a cached object was never destroyed",
          p, TesterStateName(state));
    }
  }
  return inspected;
}

// ---------------------------------------------------------------------------
// Drivers. Each takes a MakeFn: a callable `make(LeakyAlloc& backing)` that
// returns a fresh allocator by value or as a std::unique_ptr, and may take
// its memory from `backing` (which outlives the allocator). Each run creates
// one allocator, drives it, deallocates everything, destroys the allocator
// and then runs CheckDropped with `drop_check`.

// The original's TestBuilder::test: `iters` steps, each a coin flip between
// Alloc and (if anything is live) Dealloc of a random live object.
template <typename T, typename MakeFn>
void RunRandomTest(MakeFn&& make, size_t align, size_t iters, uint64_t seed,
                   DropCheck drop_check = DropCheck::kBackingOnly) {
  using A = internal::AllocOf<MakeFn>;
  internal::ScopedFailureContext context(
      "random test: object size %zu, align %zu, %zu iterations, seed 0x%llx",
      T::kSize, align, iters, static_cast<unsigned long long>(seed));
  LeakyAlloc backing;
  std::vector<const void*> handed_out;
  {
    auto holder = make(backing);
    AllocDriver<A, T> driver(internal::Deref(holder), align);
    internal::SplitMix64 rng(seed);
    for (size_t i = 0; i < iters; ++i) {
      if (rng.Coin() && driver.live() > 0) {
        driver.Dealloc(static_cast<size_t>(rng.Next()));
      } else {
        driver.Alloc();
      }
    }
    driver.DeallocAll();
    handed_out = driver.HandedOut();
  }  // the allocator is destroyed here
  CheckDropped<T>(handed_out, backing, drop_check);
}

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

// Replays `ops` on a fresh allocator: Alloc allocates, Dealloc(i)
// deallocates live object i (in allocation order, with the original's
// swap-remove) and is skipped when i >= the live count. Then deallocates
// everything and runs DropAndCheck.
template <typename T, typename MakeFn>
void RunSequence(MakeFn&& make, size_t align, const std::vector<AllocOp>& ops,
                 DropCheck drop_check = DropCheck::kBackingOnly) {
  using A = internal::AllocOf<MakeFn>;
  LeakyAlloc backing;
  std::vector<const void*> handed_out;
  {
    auto holder = make(backing);
    AllocDriver<A, T> driver(internal::Deref(holder), align);
    for (const AllocOp& op : ops) {
      if (op.kind == AllocOp::Kind::kAlloc) {
        driver.Alloc();
      } else if (op.index < driver.live()) {
        driver.Dealloc(op.index);
      }
    }
    driver.DeallocAll();
    handed_out = driver.HandedOut();
  }
  CheckDropped<T>(handed_out, backing, drop_check);
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
  using A = internal::AllocOf<MakeFn>;
  internal::ScopedFailureContext context(
      "alignment test: object size %zu, align %zu, %zu objects", T::kSize,
      align, count);
  LeakyAlloc backing;
  std::vector<const void*> handed_out;
  {
    auto holder = make(backing);
    AllocDriver<A, T> driver(internal::Deref(holder), align);
    for (size_t i = 0; i < count; ++i) driver.Alloc();
    const std::vector<T*>& objs = driver.live_objects();
    std::vector<unsigned char> saved(objs.size() * T::kSize);
    auto pattern = [](size_t i) {
      return static_cast<unsigned char>(0x5A ^ (i * 37));
    };
    for (size_t i = 0; i < objs.size(); ++i) {
      std::memcpy(&saved[i * T::kSize], static_cast<void*>(objs[i]), T::kSize);
      std::memset(static_cast<void*>(objs[i]), pattern(i), T::kSize);
    }
    for (size_t i = 0; i < objs.size(); ++i) {
      const unsigned char* bytes =
          reinterpret_cast<const unsigned char*>(objs[i]);
      for (size_t b = 0; b < T::kSize; ++b) {
        if (bytes[b] != pattern(i)) {
          internal::Fail(
              "byte %zu of object at %p was changed by writes to "
              "other objects: objects overlap",
              b, static_cast<const void*>(objs[i]));
        }
      }
    }
    for (size_t i = 0; i < objs.size(); ++i) {
      std::memcpy(static_cast<void*>(objs[i]), &saved[i * T::kSize], T::kSize);
    }
    driver.DeallocAll();
    handed_out = driver.HandedOut();
  }
  CheckDropped<T>(handed_out, backing, drop_check);
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
