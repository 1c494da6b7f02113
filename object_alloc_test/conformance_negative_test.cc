// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Proves the conformance suite can fail: each deliberately broken allocator
// below violates one invariant, and the driver must abort with a message
// naming it. Without these, a suite that checked nothing would look green.

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "gtest/gtest.h"
#include "object_alloc_test/conformance.h"
#include "object_alloc_test/leaky_alloc.h"

namespace allocators {
namespace object_alloc_test {
namespace {

using T = CorruptionTester<Byte64>;

// Hands out the same constructed object on every Alloc.
class SamePointerAlloc {
 public:
  using value_type = T;
  explicit SamePointerAlloc(LeakyAlloc* backing)
      : obj_(::new (backing->Alloc(sizeof(T), 1)) T()) {}
  T* Alloc() { return obj_; }
  void Dealloc(T*) {}

 private:
  T* obj_;
};

// Untyped; returns memory one byte past the requested alignment.
class MisalignedAlloc {
 public:
  explicit MisalignedAlloc(LeakyAlloc* backing) : backing_(backing) {}
  object_alloc::Layout layout() const { return {sizeof(T), 8}; }
  void* Alloc() { return static_cast<char*>(backing_->Alloc(80, 8)) + 1; }
  void Dealloc(void*) {}

 private:
  LeakyAlloc* backing_;
};

// Untyped; carves objects from one buffer at a stride smaller than the
// object, so neighbours overlap.
class OverlappingAlloc {
 public:
  explicit OverlappingAlloc(LeakyAlloc* backing)
      : base_(static_cast<char*>(backing->Alloc(1 << 16, 64))) {
    std::memset(base_, 0, 1 << 16);
  }
  object_alloc::Layout layout() const { return {sizeof(T), 1}; }
  void* Alloc() { return base_ + 32 * next_++; }
  void Dealloc(void*) {}

 private:
  char* base_;
  size_t next_ = 0;
};

// Typed; returns zeroed memory without constructing a T.
class UnconstructedAlloc {
 public:
  using value_type = T;
  explicit UnconstructedAlloc(LeakyAlloc* backing) : backing_(backing) {}
  T* Alloc() {
    void* p = backing_->Alloc(sizeof(T), 1);
    std::memset(p, 0, sizeof(T));
    return static_cast<T*>(p);
  }
  void Dealloc(T*) {}

 private:
  LeakyAlloc* backing_;
};

// Typed and caching, with configurable bugs.
class BuggyCachingAlloc {
 public:
  using value_type = T;
  enum class Bug {
    kScribbleOnFree,  // corrupts a cached object
    kScribbleLive,    // Alloc corrupts the previously returned object
    kLeakCache,       // destructor forgets to destroy cached objects
    kDestroyTwice,    // Dealloc destroys, destructor destroys again
  };
  BuggyCachingAlloc(LeakyAlloc* backing, Bug bug)
      : backing_(backing), bug_(bug) {}
  ~BuggyCachingAlloc() {
    if (bug_ == Bug::kLeakCache) return;
    for (T* p : cache_) p->~T();
  }
  T* Alloc() {
    T* p;
    if (!cache_.empty()) {
      p = cache_.back();
      cache_.pop_back();
    } else {
      p = ::new (backing_->Alloc(sizeof(T), 1)) T();
    }
    if (bug_ == Bug::kScribbleLive && last_ != nullptr) {
      reinterpret_cast<unsigned char*>(last_)[40] ^= 1;
    }
    last_ = p;
    return p;
  }
  void Dealloc(T* p) {
    if (bug_ == Bug::kScribbleOnFree) {
      reinterpret_cast<unsigned char*>(p)[20] ^= 0xFF;
    }
    if (bug_ == Bug::kDestroyTwice) p->~T();
    if (last_ == p) last_ = nullptr;
    cache_.push_back(p);
  }

