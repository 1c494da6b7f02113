// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Thread-local front-ends over a SlagAllocator: where a thread's allocations
// of one size class come from and where its frees go.
//
// * MagazineCache (the default): a stack of freed pointers that accepts any
//   object of the class, whichever thread's slag it came from. alloc pops the
//   stack, then takes the next object of the claimed slag, then refreshes the
//   slag. When the stack is full, its upper half goes back to the slags in
//   one batch: pointers are grouped by (slag, bitset word) in a small
//   direct-mapped table and each group is returned with one fetch_or and
//   one rc update (a bulk free).
// * LocalCache ("elfmalloc-l"): the stack holds only objects of the thread's
//   current slag (so it never holds more than one slag's worth); every other
//   free goes back to its slag's bitset. Better for producer-consumer
//   workloads, and memory stays with the slag it belongs to. Unlike the
//   original, which paid two locked instructions per such free, those frees
//   are gathered in a batch of kRemoteBatch (fewer for objects above 256
//   bytes: RemoteBatchFor) and returned together (the same coalesced bulk
//   free as the magazine's), at the latest when the thread next refreshes
//   its slag: this is what keeps "buffered" workloads, whose frees rarely
//   hit the current slag, from running at a third of glibc's speed.
//
// Both start zeroed and do nothing until the first slow-path call: a thread
// that never uses a class pays nothing for it (the original's Lazy).
//
// Magazine capacity (MagazineCapacity): the original computed
// "512 << 10 / size" and "1 << 20 / size", which Rust's precedence evaluates
// as 512 and 1. We use what the authors meant: 64 Ki pointers up to 512-byte
// objects, then 512 KiB worth of objects up to 32 KiB, then 1 MiB worth.
// That is the most a magazine may hold, not what it always holds: a thread
// that only frees a class (the consumer of a producer-consumer pair) would
// otherwise hoard up to 64 Ki objects of every class it sees, over 100 MiB
// for 16..1024-byte messages. So each magazine has a limit that starts at
// kMagazineMinLimit and, when the thread has to refresh its slag (it
// allocates more than its cache gives it), rises to what the current run
// of refreshes took: a slag's worth per refresh since the last one that
// was preceded by frees (MagazineCache::AllocRefresh). A thread that
// allocates many slags' worth and then frees them keeps them all; two
// threads passing objects to each other keep about a slag's worth each.
// The limit shrinks by a slag's worth after kMagazineOverflowsToShrink
// overflows with no refresh between them. (The run is counted with the
// statistics counters; a build without them grows by a slag at every
// refresh.)
//
// Thread-compatible: each object belongs to one thread.

#ifndef ELFMALLOC_INTERNAL_FRONTENDS_H_
#define ELFMALLOC_INTERNAL_FRONTENDS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/slag.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// Measurement switches, for benchmark-only builds that price what the
// default build pays for (//elfmalloc:libelfmalloc-nochecks.so and
// -nostats.so; see info/reliability.md and info/stats.md). Shipped builds
// never define them.
#if defined(ELFMALLOC_BENCH_NO_CHECKS)
inline constexpr bool kDefaultChecks = false;
#else
inline constexpr bool kDefaultChecks = true;
#endif
#if defined(ELFMALLOC_BENCH_NO_STATS)
inline constexpr bool kCountStats = false;
#else
inline constexpr bool kCountStats = true;
#endif

// Pointers a MagazineCache of objects of `object_size` bytes holds at most.
constexpr size_t MagazineCapacity(size_t object_size) {
  if (object_size <= 512) return size_t{1} << 16;
  if (object_size <= (size_t{32} << 10))
    return (size_t{512} << 10) / object_size;
  const size_t n = (size_t{1} << 20) / object_size;
  return n == 0 ? 1 : n;
}
static_assert(MagazineCapacity(16) == 65536);
static_assert(MagazineCapacity(1024) == 512);
static_assert(MagazineCapacity(65536) == 16);
static_assert(MagazineCapacity(size_t{1} << 20) == 1);

