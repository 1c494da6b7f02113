// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Heap<FE>: the general (malloc-style) allocator over a front-end FE
// (MagazineCache or LocalCache). The public API (elfmalloc.h) forwards to
// the process-wide Heap<FE> instance of the front-end its library target
// selects; benchmarks and tests may drive both instances in one process.
//
// Tiers, from the hot path down:
//
//   ThreadCache (TLS)     FE per size class: stack + claimed slag iterator
//        |                    (frontends.h)
//   SlagAllocator         claim / unclaim slags, remote and bulk frees,
//        |                    available bag per class (slag.h)
//   PageAlloc x2          256 KiB pages for classes < 64 KiB, 2 MiB pages
//        |                    for 64 KiB .. 1 MiB; dirty/clean bags, decay
//        |                    (page_alloc.h)
//   mmap_alloc            the only place that maps memory
//
//   Large objects (> 1 MiB, or alignment the classes cannot give): one
//   mapping each, registered out of band (large_alloc.h).
//
// free(p) reads p's page-map tag (page_map.h): a class index routes the
// object to the *calling* thread's cache for that class (cross-thread frees
// are cached locally, as in the original); no tag means a large object, or
// a pointer elfmalloc does not own, which is a fatal one-line error.
//
// Per-thread state lives in alloc_tls's TlsSlot (allocation-safe TLS). While
// it is unavailable (being built, or destroyed at thread exit), calls use a
// shared fallback cache under a spin lock, so re-entrant and late calls work
// without the original's background thread. At thread exit every cached
// object and claimed slag goes back (ThreadCache's destructor).
//
// Thread-safety: all public members are thread-safe.

#ifndef ELFMALLOC_INTERNAL_HEAP_H_
#define ELFMALLOC_INTERNAL_HEAP_H_

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "alloc_fmt/format.h"
#include "alloc_fmt/spin_lock.h"
#include "alloc_tls/alloc_tls.h"
#include "elfmalloc/internal/fork.h"
#include "elfmalloc/internal/frontends.h"
#include "elfmalloc/internal/large_alloc.h"
#include "elfmalloc/internal/options.h"
#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/page_map.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/internal/slag_geometry.h"
#include "elfmalloc/size_classes.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

inline constexpr size_t kSmallSlagBytes = size_t{256} << 10;
inline constexpr size_t kBigSlagBytes = size_t{2} << 20;
// Classes below this size use small slags (the original's
// ELFMALLOC_SMALL_CUTOFF = 256 KiB / 4).
inline constexpr size_t kSmallSlagMaxObject = kSmallSlagBytes / 4;
inline constexpr double kCutoffFactor = 0.6;
// Freed slags with at least this many usable bytes are eagerly decommitted.
// None are: the original decommitted 2 MiB slags at once, but re-faulting
// them made 1 MiB-object churn slow, and decay returns the memory anyway.
inline constexpr size_t kEagerDecommitBytes = SIZE_MAX;

// The hardened build ends every slag with an inaccessible guard page
// (PageAllocOptions::guard_bytes); its objects stop before it.
inline constexpr size_t kSlagGuardBytes = kSecure ? 4096 : 0;

// Classes served from slags; requests above them are large objects. In the
// hardened build that excludes the 1 MiB class: its objects are 1 MiB
// aligned, so the only one in a 2 MiB slag fills the slag's second half
// and leaves no room for the guard page. (Large objects have their own.)
inline constexpr size_t kSlagClasses = kSecure ? kNumClasses - 1 : kNumClasses;

constexpr SlagGeometry GeneralGeometry(size_t c) {
  const size_t size = ClassSize(c);
  const size_t slag =
      size < kSmallSlagMaxObject ? kSmallSlagBytes : kBigSlagBytes;
  // A class above kSlagClasses is never used; its layout only has to be
  // valid.
  const size_t guard = c < kSlagClasses ? kSlagGuardBytes : 0;
  return ComputeGeometry(size, slag, kCutoffFactor, slag - guard,
                         c == 0 ? 8 : 16);
}

constexpr std::array<SlagGeometry, kNumClasses> MakeGeneralGeometry() {
  std::array<SlagGeometry, kNumClasses> t{};
  for (size_t c = 0; c < kNumClasses; ++c) t[c] = GeneralGeometry(c);
  return t;
}

inline constexpr std::array<SlagGeometry, kNumClasses> kGeneralGeometry =
    MakeGeneralGeometry();

constexpr bool GeneralGeometryIsValid() {
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = kGeneralGeometry[c];
    if (!GeometryIsValid(g)) return false;
    // Padding never grows a class: usable sizes are exactly the classes.
    if (g.object_size != ClassSize(c)) return false;
    if (g.object_align < ClassAlignment(c)) return false;
    if (g.slag_bytes < PageMap::kGranule) return false;
  }
  return true;
}
static_assert(GeneralGeometryIsValid(),
              "every size class needs a valid slag layout with its alignment");

constexpr std::array<ObjectCheck, kNumClasses> MakeObjectChecks() {
  std::array<ObjectCheck, kNumClasses> t{};
  for (size_t c = 0; c < kNumClasses; ++c) {
    t[c] = MakeObjectCheck(kGeneralGeometry[c]);
  }
  return t;
}
// Internal linkage on purpose: each translation unit addresses its own copy
// directly, where a shared inline variable in a shared library costs a load
// of its address from the GOT on every free.
static constexpr std::array<ObjectCheck, kNumClasses> kObjectChecks =
    MakeObjectChecks();

