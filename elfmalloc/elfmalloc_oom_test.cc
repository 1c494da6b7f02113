// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Out of memory, path by path, through mmap_alloc's fault injection: with
// the next k maps failing (k = 1..kMaxK), each allocation path returns
// nullptr with errno ENOMEM, or succeeds with usable memory when it had
// memory cached or a retry got past the failures; nothing aborts. Then maps
// succeed again: the path allocates, every block allocated before still
// holds its contents, and CheckInvariants() passes. Each test prints, per
// k, "ok" or "NULL" for its path (the outcomes are in the README).
//
// Compiled once and linked against both front-ends (BUILD).

#include <errno.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "elfmalloc/elfmalloc.h"
#include "gtest/gtest.h"
#include "mmap_alloc/fault_injection.h"

namespace allocators {
namespace elfmalloc {
namespace {

namespace fi = ::allocators::mmap_alloc::testing;

constexpr size_t kMaxK = 8;

// Every byte of the first and last 64 KiB, and one 64-byte run per 4 KiB
// page in between: a lost page, a partial copy or a moved block's stale
// contents all show, and the 40-80 MB blocks of the large-object cases
// take milliseconds instead of half a minute under ThreadSanitizer.
template <typename Byte, typename Visit>
void ForEachCheckedByte(Byte* b, size_t n, Visit visit) {
  constexpr size_t kEdge = size_t{64} << 10;
  constexpr size_t kPage = 4096;
  for (size_t i = 0; i < n;) {
    visit(b[i], i);
    const bool edge = i < kEdge || i + kEdge >= n;
    i = edge || i % kPage < 63 ? i + 1 : (i / kPage + 1) * kPage;
  }
}

void Fill(void* p, size_t n, uint8_t seed) {
  ForEachCheckedByte(static_cast<uint8_t*>(p), n, [seed](uint8_t& b, size_t i) {
    b = static_cast<uint8_t>(seed + i * 7);
  });
}

bool Intact(const void* p, size_t n, uint8_t seed) {
  bool ok = true;
  ForEachCheckedByte(static_cast<const uint8_t*>(p), n,
                     [&](const uint8_t& b, size_t i) {
                       ok &= b == static_cast<uint8_t>(seed + i * 7);
                     });
  return ok;
}

// Blocks of every tier, allocated before any failure and checked after
// every recovery.
struct Keeper {
  void* p;
  size_t n;
  uint8_t seed;
};

class OomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const size_t sizes[] = {8, 100, 4000, 100000, 3 << 20};
    uint8_t seed = 1;
    for (size_t n : sizes) {
      void* p = Alloc(n);
      ASSERT_NE(p, nullptr);
      Fill(p, n, seed);
      keepers_.push_back(Keeper{p, n, seed++});
    }
  }
  void TearDown() override {
    fi::ClearMapFailures();
    for (const Keeper& k : keepers_) {
      EXPECT_TRUE(Intact(k.p, k.n, k.seed)) << k.n;
      Free(k.p);
    }
    EXPECT_TRUE(CheckInvariants());
  }

  void ExpectKeepersIntact() {
    for (const Keeper& k : keepers_) {
      EXPECT_TRUE(Intact(k.p, k.n, k.seed)) << "keeper of " << k.n;
    }
  }

  // Takes every free page of the tier `size` is served from (and the
  // class's cached objects) by allocating `size` blocks while every map
  // fails, so that the next new slag of that tier must map. Freed by
  // Undrain().
  void Drain(size_t size) {
    fi::FailNextMaps(size_t{1} << 40);
    while (void* p = Alloc(size)) drained_.push_back(p);
    fi::ClearMapFailures();
  }
  void Undrain() {
    for (void* p : drained_) Free(p);
    drained_.clear();
  }