inline constexpr uint32_t kMagazineMinLimit = 64;
// After a stack cannot be mapped, this many frees go straight to their
// slags before the cache tries to map it again (CacheBase::EnsureStack).
inline constexpr uint32_t kStackRetryFrees = 4096;
inline constexpr uint32_t kMagazineOverflowsToShrink = 3;

class CacheBase;

// Unmaps every spare stack `pool` keeps (StackSpares) and returns how
// many: elfmalloc_release and the out-of-address-space reclaim give their
// memory back too.
size_t DrainSpareStacks(ClassPool* pool);

// A thread's idle-cache trimming. Each of its caches reports the slags it
// refreshes (the thread needs more memory of that class) here; whenever
// the thread has taken kIdleSweepBytes of slags since the last time, `run`
// looks at the thread's other caches and trims (FE::Trim) those that still
// hold memory and were not used since
//  * the previous look, if they hold at least kIdleTrimBytes of objects;
//  * the look kIdleSweepsPerFull looks ago, otherwise;
// so that their objects and slags go back to be reused by the class the
// thread works with now. Without it a thread that moves from one size to
// another (Hoard's threadtest does, every round) keeps a full magazine of
// every size it ever used. Big idle caches go at the next look: at two
// threads, threadtest's previous size was otherwise still cached when the
// next round's objects were all allocated (peak RSS 25 MiB against 16).
// Small ones wait four looks: trimming every class a mixed-size program
// did not touch for 512 KiB cost shbench 20% at two threads. Counting
// bytes rather than refreshes keeps the period the same for 256 KiB and
// 2 MiB slags. Thread-compatible: one per thread.
struct IdleSweep {
  size_t refreshed_bytes = 0;
  void (*run)(void* arg, const CacheBase* caller) = nullptr;
  void* arg = nullptr;
};
inline constexpr size_t kIdleSweepBytes = size_t{512} << 10;
inline constexpr size_t kIdleTrimBytes = size_t{128} << 10;
inline constexpr uint32_t kIdleSweepsPerFull = 4;

// What both front-ends share: a pointer stack, the iterator and the slags.
class alignas(64) CacheBase {
 public:
  // Records where to get slags from. Cheap; nothing is allocated until the
  // first slow-path call. `pages` must outlive Shutdown().
  void Setup(ClassPool* pool, PageAlloc::Handle* pages, size_t capacity) {
    pool_ = pool;
    pages_ = pages;
    want_capacity_ = capacity;
    check_ = MakeObjectCheck(pool->geom);
  }