constexpr bool ObjectChecksAreExact() {
  // Every class, at the offsets around its first and last objects and
  // around the end of the slag; the test checks every offset.
  for (size_t c = 0; c < kNumClasses; ++c) {
    const SlagGeometry& g = kGeneralGeometry[c];
    const ObjectCheck& k = kObjectChecks[c];
    if (!ObjectCheckIsExact(g)) return false;
    const uint64_t first = g.objects_offset;
    const uint64_t last = first + (g.n_objects - 1) * g.object_size;
    if (!IsObjectOffset(k, first) || !IsObjectOffset(k, last)) return false;
    if (IsObjectOffset(k, first - 1) || IsObjectOffset(k, first + 1) ||
        IsObjectOffset(k, 0) || IsObjectOffset(k, last + g.object_size) ||
        IsObjectOffset(k, last - g.object_size / 2) ||
        IsObjectOffset(k, g.slag_bytes - 1)) {
      return false;
    }
  }
  return true;
}
static_assert(ObjectChecksAreExact());

// True if `p`, which lies in a slag of class c, is the start of one of its
// objects. One table entry, a subtraction, a mask, a multiply and a
// comparison: cheap enough for every free, so an interior pointer is
// reported instead of being handed out again. The thread-cache path reads
// the same constants from its cache (CacheBase::IsObjectStart).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool IsObjectStart(size_t c,
                                                       const void* p) {
  const ObjectCheck& k = kObjectChecks[c];
  return IsObjectOffset(k, reinterpret_cast<uintptr_t>(p));
}

// The smallest class whose objects are `size` bytes or more and aligned to
// `align` (a power of two), or kNumClasses if there is none (large object).
constexpr size_t AlignedClass(size_t size, size_t align) {
  if (align <= 16) {
    const size_t c = SizeToClass(size);
    if (c < kNumClasses && ClassAlignment(c) >= align) return c;
    // Only the word class is less aligned: the 16-byte class is.
    return c == 0 ? 1 : c;
  }
  // Powers of two are self-aligned: round up to one at least `align`.
  size_t s = size < align ? align : size;
  if (s > kMaxSmallSize) return kNumClasses;
  size_t p = 1;
  while (p < s) p <<= 1;
  return SizeToClass(p);
}
static_assert(AlignedClass(8, 64) == SizeToClass(64));
static_assert(AlignedClass(100, 32) == SizeToClass(128));
static_assert(AlignedClass(1, 16) == SizeToClass(16));
static_assert(AlignedClass(kMaxSmallSize, kMaxSmallSize) == kNumClasses - 1);
static_assert(AlignedClass(16, size_t{2} << 20) == kNumClasses);

// True if an object of class c can be what a caller who asked for `size`
// bytes aligned to `align` (0: not given) holds: the class Alloc or
// AlignedAlloc picks for that request, or a bigger class that Realloc kept
// for it because it is less than twice the size (see Heap::Realloc).
ABSL_ATTRIBUTE_ALWAYS_INLINE constexpr bool SizeFitsClass(size_t size,
                                                          size_t align,
                                                          size_t c) {
  if (size > ClassSize(c)) return false;
  const size_t fit = AlignedClass(size, align == 0 ? 1 : align);
  return fit == c || (fit < c && size * 2 > ClassSize(c));
}
static_assert(SizeFitsClass(64, 0, SizeToClass(64)));
static_assert(!SizeFitsClass(4000, 0, SizeToClass(64)));
static_assert(!SizeFitsClass(16, 0, SizeToClass(64)));
static_assert(SizeFitsClass(100, 0, SizeToClass(192)));  // kept by Realloc
static_assert(SizeFitsClass(10, 64, SizeToClass(64)));

// SizeFitsClass without an alignment, as one range check: the sizes that
// fit class c are exactly (lo, ClassSize(c)] with lo the smaller of the
// previous class and half of c (Realloc keeps blocks down to half full).
// Sized delete, the common case, pays one table entry for it.
struct SizedRange {
  uint32_t lo_plus_one;  // the smallest size that fits
  uint32_t span;         // how many sizes fit
};

constexpr std::array<SizedRange, kNumClasses> MakeSizedRanges() {
  std::array<SizedRange, kNumClasses> t{};
  for (size_t c = 0; c < kNumClasses; ++c) {
    const size_t hi = ClassSize(c);
    size_t lo = 0;
    if (c > 0) lo = ClassSize(c - 1) < hi / 2 ? ClassSize(c - 1) : hi / 2;
    t[c] = SizedRange{static_cast<uint32_t>(lo + 1),
                      static_cast<uint32_t>(hi - lo)};
  }
  return t;
}
// Internal linkage, like kObjectChecks (no GOT load on the free path).
static constexpr std::array<SizedRange, kNumClasses> kSizedRanges =
    MakeSizedRanges();

// REQUIRES: size != 0. The same answer as SizeFitsClass(size, 0, c)
// (checked at every boundary below and at every size by object_check_test).
ABSL_ATTRIBUTE_ALWAYS_INLINE constexpr bool SizeFitsClassUnaligned(size_t size,
                                                                   size_t c) {
  const SizedRange& r = kSizedRanges[c];
  return size - r.lo_plus_one < r.span;
}

