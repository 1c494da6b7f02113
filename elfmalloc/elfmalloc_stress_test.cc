// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Randomised multi-threaded stress of the public API, in the manner of
// mimalloc's test-stress: T thread slots (4; 2 under ThreadSanitizer) each
// run a sequence of short-lived worker threads. A worker allocates, frees,
// reallocates and aligned-allocates at random (sizes mostly small, with a
// tail of large objects up to 4 MiB; alignments up to 64 KiB), writes every
// object full of a cookie derived from its address and a per-object seed,
// and checks every byte of it before each free and realloc (and realloc's
// preserved prefix after it). Workers hand objects to each other through a
// shared transfer array (an atomic exchange per hand-off; the receiver
// checks the object, then frees or keeps it), and when a worker exits it
// leaves some of its objects in the array for workers not yet started, so
// objects routinely outlive the thread (and thread cache) that made them.
// At the end everything is freed, Release() is called, and GetStats() must
// show no large objects beyond those live at the start and no dirty pages.
//
// CI scale by default (a few seconds in each configuration). Long runs:
//   ./bazelw test //elfmalloc:elfmalloc_stress_test
//       --test_env=ELFMALLOC_STRESS_SECONDS=600 --test_timeout=900   (one line)
// keep starting workers until the time is up (ELFMALLOC_TEST_SCALE=full
// means 60 seconds).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/testing/test_util.h"
#include "gtest/gtest.h"

namespace allocators {
namespace elfmalloc {
namespace {

constexpr size_t kTransferSlots = 256;
constexpr size_t kMaxLocal = 400;  // live objects a worker keeps
constexpr size_t kMiB = size_t{1} << 20;

struct Obj {
  void* p = nullptr;
  size_t size = 0;
  size_t align = 0;  // 0: Alloc/Realloc; else AlignedAlloc/AlignedRealloc
  uint64_t seed = 0;
};

// The first word of an object's content; word k is Cookie + k * kStep.
uint64_t Cookie(const void* p, uint64_t seed) {
  uint64_t x = reinterpret_cast<uintptr_t>(p) ^ (seed * 0x9e3779b97f4a7c15u);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 29;
  return x;
}
constexpr uint64_t kStep = 0x94d049bb133111ebu;

uint8_t CookieByte(uint64_t cookie, size_t i) {
  return static_cast<uint8_t>((cookie + (i / 8) * kStep) >> (8 * (i % 8)));
}

// Writes the content of an object of `size` bytes at p whose cookie is
// computed from `addr` (p itself, except when checking a moved prefix).
void FillAt(void* p, const void* addr, uint64_t seed, size_t size) {
  const uint64_t c = Cookie(addr, seed);
  uint8_t* b = static_cast<uint8_t*>(p);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const uint64_t w = c + (i / 8) * kStep;
    std::memcpy(b + i, &w, 8);
  }
  for (; i < size; ++i) b[i] = CookieByte(c, i);
}

// The index of the first of `size` bytes at p that differs from the content
// FillAt(p, addr, seed, ...) wrote, or `size`.
size_t FirstBad(const void* p, const void* addr, uint64_t seed, size_t size) {
  const uint64_t c = Cookie(addr, seed);
  const uint8_t* b = static_cast<const uint8_t*>(p);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, b + i, 8);
    if (w != c + (i / 8) * kStep) break;
  }
  for (; i < size; ++i) {
    if (b[i] != CookieByte(c, i)) return i;
  }
  return size;
}

struct Config {
  size_t slots;        // concurrent worker threads
  size_t ops;          // operations per worker
  size_t generations;  // workers per slot (when not time-bounded)
  double seconds;      // > 0: start workers until this much time has passed
};

Config GetConfig() {
  Config c;
  c.slots = testing::kTsan ? 2 : 4;
  c.ops = testing::kTsan ? 1500 : testing::kSanitized ? 3000 : 6000;
  c.generations = 6;
  c.seconds = 0;
  if (const char* s = std::getenv("ELFMALLOC_STRESS_SECONDS")) {
    c.seconds = std::atof(s);
  } else if (testing::FullScale()) {
    c.seconds = 60;
  }
  return c;
}

