// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The middle of the general allocator, between the per-class front-ends
// and the Heap API:
//
// * HeapCore<Config>: what every thread of one heap shares: the options,
//   a page allocator per slag size (kSlagBytes), one ClassPool per
//   size class, the spare cache stacks and the list of live thread caches.
// * ThreadCache<Config>: one thread's front-end per size class, its page
//   handles, and the idle-cache trim (Sweep). Heap keeps one per thread in
//   allocation-safe TLS.
// * FallbackCache<Config>: one more ThreadCache under a spin lock, for
//   calls made while a thread's own cache is unavailable (being built, or
//   destroyed at thread exit), so re-entrant and late calls work without a
//   background thread.
//
// Thread-safety: HeapCore is thread-safe; a ThreadCache belongs to one
// thread (its counters may be read from any); FallbackCache serialises its
// users.

#ifndef ELFMALLOC_INTERNAL_THREAD_CACHE_H_
#define ELFMALLOC_INTERNAL_THREAD_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "absl/base/thread_annotations.h"
#include "alloc_fmt/spin_lock.h"
#include "bagpipe/bagpipe.h"
#include "elfmalloc/internal/class_layout.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/depot.h"
#include "elfmalloc/internal/frontends.h"
#include "elfmalloc/internal/hardening.h"
#include "elfmalloc/internal/heap_stats.h"
#include "elfmalloc/internal/large_alloc.h"
#include "elfmalloc/internal/options.h"
#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/size_classes.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// The idle-cache trim. Whenever a thread has refreshed kIdleSweepBytes of
// slags since the last look, it looks at its other caches and trims those
// that still hold memory and were not used since
//  * the previous look, if they hold at least kIdleTrimBytes of objects;
//  * the look kIdleSweepsPerFull looks ago, otherwise;
// so that their objects and slags go back to be reused by the class the
// thread works with now. Without it a thread that moves from one size to
// another keeps a full magazine of every size it ever used. Big idle caches
// go at the next look, or a program that moves on to the next size keeps
// the previous size's objects while it allocates the next ones; small ones
// wait several looks, or mixed-size programs pay for trimming classes they
// use again soon. Counting bytes rather than refreshes keeps the period the
// same for 256 KiB and 2 MiB slags.
inline constexpr size_t kIdleSweepBytes = size_t{512} << 10;
inline constexpr size_t kIdleTrimBytes = size_t{128} << 10;
inline constexpr uint32_t kIdleSweepsPerFull = 4;

template <typename Config>
class ThreadCache;

// The magazine depots of a heap's classes (DepotCache), under one lock: a
// leaf lock, held for a few pointer moves. Empty for other front-ends.
template <bool kEnabled>
struct Depots {
  void Attach(ClassPool*) {}
};
template <>
struct Depots<true> {
  void Attach(ClassPool* pools) {
    for (size_t c = 0; c < kNumClasses; ++c) {
      depots[c].Init(&lock, pools[c].geom.object_size);
      pools[c].depot = &depots[c];
    }
  }
  SpinLock lock;
  MagazineDepot depots[kNumClasses];
};

// The compiled-in geometry and the option's default agree.
static_assert(kDefaultReuseThresholdPpm ==
              static_cast<int64_t>(kCutoffFactor * kReuseThresholdOne));

template <typename Config>
class HeapCore {
 public:
  using FE = FrontEndFor<Config>;
  static constexpr bool kHardened = Config::kHardened;

