// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Heap<Config>: the general (malloc-style) allocator of one build
// (config.h). The public API (elfmalloc.h) forwards to the process-wide
// Heap of the variant a target links; benchmarks and tests may drive
// several in one process. info/design.md describes the tiers:
//
//   Heap                  the API: size classes, large objects, checks,
//        |                    reclaim-and-retry, statistics (this file)
//   ThreadCache (TLS)     a front-end per size class (thread_cache.h,
//        |                    magazine_cache.h, local_cache.h)
//   SlagAllocator         claim / unclaim slags, remote and bulk frees,
//        |                    available bag per class (slag.h)
//   PageAlloc x3          64 KiB, 256 KiB and 2 MiB pages, dirty/clean
//        |                    bags, decay
//        |                    (page_alloc.h)
//   mmap_alloc            pages from the OS
//
//   Large objects (> 128 KiB, or alignment the classes cannot give): one
//   mapping each, registered out of band (large_alloc.h).
//
// Calls only go down: a lower tier reports failure (nullptr, ENOMEM) and
// the Heap decides what to do, e.g. give back free address space and retry.
//
// free(p) reads p's page-map tag (page_map.h): a class index routes the
// object to the *calling* thread's cache for that class (cross-thread frees
// are cached locally, as in the original); no tag means a large object, or
// a pointer elfmalloc does not own, which is a fatal one-line error.
//
// Per-thread state lives in alloc_tls's TlsSlot (allocation-safe TLS). While
// it is unavailable (being built, or destroyed at thread exit), calls use
// the shared fallback cache under a spin lock. At thread exit every cached
// object and claimed slag goes back (~ThreadCache).
//
// Thread-safety: all public members are thread-safe.

#ifndef ELFMALLOC_INTERNAL_HEAP_H_
#define ELFMALLOC_INTERNAL_HEAP_H_

#include <errno.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "alloc_fmt/format.h"
#include "alloc_fmt/once.h"
#include "alloc_fmt/spin_lock.h"
#include "alloc_tls/alloc_tls.h"
#include "elfmalloc/internal/class_layout.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/decay_thread.h"
#include "elfmalloc/internal/fork.h"
#include "elfmalloc/internal/freed_mark.h"
#include "elfmalloc/internal/hardening.h"
#include "elfmalloc/internal/heap_stats.h"
#include "elfmalloc/internal/large_alloc.h"
#include "elfmalloc/internal/options.h"
#include "elfmalloc/internal/page_map.h"
#include "elfmalloc/internal/sampled_pool.h"
#include "elfmalloc/internal/thread_cache.h"
#include "elfmalloc/size_classes.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

template <typename Config>
class Heap {
 public:
  using FE = FrontEndFor<Config>;
  using Cache = ThreadCache<Config>;
  static constexpr bool kHardened = Config::kHardened;
  static constexpr bool kChecks = Config::kChecks;
  // Freed small blocks carry their freed mark (freed_mark.h): the default
  // double-free check. The hardened build zeroes freed blocks instead.
  static constexpr bool kFreedMarks = kChecks && !kHardened;
  // The hardened build's canary at the end of every small object.
  static constexpr size_t kCanary = kCanaryBytes<kHardened>;

  // The process-wide instance for Config: built on first use (in static
  // storage; no malloc), never destroyed, so calls from other static
  // destructors and late thread exits still work.
  static Heap& Instance();

  // This thread's cache, or nullptr while TLS is unavailable.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static Cache* Local() { return tls_.Get(); }

  // --- Allocation ----------------------------------------------------------