  // True if `p`, which lies in a slag of this cache's class, is the start
  // of one of its objects (the free-time interior-pointer check). The
  // constants sit in the cache line the free's push writes anyway, so the
  // check costs no table address or line of its own.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool IsObjectStart(const void* p) const {
    return IsObjectOffset(check_, reinterpret_cast<uintptr_t>(p));
  }

  // Returns every cached object and the claimed slag, and unmaps the stack.
  // The cache can be used again afterwards (it starts over lazily).
  void Shutdown();

  // Reports this cache's slag refreshes to `sweep` (nullptr: none). `sweep`
  // must outlive the cache's use.
  void SetIdleSweep(IdleSweep* sweep) { sweep_ = sweep; }

  // True if the cache holds objects or a claimed slag (what Trim() gives
  // back).
  bool HoldsMemory() const {
    return top_ != 0 || held_ != nullptr || slags_.slag() != nullptr;
  }

  // True if `p` is the object this cache holds back as the last one freed
  // (so it is free).
  bool IsLastFreed(const void* p) const {
    return held_ != nullptr && held_ == EncodeCached(const_cast<void*>(p));
  }

  ClassPool* pool() const { return pool_; }
  size_t cached() const { return top_ + (held_ != nullptr); }
  size_t capacity() const { return cap_; }

  // Objects this cache handed out and took back, ever (statistics). Any
  // thread may read them; only the owner writes.
  uint64_t allocs() const { return allocs_.load(std::memory_order_relaxed); }
  uint64_t frees() const { return frees_.load(std::memory_order_relaxed); }

  // Checks this cache (call on its owning thread): top_ <= cap_, no stack
  // without a mapping, and every cached pointer in `[stack_, stack_ + n)`
  // (and `extra` more at stack_ + extra_at, and the held object) is an
  // object start of a slag of this class whose bit is clear (allocated,
  // not free in the slag) and, for a heap class, tagged in the page map.
  // `limit` is the most the front-end may hold (limit_ or local_cap_).
  // False with `what` set on a violation.
  bool CheckCached(uint32_t limit, uint32_t extra_at, uint32_t extra,
                   const char** what) const;

 protected:
  // The statistics counters: a relaxed load and store by the only writer
  // compile to a plain add on the cache line the fast path already holds,
  // yet readers on other threads see no data race.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void Bump(std::atomic<uint64_t>& c) {
    if (!kCountStats) return;
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void CountFree() { Bump(frees_); }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void* FastAlloc() {
    if (kSecure) return SecureFastAlloc();
    if (ABSL_PREDICT_TRUE(top_ != 0)) return stack_[--top_];
    return iter_.Next();
  }
  // The hardened pop: a random one of the top 8 entries (so the order of
  // reuse is not predictable), decoded and checked to be an object of this
  // class before it is handed out.
  void* SecureFastAlloc();
  // Caches `p`, which a free gives back. Reuse is delayed by one object:
  // `p` is held back (held_) and the object held so far goes on the stack,
  // so allocations take every other cached object before the last one
  // freed. A stale pointer's second free, "free(p); q = malloc(); free(p)",
  // then finds p still held and is reported (CheckNotLastFreed) instead of
  // freeing q's live block for the next malloc to hand out a second time.
  // The allocation fast path is unchanged; the free's is one store more, on
  // the line it writes anyway. Builds without checks keep plain LIFO reuse.
  // REQUIRES: top_ < the front-end's stack limit.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Push(void* p) {
    if (kDefaultChecks && ABSL_PREDICT_FALSE(held_ == nullptr)) {
      held_ = EncodeCached(p);  // the first object held: nothing to push
      return;
    }
    PushBehindHeld(p);
  }
  // Push() for a cache that holds an object already, so the one held goes
  // on the stack without a test (MagazineCache's fast path, whose limit is
  // 0 while nothing is held). REQUIRES: as Push(), and held_ != nullptr
  // when kDefaultChecks.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void PushBehindHeld(void* p) {
    if (!kDefaultChecks) {
      stack_[top_++] = EncodeCached(p);
      return;
    }
    stack_[top_++] = held_;
    held_ = EncodeCached(p);
  }
  // The held object, no longer held (nullptr if none): the allocation slow
  // paths hand it out before they take a new slag, so holding it back
  // never costs memory. Fatal (double free) if its slag says it is free.
  void* TakeHeld();
  // The cheap double-free check of the fast path: freeing the object freed
  // last (the common "free twice" bug, also after an allocation between)
  // is fatal. One load of a field in the line the free writes anyway.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void CheckNotLastFreed(const void* p) const {
    if (kDefaultChecks &&
        ABSL_PREDICT_FALSE(held_ == EncodeCached(const_cast<void*>(p)))) {
      DoubleFree(p);
    }
  }
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void DoubleFree(const void* p);
  // Fatal unless `p`, taken from this cache, is an object of its class
  // (hardened build).
  void SecureCheckCached(void* p) const;

  // Refreshes the slag and allocates from it; nullptr (errno ENOMEM) if no
  // memory could be had.
  void* AllocSlow();
  // Maps the stack if needed. False if it could not be mapped, or if a map
  // failed within the last kStackRetryFrees calls.
  bool EnsureStack();
  void EnsureSlags() {
    if (ABSL_PREDICT_FALSE(!slags_.initialized())) slags_.Init(pool_, pages_);
  }
  // Returns `n` objects of this class to their slags in bulk.
  void ReturnObjects(void* const* objects, size_t n);
  // Returns every cached object and the claimed slag; keeps the stack.
  void TrimObjectsAndSlag();

  // The fields the fast paths touch come first, in one cache line (the
  // class is 64-byte aligned).
  void** stack_ = nullptr;
  uint32_t top_ = 0;
  // MagazineCache: fast-path frees while top_ is below it; <= cap_. Kept
  // at 0 while no object is held (with kDefaultChecks), so that the free
  // that starts holding one takes the slow path and the fast path never
  // tests held_ for null.
  uint32_t limit_ = 0;
  void* held_ = nullptr;  // the last object freed, encoded (Push)
  std::atomic<uint64_t> allocs_{0};
  std::atomic<uint64_t> frees_{0};
  ObjectCheck check_{};  // this class's object starts (IsObjectStart)
  // The rest is for slow paths.
  uint32_t cap_ = 0;  // 0 until the stack is mapped
  uint32_t rng_ = 0;  // hardened build: reuse-order randomness
  AllocIter iter_;
  SlagAllocator slags_;
  ClassPool* pool_ = nullptr;
  PageAlloc::Handle* pages_ = nullptr;
  size_t want_capacity_ = 0;
  IdleSweep* sweep_ = nullptr;
  uint32_t stack_retry_ = 0;  // EnsureStack calls left before a new map try
  // Bytes from the stack mapping's start this cache (or an earlier owner of
  // a spare stack) may have written: what keeping the stack costs.
  size_t stack_touched_ = 0;
  // Records that the stack's first `entries` slots may be written.
  void NoteStackUse(uint32_t entries);
  // Sets limit_ (MagazineCache): pushes may fill that many slots.
  void SetLimit(uint32_t limit) {
    limit_ = limit;
    NoteStackUse(limit);
  }
};