  // The process heap's core; a user heap's (elfmalloc/heap.h) passes
  // kUserHeapTagBit, which also makes its page allocators log their
  // mappings so that it can unmap every page at once.
  explicit HeapCore(uint8_t tag_bits = 0)
      : options(GetOptions()),
        pages{PageAlloc(PagesOptions(options, 0, tag_bits != 0)),
              PageAlloc(PagesOptions(options, 1, tag_bits != 0)),
              PageAlloc(PagesOptions(options, 2, tag_bits != 0))} {
    static_assert(kSlagKinds == 3, "one page allocator per slag size");
    size_t pipes = bagpipe::DefaultPipeCount();
    if (pipes > 16) pipes = 16;  // the original's 16 per class at most
    for (size_t c = 0; c < kNumClasses; ++c) {
      ClassPool& p = pools[c];
      p.geom = kGeneralGeometry<kHardened>[c];
      // ELFMALLOC_REUSE_THRESHOLD: the fraction of free objects that makes
      // a slag available for reuse (the geometry's cutoff factor).
      const size_t cut = static_cast<size_t>(
          static_cast<double>(p.geom.n_objects) * options.reuse_threshold());
      p.geom.cutoff = cut < 1                  ? 1
                      : cut > p.geom.n_objects ? p.geom.n_objects
                                               : cut;
      const size_t kind = SlagKindFor(p.geom.object_size, kHardened);
      p.kind = static_cast<SlagKind>(kind);
      p.map_tag = static_cast<uint8_t>((c + 1) | tag_bits);
      p.eager_decommit_bytes = kEagerDecommitBytes;
      if (kHardened) {
        p.secure_clear_bytes = MaxObjectsOffset<kHardened>(p.geom.slag_bytes);
      }
      p.pages = &pages[kind];
      p.bag_pipes = pipes;  // the bag is built on first use (slag.h)
      p.spares = &stack_spares;
    }
    depots.Attach(pools);
  }
  HeapCore(const HeapCore&) = delete;
  HeapCore& operator=(const HeapCore&) = delete;

  // Links a new thread cache into the list of live ones.
  void AddThread(ThreadCache<Config>* tc) ABSL_LOCKS_EXCLUDED(threads_lock) {
    SpinLockHolder h(&threads_lock);
    tc->prev_ = nullptr;
    tc->next_ = threads;
    if (threads != nullptr) threads->prev_ = tc;
    threads = tc;
  }

  // Unlinks an exiting thread's cache, keeping its counts.
  void RemoveThread(ThreadCache<Config>* tc) ABSL_LOCKS_EXCLUDED(threads_lock) {
    SpinLockHolder h(&threads_lock);
    if constexpr (Config::kEvents) retired_events.Merge(tc->events_);
    for (size_t c = 0; c < kNumClasses; ++c) {
      retired_allocs[c].fetch_add(tc->caches_[c].allocs(),
                                  std::memory_order_relaxed);
      retired_frees[c].fetch_add(tc->caches_[c].frees(),
                                 std::memory_order_relaxed);
    }
    if (tc->prev_ != nullptr)
      tc->prev_->next_ = tc->next_;
    else
      threads = tc->next_;
    if (tc->next_ != nullptr) tc->next_->prev_ = tc->prev_;
    tc->prev_ = tc->next_ = nullptr;
  }

  // Gives back the address space of everything free that is not in a
  // thread cache: spare stacks and every free page (large blocks are the
  // heap's). What an allocation retries after when no memory could be
  // mapped (RLIMIT_AS, overcommit).
  void UnmapFree() {
    for (ClassPool& pool : pools) DrainSpareStacks(&pool);
    for (PageAlloc& p : pages) {
      PageAlloc::Handle h(&p);
      p.Unmap(h);
    }
  }