  // At least `size` bytes, aligned to 8 (16 for sizes above 8); nullptr
  // with errno ENOMEM on exhaustion. Size 0 gives a unique minimal object.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* Alloc(size_t size) {
    const size_t c = SizeToClass(Padded(size));
    if (ABSL_PREDICT_TRUE(c < kNumClasses)) return AllocClass(c, size, 0);
    return LargeAllocOrReclaim(size, 0);
  }

  // Alloc whose first `size` bytes read as zero (calloc). A large object is
  // cleared only where it reuses a cached block, so fresh pages stay
  // unresident until the program writes them. Small objects are always
  // cleared: nothing records whether a cached object was ever written.
  static void* AllocZeroed(size_t size) {
    const size_t c = SizeToClass(Padded(size));
    if (ABSL_PREDICT_TRUE(c < kNumClasses)) {
      void* p = AllocClass(c, size, 0);
      // The hardened canary lies beyond `size` bytes (Padded).
      if (p != nullptr) std::memset(p, 0, size);
      return p;
    }
    return LargeAllocOrReclaim(size, 0, 0, /*zeroed=*/true);
  }

  // At least `size` bytes aligned to `align`. REQUIRES: align is a power of
  // two (else nullptr, errno EINVAL).
  static void* AlignedAlloc(size_t size, size_t align) {
    if (ABSL_PREDICT_FALSE(align == 0 || (align & (align - 1)) != 0)) {
      errno = EINVAL;
      return nullptr;
    }
    const size_t c = AlignedClass(Padded(size), align);
    if (c < kNumClasses) return AllocClass(c, size, align);
    return LargeAllocOrReclaim(size, align);
  }

  // An object of class c for a request of `size` bytes aligned to `align`
  // (0: the class's alignment), or now and then a sampled block.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* AllocClass(size_t c, size_t size,
                                                      size_t align) {
    // No call before the sample tick, and the sampled path is a tail call,
    // so the fast path keeps neither size nor align live across a call.
    if (Cache* tc = tls_.GetIfInitialized(); ABSL_PREDICT_TRUE(tc != nullptr)) {
      if (tc->SampleTick()) return SampledAlloc(tc, c, size, align);
      return AllocIn(tc, c);
    }
    return AllocInNew(c);
  }

  // AllocIn for a thread whose cache may not exist yet (built here).
  ABSL_ATTRIBUTE_NOINLINE static void* AllocInNew(size_t c) {
    return AllocIn(Local(), c);
  }

  // An object of class c from `tc` (nullptr: the fallback cache).
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* AllocIn(Cache* tc, size_t c) {
    void* p;
    if (ABSL_PREDICT_TRUE(tc != nullptr)) {
      FE& fe = tc->cache(c);
      p = fe.TryAlloc();
      if (ABSL_PREDICT_FALSE(p == nullptr)) p = AllocSlowLocal(&fe);
    } else {
      p = FallbackAlloc(c);
    }
    if constexpr (kHardened) {
      if (p != nullptr) CanaryOnAlloc(c, p);
    }
    if constexpr (kFreedMarks) {
      if (ABSL_PREDICT_TRUE(p != nullptr)) ClearFreedMark(p);
    }
    return p;
  }

  // The class size a request of `size` usable bytes needs.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static constexpr size_t Padded(size_t size) {
    return kHardened && size <= kMaxSmallSize ? size + kCanary : size;
  }

  // --- Free ----------------------------------------------------------------

  // Frees `p` (nullptr is a no-op). A pointer this heap did not hand out is
  // a fatal error: "elfmalloc: free(): invalid pointer 0x...".
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void Free(void* p) {
    const uint8_t tag = GlobalPageMap().Get(p);
    if (ABSL_PREDICT_TRUE(IsProcessTag(tag))) {
      FreeSmall(size_t{tag} - 1, p, /*size_ok=*/true, "free");
      return;
    }
    FreeUntagged(p);
  }

  // Frees `p` (not nullptr) that the caller says was allocated with `size`
  // bytes (0: not given) aligned to `align` (0: not given): free_sized and
  // sized delete. A size or alignment p cannot have is a fatal one-line
  // error "elfmalloc: <fn>(): size mismatch 0x...", as is any pointer Free
  // rejects. Costs one table lookup more than Free for small objects, so
  // sized delete (every C++ delete by default) stays on the fast path.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void FreeSized(void* p, size_t size,
                                                     size_t align,
                                                     const char* fn) {
    const uint8_t tag = GlobalPageMap().Get(p);
    const bool misaligned =
        (reinterpret_cast<uintptr_t>(p) & (align == 0 ? 0 : align - 1)) != 0;
    if (ABSL_PREDICT_TRUE(IsProcessTag(tag))) {
      const size_t c = size_t{tag} - 1;
      const bool fits =
          size == 0 || (align == 0 ? SizeFitsClassUnaligned(Padded(size), c)
                                   : SizeFitsClass(Padded(size), align, c));
      FreeSmall(c, p, !misaligned && fits, fn);
      return;
    }
    FreeLargeSized(p, size, misaligned, fn);
  }

  // --- Queries and resizing -------------------------------------------------

  // The bytes usable at `p`. Fatal for a pointer this heap did not hand
  // out; 0 for nullptr.
  static size_t UsableSize(const void* p) {
    const uint8_t tag = GlobalPageMap().Get(p);
    if (IsProcessTag(tag)) {
      if (!IsObjectStart<kHardened>(size_t{tag} - 1, p)) {
        BadPointer("usable_size", p);
      }
      return ClassSize(size_t{tag} - 1) - kCanary;
    }
    if (p == nullptr) return 0;
    if (Instance().sampled_.Contains(p)) {
      const size_t had = Instance().sampled_.BlockSize(p);
      if (had == 0) BadPointer("usable_size", p);
      return had;
    }
    const size_t n = LargeUsableSize(p);
    if (n == 0) BadPointer("usable_size", p);
    return n;
  }

  // Block p's usable size, an alignment it has that sized frees accept (its
  // class's; outside the classes, the largest power of two dividing p, at
  // most a page) and its class (kNumClasses outside the classes). Fatal as
  // UsableSize. REQUIRES: p != nullptr.
  static void Layout(const void* p, size_t* size, size_t* align, size_t* c) {
    *size = UsableSize(p);
    const uint8_t tag = GlobalPageMap().Get(p);
    if (IsProcessTag(tag)) {
      *c = size_t{tag} - 1;
      *align = ClassAlignment(*c);
      return;
    }
    *c = kNumClasses;
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    *align = std::min<uintptr_t>(a & (~a + 1), mmap_alloc::PageSize());
  }

  // Resizes `p` to `size` bytes aligned to `align` (see elfmalloc.h for the
  // C semantics: nullptr allocates, size 0 frees and returns nullptr,
  // failure returns nullptr and leaves p intact).
  static void* Realloc(void* p, size_t size, size_t align) {
    ProcessSpace space;
    return ReallocIn(space, p, size, align);
  }

  // Returns the calling thread's cached objects, then uncommits every free
  // page now (instead of after the decay period), except the pages other
  // threads keep (PageAllocOptions::local_pages), and unmaps spare stacks
  // and cached large blocks. True if any memory went back to the OS.
  bool Release();

  // Dirty pages unused for `ms` milliseconds are returned to the OS (-1:
  // never, 0: immediately on free).
  void SetDecayMs(int64_t ms) {
    for (PageAlloc& p : core_.pages) p.set_decay_ms(ms);
    LargeSetDecayMs(ms);
  }
  int64_t decay_ms() const { return core_.pages[0].decay_ms(); }

  // One decay step: free pages and cached large blocks unused for the
  // decay period go back to the OS (what the background thread runs).
  void DecayStep() {
    for (PageAlloc& p : core_.pages) {
      PageAlloc::Handle h(&p);
      p.MaybePurge(h);
    }
    LargeDecay();
  }

  // Decay steps run by the background thread so far (tests).
  uint64_t background_decay_steps() const { return decay_thread_.steps(); }
  const Options& options() const { return core_.options; }

  // A snapshot of the counters. Each is read atomically, but not all at one
  // instant: under concurrent use, frees may briefly exceed allocations of
  // a class (an object freed on one thread after the reader summed the
  // thread that allocated it). Never blocks allocation for long: it holds
  // the thread-list lock only while it sums the live caches.
  HeapStats Stats();

  // Checks the heap's invariants; nullptr if they hold, else a one-line
  // description of the first violation. Checks: the calling thread's and
  // the fallback's caches (CheckInvariants of the front-end), the
  // large-object registry, both page allocators (counts against their
  // bags), every slag in every class's available bag and overflow list,
  // slags + free pages == mapped pages per page size, and allocations >=
  // frees per class. REQUIRES: quiescent (no other thread allocates or
  // frees; they may exist and hold caches), the caller holds no lock.
  const char* FindInvariantViolation();

  // FindInvariantViolation, fatal on a violation ("elfmalloc: invariant
  // violated: <what>"). Same REQUIRES.
  void CheckInvariants() {
    if (const char* what = FindInvariantViolation()) {
      alloc_fmt::Fatal("elfmalloc: invariant violated: %s", what);
    }
  }

 private:
  template <typename>
  friend class UserHeap;  // shares the helpers below

  // Realloc over `space`, the heap p belongs to, which provides: kRealloc,
  // the function name its messages give; Tag(p), p's page-map tag if it is
  // a small object of the space, else 0; LastFreedIs(c, p), true if p is
  // the object the calling thread's cache of class c holds back as freed
  // last; Sampled(p, size), true with p's size if p is a sampled block
  // (fatal if p is no live one); Alloc, AlignedAlloc and Free as the heap's
  // own; Owner(), the space's large-object owner; LargeAlloc(size, align,
  // grow_room), a large object that may grow; and BadPointer(fn, p), its
  // fatal error for a pointer it did not hand out.
  template <typename Space>
  static void* ReallocIn(Space& space, void* p, size_t size, size_t align);

  // The process heap as a Space for ReallocIn.
  struct ProcessSpace {
    static constexpr const char* kRealloc = "realloc";
    static constexpr bool kFreedMarks = Heap::kFreedMarks;
    static uint8_t Tag(const void* p) {
      const uint8_t tag = GlobalPageMap().Get(p);
      return IsProcessTag(tag) ? tag : 0;
    }
    static bool LastFreedIs(size_t c, const void* p) {
      Cache* tc = Local();
      return tc != nullptr && tc->cache(c).IsLastFreed(p);
    }
    static void* Alloc(size_t size) { return Heap::Alloc(size); }
    static void* AlignedAlloc(size_t size, size_t align) {
      return Heap::AlignedAlloc(size, align);
    }
    static void Free(void* p) { Heap::Free(p); }
    static bool Sampled(const void* p, size_t* size) {
      const SampledPool& pool = Instance().sampled_;
      if (!pool.Contains(p)) return false;
      *size = pool.BlockSize(p);
      if (*size == 0) {
        if (pool.IsFreedBlock(p)) {
          alloc_fmt::Fatal("elfmalloc: %s(): freed pointer %p", kRealloc, p);
        }
        Heap::BadPointer(kRealloc, p);
      }
      return true;
    }
    static uintptr_t Owner() { return 0; }
    static void* LargeAlloc(size_t size, size_t align, size_t grow_room) {
      return LargeAllocOrReclaim(size, align, grow_room);
    }
    [[noreturn]] static void BadPointer(const char* fn, const void* p) {
      Heap::BadPointer(fn, p);
    }
  };

  // The TLS slot's value: this thread's cache of the process-wide heap,
  // which starts the decay thread if asked to (never while the heap is
  // being built, and never under one of its locks).
  class TlsCache : public Cache {
   public:
    TlsCache() : Cache(&Instance().core_) {
      Heap& heap = Instance();
      if (heap.core_.options.background_thread) {
        heap.decay_thread_.MaybeStart(&heap);
      }
    }
  };

  Heap() {
    LargeSetDecayMs(core_.options.decay_ms);
    if (core_.options.backtrace) alloc_fmt::SetFatalBacktrace(true);
    if constexpr (kHardened || kFreedMarks) InitSecret();
    // Without its pool (no memory, or another fault hook), sampling is off:
    // every sampled allocation falls back to the normal path.
    if (core_.options.sample_rate > 0) {
      static_cast<void>(sampled_.Init(&ReportLargeOverflow));
    }
  }
  ~Heap() = delete;  // never destroyed

  // Registers the locks this heap's slow paths take with the fork handlers
  // (fork.h), at the levels at which they nest: the fallback cache's lock
  // is held while that cache is built (AddThread: the thread list) and
  // while it refills (a refill that runs out of address space releases the
  // large-block cache and unmaps pages under the purge locks).
  void RegisterForkLocks(ForkLockRegistry& locks) {
    locks.Add(fallback_.lock(), ForkLockLevel::kFallback);
    locks.Add(&core_.threads_lock, ForkLockLevel::kThreads);
    locks.Add(LargeRegistryLock(), ForkLockLevel::kLarge);
    for (PageAlloc& p : core_.pages) {
      locks.Add(p.purge_lock(), ForkLockLevel::kPurge);
    }
    locks.Add(&core_.stack_spares.lock, ForkLockLevel::kLeaf);
    if constexpr (kUsesDepot<Config>) {
      locks.Add(&core_.depots.lock, ForkLockLevel::kLeaf);
    }
    locks.Add(sampled_.lock(), ForkLockLevel::kLeaf);
  }

  // AllocSlow for `fe`, a cache of this thread's ThreadCache. Only the
  // cache crosses the call, so the fast path keeps one value live across
  // it.
  ABSL_ATTRIBUTE_NOINLINE static void* AllocSlowLocal(FE* fe) {
    Cache* tc = Local();
    return AllocSlow(tc, tc->ClassOf(fe));
  }

  // Class c's slow path on `tc`, once its fast path found nothing. If no
  // slag could be had (out of memory or address space), every free page's
  // and cached large block's address space goes back to the OS and the
  // refresh is tried once more.
  ABSL_ATTRIBUTE_NOINLINE static void* AllocSlow(Cache* tc, size_t c) {
    if (void* p = tc->AllocSlow(c)) return p;
    tc->DrainDepots();
    Instance().ReclaimAddressSpace();
    return tc->cache(c).AllocRefreshing();
  }

  // Gives back the address space of every free page, spare stack and
  // cached large block (thread caches are left alone), so that a retry
  // can map.
  void ReclaimAddressSpace() {
    core_.UnmapFree();
    LargeRelease();
  }

  // LargeAlloc, retried once after the calling thread's cached objects went
  // back to their slags and every free page was unmapped.
  // `grow_room`, `zeroed`: see LargeAllocOptions.
  ABSL_ATTRIBUTE_NOINLINE static void* LargeAllocOrReclaim(
      size_t size, size_t align, size_t grow_room = 0, bool zeroed = false) {
    const LargeAllocOptions options{kHardened, grow_room, zeroed};
    if (void* p = LargeAlloc(size, align, options)) return p;
    if (size > PTRDIFF_MAX) return nullptr;
    Heap& heap = Instance();
    if (Cache* tc = Local()) {
      tc->Flush();
      tc->DrainDepots();
    }
    heap.ReclaimAddressSpace();
    void* p = LargeAlloc(size, align, options);
    if (p == nullptr) errno = ENOMEM;
    return p;
  }

  // Frees `p`, which lies in a slag of class c (its page-map tag), for
  // `fn`. The default checks: p must be an object start (else "invalid
  // pointer"), and `size_ok` says the caller's size and alignment fit the
  // class (else "size mismatch"). With a thread cache, the object-start
  // constants come from the cache's own line rather than kObjectChecks.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void FreeSmall(size_t c, void* p,
                                                     bool size_ok,
                                                     const char* fn) {
    if (Cache* tc = Local(); ABSL_PREDICT_TRUE(tc != nullptr)) {
      FE& fe = tc->cache(c);
      if constexpr (kChecks) {
        if (ABSL_PREDICT_FALSE(!fe.IsObjectStart(p))) BadPointer(fn, p);
        if (ABSL_PREDICT_FALSE(!size_ok)) SizeMismatch(fn, p);
      }
      MarkFreed(c, p, fn);
      // The freed mark has ruled out freeing the held object again.
      fe.template Free<!kFreedMarks>(p);
      return;
    }
    if constexpr (kChecks) {
      if (!IsObjectStart<kHardened>(c, p)) BadPointer(fn, p);
      if (!size_ok) SizeMismatch(fn, p);
    }
    MarkFreed(c, p, fn);
    FallbackFree(c, p);
  }

  // The double-free check of a free of small object p of class c, which
  // is an object start: fatal if p is free already, else p is marked free
  // (the freed mark, or the hardened build's zeroing).
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void MarkFreed(size_t c, void* p,
                                                     const char* fn) {
    if constexpr (kHardened) CanaryOnFree(c, p, fn);
    if constexpr (kFreedMarks) {
      if (ABSL_PREDICT_FALSE(HasFreedMark(p))) DoubleFree(fn, p);
      SetFreedMark(p);
    }
  }

  ABSL_ATTRIBUTE_NOINLINE static void FreeUntagged(void* p,
                                                   const char* fn = "free") {
    if (p == nullptr) return;
    if (Instance().sampled_.Contains(p)) {
      FreeSampled(p, fn);
      return;
    }
    switch (LargeFree(p)) {
      case LargeFreeResult::kFreed:
        return;
      case LargeFreeResult::kDoubleFree:
        alloc_fmt::Fatal("elfmalloc: %s(): double free of %p", fn, p);
      case LargeFreeResult::kInvalid:
        BadPointer(fn, p);
    }
  }

  // A pointer into a user heap's or a SizedHeap's memory names its kind of
  // heap in the message.
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void BadPointer(const char* fn,
                                                              const void* p) {
    const uint8_t tag = GlobalPageMap().Get(p);
    if (IsSizedHeapTag(tag)) {
      alloc_fmt::Fatal(
          "elfmalloc: %s(): pointer %p belongs to an elfmalloc::SizedHeap", fn,
          p);
    }
    if ((tag & kUserHeapTagBit) != 0) {
      alloc_fmt::Fatal(
          "elfmalloc: %s(): pointer %p belongs to an elfmalloc::Heap", fn, p);
    }
    alloc_fmt::Fatal("elfmalloc: %s(): invalid pointer %p", fn, p);
  }

  ABSL_ATTRIBUTE_NOINLINE static void FreeLargeSized(void* p, size_t size,
                                                     bool misaligned,
                                                     const char* fn) {
    if (Instance().sampled_.Contains(p)) {
      // A size fits if it maps to the class the block's request maps to,
      // as for a block from that class.
      const size_t had = Instance().sampled_.BlockSize(p);
      const bool fits =
          size == 0 || SizeToClass(Padded(size)) == SizeToClass(Padded(had));
      if (had != 0 && (misaligned || !fits)) SizeMismatch(fn, p);
      FreeSampled(p, fn);
      return;
    }
    // An unknown pointer falls through to the free below, which names it.
    size_t usable, requested;
    if (LargeSizes(p, &usable, &requested) &&
        (misaligned ||
         (size != 0 && !SizeFitsLarge(size, usable, requested)))) {
      SizeMismatch(fn, p);
    }
    FreeUntagged(p, fn);
  }

  // Realloc makes a buffer that grows beyond kGrowLargeFrom bytes a large
  // object with room to grow (GrowthRoom; LargeResize keeps that room), so
  // that a buffer grown in small steps is remapped a few times rather than
  // copied through each class in 2 MiB slags, every one of which would keep
  // the pages it touched. The hardened build keeps the guard page next to
  // the request, and its buffers in their classes.
  static constexpr size_t kGrowLargeFrom = kSlagBytes[kSlagKinds - 1] / 32;
  static constexpr bool GrowsLarge(size_t old_size, size_t size) {
    return !kHardened && size > old_size && size > kGrowLargeFrom;
  }

  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void SizeMismatch(const char* fn,
                                                                const void* p) {
    alloc_fmt::Fatal("elfmalloc: %s(): size mismatch %p", fn, p);
  }

  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void DoubleFree(const char* fn,
                                                              const void* p) {
    alloc_fmt::Fatal("elfmalloc: %s(): double free of %p", fn, p);
  }

  // A sampled block for `size` bytes aligned to `align`, or, if the pool
  // cannot give one (too big, no slot free), an object of class c from
  // `tc`. Draws the next sample interval.
  ABSL_ATTRIBUTE_NOINLINE static void* SampledAlloc(Cache* tc, size_t c,
                                                    size_t size, size_t align) {
    tc->ResetSampleCountdown();
    if (void* p = Instance().sampled_.Alloc(size, align)) return p;
    return AllocIn(tc, c);
  }

  // The sampled pool's fault hook for addresses outside the pool: a fault
  // just past a large object's end is named in one line (the default build
  // maps each large object on its own, so its end meets an unmapped page
  // unless another mapping follows directly).
  static void ReportLargeOverflow(void* addr) {
    LargeOverflow o;
    if (LargeFindOverflowed(addr, &o)) {
      alloc_fmt::Print(2,
                       "elfmalloc: heap overflow at %p: offset %zu of the "
                       "%zu-byte block %p (past a large block)\n",
                       addr, o.offset, o.requested, o.block);
    }
  }

  // Frees sampled block p (Contains(p)); a double free or a pointer into a
  // block is fatal.
  static void FreeSampled(void* p, const char* fn) {
    switch (Instance().sampled_.Free(p)) {
      case SampledPool::FreeResult::kFreed:
        return;
      case SampledPool::FreeResult::kDoubleFree:
        DoubleFree(fn, p);
      case SampledPool::FreeResult::kInvalid:
        BadPointer(fn, p);
    }
  }

  ABSL_ATTRIBUTE_NOINLINE static void* FallbackAlloc(size_t c) {
    Heap& heap = Instance();
    SpinLockHolder h(heap.fallback_.lock());
    Cache* tc = heap.fallback_.Get(&heap.core_);
    void* p = tc->cache(c).TryAlloc();
    return p != nullptr ? p : AllocSlow(tc, c);
  }

  ABSL_ATTRIBUTE_NOINLINE static void FallbackFree(size_t c, void* p) {
    Heap& heap = Instance();
    SpinLockHolder h(heap.fallback_.lock());
    heap.fallback_.Get(&heap.core_)->cache(c).Free(p);
  }

  HeapCore<Config> core_;
  SampledPool sampled_;  // Options::sample_rate
  FallbackCache<Config> fallback_;
  DecayThread<Heap> decay_thread_;

  ABSL_CONST_INIT static inline ALLOC_TLS_INITIAL_EXEC thread_local alloc_tls::
      TlsSlot<TlsCache>
          tls_;
};