  // Runs `attempt` (which returns the block it got, or nullptr, and its
  // size in *n) with the next k maps failing, for every k: checks the
  // failure or the block, then recovery and the invariants. Returns how
  // many k failed.
  // With `drain` (sizes, 0-terminated), the tiers of those sizes are
  // drained first, so the path cannot live on cached pages.
  template <typename Attempt>
  size_t ForEachK(const char* path, Attempt attempt,
                  const size_t* drain = nullptr) {
    std::string outcome;
    size_t nulls = 0;
    for (size_t k = 1; k <= kMaxK; ++k) {
      size_t n = 0;
      for (const size_t* d = drain; d != nullptr && *d != 0; ++d) Drain(*d);
      fi::FailNextMaps(k);
      errno = 0;
      void* p = attempt(&n);
      const int err = errno;
      fi::ClearMapFailures();
      if (p == nullptr) {
        ++nulls;
        EXPECT_EQ(err, ENOMEM) << path << " k=" << k;
        outcome += " NULL";
      } else {
        EXPECT_GE(UsableSize(p), n) << path << " k=" << k;
        Fill(p, n, 0x5A);
        EXPECT_TRUE(Intact(p, n, 0x5A));
        Free(p);
        outcome += " ok";
      }
      // Maps succeed again: so does the path.
      void* q = attempt(&n);
      EXPECT_NE(q, nullptr) << path << " after recovery, k=" << k;
      if (q != nullptr) {
        Fill(q, n, 0x33);
        EXPECT_TRUE(Intact(q, n, 0x33));
        Free(q);
      }
      Undrain();
      ExpectKeepersIntact();
      EXPECT_TRUE(CheckInvariants());
    }
    std::printf("oom %s (%s): k=1..%zu:%s\n", path, BuildName(), kMaxK,
                outcome.c_str());
    return nulls;
  }

