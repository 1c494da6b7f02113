// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// UserHeap<Config>: a heap a program creates (elfmalloc/heap.h), beside the
// process heap of the same build. It has its own HeapCore (page allocators,
// class pools, statistics), so Destroy() can give every block and page
// back at once:
//
// * its page allocators log their mappings (PageAllocOptions::
//   track_mappings), and Destroy unmaps every logged page, in use or free;
// * its slags' page-map tags carry kUserHeapTagBit, so the process heap's
//   free() never takes one of its objects into a process cache, and its
//   own Free checks that a tagged object's slag belongs to one of its
//   pools;
// * its large objects are registered under its owner id (LargeAllocOptions::
//   owner), which Destroy frees together (LargeFreeOwned).
//
// Calls come with a ThreadCache of the heap's own (a Handle's, one thread
// at a time), or without one, through one of kSharedCaches shared caches,
// each under a spin lock (FallbackCache), picked by the calling thread (so
// that two threads rarely wait for each other). Destroy takes every one of
// those locks, so handle-less calls on other threads see the heap before
// or after it, never half destroyed; a cache from NewCache that still
// exists is a fatal error, named with the count of handles.
//
// Not registered with the fork handlers (their locks must live for ever): a
// child forked while another thread was inside one of this heap's slow
// paths must not use the heap.
//
// Thread-safety: thread-safe; each ThreadCache is used by one thread at a
// time.

#ifndef ELFMALLOC_INTERNAL_USER_HEAP_H_
#define ELFMALLOC_INTERNAL_USER_HEAP_H_

#include <errno.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/format.h"
#include "alloc_fmt/spin_lock.h"
#include "alloc_tls/alloc_tls.h"
#include "bagpipe/lazy_bag_pipe.h"
#include "elfmalloc/internal/cache_stack.h"
#include "elfmalloc/internal/class_layout.h"
#include "elfmalloc/internal/hardening.h"
#include "elfmalloc/internal/heap.h"
#include "elfmalloc/internal/heap_stats.h"
#include "elfmalloc/internal/large_alloc.h"
#include "elfmalloc/internal/page_map.h"
#include "elfmalloc/internal/thread_cache.h"
#include "elfmalloc/size_classes.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

template <typename Config>
class UserHeap {
 public:
  using Process = Heap<Config>;
  using Cache = ThreadCache<Config>;
  using FE = FrontEndFor<Config>;
  static constexpr bool kHardened = Config::kHardened;
  static constexpr bool kChecks = Config::kChecks;