// The static storage of Heap<Config>::Instance(), and its one-time guard
// (Once rather than a function-local static, whose guard is the C++
// runtime's).
template <typename Config>
struct HeapInstance {
  ABSL_CONST_INIT static inline Once once;
  alignas(Heap<Config>) static inline unsigned char storage[sizeof(
      Heap<Config>)];
};

// --- Out-of-line members

template <typename Config>
Heap<Config>& Heap<Config>::Instance() {
  using Storage = HeapInstance<Config>;
  if (ABSL_PREDICT_FALSE(!Storage::once.done())) {
    // Built with fork() held off, so a child gets no heap or a whole one.
    WithForkHeldOff([](ForkLockRegistry& locks) {
      Storage::once.Run([&locks] {
        (new (Storage::storage) Heap())->RegisterForkLocks(locks);
      });
    });
  }
  return *std::launder(reinterpret_cast<Heap*>(Storage::storage));
}
// ------------------------------------------------------

template <typename Config>
template <typename Space>
void* Heap<Config>::ReallocIn(Space& space, void* p, size_t size,
                              size_t align) {
  // A bad alignment fails before anything else: p stays untouched.
  if (ABSL_PREDICT_FALSE(align == 0 || (align & (align - 1)) != 0)) {
    errno = EINVAL;
    return nullptr;
  }
  if (p == nullptr) {
    return align <= 16 ? space.Alloc(size) : space.AlignedAlloc(size, align);
  }
  if (size == 0) {
    space.Free(p);
    return nullptr;
  }
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const uint8_t tag = space.Tag(p);
  size_t old_size;
  if (tag != 0) {
    const size_t c = static_cast<size_t>(tag & ~kUserHeapTagBit & 0xff) - 1;
    if (!IsObjectStart<kHardened>(c, p)) space.BadPointer(Space::kRealloc, p);
    if constexpr (kHardened) CanaryCheckLive(c, p, Space::kRealloc, "freed pointer");
    // Realloc of a freed block is named as such here rather than as a
    // double free when the block is freed below: every freed block carries
    // its mark, or else (no marks) the block this thread freed last is
    // still held.
    if (kChecks && (Space::kFreedMarks ? HasFreedMark(p)
                                       : space.LastFreedIs(c, p))) {
      alloc_fmt::Fatal("elfmalloc: %s(): freed pointer %p", Space::kRealloc, p);
    }
    old_size = ClassSize(c) - kCanary;
    // Keep the block if it is big enough, aligned enough, and not more
    // than twice what is needed (so shrinking really returns memory).
    const size_t need = Padded(size);
    if (need <= ClassSize(c) && (a & (align - 1)) == 0 &&
        (c == 0 || need > ClassSize(c - 1) || need * 2 > ClassSize(c))) {
      return p;
    }
  } else if (space.Sampled(p, &old_size)) {
    // Moved out of the pool below, like any block that must move.
  } else {
    old_size = LargeUsableSize(p, space.Owner());
    if (old_size == 0) {
      if (LargeIsRecentlyFreed(p)) {
        alloc_fmt::Fatal("elfmalloc: %s(): freed pointer %p", Space::kRealloc, p);
      }
      space.BadPointer(Space::kRealloc, p);
    }
    if ((AlignedClass(Padded(size), align) >= kNumClasses ||
         (!kHardened && size > kGrowLargeFrom)) &&
        (a & (align - 1)) == 0) {
      if (void* q = LargeResize(p, size)) {
        if ((reinterpret_cast<uintptr_t>(q) & (align - 1)) == 0) return q;
        p = q;  // moved to a less aligned place: copy below
        old_size = LargeUsableSize(q, space.Owner());
      }
    }
  }
  void* q;
  if (GrowsLarge(old_size, size)) {
    q = space.LargeAlloc(size, align > 16 ? align : 0,
                         GrowthRoom(old_size, size));
  } else {
    q = align <= 16 ? space.Alloc(size) : space.AlignedAlloc(size, align);
  }
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, old_size < size ? old_size : size);
  space.Free(p);
  return q;
}