constexpr bool SizedRangesMatch() {
  for (size_t c = 0; c < kNumClasses; ++c) {
    for (size_t k = 0; k < kNumClasses; ++k) {
      const size_t b = ClassSize(k);
      for (size_t s : {b - 1, b, b + 1, b / 2, b / 2 + 1, b * 2}) {
        if (s != 0 && SizeFitsClassUnaligned(s, c) != SizeFitsClass(s, 0, c)) {
          return false;
        }
      }
    }
  }
  return true;
}
static_assert(SizedRangesMatch());

// The same for a large object of `usable` bytes: at most that, and not so
// small that the block (page-rounded, or a cached block at most four times
// the request; large_alloc.h) could not have been handed out for it.
constexpr bool SizeFitsLarge(size_t size, size_t usable) {
  return size <= usable && usable / 4 <= size + (size_t{64} << 10);
}

// One size class's counters (see info/stats.md).
struct ClassStats {
  size_t object_size = 0;
  uint64_t allocs = 0;  // objects handed out, ever
  uint64_t frees = 0;   // objects freed, ever
  size_t slags = 0;     // pages that are slags of this class now
  size_t slag_bytes = 0;
};

struct HeapStats {
  size_t small_pages_mapped = 0;  // 256 KiB pages mapped now
  size_t big_pages_mapped = 0;    // 2 MiB pages mapped now
  size_t small_pages_clean = 0;   // of those, free and given back to the OS
  size_t big_pages_clean = 0;
  size_t small_pages_dirty = 0;  // free but still committed
  size_t big_pages_dirty = 0;
  size_t dirty_bytes = 0;  // freed pages still committed
  size_t large_bytes = 0;  // bytes mapped for large objects
  size_t large_count = 0;
  size_t large_cached_bytes = 0;  // freed large blocks kept for reuse
  size_t threads = 0;             // thread caches alive (and the fallback)
  ClassStats classes[kNumClasses];
};

template <typename FE>
class Heap {
 public:
  using FrontEnd = FE;

  // The process-wide instance for FE: built on first use (from static
  // storage; no malloc), never destroyed, so calls from other static
  // destructors and late thread exits still work.
  static Heap& Instance() {
    alignas(Heap) static unsigned char storage[sizeof(Heap)];
    static Heap* const heap = new (storage) Heap();
    return *heap;
  }

  // One thread's caches. Built on the thread's first call (TlsSlot).
  class ThreadCache {
   public:
    // A thread's own cache (TlsSlot). The fallback cache uses the other
    // constructor: it is built under fallback_lock_, where starting the
    // decay thread (which allocates) would deadlock.
    ThreadCache() : ThreadCache(&Instance()) { heap_->MaybeStartDecayThread(); }
    explicit ThreadCache(Heap* heap)
        : heap_(heap), small_(&heap->small_pages_), big_(&heap->big_pages_) {
      heap->AddThread(this);
      for (size_t c = 0; c < kNumClasses; ++c) {
        ClassPool* pool = &heap->pools_[c];
        size_t capacity = FE::CapacityFor(pool->geom);
        // ELFMALLOC_MAGAZINE_SIZE caps the magazines (LocalCache's stack
        // is one slag's worth by design and is not capped).
        const int64_t cap = heap->options_.magazine_size;
        if (FE::kCappable && cap > 0 && static_cast<size_t>(cap) < capacity) {
          capacity = static_cast<size_t>(cap);
        }
        caches_[c].Setup(pool, pool->kind == SlagKind::kBig ? &big_ : &small_,
                         capacity);
        // Idleness is read from the statistics counters (Sweep), so a
        // build without them does not trim.
        if (kCountStats) caches_[c].SetIdleSweep(&sweep_);
      }
      sweep_.run = &RunSweep;
      sweep_.arg = this;
    }
    ~ThreadCache() {
      Flush();
      heap_->small_pages_.MaybePurge(small_);
      heap_->big_pages_.MaybePurge(big_);
      heap_->RemoveThread(this);
    }
    ThreadCache(const ThreadCache&) = delete;
    ThreadCache& operator=(const ThreadCache&) = delete;

    ABSL_ATTRIBUTE_ALWAYS_INLINE FE& cache(size_t c) { return caches_[c]; }

    // Returns every cached object and claimed slag (the caches restart
    // lazily on their next use).
    void Flush() {
      for (FE& fe : caches_) fe.Shutdown();
      small_.FlushLocal();
      big_.FlushLocal();
    }

    // The idle-cache trim (IdleSweep): trims every cache but `caller` that
    // still holds objects or a slag and has neither allocated nor freed
    // since the previous sweep (if it holds kIdleTrimBytes of objects) or
    // since the last full sweep, every kIdleSweepsPerFull-th.
    void Sweep(const CacheBase* caller) {
      const bool full = ++sweeps_ % kIdleSweepsPerFull == 0;
      // The pages the trims free are what the thread's next refreshes take
      // (PageAllocOptions::local_pages).
      small_.set_keep_freed(true);
      big_.set_keep_freed(true);
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
      }
      small_.set_keep_freed(false);
      big_.set_keep_freed(false);
    }
    static void RunSweep(void* arg, const CacheBase* caller) {
      static_cast<ThreadCache*>(arg)->Sweep(caller);
    }