  // A new, empty heap in memory of its own; nullptr (errno ENOMEM) if none
  // could be mapped.
  static UserHeap* Create() {
    const mmap_alloc::MapAlloc map;
    void* mem = map.Alloc(sizeof(UserHeap));
    if (mem == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
    return new (mem) UserHeap();
  }

  // Destroy(), then gives back the heap's own memory. Same REQUIRES.
  static void Delete(UserHeap* heap) {
    heap->Destroy();
    heap->~UserHeap();
    const mmap_alloc::MapAlloc map;
    map.Dealloc(heap, sizeof(UserHeap));
  }

  // A cache of this heap for one thread at a time (a Handle's); nullptr
  // (errno ENOMEM) if no memory could be mapped for it.
  Cache* NewCache() {
    const mmap_alloc::MapAlloc map;
    void* mem = map.Alloc(sizeof(Cache));
    if (mem == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
    // Under a shared cache's lock, so that Destroy sees either no cache or
    // a counted one.
    SpinLockHolder h(shared_[0].lock());
    caches_.fetch_add(1, std::memory_order_relaxed);
    return new (mem) Cache(&core_);
  }

  // Returns `tc`'s objects to their slags and frees it.
  void DeleteCache(Cache* tc) {
    tc->~Cache();
    const mmap_alloc::MapAlloc map;
    map.Dealloc(tc, sizeof(Cache));
    caches_.fetch_sub(1, std::memory_order_release);
  }

  // --- Allocation: the process heap's semantics (elfmalloc.h), from this
  // heap's pages. `tc`: the caller's cache of this heap, or nullptr for the
  // shared one.

  void* Alloc(Cache* tc, size_t size) {
    const size_t c = SizeToClass(Process::Padded(size));
    if (ABSL_PREDICT_TRUE(c < kNumClasses)) return AllocClass(tc, c);
    return LargeAllocOrReclaim(tc, size, 0, 0, false);
  }

  void* AllocZeroed(Cache* tc, size_t size) {
    const size_t c = SizeToClass(Process::Padded(size));
    if (c < kNumClasses) {
      void* p = AllocClass(tc, c);
      if (p != nullptr) std::memset(p, 0, size);
      return p;
    }
    return LargeAllocOrReclaim(tc, size, 0, 0, /*zeroed=*/true);
  }

  void* AlignedAlloc(Cache* tc, size_t size, size_t align) {
    if (align == 0 || (align & (align - 1)) != 0) {
      errno = EINVAL;
      return nullptr;
    }
    const size_t c = AlignedClass(Process::Padded(size), align);
    if (c < kNumClasses) return AllocClass(tc, c);
    return LargeAllocOrReclaim(tc, size, align, 0, false);
  }

  // Frees `p` (nullptr: no-op). `size`, `align`: as FreeSized in
  // elfmalloc.h (0: not given). A pointer this heap did not hand out is a
  // fatal one-line error naming where it belongs, if anywhere.
  void Free(Cache* tc, void* p, size_t size = 0, size_t align = 0,
            const char* fn = "Heap::Free") {
    const size_t c = OwnClass(p);
    if (c < kNumClasses) {
      if constexpr (kChecks) {
        if (!IsObjectStart<kHardened>(c, p)) BadPointer(fn, p);
        const bool fits =
            size == 0 ||
            (align == 0 ? SizeFitsClassUnaligned(Process::Padded(size), c)
                        : SizeFitsClass(Process::Padded(size), align, c));
        if (!fits || (reinterpret_cast<uintptr_t>(p) &
                      (align == 0 ? 0 : align - 1)) != 0) {
          Process::SizeMismatch(fn, p);
        }
      }
      Process::MarkFreed(c, p, fn);
      if (tc != nullptr) {
        tc->cache(c).template Free<!Process::kFreedMarks>(p);
      } else {
        FallbackCache<Config>& shared = Shared();
        SpinLockHolder h(shared.lock());
        shared.Get(&core_)->cache(c).Free(p);
      }
      return;
    }
    if (p == nullptr) return;
    size_t usable, requested;
    if (LargeSizes(p, &usable, &requested, Owner()) &&
        ((reinterpret_cast<uintptr_t>(p) & (align == 0 ? 0 : align - 1)) != 0 ||
         (size != 0 && !SizeFitsLarge(size, usable, requested)))) {
      Process::SizeMismatch(fn, p);
    }
    switch (LargeFree(p, Owner())) {
      case LargeFreeResult::kFreed:
        return;
      case LargeFreeResult::kDoubleFree:
        alloc_fmt::Fatal("elfmalloc: %s(): double free of %p", fn, p);
      case LargeFreeResult::kInvalid:
        BadPointer(fn, p);
    }
  }

  void* Realloc(Cache* tc, void* p, size_t size, size_t align) {
    Space space{this, tc};
    return Process::ReallocIn(space, p, size, align);
  }

  // The bytes usable at `p` (0 for nullptr); fatal if this heap did not
  // hand p out.
  size_t UsableSize(const void* p) {
    const size_t c = OwnClass(p);
    if (c < kNumClasses) {
      if (!IsObjectStart<kHardened>(c, p)) BadPointer("Heap::UsableSize", p);
      return ClassSize(c) - Process::kCanary;
    }
    if (p == nullptr) return 0;
    const size_t n = LargeUsableSize(p, Owner());
    if (n == 0) BadPointer("Heap::UsableSize", p);
    return n;
  }

  // True if `p` is a block this heap handed out and has not freed (for a
  // small object: an object start in one of its slags).
  bool Owns(const void* p) {
    const size_t c = OwnClass(p);
    if (c < kNumClasses) return IsObjectStart<kHardened>(c, p);
    return p != nullptr && LargeUsableSize(p, Owner()) != 0;
  }

  // Gives back every block and page at once: the heap is empty and usable
  // again. Fatal ("elfmalloc: Heap::Destroy(): N handle(s) still in use")
  // while a cache from NewCache exists.
  void Destroy() ABSL_NO_THREAD_SAFETY_ANALYSIS {  // locks every shared_
    for (FallbackCache<Config>& shared : shared_) shared.lock()->Lock();
    const size_t live = caches_.load(std::memory_order_acquire);
    if (live != 0) {
      alloc_fmt::Fatal("elfmalloc: Heap::Destroy(): %zu handle%s still in use",
                       live, live == 1 ? "" : "s");
    }
    for (FallbackCache<Config>& shared : shared_) shared.Reset();
    for (ClassPool& pool : core_.pools) {
      DrainSpareStacks(&pool);
      bagpipe::DestroyPublishedBagPipe(&pool.available);
    }
    for (PageAlloc& pages : core_.pages) {
      PageAlloc::Handle ph(&pages);
      pages.UnmapAll(ph, &ForgetSlags);
    }
    LargeFreeOwned(Owner());
    core_.~HeapCore<Config>();
    new (&core_) HeapCore<Config>(kUserHeapTagBit);
    for (FallbackCache<Config>& shared : shared_) shared.lock()->Unlock();
  }

  // The heap's counters: its pages, its classes' allocations and frees,
  // and its live large objects (the large-block cache is the process's).
  HeapStats Stats() {
    HeapStats s;
    s.large_bytes = LargeOwnedBytes(Owner(), &s.large_count);
    core_.AddStats(&s);
    return s;
  }

 private:
  UserHeap() : core_(kUserHeapTagBit) {
    if constexpr (kHardened || Process::kFreedMarks) InitSecret();
  }
  ~UserHeap() = default;

  uintptr_t Owner() const { return reinterpret_cast<uintptr_t>(this); }

  // The class of `p` if it lies in a slag of this heap; kNumClasses
  // otherwise (nullptr, a large object, or not this heap's; the slag
  // header of another user heap's object is read to tell).
  size_t OwnClass(const void* p) {
    const uint8_t tag = GlobalPageMap().Get(p);
    if ((tag & kUserHeapTagBit) == 0 || tag == kUserHeapTagBit) {
      return kNumClasses;
    }
    const size_t c = static_cast<size_t>(tag & ~kUserHeapTagBit & 0xff) - 1;
    if (c >= kNumClasses) return kNumClasses;
    ClassPool& pool = core_.pools[c];
    return SlagOf(p, pool.slag_bytes())->pool == &pool ? c : kNumClasses;
  }

  // Names where a pointer this heap rejects belongs.
  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void BadPointer(const char* fn,
                                                              const void* p) {
    const uint8_t tag = GlobalPageMap().Get(p);
    if (IsProcessTag(tag) || (tag == 0 && LargeUsableSize(p, 0) != 0)) {
      alloc_fmt::Fatal("elfmalloc: %s(): pointer %p belongs to the process "
                       "heap (free it with free())",
                       fn, p);
    }
    if (IsSizedHeapTag(tag)) {
      alloc_fmt::Fatal(
          "elfmalloc: %s(): pointer %p belongs to an elfmalloc::SizedHeap", fn,
          p);
    }
    if ((tag & kUserHeapTagBit) != 0) {
      alloc_fmt::Fatal("elfmalloc: %s(): pointer %p belongs to another heap",
                       fn, p);
    }
    alloc_fmt::Fatal("elfmalloc: %s(): invalid pointer %p", fn, p);
  }

  // UnmapAll's hook: the slags of pages about to be unmapped leave the
  // page map, so that a stale pointer into them reads as no object.
  static void ForgetSlags(char* base, size_t bytes) {
    GlobalPageMap().Set(base, bytes, 0);
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void* AllocClass(Cache* tc, size_t c) {
    void* p;
    if (ABSL_PREDICT_TRUE(tc != nullptr)) {
      p = AllocFrom(tc, c);
    } else {
      FallbackCache<Config>& shared = Shared();
      SpinLockHolder h(shared.lock());
      p = AllocFrom(shared.Get(&core_), c);
    }
    if constexpr (kHardened) {
      if (p != nullptr) CanaryOnAlloc(c, p);
    }
    if constexpr (Process::kFreedMarks) {
      if (ABSL_PREDICT_TRUE(p != nullptr)) ClearFreedMark(p);
    }
    return p;
  }

  // Class c from `tc`; when no slag can be had, the heap's free pages and
  // the process's cached large blocks give back their address space and
  // the refresh is tried once more.
  void* AllocFrom(Cache* tc, size_t c) {
    FE& fe = tc->cache(c);
    if (void* p = fe.TryAlloc()) return p;
    if (void* p = tc->AllocSlow(c)) return p;
    tc->DrainDepots();
    core_.UnmapFree();
    LargeRelease();
    return fe.AllocRefreshing();
  }

  void* LargeAllocOrReclaim(Cache* tc, size_t size, size_t align,
                            size_t grow_room, bool zeroed) {
    LargeAllocOptions options{kHardened, grow_room, zeroed};
    options.owner = Owner();
    if (void* p = LargeAlloc(size, align, options)) return p;
    if (size > PTRDIFF_MAX) return nullptr;
    if (tc != nullptr) {
      tc->Flush();
      tc->DrainDepots();
    }
    core_.UnmapFree();
    LargeRelease();
    void* p = LargeAlloc(size, align, options);
    if (p == nullptr) errno = ENOMEM;
    return p;
  }

  // This heap, through cache `tc`, as Heap<Config>::ReallocIn's Space.
  struct Space {
    static constexpr const char* kRealloc = "Heap::Realloc";
    static constexpr bool kFreedMarks = Process::kFreedMarks;
    static bool Sampled(const void*, size_t*) { return false; }  // no pool
    UserHeap* heap;
    Cache* tc;
    uint8_t Tag(const void* p) {
      const size_t c = heap->OwnClass(p);
      return c < kNumClasses ? static_cast<uint8_t>(c + 1) : 0;
    }
    bool LastFreedIs(size_t c, const void* p) {
      if (tc != nullptr) return tc->cache(c).IsLastFreed(p);
      FallbackCache<Config>& mine = heap->Shared();
      SpinLockHolder h(mine.lock());
      Cache* shared = mine.GetIfBuilt();
      return shared != nullptr && shared->cache(c).IsLastFreed(p);
    }
    void* Alloc(size_t size) { return heap->Alloc(tc, size); }
    void* AlignedAlloc(size_t size, size_t align) {
      return heap->AlignedAlloc(tc, size, align);
    }
    void Free(void* p) { heap->Free(tc, p, 0, 0, "Heap::Realloc"); }
    uintptr_t Owner() const { return heap->Owner(); }
    void* LargeAlloc(size_t size, size_t align, size_t grow_room) {
      return heap->LargeAllocOrReclaim(tc, size, align, grow_room, false);
    }
    [[noreturn]] static void BadPointer(const char* fn, const void* p) {
      UserHeap::BadPointer(fn, p);
    }
  };

  // The shared cache of the calling thread: threads take the caches in
  // turn, by the order of their first handle-less call on any heap.
  FallbackCache<Config>& Shared() {
    if (ABSL_PREDICT_FALSE(stripe_ == kNoStripe)) {
      stripe_ = next_stripe_.fetch_add(1, std::memory_order_relaxed) %
                kSharedCaches;
    }
    return shared_[stripe_];
  }

  // The calling thread's shared cache (initial-exec TLS, constant
  // initialised: no TLS call or guard in the shared library).
  static constexpr uint32_t kNoStripe = ~uint32_t{0};
  ABSL_CONST_INIT static inline ALLOC_TLS_INITIAL_EXEC thread_local uint32_t
      stripe_ = kNoStripe;
  ABSL_CONST_INIT static inline std::atomic<uint32_t> next_stripe_{0};

  static constexpr size_t kSharedCaches = 4;
  HeapCore<Config> core_;
  FallbackCache<Config> shared_[kSharedCaches];  // for calls without a cache
  std::atomic<size_t> caches_{0};      // live caches from NewCache
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_USER_HEAP_H_