  // Fills in `s`'s pages, its per-class counters (exited threads' and the
  // live caches') and its thread count. Holds the thread-list lock only
  // while it sums the live caches.
  void AddStats(HeapStats* s) ABSL_LOCKS_EXCLUDED(threads_lock) {
    for (size_t k = 0; k < kSlagKinds; ++k) {
      const PageAlloc& p = pages[k];
      s->pages_mapped[k] = p.mapped_pages();
      s->pages_clean[k] = p.clean_pages();
      s->pages_dirty[k] = p.dirty_pages();
      s->mapped_bytes += s->pages_mapped[k] * kSlagBytes[k];
      s->dirty_bytes += s->pages_dirty[k] * kSlagBytes[k];
    }
    for (size_t c = 0; c < kNumClasses; ++c) {
      ClassStats& k = s->classes[c];
      k.object_size = ClassSize(c);
      k.allocs = retired_allocs[c].load(std::memory_order_relaxed);
      k.frees = retired_frees[c].load(std::memory_order_relaxed);
      k.slags = pools[c].slags.load(std::memory_order_relaxed);
      k.slag_bytes = pools[c].slag_bytes();
    }
    SpinLockHolder h(&threads_lock);
    s->has_events = Config::kEvents;
    if constexpr (Config::kEvents) {
      for (size_t e = 0; e < kEventCount; ++e) {
        s->events[e] = retired_events.Get(static_cast<Event>(e));
      }
    }
    for (ThreadCache<Config>* tc = threads; tc != nullptr; tc = tc->next()) {
      ++s->threads;
      for (size_t c = 0; c < kNumClasses; ++c) {
        s->classes[c].allocs += tc->allocs(c);
        s->classes[c].frees += tc->frees(c);
      }
      if constexpr (Config::kEvents) {
        for (size_t e = 0; e < kEventCount; ++e) {
          s->events[e] += tc->events().Get(static_cast<Event>(e));
        }
      }
    }
  }

  const Options options;        // ELFMALLOC_* as read when the heap was built
  PageAlloc pages[kSlagKinds];  // by slag kind (kSlagBytes)
  ClassPool pools[kNumClasses];
  // Exited threads' cache stacks, for the next threads (StackSpares).
  StackSpares stack_spares;
  Depots<kUsesDepot<Config>> depots;

  // Live thread caches, for statistics; exited threads' counts are folded
  // into retired_*.
  SpinLock threads_lock;
  ThreadCache<Config>* threads ABSL_GUARDED_BY(threads_lock) = nullptr;
  std::atomic<uint64_t> retired_allocs[kNumClasses] = {};
  std::atomic<uint64_t> retired_frees[kNumClasses] = {};
  // The logging build: exited threads' events, and the next thread's id
  // in the event log.
  EventCounters retired_events;
  std::atomic<uint64_t> next_thread_id{1};

 private:
  // The options of the page allocator of slags of kind `kind`.
  static PageAllocOptions PagesOptions(const Options& options, size_t kind,
                                       bool track_mappings) {
    const size_t page_bytes = kSlagBytes[kind];
    // Each pipe of each of a page allocator's three bags costs a 4 KiB
    // node once the bag is built. Small pages: a pipe per CPU, at most 8
    // (pages move 64 KiB at a time, so the bags see little contention).
    // The larger pages serve only objects of 16 KiB and more: one pipe.
    const size_t cpus = platform::CpuCount();
    const size_t pipes = kind != 0 ? 1 : cpus < 8 ? cpus : 8;
    // Refills map 2 MiB at a time (two big pages), so that a process's
    // mapping count stays low.
    const size_t per_refill =
        page_bytes < (size_t{2} << 20) ? (size_t{2} << 20) / page_bytes : 2;
    PageAllocOptions o{page_bytes, per_refill, pipes,
                       static_cast<size_t>(options.dirty_max_mb) << 20,
                       options.decay_ms};
    o.guard_bytes = kHardened ? kHardenedGuardBytes : 0;
    // A thread keeps at most 512 KiB of free pages of each smaller size
    // for its next refreshes, and one big page.
    o.local_pages =
        page_bytes < (size_t{512} << 10) ? (size_t{512} << 10) / page_bytes : 1;
    o.before_map = &LargeYield;
    o.track_mappings = track_mappings;
    return o;
  }
};

template <typename Config>
class ThreadCache {
 public:
  using FE = FrontEndFor<Config>;