class Stress {
 public:
  explicit Stress(Config config) : config_(config) {
    for (auto& t : transfer_) t.store(nullptr);
  }

  // Runs every slot's workers; returns after the last one exits.
  void Run() {
    const auto start = std::chrono::steady_clock::now();
    auto more = [&](size_t generation) {
      if (failed_.load()) return false;
      if (config_.seconds <= 0) return generation < config_.generations;
      const std::chrono::duration<double> spent =
          std::chrono::steady_clock::now() - start;
      return generation == 0 || spent.count() < config_.seconds;
    };
    testing::RunThreads(config_.slots, [&](size_t slot) {
      for (size_t gen = 0; more(gen); ++gen) {
        // A new thread each time: fresh thread caches, the old ones
        // returned at its exit while its survivors stay in transfer_.
        std::thread worker(
            [this, slot, gen] { Worker(slot * 1000003 + gen * 7919 + 1); });
        worker.join();
        generations_.fetch_add(1);
      }
    });
  }

  // Frees whatever the last workers left in the transfer array.
  void Drain() {
    for (auto& t : transfer_) {
      if (Obj* o = t.exchange(nullptr)) {
        Check(*o, "left in the transfer array");
        Free(o->p);
        delete o;
      }
    }
  }

  bool failed() const { return failed_.load(); }
  size_t generations() const { return generations_.load(); }
  size_t operations() const { return operations_.load(); }

 private:
  using Rng = std::mt19937_64;

  static size_t RandomSize(Rng& rng) {
    const uint64_t r = rng() % 10000;
    if (r < 7000) return 1 + rng() % 256;
    if (r < 9000) return 1 + rng() % 4096;
    if (r < 9850) return 1 + rng() % 65536;
    if (r < 9980) return 1 + rng() % kMiB;
    return kMiB + rng() % (3 * kMiB);  // large objects
  }

  // Checks every byte of `o`; on damage records a failure (once per test).
  void Check(const Obj& o, const char* where) {
    const size_t bad = FirstBad(o.p, o.p, o.seed, o.size);
    if (bad != o.size) Fail(o, bad, where);
  }

  void Fail(const Obj& o, size_t bad, const char* where) {
    if (!failed_.exchange(true)) {
      ADD_FAILURE() << "object " << o.p << " (" << o.size << " bytes, align "
                    << o.align << ") damaged at byte " << bad << ", " << where;
    }
  }

  // A new object's address and usable size; fills it.
  bool Adopt(Obj& o, void* p) {
    if (p == nullptr) {
      if (!failed_.exchange(true)) {
        ADD_FAILURE() << "allocation of " << o.size << " bytes (align "
                      << o.align << ") failed";
      }
      return false;
    }
    const size_t want = o.align > 16 ? o.align : (o.size >= 16 ? 16 : 8);
    const bool aligned = (reinterpret_cast<uintptr_t>(p) & (want - 1)) == 0;
    if ((!aligned || UsableSize(p) < o.size) && !failed_.exchange(true)) {
      ADD_FAILURE() << p << ": " << o.size << " bytes, align " << o.align
                    << ", usable " << UsableSize(p);
    }
    o.p = p;
    FillAt(p, p, o.seed, o.size);
    return true;
  }

  bool NewObject(Rng& rng, bool aligned, Obj* out) {
    Obj o;
    o.size = RandomSize(rng);
    o.align = aligned ? size_t{8} << (rng() % 14) : 0;  // 8 B .. 64 KiB
    o.seed = rng();
    void* p = aligned ? AlignedAlloc(o.size, o.align) : Alloc(o.size);
    if (!Adopt(o, p)) return false;
    *out = o;
    return true;
  }

  void Destroy(const Obj& o, const char* where) {
    Check(o, where);
    Free(o.p);
  }