class MagazineCache : public CacheBase {
 public:
  static constexpr const char* kName = "magazine";
  static constexpr bool kCappable = true;  // ELFMALLOC_MAGAZINE_SIZE applies
  static size_t CapacityFor(const SlagGeometry& g) {
    return MagazineCapacity(g.object_size);
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void* Alloc() {
    void* p = FastAlloc();
    if (ABSL_PREDICT_FALSE(p == nullptr)) p = AllocRefresh();
    if (ABSL_PREDICT_TRUE(p != nullptr)) Bump(allocs_);
    return p;
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Free(void* p) {
    CountFree();
    if (ABSL_PREDICT_TRUE(top_ < limit_)) {
      CheckNotLastFreed(p);
      PushBehindHeld(p);
      return;
    }
    FreeSlow(p);
  }
  void Shutdown() {
    limit_ = 0;
    target_ = 0;
    overflows_ = 0;
    run_ = 0;
    CacheBase::Shutdown();
  }
  // The idle-cache trim (IdleSweep): gives back the cached objects and the
  // claimed slag, but keeps the stack and the adaptive limit (target_), so
  // a class that comes back into use starts at the size it had. The held
  // object goes too, so the next free takes the slow path (see limit_).
  void Trim() {
    TrimObjectsAndSlag();
    if (kDefaultChecks) limit_ = 0;
  }

  // The current limit (0 until the stack is mapped, and while no object
  // is held), for tests.
  uint32_t limit() const { return limit_; }

  // See CacheBase::CheckCached: top_ <= limit_ <= cap_; and a limit only
  // while an object is held (PushBehindHeld).
  bool CheckInvariants(const char** what) const {
    if (kDefaultChecks && limit_ != 0 && held_ == nullptr) {
      *what = "magazine: fast-path frees allowed with no held object";
      return false;
    }
    return CheckCached(limit_, 0, 0, what);
  }

 private:
  void* AllocRefresh();
  void FreeSlow(void* p);

  uint32_t target_ = 0;            // the adaptive limit (0: not yet set)
  uint32_t overflows_ = 0;         // overflows since the last refresh
  uint32_t run_ = 0;               // refreshes in the current run
  uint64_t frees_at_refresh_ = 0;  // frees() at the last refresh
};

class LocalCache : public CacheBase {
 public:
  static constexpr const char* kName = "local";
  static constexpr bool kCappable = false;
  // Frees of other slags are returned in batches of at most this many,
  // and of at most kRemoteBatchBytes: a batched object keeps its whole slag
  // from being freed, and 256 objects of 512 KiB pinned up to 512 MiB of
  // 2 MiB slags (a remote-free storm grew 1.7 MiB a round).
  static constexpr size_t kRemoteBatch = 256;
  static constexpr size_t kRemoteBatchBytes = size_t{64} << 10;
  static constexpr size_t RemoteBatchFor(size_t object_size) {
    const size_t n = kRemoteBatchBytes / object_size;
    return n < 1 ? 1 : n > kRemoteBatch ? kRemoteBatch : n;
  }
  // The stack (one slag's objects) plus the remote-free batch, which lives
  // at its end.
  static size_t CapacityFor(const SlagGeometry& g) {
    return g.n_objects + RemoteBatchFor(g.object_size);
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void* Alloc() {
    void* p = FastAlloc();
    if (ABSL_PREDICT_FALSE(p == nullptr)) p = AllocSlowLocal();
    if (ABSL_PREDICT_TRUE(p != nullptr)) Bump(allocs_);
    return p;
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Free(void* p) {
    CountFree();
    if ((reinterpret_cast<uintptr_t>(p) & ~slag_mask_) == current_slag_) {
      if (ABSL_PREDICT_TRUE(top_ < local_cap_)) {
        CheckNotLastFreed(p);
        Push(p);
        return;
      }
    } else if (ABSL_PREDICT_TRUE(remote_ < remote_cap_)) {
      stack_[local_cap_ + remote_++] = EncodeCached(p);
      return;
    }
    FreeSlow(p);
  }
  // Frees of other slags waiting in the batch (tests).
  uint32_t remote_batched() const { return remote_; }

  // See CacheBase::CheckCached: top_ <= local_cap_, remote_ <= remote_cap_,
  // and local_cap_ + remote_cap_ <= cap_.
  bool CheckInvariants(const char** what) const {
    if (remote_ > remote_cap_) {
      *what = "local cache: remote batch over its capacity";
      return false;
    }
    return CheckCached(local_cap_, local_cap_, remote_, what);
  }
  void Shutdown() {
    FlushRemote();
    local_cap_ = 0;
    remote_cap_ = 0;
    current_slag_ = 1;
    CacheBase::Shutdown();
  }
  // See MagazineCache::Trim. The stack holds only the claimed slag's
  // objects, so it is emptied with the slag.
  void Trim() {
    FlushRemote();
    TrimObjectsAndSlag();
    current_slag_ = 1;
  }

 private:
  void* AllocSlowLocal();
  void FreeSlow(void* p);
  void FlushRemote();

  // The claimed slag's address and size mask, cached here so that the free
  // fast path needs no dependent loads. 1 (never a slag address) while no
  // slag is claimed.
  uintptr_t current_slag_ = 1;
  uintptr_t slag_mask_ = 0;
  uint32_t local_cap_ = 0;   // stack slots for current-slag objects
  uint32_t remote_cap_ = 0;  // RemoteBatchFor once the stack is mapped
  uint32_t remote_ = 0;      // pointers in the batch at stack_[local_cap_..]
};
static_assert(LocalCache::RemoteBatchFor(16) == LocalCache::kRemoteBatch);
static_assert(LocalCache::RemoteBatchFor(1024) == 64);
static_assert(LocalCache::RemoteBatchFor(size_t{512} << 10) == 1);

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_FRONTENDS_H_