  explicit ThreadCache(HeapCore<Config>* core)
      : core_(core),
        pages_{PageAlloc::Handle(&core->pages[0]),
               PageAlloc::Handle(&core->pages[1]),
               PageAlloc::Handle(&core->pages[2])} {
    if constexpr (Config::kEvents) {
      id_ = core->next_thread_id.fetch_add(1, std::memory_order_relaxed);
      for (PageAlloc::Handle& h : pages_) h.set_events(&events_);
    }
    core->AddThread(this);
    for (size_t c = 0; c < kNumClasses; ++c) {
      ClassPool* pool = &core->pools[c];
      size_t capacity = FE::CapacityFor(pool->geom);
      // ELFMALLOC_MAGAZINE_SIZE caps the magazines (LocalCache's stack
      // is one slag's worth by design and is not capped).
      const int64_t cap = core->options.magazine_size;
      if (FE::kCappable && cap > 0 && static_cast<size_t>(cap) < capacity) {
        capacity = static_cast<size_t>(cap);
      }
      caches_[c].Setup(pool, &pages_[static_cast<size_t>(pool->kind)], capacity,
                       FE::kStartsSmall ? &first_stacks_ : nullptr, c);
    }
    ResetSampleCountdown();
  }
  ~ThreadCache() {
    Flush();
    for (size_t k = 0; k < kSlagKinds; ++k)
      core_->pages[k].MaybePurge(pages_[k]);
    core_->RemoveThread(this);
  }
  ThreadCache(const ThreadCache&) = delete;
  ThreadCache& operator=(const ThreadCache&) = delete;

  ABSL_ATTRIBUTE_ALWAYS_INLINE FE& cache(size_t c) { return caches_[c]; }
  // The class of `fe`, one of this thread cache's caches.
  size_t ClassOf(const FE* fe) const {
    return static_cast<size_t>(fe - caches_);
  }

  // The allocation slow path of class c, once its cache's TryAlloc found
  // nothing: the held-back object, else a fresh slag (after the idle trim
  // had its look). nullptr (errno ENOMEM) if no slag could be had; the
  // caller may free address space and call it again.
  void* AllocSlow(size_t c) {
    if constexpr (Config::kEvents) MaybeLogEvents();
    FE& fe = caches_[c];
    if (void* p = fe.AllocUnrefreshed()) return p;
    // Idleness is read from the statistics counters, so a build without
    // them does not trim.
    if (Config::kStats) {
      refreshed_bytes_ += fe.slag_bytes();
      if (refreshed_bytes_ >= kIdleSweepBytes) {
        refreshed_bytes_ = 0;
        Sweep(&fe);
      }
    }
    return fe.AllocRefreshing();
  }

  // Returns every cached object and claimed slag (the caches restart
  // lazily on their next use).
  void Flush() {
    for (FE& fe : caches_) fe.Shutdown();
    for (PageAlloc::Handle& h : pages_) h.FlushLocal();
  }

  // Returns the objects of every full magazine in the heap's depots to
  // their slags (DepotCache; nothing for other front-ends).
  void DrainDepots() {
    if constexpr (kUsesDepot<Config>) {
      for (FE& fe : caches_) fe.DrainDepot();
    }
  }

  // Checks every front-end of this cache (see their CheckInvariants).
  bool CheckInvariants(const char** what) const {
    for (const FE& fe : caches_) {
      if (!fe.CheckInvariants(what)) return false;
    }
    return true;
  }

  // Sampled allocation (Options::sample_rate): true on about one call in
  // sample_rate; never, in practice, with sampling off (the countdown
  // starts at 2^64 - 1).
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool SampleTick() {
    return ABSL_PREDICT_FALSE(--sample_countdown_ == 0);
  }
  // Draws the calls until the next sample: uniform in [1, 2N - 1], mean N.
  void ResetSampleCountdown() {
    const int64_t n = core_->options.sample_rate;
    if (n <= 0) {
      sample_countdown_ = ~uint64_t{0};
      return;
    }
    const uint64_t span = 2 * static_cast<uint64_t>(n) - 1;
    sample_countdown_ = 1 + SecureRandomStep(&sample_rng_, this) % span;
  }

  // The logging build's counters of this thread (events.h).
  const EventCounters& events() const { return events_; }