template <typename Config>
bool Heap<Config>::Release() {
  Cache* tc = Local();
  if (tc != nullptr) tc->Flush();
  {
    SpinLockHolder h(fallback_.lock());
    if (Cache* fb = fallback_.GetIfBuilt()) {
      fb->Flush();
      // Without a cache of its own, the thread drains through this one.
      if (tc == nullptr) fb->DrainDepots();
    }
  }
  // After both flushes, which may have handed magazines to the depots.
  if (tc != nullptr) tc->DrainDepots();
  size_t n = 0;  // stacks, pages and blocks given back
  for (ClassPool& pool : core_.pools) n += DrainSpareStacks(&pool);
  for (PageAlloc& p : core_.pages) {
    PageAlloc::Handle h(&p);
    n += p.Release(h);
  }
  n += LargeRelease();
  return n != 0;
}

template <typename Config>
HeapStats Heap<Config>::Stats() {
  HeapStats s;
  s.large_bytes = LargeBytes();
  s.large_count = LargeCount();
  s.large_cached_bytes = LargeCachedBytes();
  core_.AddStats(&s);
  return s;
}

template <typename Config>
const char* Heap<Config>::FindInvariantViolation() {
  const char* what = nullptr;
  if (Cache* tc = Local()) {
    if (!tc->CheckInvariants(&what)) return what;
  }
  {
    SpinLockHolder h(fallback_.lock());
    if (Cache* fb = fallback_.GetIfBuilt()) {
      if (!fb->CheckInvariants(&what)) return what;
    }
  }
  if (!LargeCheckInvariants(&what)) return what;
  for (PageAlloc& p : core_.pages) {
    PageAlloc::Handle h(&p);
    if (!p.CheckInvariants(h, &what)) return what;
  }
  size_t slags[kSlagKinds] = {};
  for (ClassPool& pool : core_.pools) {
    if (!CheckAvailableSlags(&pool, &what)) return what;
    slags[static_cast<size_t>(pool.kind)] +=
        pool.slags.load(std::memory_order_relaxed);
  }
  for (size_t k = 0; k < kSlagKinds; ++k) {
    const PageAlloc& p = core_.pages[k];
    if (slags[k] + p.dirty_pages() + p.clean_pages() != p.mapped_pages()) {
      return "slags + free pages differ from mapped pages";
    }
  }
  const HeapStats s = Stats();
  for (size_t c = 0; c < kNumClasses; ++c) {
    if (s.classes[c].allocs < s.classes[c].frees) {
      return "a class has more frees than allocations";
    }
  }
  return nullptr;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_HEAP_H_