  std::vector<Keeper> keepers_;
  std::vector<void*> drained_;  // glibc's vector: this test's malloc
};

constexpr size_t kDrainSmall[] = {48 << 10, 0};
// 100 KiB: the 128 KiB class, in 2 MiB slags (its largest request in the
// hardened build, whose canary adds 8 bytes).
constexpr size_t kBigSlagSize = 100 << 10;
constexpr size_t kDrainBig[] = {kBigSlagSize, 0};
constexpr size_t kDrainBoth[] = {48 << 10, kBigSlagSize, 0};

// A fresh thread whose first use of a class needs its thread cache, the
// class's slag and (for a class nobody used) a page.
TEST_F(OomTest, SmallObjectNewClassOnAFreshThread) {
  size_t size = 1 << 10;  // grows per attempt: a new class each time
  ForEachK(
      "small, new class, fresh thread",
      [&](size_t* n) {
        void* p = nullptr;
        int err = 0;
        const size_t want = size;
        std::thread t([&] {
          // The failures were injected by the caller; nothing else maps here.
          p = Alloc(want);
          err = errno;
        });
        t.join();
        size += 1 << 10;
        if (size > (32 << 10)) size = 1 << 10;
        errno = err;
        *n = want;
        return p;
      },
      kDrainSmall);
}

TEST_F(OomTest, MediumObjectInBigSlags) {
  size_t k = 0;
  const size_t nulls = ForEachK(
      "medium (2 MiB slags)",
      [&](size_t* n) {
        // The drained class, a different size each time.
        *n = (64 << 10) + (++k % (kMaxK + 1)) * (7 << 10);
        return Alloc(*n);
      },
      kDrainBig);
  EXPECT_GT(nulls, 0u) << "injection never reached the medium path";
}

TEST_F(OomTest, LargeObject) {
  const size_t nulls = ForEachK("large", [&](size_t* n) {
    Release();  // no cached block: the allocation must map
    *n = 48 << 20;
    return Alloc(*n);
  });
  EXPECT_GT(nulls, 0u) << "injection never reached the large path";
}

TEST_F(OomTest, AlignedLargeObject) {
  const size_t nulls = ForEachK("aligned large", [&](size_t* n) {
    Release();
    *n = 5 << 20;
    return AlignedAlloc(*n, size_t{4} << 20);
  });
  EXPECT_GT(nulls, 0u) << "injection never reached the aligned large path";
}

// Realloc that must move: on failure the old block is intact and still
// owned by the caller.
TEST_F(OomTest, ReallocSmallToLarge) {
  const size_t nulls = ForEachK("realloc small->large", [&](size_t* n) {
    Release();
    void* old = Alloc(100);
    if (old == nullptr) return old;  // the injected failures hit it first
    Fill(old, 100, 9);
    *n = 40 << 20;
    void* q = Realloc(old, *n);
    const int err = errno;
    if (q == nullptr) {
      EXPECT_TRUE(Intact(old, 100, 9)) << "old block changed by a failure";
      Free(old);
    } else {
      EXPECT_TRUE(Intact(q, 100, 9)) << "contents not moved";
    }
    errno = err;
    return q;
  });
  EXPECT_GT(nulls, 0u);
}

TEST_F(OomTest, ReallocLargeToLarger) {
  // The old block is made with maps working, so only the growth can fail.
  const size_t nulls = ForEachK("realloc large->larger", [&](size_t* n) {
    const size_t pending = fi::PendingMapFailures();
    fi::ClearMapFailures();
    Release();
    void* old = Alloc(6 << 20);
    EXPECT_NE(old, nullptr);
    if (old == nullptr) return old;
    Fill(old, 6 << 20, 3);
    fi::FailNextMaps(pending);
    errno = 0;
    *n = 80 << 20;
    void* q = Realloc(old, *n);
    const int err = errno;
    if (q == nullptr) {
      EXPECT_TRUE(Intact(old, 6 << 20, 3)) << "old block changed";
      Free(old);
    } else {
      EXPECT_TRUE(Intact(q, 6 << 20, 3)) << "contents not kept";
    }
    errno = err;
    return q;
  });
  EXPECT_GT(nulls, 0u);
}

TEST_F(OomTest, CallocLike) {
  ForEachK(
      "calloc-like 5000 x 40",
      [&](size_t* n) {
        *n = 5000 * 40;
        void* p = Alloc(*n);
        if (p != nullptr) {
          std::memset(p, 0, *n);
          const auto* b = static_cast<const uint8_t*>(p);
          for (size_t i = 0; i < *n; i += 997) EXPECT_EQ(b[i], 0);
        }
        return p;
      },
      kDrainBig);
}

// One object of many classes in one go: all or nothing per attempt (the
// ones that succeeded are freed when another fails).
TEST_F(OomTest, ManyClassesAtOnce) {
  ForEachK(
      "many classes at once",
      [&](size_t* n) {
        constexpr size_t kClasses = 24;
        void* got[kClasses] = {};
        size_t size = 16;
        bool failed = false;
        int err = 0;
        for (size_t i = 0; i < kClasses; ++i, size = size * 3 / 2 + 16) {
          got[i] = Alloc(size);
          if (got[i] == nullptr) {
            failed = true;
            err = errno;
            break;
          }
          Fill(got[i], size, static_cast<uint8_t>(i));
        }
        size = 16;
        for (size_t i = 0; i < kClasses && got[i] != nullptr;
             ++i, size = size * 3 / 2 + 16) {
          EXPECT_TRUE(Intact(got[i], size, static_cast<uint8_t>(i)));
          Free(got[i]);
        }
        if (failed) {
          errno = err;
          return static_cast<void*>(nullptr);
        }
        // Report success with a block the caller checks and frees.
        *n = 16;
        return Alloc(16);
      },
      kDrainBoth);
}

// A thread whose very first allocation fails keeps running, allocates once
// maps work again, and exits cleanly.
TEST_F(OomTest, ThreadWhoseFirstAllocationFails) {
  std::string outcome;
  for (size_t k = 1; k <= kMaxK; ++k) {
    Drain(kBigSlagSize);
    void* first = nullptr;
    int err = 0;
    void* second = nullptr;
    std::thread t([&] {
      fi::FailNextMaps(k);
      errno = 0;
      first = Alloc(kBigSlagSize);
      err = errno;
      fi::ClearMapFailures();
      second = Alloc(kBigSlagSize);
      if (second != nullptr) Fill(second, kBigSlagSize, 4);
      if (second != nullptr && !Intact(second, kBigSlagSize, 4)) {
        second = nullptr;
      }
      Free(first);
      Free(second);
    });
    t.join();
    Undrain();
    if (first == nullptr) {
      EXPECT_EQ(err, ENOMEM) << k;
      outcome += " NULL";
    } else {
      outcome += " ok";
    }
    EXPECT_NE(second, nullptr) << "no recovery on the thread, k=" << k;
    ExpectKeepersIntact();
    EXPECT_TRUE(CheckInvariants());
  }
  std::printf("oom thread first allocation (%s): k=1..%zu:%s\n", BuildName(),
              kMaxK, outcome.c_str());
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