  uint64_t allocs(size_t c) const { return caches_[c].allocs(); }
  uint64_t frees(size_t c) const { return caches_[c].frees(); }
  ThreadCache* next() const { return next_; }

 private:
  friend class HeapCore<Config>;

  // The idle-cache trim (see kIdleSweepBytes): trims every cache but
  // `caller` that still holds objects or a slag and has neither allocated
  // nor freed since the previous look (if it holds kIdleTrimBytes of
  // objects) or since the last full look, every kIdleSweepsPerFull-th.
  void Sweep(const FE* caller) {
    const bool full = ++sweeps_ % kIdleSweepsPerFull == 0;
    // The pages the trims free are what the thread's next refreshes take
    // (PageAllocOptions::local_pages).
    for (PageAlloc::Handle& h : pages_) h.set_keep_freed(true);
    for (size_t c = 0; c < kNumClasses; ++c) {
      FE& fe = caches_[c];
      const uint64_t ops = fe.allocs() + fe.frees();
      if (&fe != caller && fe.HoldsMemory()) {
        const bool big = fe.cached() * ClassSize(c) >= kIdleTrimBytes;
        if (big ? ops == recent_ops_[c] : full && ops == full_ops_[c]) {
          fe.Trim();
        }
      }
      recent_ops_[c] = ops;
      if (full) full_ops_[c] = ops;
      if constexpr (kUsesDepot<Config>) fe.TrimDepot();
    }
    for (PageAlloc::Handle& h : pages_) h.set_keep_freed(false);
  }

  // The logging build: one line with this thread's counters each time
  // its allocations pass another kEventLogAllocs (checked on slow paths,
  // so about that often).
  void MaybeLogEvents() {
    if (events_.allocs() < next_log_) return;
    next_log_ = events_.allocs() + kEventLogAllocs;
    LogEvents(id_, events_);
  }

  HeapCore<Config>* core_;
  EventCounters events_;             // Config::kEvents only
  uint64_t id_ = 0;                  // in the event log
  uint64_t next_log_ = kEventLogAllocs;
  uint64_t sample_countdown_ = ~uint64_t{0};  // SampleTick
  uint32_t sample_rng_ = 0;
  ThreadCache* prev_ = nullptr;  // the core's list of live caches
  ThreadCache* next_ = nullptr;
  PageAlloc::Handle pages_[kSlagKinds];  // by slag kind
  FE caches_[kNumClasses];
  FirstStacks first_stacks_;    // the magazines' (kStartsSmall)
  size_t refreshed_bytes_ = 0;  // slag bytes refreshed since the last look
  uint32_t sweeps_ = 0;
  uint64_t recent_ops_[kNumClasses] = {};  // allocs + frees: last look
  uint64_t full_ops_[kNumClasses] = {};    // and last full look
};

template <typename Config>
class FallbackCache {
 public:
  FallbackCache() = default;
  FallbackCache(const FallbackCache&) = delete;
  FallbackCache& operator=(const FallbackCache&) = delete;

  // The shared cache, built on first use. Its owner must hold lock().
  ThreadCache<Config>* Get(HeapCore<Config>* core)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    if (cache_ == nullptr) {
      cache_ = new (storage_) ThreadCache<Config>(core);
    }
    return cache_;
  }
  // The cache if it was ever built, else nullptr.
  ThreadCache<Config>* GetIfBuilt() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    return cache_;
  }
  // Destroys the cache if it was built (its objects go back to their
  // slags); the next Get builds a new one.
  void Reset() ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    if (cache_ == nullptr) return;
    cache_->~ThreadCache();
    cache_ = nullptr;
  }
  SpinLock* lock() ABSL_LOCK_RETURNED(lock_) { return &lock_; }

 private:
  SpinLock lock_;
  ThreadCache<Config>* cache_ ABSL_GUARDED_BY(lock_) = nullptr;
  alignas(
      ThreadCache<Config>) unsigned char storage_[sizeof(ThreadCache<Config>)];
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_THREAD_CACHE_H_