  // Realloc (or AlignedRealloc) to a random size, or one near the old.
  void Resize(Rng& rng, Obj& o) {
    Check(o, "before realloc");
    size_t n = RandomSize(rng);
    if (rng() % 2 == 0) {
      const size_t delta = rng() % (o.size / 2 + 1);
      n = rng() % 2 == 0 ? o.size + delta : o.size - delta;
      if (n == 0) n = 1;
    }
    void* q = o.align != 0 ? AlignedRealloc(o.p, n, o.align) : Realloc(o.p, n);
    if (q == nullptr) {
      Fail(o, 0, "realloc failed");
      return;
    }
    const size_t keep = n < o.size ? n : o.size;
    const size_t bad = FirstBad(q, o.p, o.seed, keep);
    if (bad != keep) Fail(o, bad, "prefix not preserved by realloc");
    Obj moved = o;
    moved.size = n;
    moved.seed = rng();
    if (Adopt(moved, q)) o = moved;
  }

  void Worker(uint64_t seed) {
    Rng rng(seed);
    std::vector<Obj> local;
    local.reserve(kMaxLocal + 1);
    auto take = [&](size_t i) {
      Obj o = local[i];
      local[i] = local.back();
      local.pop_back();
      return o;
    };
    size_t ops = 0;
    for (; ops < config_.ops && !failed_.load(); ++ops) {
      const uint64_t r = rng() % 100;
      if (local.empty() || r < 35) {
        Obj o;
        if (!NewObject(rng, r % 10 == 0, &o)) break;
        local.push_back(o);
        if (local.size() > kMaxLocal) {
          Destroy(take(rng() % local.size()), "before free (cap)");
        }
      } else if (r < 60) {
        Destroy(take(rng() % local.size()), "before free");
      } else if (r < 72) {
        Resize(rng, local[rng() % local.size()]);
      } else if (r < 90) {
        Obj* mine = new Obj(take(rng() % local.size()));
        Obj* theirs = transfer_[rng() % kTransferSlots].exchange(
            mine, std::memory_order_acq_rel);
        if (theirs != nullptr) {
          Check(*theirs, "received through the transfer array");
          if (rng() % 2 == 0) {
            Free(theirs->p);
          } else {
            local.push_back(*theirs);  // freed or resized here later
          }
          delete theirs;
        }
      } else {
        Obj o;
        if (!NewObject(rng, true, &o)) break;
        local.push_back(o);
      }
    }
    operations_.fetch_add(ops);
    // Exit: a quarter of the objects survive in the transfer array (for
    // later workers), the rest are freed here.
    while (!local.empty()) {
      Obj o = take(local.size() - 1);
      if (rng() % 4 == 0) {
        Obj* theirs = transfer_[rng() % kTransferSlots].exchange(
            new Obj(o), std::memory_order_acq_rel);
        if (theirs == nullptr) continue;
        o = *theirs;
        delete theirs;
      }
      Destroy(o, "before free (worker exit)");
    }
  }

  const Config config_;
  std::atomic<Obj*> transfer_[kTransferSlots];
  std::atomic<bool> failed_{false};
  std::atomic<size_t> generations_{0};
  std::atomic<size_t> operations_{0};
};

TEST(ElfmallocStressTest, RandomOpsAcrossThreadGenerations) {
  const Stats before = GetStats();
  const Config config = GetConfig();
  const auto start = std::chrono::steady_clock::now();
  Stress stress(config);
  stress.Run();
  stress.Drain();
  const std::chrono::duration<double> took =
      std::chrono::steady_clock::now() - start;
  std::printf("%s: %zu slots, %zu workers, %zu operations in %.2f s\n",
              BuildName(), config.slots, stress.generations(),
              stress.operations(), took.count());
  EXPECT_FALSE(stress.failed());
  EXPECT_GE(stress.generations(), config.slots);

  Release();
  const Stats after = GetStats();
  EXPECT_LE(after.large_count, before.large_count);
  EXPECT_LE(after.large_bytes, before.large_bytes);
  EXPECT_EQ(after.large_cached_bytes, 0u);
  EXPECT_EQ(after.dirty_bytes, 0u);
}

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