 private:
  LeakyAlloc* backing_;
  Bug bug_;
  std::vector<T*> cache_;
  T* last_ = nullptr;
};

// Typed; caches freed objects in a static arena (never heap memory) and
// forgets to destroy them when it is destroyed.
alignas(64) unsigned char arena[64 * sizeof(T)];

class ArenaLeakingAlloc {
 public:
  using value_type = T;
  T* Alloc() {
    if (!cache_.empty()) {
      T* p = cache_.back();
      cache_.pop_back();
      return p;
    }
    if (used_ == 64) return nullptr;
    return ::new (arena + sizeof(T) * used_++) T();
  }
  void Dealloc(T* p) { cache_.push_back(p); }

 private:
  size_t used_ = 0;
  std::vector<T*> cache_;
};

auto MakeBuggy(BuggyCachingAlloc::Bug bug) {
  return [bug](LeakyAlloc& backing) {
    return std::make_unique<BuggyCachingAlloc>(&backing, bug);
  };
}

TEST(ConformanceNegativeDeathTest, PointerHandedOutTwice) {
  auto make = [](LeakyAlloc& b) { return SamePointerAlloc(&b); };
  EXPECT_DEATH(RunRandomTest<T>(make, 1, 100, 1),
               "object_alloc_test: Alloc returned 0x[0-9a-f]+, which is "
               "already allocated \\[while random test: object size 64, align "
               "1, 100 iterations, seed 0x1\\]");
}

TEST(ConformanceNegativeDeathTest, MisalignedPointer) {
  auto make = [](LeakyAlloc& b) { return MisalignedAlloc(&b); };
  EXPECT_DEATH(RunRandomTest<T>(make, 8, 100, 1),
               "Alloc returned 0x[0-9a-f]+, not aligned to 8");
}

TEST(ConformanceNegativeDeathTest, OverlappingObjects) {
  auto make = [](LeakyAlloc& b) { return OverlappingAlloc(&b); };
  EXPECT_DEATH(RunAlignmentTest<T>(make, 1, 4),
               "Alloc returned 0x[0-9a-f]+, overlapping live object at "
               "0x[0-9a-f]+ \\[while alignment test");
}

TEST(ConformanceNegativeDeathTest, UntypedLayoutTooSmall) {
  auto make = [](LeakyAlloc& b) {
    return LeakyUntypedObjectAlloc(&b, object_alloc::Layout{32, 8});
  };
  EXPECT_DEATH(RunRandomTest<T>(make, 8, 10, 1),
               "untyped allocator layout \\(size 32, align 8\\) cannot hold "
               "objects of size 64 at align 8");
  auto make_underaligned = [](LeakyAlloc& b) {
    return LeakyUntypedObjectAlloc(&b, object_alloc::Layout{64, 8});
  };
  EXPECT_DEATH(RunRandomTest<T>(make_underaligned, 16, 10, 1),
               "cannot hold objects of size 64 at align 16");
}

TEST(ConformanceNegativeDeathTest, NeverSeenObjectMustBeNew) {
  auto make = [](LeakyAlloc& b) { return UnconstructedAlloc(&b); };
  EXPECT_DEATH(RunRandomTest<T>(make, 1, 10, 1),
               "Alloc returned never-seen object at 0x[0-9a-f]+ in state "
               "Invalid \\(expected New\\)");
}

TEST(ConformanceNegativeDeathTest, CorruptedCachedObject) {
  EXPECT_DEATH(
      RunRandomTest<T>(MakeBuggy(BuggyCachingAlloc::Bug::kScribbleOnFree), 1,
                       500, 1),
      "Alloc returned recycled object at 0x[0-9a-f]+ in state Invalid "
      "\\(expected New or Valid\\)");
}

TEST(ConformanceNegativeDeathTest, ObjectChangedWhileLive) {
  EXPECT_DEATH(
      RunRandomTest<T>(MakeBuggy(BuggyCachingAlloc::Bug::kScribbleLive), 1, 500,
                       1),
      "live object at 0x[0-9a-f]+ is Invalid before Dealloc \\(expected "
      "Valid\\)");
}

TEST(ConformanceNegativeDeathTest, CachedObjectsNeverDestroyed) {
  EXPECT_DEATH(
      RunRandomTest<T>(MakeBuggy(BuggyCachingAlloc::Bug::kLeakCache), 1, 500,
                       1),
      "after the allocator was destroyed, object at 0x[0-9a-f]+ is Valid "
      "\\(expected Dropped, Invalid or unmapped\\): a cached object was "
      "never destroyed");
}

// Memory outside the backing LeakyAlloc is inspected only when the factory
// says it is safe to read (DropCheck::kAllReadable).
TEST(ConformanceNegativeDeathTest, CachedObjectsNeverDestroyedOutsideBacking) {
  auto make = [](LeakyAlloc&) { return ArenaLeakingAlloc(); };
  EXPECT_DEATH(
      RunSequence<T>(make, 1, {AllocOp::Alloc()}, DropCheck::kAllReadable),
      "after the allocator was destroyed, object at 0x[0-9a-f]+ is "
      "Valid");
  // With the default policy the arena is not read, so the leak goes unseen.
  // (The death test ran in a child process: this arena is still untouched.)
  RunSequence<T>(make, 1, {AllocOp::Alloc()}, DropCheck::kBackingOnly);
}

TEST(ConformanceNegativeDeathTest, ObjectDestroyedButStillCached) {
  // Handing the destroyed object out again is caught by the driver...
  EXPECT_DEATH(RunRandomTest<T>(
                   MakeBuggy(BuggyCachingAlloc::Bug::kDestroyTwice), 1, 500, 1),
               "Alloc returned recycled object at 0x[0-9a-f]+ in state Dropped "
               "\\(expected New or Valid\\)");
  // ...and destroying it a second time by the tester itself.
  EXPECT_DEATH(RunSequence<T>(MakeBuggy(BuggyCachingAlloc::Bug::kDestroyTwice),
                              1, {AllocOp::Alloc(), AllocOp::Dealloc(0)}),
               "destroying object at 0x[0-9a-f]+ in unexpected state Dropped");
}

// A failure inside the sequence driver names the sequence's seed and length,
// and that pair replays it.
TEST(ConformanceNegativeDeathTest, SequenceFailureNamesSeedAndLength) {
  auto make = [](LeakyAlloc& b) { return SamePointerAlloc(&b); };
  EXPECT_DEATH(
      RunRandomSequences<T>(make, 1, 20, kMaxSequenceLength, 42),
      "already allocated \\[while sequence [0-9]+ of 20: object size 64, "
      "align 1, sequence seed 0x[0-9a-f]+, length [0-9]+, max length 100; "
      "replay with RunSequence");
}

TEST(ConformanceNegativeDeathTest, ReplayingAPrintedSeedReproduces) {
  // Sequence number k of RunRandomSequences(..., seed) has seed
  // MixSeed(seed, k); replaying GenerateOps(that seed, max_len) alone must
  // fail exactly when the sequence allocates while an object is live.
  for (uint64_t k = 0; k < 5; ++k) {
    const uint64_t seq_seed = internal::MixSeed(42, k);
    const std::vector<AllocOp> ops = GenerateOps(seq_seed, kMaxSequenceLength);
    bool should_fail = false;
    size_t live = 0;
    for (const AllocOp& op : ops) {
      if (op.kind == AllocOp::Kind::kAlloc) {
        should_fail = should_fail || live > 0;
        ++live;
      } else if (op.index < live) {
        --live;
      }
    }
    auto make = [](LeakyAlloc& b) { return SamePointerAlloc(&b); };
    if (should_fail) {
      EXPECT_DEATH(RunSequence<T>(make, 1, ops), "already allocated");
    } else {
      RunSequence<T>(make, 1, ops);
    }
  }
}

}  // namespace
}  // namespace object_alloc_test
}  // namespace allocators