   private:
    friend class Heap;
    Heap* heap_;
    ThreadCache* prev_ = nullptr;  // the heap's list of live caches
    ThreadCache* next_ = nullptr;
    PageAlloc::Handle small_;
    PageAlloc::Handle big_;
    FE caches_[kNumClasses];
    IdleSweep sweep_;
    uint32_t sweeps_ = 0;
    uint64_t recent_ops_[kNumClasses] = {};  // allocs + frees: last sweep
    uint64_t full_ops_[kNumClasses] = {};    // and last full sweep
  };

  // This thread's cache, or nullptr while TLS is unavailable.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static ThreadCache* Local() {
    return tls_.Get();
  }

  // --- Allocation ----------------------------------------------------------

  // At least `size` bytes, aligned to 8 (16 for sizes above 8); nullptr
  // with errno ENOMEM on exhaustion. Size 0 gives a unique minimal object.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* Alloc(size_t size) {
    const size_t c = SizeToClass(Padded(size));
    if (ABSL_PREDICT_TRUE(c < kSlagClasses)) return AllocClass(c);
    return LargeAllocOrReclaim(size, 0);
  }

  // At least `size` bytes aligned to `align`. REQUIRES: align is a power of
  // two (else nullptr, errno EINVAL).
  static void* AlignedAlloc(size_t size, size_t align) {
    if (ABSL_PREDICT_FALSE(align == 0 || (align & (align - 1)) != 0)) {
      errno = EINVAL;
      return nullptr;
    }
    const size_t c = AlignedClass(Padded(size), align);
    if (c < kSlagClasses) return AllocClass(c);
    return LargeAllocOrReclaim(size, align);
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE static void* AllocClass(size_t c) {
    void* p;
    if (ThreadCache* tc = Local(); ABSL_PREDICT_TRUE(tc != nullptr)) {
      p = tc->cache(c).Alloc();
    } else {
      p = FallbackAlloc(c);
    }
    if (kSecure && p != nullptr) SecureOnAlloc(c, p);
    return p;
  }

  // Hardened build: the tail canary's bytes at the end of every small
  // object (not usable by the program).
  static constexpr size_t kCanaryBytes = kSecure ? sizeof(uint64_t) : 0;

  // The class size a request of `size` usable bytes needs.
  ABSL_ATTRIBUTE_ALWAYS_INLINE static constexpr size_t Padded(size_t size) {
    return kSecure && size <= kMaxSmallSize ? size + kCanaryBytes : size;
  }

  // --- Free ----------------------------------------------------------------

  // Frees `p` (nullptr is a no-op). A pointer this heap did not hand out is
  // a fatal error: "elfmalloc: free(): invalid pointer 0x...".
  ABSL_ATTRIBUTE_ALWAYS_INLINE static void Free(void* p) {
    const uint8_t tag = GlobalPageMap().Get(p);
    if (ABSL_PREDICT_TRUE(tag != 0)) {
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
    if (ABSL_PREDICT_TRUE(tag != 0)) {
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
    if (tag != 0) {
      if (!IsObjectStart(size_t{tag} - 1, p)) BadPointer("usable_size", p);
      return ClassSize(size_t{tag} - 1) - kCanaryBytes;
    }
    if (p == nullptr) return 0;
    const size_t n = LargeUsableSize(p);
    if (n == 0) BadPointer("usable_size", p);
    return n;
  }

  // Resizes `p` to `size` bytes aligned to `align` (see elfmalloc.h for the
  // C semantics: nullptr allocates, size 0 frees and returns nullptr,
  // failure returns nullptr and leaves p intact).
  static void* Realloc(void* p, size_t size, size_t align) {
    // A bad alignment fails before anything else: p stays untouched.
    if (ABSL_PREDICT_FALSE(align == 0 || (align & (align - 1)) != 0)) {
      errno = EINVAL;
      return nullptr;
    }
    if (p == nullptr)
      return align <= 16 ? Alloc(size) : AlignedAlloc(size, align);
    if (size == 0) {
      Free(p);
      return nullptr;
    }
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    const uint8_t tag = GlobalPageMap().Get(p);
    size_t old_size;
    if (tag != 0) {
      const size_t c = size_t{tag} - 1;
      if (!IsObjectStart(c, p)) BadPointer("realloc", p);
      if (kSecure) SecureCheckLive(c, p, "realloc", "freed pointer");
      // The common use after free, realloc of the block this thread just
      // freed, is named as such here rather than as a double free when the
      // block is freed below (one load; realloc is not a fast path).
      if (ThreadCache* tc = Local();
          kDefaultChecks && tc != nullptr && tc->cache(c).IsLastFreed(p)) {
        alloc_fmt::Fatal("elfmalloc: realloc(): freed pointer %p", p);
      }
      old_size = ClassSize(c) - kCanaryBytes;
      // Keep the block if it is big enough, aligned enough, and not more
      // than twice what is needed (so shrinking really returns memory).
      const size_t need = Padded(size);
      if (need <= ClassSize(c) && (a & (align - 1)) == 0 &&
          (c == 0 || need > ClassSize(c - 1) || need * 2 > ClassSize(c))) {
        return p;
      }
    } else {
      old_size = LargeUsableSize(p);
      if (old_size == 0) {
        if (LargeIsRecentlyFreed(p)) {
          alloc_fmt::Fatal("elfmalloc: realloc(): freed pointer %p", p);
        }
        BadPointer("realloc", p);
      }
      if (AlignedClass(Padded(size), align) >= kSlagClasses &&
          (a & (align - 1)) == 0) {
        if (void* q = LargeResize(p, size)) {
          if ((reinterpret_cast<uintptr_t>(q) & (align - 1)) == 0) return q;
          p = q;  // moved to a less aligned place: copy below
          old_size = LargeUsableSize(q);
        }
      }
    }
    void* q = align <= 16 ? Alloc(size) : AlignedAlloc(size, align);
    if (q == nullptr) return nullptr;
    std::memcpy(q, p, old_size < size ? old_size : size);
    Free(p);
    return q;
  }

  // Returns the calling thread's cached objects, then uncommits every free
  // page now (instead of after the decay period), except the pages other
  // threads keep (PageAllocOptions::local_pages), and unmaps spare stacks
  // and cached large blocks. True if any memory went back to the OS.
  bool Release() {
    if (ThreadCache* tc = Local()) tc->Flush();
    {
      SpinLockHolder h(&fallback_lock_);
      if (fallback_ != nullptr) fallback_->Flush();
    }
    size_t n = 0;  // stacks, pages and blocks given back
    for (ClassPool& pool : pools_) n += DrainSpareStacks(&pool);
    PageAlloc::Handle small(&small_pages_);
    PageAlloc::Handle big(&big_pages_);
    n += small_pages_.Release(small);
    n += big_pages_.Release(big);
    n += LargeRelease();
    return n != 0;
  }

  // Dirty pages unused for `ms` milliseconds are returned to the OS (-1:
  // never, 0: immediately on free).
  void SetDecayMs(int64_t ms) {
    small_pages_.set_decay_ms(ms);
    big_pages_.set_decay_ms(ms);
    LargeSetDecayMs(ms);
  }

  int64_t decay_ms() const { return small_pages_.decay_ms(); }

  // ELFMALLOC_BACKGROUND_THREAD=1: starts, once per process, a thread that
  // runs the decay steps every half decay period, so free pages and cached
  // large blocks go back to the OS even while the program makes no
  // allocator calls, or only thread-cache ones (which never reach the
  // decay checks; info/reliability.md row 38). Called when a thread's own
  // cache is built: never during the heap's construction, and never under
  // one of its locks (pthread_create allocates; those calls use the
  // fallback cache). A forked child has no such thread: its next new
  // thread cache starts one. The thread blocks every signal and never
  // allocates.
  void MaybeStartDecayThread() {
    if (!options_.background_thread) return;
    const pid_t me = getpid();
    pid_t owner = decay_thread_pid_.load(std::memory_order_acquire);
    if (owner == me || !decay_thread_pid_.compare_exchange_strong(
                           owner, me, std::memory_order_acq_rel)) {
      return;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  // inherited by the thread
    pthread_attr_t attr;
    pthread_t thread;
    bool ok = pthread_attr_init(&attr) == 0;
    if (ok) {
      ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
           pthread_create(&thread, &attr, &DecayThreadMain, this) == 0;
      pthread_attr_destroy(&attr);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    // Out of threads or memory: the next thread cache tries again.
    if (!ok) decay_thread_pid_.store(0, std::memory_order_release);
  }

  // Decay steps run by the background thread so far (tests).
  uint64_t background_decay_steps() const {
    return decay_steps_.load(std::memory_order_relaxed);
  }
  const Options& options() const { return options_; }

  // Registers the locks this heap's slow paths take with the fork handlers
  // (fork.h), in lock order. Call once, outside any
  // allocation (e.g. from a static initializer), for the heap a process
  // uses as its malloc.
  void RegisterForkLocks() {
    // The order in which a thread may hold them: the fallback cache's lock
    // is held while that cache is built (AddThread: the thread list) and
    // while it refills (a refill that runs out of address space releases
    // the large-block cache and unmaps pages under the purge locks).
    RegisterForkLock(&fallback_lock_);
    RegisterForkLock(&threads_lock_);
    RegisterForkLock(LargeRegistryLock());
    RegisterForkLock(small_pages_.purge_lock());
    RegisterForkLock(big_pages_.purge_lock());
    RegisterForkLock(&stack_spares_.lock);  // a leaf: last
  }

  // A snapshot of the counters. Each is read atomically, but not all at one
  // instant: under concurrent use, frees may briefly exceed allocations of
  // a class (an object freed on one thread after the reader summed the
  // thread that allocated it). Never blocks allocation for long: it holds
  // the thread-list lock only while it sums the live caches.
  HeapStats Stats() {
    HeapStats s;
    s.small_pages_mapped = small_pages_.mapped_pages();
    s.big_pages_mapped = big_pages_.mapped_pages();
    s.small_pages_clean = small_pages_.clean_pages();
    s.big_pages_clean = big_pages_.clean_pages();
    s.small_pages_dirty = small_pages_.dirty_pages();
    s.big_pages_dirty = big_pages_.dirty_pages();
    s.dirty_bytes = s.small_pages_dirty * kSmallSlagBytes +
                    s.big_pages_dirty * kBigSlagBytes;
    s.large_bytes = LargeBytes();
    s.large_count = LargeCount();
    s.large_cached_bytes = LargeCachedBytes();
    for (size_t c = 0; c < kNumClasses; ++c) {
      ClassStats& k = s.classes[c];
      k.object_size = ClassSize(c);
      k.allocs = retired_allocs_[c].load(std::memory_order_relaxed);
      k.frees = retired_frees_[c].load(std::memory_order_relaxed);
      k.slags = pools_[c].slags.load(std::memory_order_relaxed);
      k.slag_bytes = pools_[c].slag_bytes();
    }
    SpinLockHolder h(&threads_lock_);
    for (ThreadCache* tc = threads_; tc != nullptr; tc = tc->next_) {
      ++s.threads;
      for (size_t c = 0; c < kNumClasses; ++c) {
        s.classes[c].allocs += tc->caches_[c].allocs();
        s.classes[c].frees += tc->caches_[c].frees();
      }
    }
    return s;
  }

  // Checks the heap's invariants; nullptr if they hold, else a one-line
  // description of the first violation. Checks: the calling thread's and
  // the fallback's caches (CheckInvariants of the front-end), the
  // large-object registry, both page allocators (counts against their
  // bags), every slag in every class's available bag and overflow list,
  // slags + free pages == mapped pages per page size, and allocations >=
  // frees per class. REQUIRES: quiescent (no other thread allocates or
  // frees; they may exist and hold caches), the caller holds no lock.
  const char* FindInvariantViolation() ABSL_LOCKS_EXCLUDED(fallback_lock_) {
    const char* what = nullptr;
    if (ThreadCache* tc = Local()) {
      for (FE& fe : tc->caches_) {
        if (!fe.CheckInvariants(&what)) return what;
      }
    }
    {
      SpinLockHolder h(&fallback_lock_);
      if (fallback_ != nullptr) {
        for (FE& fe : fallback_->caches_) {
          if (!fe.CheckInvariants(&what)) return what;
        }
      }
    }
    if (!LargeCheckInvariants(&what)) return what;
    PageAlloc::Handle small(&small_pages_);
    if (!small_pages_.CheckInvariants(small, &what)) return what;
    PageAlloc::Handle big(&big_pages_);
    if (!big_pages_.CheckInvariants(big, &what)) return what;
    size_t slags[2] = {0, 0};
    for (size_t c = 0; c < kNumClasses; ++c) {
      if (!CheckAvailableSlags(&pools_[c], &what)) return what;
      slags[pools_[c].kind == SlagKind::kBig] +=
          pools_[c].slags.load(std::memory_order_relaxed);
    }
    const PageAlloc* pages[2] = {&small_pages_, &big_pages_};
    for (size_t k = 0; k < 2; ++k) {
      if (slags[k] + pages[k]->dirty_pages() + pages[k]->clean_pages() !=
          pages[k]->mapped_pages()) {
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

  // FindInvariantViolation, fatal on a violation ("elfmalloc: invariant
  // violated: <what>"). Same REQUIRES.
  void CheckInvariants() {
    if (const char* what = FindInvariantViolation()) {
      alloc_fmt::Fatal("elfmalloc: invariant violated: %s", what);
    }
  }

 private:
  Heap()
      : options_(GetOptions()),
        small_pages_(PagesOptions(kSmallSlagBytes, 8)),
        big_pages_(PagesOptions(kBigSlagBytes, 2)) {
    const Options& options = options_;
    LargeSetDecayMs(options.decay_ms);
    if (kSecure) g_secure_key = RandomKey();
    size_t pipes = bagpipe::DefaultPipeCount();
    if (pipes > 16) pipes = 16;  // the original's 16 per class at most
    for (size_t c = 0; c < kNumClasses; ++c) {
      ClassPool& p = pools_[c];
      p.geom = kGeneralGeometry[c];
      // ELFMALLOC_REUSE_THRESHOLD: the fraction of free objects that makes
      // a slag available for reuse (the geometry's cutoff factor).
      const size_t cut = static_cast<size_t>(
          static_cast<double>(p.geom.n_objects) * options.reuse_threshold());
      p.geom.cutoff = cut < 1                  ? 1
                      : cut > p.geom.n_objects ? p.geom.n_objects
                                               : cut;
      const bool big = p.geom.slag_bytes == kBigSlagBytes;
      p.kind = big ? SlagKind::kBig : SlagKind::kSmall;
      p.map_tag = static_cast<uint8_t>(c + 1);
      p.eager_decommit_bytes = kEagerDecommitBytes;
      p.secure_clear_bytes = MaxObjectsOffset(p.geom.slag_bytes);
      p.pages = big ? &big_pages_ : &small_pages_;
      p.bag_pipes = pipes;  // the bag is built on first use (slag.h)
      p.spares = &stack_spares_;
    }
  }
  ~Heap() = delete;  // never destroyed

  // The largest header (objects_offset) of any class whose slags are
  // `slag_bytes` long.
  static size_t MaxObjectsOffset(size_t slag_bytes) {
    size_t m = 0;
    for (const SlagGeometry& g : kGeneralGeometry) {
      if (g.slag_bytes == slag_bytes && g.objects_offset > m) {
        m = g.objects_offset;
      }
    }
    return m;
  }

  // 64 random bits for the hardened build's secret (getrandom; the clock
  // and an address if that fails).
  static uint64_t RandomKey() {
    uint64_t k = 0;
    if (getrandom(&k, sizeof(k), GRND_NONBLOCK) != sizeof(k) || k == 0) {
      k = static_cast<uint64_t>(CoarseNowMs()) * 0x9E3779B97F4A7C15u ^
          reinterpret_cast<uintptr_t>(&k);
    }
    return k | 1;
  }

  // REQUIRES: options_ is set.
  PageAllocOptions PagesOptions(size_t page_bytes, size_t pages_per_refill) {
    PageAllocOptions o{page_bytes, pages_per_refill, 8,
                       static_cast<size_t>(options_.dirty_max_mb) << 20,
                       options_.decay_ms};
    o.on_exhausted = &Heap::ReclaimAddressSpace;
    o.exhausted_arg = this;
    o.guard_bytes = kSlagGuardBytes;
    // 2 MiB of small pages, one big page.
    o.local_pages = page_bytes == kSmallSlagBytes ? 8 : 1;
    return o;
  }

  static void* DecayThreadMain(void* arg) {
    Heap* heap = static_cast<Heap*>(arg);
    PageAlloc::Handle small(&heap->small_pages_);
    PageAlloc::Handle big(&heap->big_pages_);
    for (;;) {
      // Re-read each time: elfmalloc_option_set may change it.
      const int64_t decay = heap->decay_ms();
      int64_t ms = decay > 0 ? decay / 2 : 1000;
      if (ms < 10) ms = 10;
      timespec ts{static_cast<time_t>(ms / 1000),
                  static_cast<long>(ms % 1000) * 1000000};
      nanosleep(&ts, nullptr);
      if (decay < 0) continue;  // never decay
      heap->small_pages_.MaybePurge(small);
      heap->big_pages_.MaybePurge(big);
      LargeDecay();
      heap->decay_steps_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Out of address space (RLIMIT_AS, overcommit): gives back every free
  // page's and cached large block's address space, so the caller's retry
  // can map. Safe from inside a front-end's slow path: thread caches are
  // left alone.
  static void ReclaimAddressSpace(void* arg) {
    Heap* heap = static_cast<Heap*>(arg);
    for (ClassPool& pool : heap->pools_) DrainSpareStacks(&pool);
    LargeRelease();
    PageAlloc::Handle small(&heap->small_pages_);
    PageAlloc::Handle big(&heap->big_pages_);
    heap->small_pages_.Unmap(small);
    heap->big_pages_.Unmap(big);
  }

  // LargeAlloc, retried once after the calling thread's cached objects went
  // back to their slags and every free page was unmapped.
  ABSL_ATTRIBUTE_NOINLINE static void* LargeAllocOrReclaim(size_t size,
                                                           size_t align) {
    if (void* p = LargeAlloc(size, align)) return p;
    if (size > PTRDIFF_MAX) return nullptr;
    Heap& heap = Instance();
    if (ThreadCache* tc = Local()) tc->Flush();
    ReclaimAddressSpace(&heap);
    void* p = LargeAlloc(size, align);
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
    if (ThreadCache* tc = Local(); ABSL_PREDICT_TRUE(tc != nullptr)) {
      FE& fe = tc->cache(c);
      if (kDefaultChecks) {
        if (ABSL_PREDICT_FALSE(!fe.IsObjectStart(p))) BadPointer(fn, p);
        if (ABSL_PREDICT_FALSE(!size_ok)) SizeMismatch(fn, p);
      }
      if (kSecure) SecureOnFree(c, p, fn);
      fe.Free(p);
      return;
    }
    if (kDefaultChecks) {
      if (!IsObjectStart(c, p)) BadPointer(fn, p);
      if (!size_ok) SizeMismatch(fn, p);
    }
    if (kSecure) SecureOnFree(c, p, fn);
    FallbackFree(c, p);
  }

  ABSL_ATTRIBUTE_NOINLINE static void FreeUntagged(void* p) {
    if (p == nullptr) return;
    switch (LargeFree(p)) {
      case LargeFreeResult::kFreed:
        return;
      case LargeFreeResult::kDoubleFree:
        alloc_fmt::Fatal("elfmalloc: free(): double free of %p", p);
      case LargeFreeResult::kInvalid:
        BadPointer("free", p);
    }
  }

  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void BadPointer(const char* fn,
                                                              const void* p) {
    alloc_fmt::Fatal("elfmalloc: %s(): invalid pointer %p", fn, p);
  }

  // --- hardened build --------------------------------------------------
  // Every small object ends in an 8-byte canary (the secret XOR its
  // address) written when it is handed out and checked when it is freed or
  // reallocated; a freed object is zeroed at once and its first cache line
  // must still be zero when it is handed out again. So a write past the usable
  // size, a double free (the second free finds a zeroed canary, even across
  // threads), realloc of a freed block and a write after free are fatal
  // with a one-line message.

  static uint64_t& CanaryAt(size_t c, void* p) {
    return *reinterpret_cast<uint64_t*>(static_cast<char*>(p) + ClassSize(c) -
                                        kCanaryBytes);
  }
  static uint64_t CanaryFor(const void* p) {
    return g_secure_key ^ reinterpret_cast<uintptr_t>(p);
  }

  // Bytes of a reused object checked for writes after free: its first
  // cache line, where a dangling pointer's fields (and an attacker's fake
  // list links) land. Checking everything cost 2x on mixed workloads.
  static constexpr size_t kSecureCheckBytes = 64;

  ABSL_ATTRIBUTE_NOINLINE static void SecureOnAlloc(size_t c, void* p) {
    const auto* w = static_cast<const uint64_t*>(p);
    const size_t check = ClassSize(c) - kCanaryBytes < kSecureCheckBytes
                             ? ClassSize(c) - kCanaryBytes
                             : kSecureCheckBytes;
    uint64_t any = 0;
    for (size_t i = 0; i < check / sizeof(uint64_t); ++i) any |= w[i];
    if (ABSL_PREDICT_FALSE(any != 0)) {
      alloc_fmt::Fatal("elfmalloc: malloc(): write after free detected %p", p);
    }
    CanaryAt(c, p) = CanaryFor(p);
  }

  // Checks that p is live (its canary intact); fatal otherwise. A zero
  // canary means an earlier free zeroed the object: reported as
  // `freed_what` ("double free of", "freed pointer").
  static void SecureCheckLive(size_t c, void* p, const char* fn,
                              const char* freed_what) {
    const uint64_t canary = CanaryAt(c, p);
    if (ABSL_PREDICT_TRUE(canary == CanaryFor(p))) return;
    if (canary == 0) {
      alloc_fmt::Fatal("elfmalloc: %s(): %s %p", fn, freed_what, p);
    }
    alloc_fmt::Fatal("elfmalloc: %s(): heap overflow detected %p", fn, p);
  }

  ABSL_ATTRIBUTE_NOINLINE static void SecureOnFree(size_t c, void* p,
                                                   const char* fn) {
    SecureCheckLive(c, p, fn, "double free of");
    std::memset(p, 0, ClassSize(c));
  }

  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void SizeMismatch(const char* fn,
                                                                const void* p) {
    alloc_fmt::Fatal("elfmalloc: %s(): size mismatch %p", fn, p);
  }

  ABSL_ATTRIBUTE_NOINLINE static void FreeLargeSized(void* p, size_t size,
                                                     bool misaligned,
                                                     const char* fn) {
    // An unknown pointer falls through to the free below, which names it.
    const size_t usable = LargeUsableSize(p);
    if (usable != 0 &&
        (misaligned || (size != 0 && !SizeFitsLarge(size, usable)))) {
      SizeMismatch(fn, p);
    }
    FreeUntagged(p);
  }

  void AddThread(ThreadCache* tc) ABSL_LOCKS_EXCLUDED(threads_lock_) {
    SpinLockHolder h(&threads_lock_);
    tc->prev_ = nullptr;
    tc->next_ = threads_;
    if (threads_ != nullptr) threads_->prev_ = tc;
    threads_ = tc;
  }

  // Unlinks an exiting thread's cache, keeping its counts.
  void RemoveThread(ThreadCache* tc) ABSL_LOCKS_EXCLUDED(threads_lock_) {
    SpinLockHolder h(&threads_lock_);
    for (size_t c = 0; c < kNumClasses; ++c) {
      retired_allocs_[c].fetch_add(tc->caches_[c].allocs(),
                                   std::memory_order_relaxed);
      retired_frees_[c].fetch_add(tc->caches_[c].frees(),
                                  std::memory_order_relaxed);
    }
    if (tc->prev_ != nullptr)
      tc->prev_->next_ = tc->next_;
    else
      threads_ = tc->next_;
    if (tc->next_ != nullptr) tc->next_->prev_ = tc->prev_;
    tc->prev_ = tc->next_ = nullptr;
  }

  ThreadCache* Fallback() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fallback_lock_) {
    if (fallback_ == nullptr) {
      fallback_ = new (fallback_storage_) ThreadCache(this);
    }
    return fallback_;
  }

  ABSL_ATTRIBUTE_NOINLINE static void* FallbackAlloc(size_t c) {
    Heap& heap = Instance();
    SpinLockHolder h(&heap.fallback_lock_);
    return heap.Fallback()->cache(c).Alloc();
  }

  ABSL_ATTRIBUTE_NOINLINE static void FallbackFree(size_t c, void* p) {
    Heap& heap = Instance();
    SpinLockHolder h(&heap.fallback_lock_);
    heap.Fallback()->cache(c).Free(p);
  }

  const Options options_;  // ELFMALLOC_* as read when the heap was built
  PageAlloc small_pages_;
  PageAlloc big_pages_;
  ClassPool pools_[kNumClasses];
  // Exited threads' cache stacks, for the next threads (StackSpares).
  StackSpares stack_spares_;
  // The process that started the decay thread (0: none yet), and the
  // thread's step count.
  std::atomic<pid_t> decay_thread_pid_{0};
  std::atomic<uint64_t> decay_steps_{0};

  // Live thread caches, for statistics; exited threads' counts are folded
  // into retired_*.
  SpinLock threads_lock_;
  ThreadCache* threads_ ABSL_GUARDED_BY(threads_lock_) = nullptr;
  std::atomic<uint64_t> retired_allocs_[kNumClasses] = {};
  std::atomic<uint64_t> retired_frees_[kNumClasses] = {};

  SpinLock fallback_lock_;
  ThreadCache* fallback_ ABSL_GUARDED_BY(fallback_lock_) = nullptr;
  alignas(ThreadCache) unsigned char fallback_storage_[sizeof(ThreadCache)];

  ABSL_CONST_INIT static inline ALLOC_TLS_INITIAL_EXEC thread_local alloc_tls::
      TlsSlot<ThreadCache>
          tls_;
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_HEAP_H_
