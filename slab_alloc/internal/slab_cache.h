// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// SlabCache: the engine behind SlabAlloc and UntypedSlabAlloc (the
// original's SizedSlabAlloc plus its stack-based slab systems).
//
// A cache serves objects of one layout from slabs. Each slab is one block
// from the backing provider with an inline header, a stack of free-object
// pointers and the objects themselves (see geometry.h for the layout):
//
//   * Alloc pops the top of the first slab's stack; Dealloc pushes onto the
//     stack of the object's slab. With a tracking init policy, bit 0 of each
//     entry says whether the object is constructed: only never-initialised
//     memory is constructed, freed objects stay constructed, and objects are
//     destroyed when their slab goes back to the backing.
//   * The slab list holds partial slabs at the front and completely free
//     slabs at the back; slabs with no free object are on no list. Alloc
//     always takes from the front, so partial slabs fill up before free ones
//     are touched, and free slabs collect at the back where reclamation
//     takes them.
//   * Aligned slabs are aligned to their own (power-of-two) size, so an
//     object's slab is its address with the low bits masked off. Large slabs
//     are only page-aligned; a PtrHashMap maps each page (objects < page) or
//     each object (objects >= page) to its slab.
//   * Reclamation: when a slab becomes completely free and the working
//     period has expired, the minimum number of free slabs seen during the
//     period are released from the back (working_set.h).
//
// Misuse detected on every Dealloc (fatal, one line):
//   * a pointer whose slab is not one of this cache's (large slabs: not in
//     the map; aligned slabs: the header at the masked address does not
//     carry this cache's id), or that is not exactly the start of an object
//     slot: "slab_alloc: free of a pointer not from this cache: 0x...";
//   * a free into a slab whose stack is already full: "slab_alloc: double
//     free: 0x..."; builds with ALLOC_DCHECK on also scan the slab's stack,
//     catching every double free whose first free is still on it;
//   * destroying the cache with objects live: "slab_alloc: cache destroyed
//     with N live objects".
// With aligned slabs a foreign pointer is checked by reading the header at
// its masked address, so the slab-sized block around it must be readable
// (always true for pointers into this cache's slabs and for page-sized
// slabs).
//
// Template parameters: Init (init.h), Backing (backing.h) and Clock
// (working_set.h). Hot paths are inline with no virtual calls and, for
// aligned slabs, no hash lookup.
//
// Thread-compatible: a cache must not be used by two threads at once.
// Neither copyable nor movable.

#ifndef SLAB_ALLOC_INTERNAL_SLAB_CACHE_H_
#define SLAB_ALLOC_INTERNAL_SLAB_CACHE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/check.h"
#include "alloc_fmt/format.h"
#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc/object_alloc.h"
#include "slab_alloc/internal/geometry.h"
#include "slab_alloc/internal/map_memory.h"
#include "slab_alloc/internal/ptr_map.h"
#include "slab_alloc/internal/working_set.h"

namespace allocators {
namespace slab_alloc {
namespace internal {

// The inline header at the start of every slab. The free-pointer stack
// follows it at kStackOffset. Plain data, owned by its cache (so
// thread-compatible, like the cache).
struct SlabHeader {
  uint32_t count;     // entries on the free stack (free objects)
  uint32_t owner;     // id of the owning cache, for foreign-free detection
  uintptr_t objects;  // address of object 0: slab + array_offset + colour
  SlabHeader* next;   // slab list links; null when on no list
  SlabHeader* prev;
};
static_assert(sizeof(SlabHeader) <= kSlabHeaderSize);

// A fresh cache id: distinct for the first 2^32 caches, never 0, and spread
// over all 32 bits so that stray memory is unlikely to look like a header of
// this cache. Thread-safe.
uint32_t NewCacheId();

// The inverse of odd `d` modulo 2^64.
constexpr uint64_t InverseMod64(uint64_t d) {
  uint64_t x = d;  // correct to 3 bits for odd d
  for (int i = 0; i < 5; ++i) x *= 2 - d * x;
  return x;
}

// What a cache is built from, apart from the backing and the clock.
struct CacheConfig {
  object_alloc::Layout layout;  // the user's layout
  bool coloring = true;
  std::chrono::nanoseconds working_period = kDefaultWorkingPeriod;
};

// The cache engine (see the file comment). Owns its slabs and the
// allocators its backing provider returned. Thread-compatible.
template <typename Init, typename Backing, typename Clock>
class SlabCache {
 public:
  using AlignedAlloc = typename Backing::Aligned;
  using LargeAlloc = typename Backing::Large;
  static_assert(object_alloc::kIsUntypedObjectAlloc<AlignedAlloc>,
                "Backing::Aligned must be an untyped object allocator");
  static_assert(object_alloc::kIsUntypedObjectAlloc<LargeAlloc>,
                "Backing::Large must be an untyped object allocator");

  // Chooses the slab kind and size (geometry.h): asks `backing` for an
  // aligned allocator of the ideal aligned slab size, unless that slab would
  // leave more than 1/kMaxAlignedTailFraction of itself unused, and falls
  // back to large slabs (kLargeSlabLimits) if it declines. Allocates no slab
  // yet.
  // REQUIRES: config.layout valid with align <= page size (fatal
  // otherwise).
  SlabCache(Init init, const CacheConfig& config, Backing backing, Clock clock)
      : id_(NewCacheId()),
        init_(std::move(init)),
        working_set_(std::move(clock), config.working_period, 0),
        user_layout_(config.layout),
        page_(mmap_alloc::PageSize()) {
    const object_alloc::Layout user = config.layout;
    ALLOC_CHECK(user.IsValid(),
                "slab_alloc: invalid object layout (size %zu, align %zu)",
                user.size, user.align);
    ALLOC_CHECK(user.align <= page_,
                "slab_alloc: alignment %zu exceeds the page size %zu",
                user.align, page_);
    const object_alloc::Layout layout = InternalLayout(user, Init::kMinAlign);
    ALLOC_CHECK(layout.size != 0, "slab_alloc: object size %zu too large",
                user.size);

    const size_t aligned_size =
        ChooseSlabSize(layout, page_, SlabKind::kAligned);
    std::optional<AlignedAlloc> aligned;
    if (aligned_size != 0 &&
        GeometryFor(layout, aligned_size)->unused * kMaxAlignedTailFraction <=
            aligned_size) {
      aligned =
          backing.GetAligned(object_alloc::Layout{aligned_size, aligned_size});
    }
    size_t slab_size;
    if (aligned.has_value()) {
      aligned_ = true;
      slab_size = aligned_size;
      slab_mask_ = ~static_cast<uintptr_t>(aligned_size - 1);
      aligned_backing_.emplace(std::move(*aligned));
    } else {
      slab_size = ChooseSlabSize(layout, page_, SlabKind::kLarge,
                                 kLargeSlabLimits);
      ALLOC_CHECK(slab_size != 0,
                  "slab_alloc: no slab size fits objects of %zu bytes",
                  user.size);
      aligned_ = false;
      memo_size_ = slab_size;
      by_page_ = layout.size < page_;
      slab_mask_ = by_page_ ? ~static_cast<uintptr_t>(page_ - 1)
                            : ~static_cast<uintptr_t>(0);
      large_backing_.emplace(
          backing.GetLarge(object_alloc::Layout{slab_size, page_}));
      // Keys are pages, or objects whose addresses share at most the
      // object's power-of-two alignment (the original's choice).
      size_t key_align = page_;
      if (!by_page_) {
        key_align = 1;
        while (key_align < layout.size) key_align *= 2;
      }
      // Tables and overflow chunks come from MapMemory's process-wide pool,
      // so growing this map mostly reuses pages that earlier maps (or this
      // one, before it doubled) gave back, instead of faulting in new ones.
      map_.emplace(LargeSlabMap::kDefaultBuckets, key_align, MapMemory());
    }
    const object_alloc::Layout backing_layout =
        aligned_ ? aligned_backing_->layout() : large_backing_->layout();
    ALLOC_CHECK(backing_layout.size >= slab_size,
                "slab_alloc: backing hands out %zu-byte blocks for %zu-byte "
                "slabs",
                backing_layout.size, slab_size);
    geometry_ = *GeometryFor(layout, slab_size);
    num_obj_ = static_cast<uint32_t>(geometry_.num_obj);
    ALLOC_CHECK(num_obj_ == geometry_.num_obj && num_obj_ < UINT32_MAX,
                "slab_alloc: too many objects per slab");
    // With one object per slab every free changes the slab's list state,
    // so every free takes the slow path (threshold 0).
    push_slow_above_ = num_obj_ >= 2 ? num_obj_ - 2 : 0;
    sentinel_.count = num_obj_;
    array_offset_ = geometry_.array_offset;
    stride_ = geometry_.obj_size;
    stride_shift_ = static_cast<uint8_t>(__builtin_ctzll(stride_));
    stride_inverse_ = InverseMod64(stride_ >> stride_shift_);
    colors_ = ColorCycle(layout.align, geometry_.max_color, config.coloring);
  }

  // Releases every slab, destroying the objects they cache.
  // REQUIRES: no object is live (fatal: "slab_alloc: cache destroyed with N
  // live objects").
  ~SlabCache() {
    const size_t live = live_objects();
    ALLOC_CHECK(live == 0, "slab_alloc: cache destroyed with %zu live objects",
                live);
    while (SlabHeader* s = First()) {
      Unlink(s);
      ReleaseSlab(s);
    }
  }

  SlabCache(const SlabCache&) = delete;
  SlabCache& operator=(const SlabCache&) = delete;

  // An object (constructed, for tracking policies), or nullptr if the
  // backing is exhausted. Exceptions from the constructor propagate; the
  // memory then goes back to the cache uninitialised.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void* Alloc() {
    SlabHeader* s = head_;
    // The front slab is completely free only when no slab is partial; an
    // empty list ends in sentinel_, which looks completely free too.
    if (ABSL_PREDICT_FALSE(s->count == num_obj_)) return AllocSlow();
    return PopFrom(s);
  }

  // Returns `p` to its slab, still constructed.
  // REQUIRES: p came from Alloc() of this cache and is live (misuse is
  // fatal where detected; see the file comment).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Dealloc(void* p) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    SlabHeader* s;
    // No branch hint: a cache is one kind for life, so the branch is always
    // predicted, and without a hint GCC lays both kinds out inline (with
    // the hint the large-slab path became a jump out and back).
    if (aligned_) {
      s = reinterpret_cast<SlabHeader*>(a & slab_mask_);
    } else if (a - memo_base_ < memo_size_) {
      s = memo_slab_;  // same large slab as the last lookup
    } else {
      s = LookupLarge(p);
    }
    if (ABSL_PREDICT_FALSE(s->owner != id_)) ForeignFree(p);
    // The slot index by exact division: for stride = odd << k,
    // rotr(offset * odd^-1, k) is offset / stride when the division is
    // exact and exceeds every valid index otherwise (including offsets
    // "below" object 0, which wrap around). So this one compare rejects
    // interior pointers and pointers into the header or the tail.
    const uint64_t offset = static_cast<uint64_t>(a - s->objects);
    if (ABSL_PREDICT_FALSE(
            RotateRight(offset * stride_inverse_, stride_shift_) >= num_obj_)) {
      ForeignFree(p);
    }
    const uint32_t c = s->count;
    // One unsigned compare sends three cases to the slow path: c == 0 (the
    // slab was on no list), c == num_obj - 1 (it becomes completely free)
    // and c == num_obj (a double free).
    if (ABSL_PREDICT_FALSE(c - 1u >= push_slow_above_)) {
      DeallocSlow(s, c, p);
      return;
    }
#if ALLOC_DCHECK_IS_ON
    CheckNotOnStack(s, p);
#endif
    Stack(s)[c] = a | kInitBit;
    s->count = c + 1;
  }

  // The user's layout (alignment raised by the builder, not by the cache's
  // internal minimum).
  object_alloc::Layout layout() const { return user_layout_; }

  // --- Introspection, for tests, benchmarks and diagnostics -------------

  // Objects handed out and not yet freed. O(slabs): counted from the slabs'
  // stacks so that the hot paths need not maintain a counter.
  size_t live_objects() const {
    size_t free_objects = 0;
    for (const SlabHeader* s = First(); s != nullptr; s = s->next) {
      free_objects += s->count;
    }
    // Slabs on no list have no free object.
    return total_slabs_ * geometry_.num_obj - free_objects;
  }
  size_t slabs() const { return total_slabs_; }
  size_t free_slabs() const { return num_free_; }
  bool uses_aligned_slabs() const { return aligned_; }
  const SlabGeometry& geometry() const { return geometry_; }
  std::chrono::nanoseconds working_period() const {
    return working_set_.period();
  }
  // The entries of the large-slab map (0 for aligned slabs).
  size_t map_entries() const { return aligned_ ? 0 : map_->size(); }

  // The colour of the slab holding live object `p` (fatal if p is foreign).
  size_t ColorOf(const void* p) const {
    const SlabHeader* s = SlabOf(p);
    ALLOC_CHECK(s != nullptr && s->owner == id_,
                "slab_alloc: ColorOf a pointer not from this cache: %p", p);
    return SlabColor(s);
  }

  // Checks the cache's invariants (fatal on violation): list order
  // (partial slabs, then free slabs), link symmetry, counts, and that live
  // objects match the slabs' stacks. O(slabs).
  void CheckInvariants() const {
    size_t listed = 0, free = 0, free_objects = 0;
    bool in_free_part = false;
    const SlabHeader* prev = nullptr;
    for (const SlabHeader* s = First(); s != nullptr; s = s->next) {
      ALLOC_CHECK(s->prev == prev, "slab_alloc: broken slab list links");
      ALLOC_CHECK(s->owner == id_, "slab_alloc: foreign slab on the list");
      ALLOC_CHECK(s->count > 0 && s->count <= num_obj_,
                  "slab_alloc: listed slab with %u free objects", s->count);
      if (s->count == num_obj_) {
        in_free_part = true;
        ++free;
      } else {
        ALLOC_CHECK(!in_free_part,
                    "slab_alloc: partial slab behind a free slab");
      }
      ALLOC_CHECK(SlabColor(s) <= geometry_.max_color &&
                  SlabColor(s) % geometry_.obj_align == 0);
      free_objects += s->count;
      ++listed;
      prev = s;
    }
    ALLOC_CHECK(prev == tail_, "slab_alloc: slab list tail is stale");
    ALLOC_CHECK_EQ(free, num_free_);
    ALLOC_CHECK_LE(listed, total_slabs_);
    ALLOC_CHECK_LE(free_objects, total_slabs_ * geometry_.num_obj);
    if (!aligned_) {
      map_->CheckInvariants();
      const size_t keys_per_slab =
          by_page_ ? geometry_.slab_size / page_ : geometry_.num_obj;
      ALLOC_CHECK_EQ(map_->size(), total_slabs_ * keys_per_slab);
    }
  }

 private:
  using LargeSlabMap = PtrHashMap<SlabHeader, MapMemory>;

  static constexpr uintptr_t kInitBit = Init::kTracks ? 1 : 0;

  static uintptr_t* Stack(SlabHeader* s) {
    return reinterpret_cast<uintptr_t*>(reinterpret_cast<char*>(s) +
                                        kStackOffset);
  }

  size_t SlabColor(const SlabHeader* s) const {
    return s->objects - reinterpret_cast<uintptr_t>(s) - array_offset_;
  }

  static uint64_t RotateRight(uint64_t x, unsigned k) {
    return k == 0 ? x : (x >> k) | (x << (64 - k));
  }

  // The large slab holding `p`, through the map, remembered in the memo.
  // Fatal if there is none.
  ABSL_ATTRIBUTE_NOINLINE SlabHeader* LookupLarge(const void* p) {
    SlabHeader* s = map_->Find(reinterpret_cast<uintptr_t>(p) & slab_mask_);
    if (ABSL_PREDICT_FALSE(s == nullptr)) ForeignFree(p);
    memo_base_ = reinterpret_cast<uintptr_t>(s);
    memo_slab_ = s;
    return s;
  }

  // Forgets the memoised slab (before it is released).
  void ResetMemo() {
    memo_base_ = 0;
    memo_slab_ = &sentinel_;
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE SlabHeader* SlabOf(const void* p) const {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p) & slab_mask_;
    if (ABSL_PREDICT_TRUE(aligned_)) return reinterpret_cast<SlabHeader*>(a);
    return map_->Find(a);
  }

  // Pops the top entry of `s`, which is on the list and has a free object.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void* PopFrom(SlabHeader* s) {
    const uint32_t c = s->count - 1;
    s->count = c;
    const uintptr_t e = Stack(s)[c];
    if (ABSL_PREDICT_FALSE(c == 0)) Unlink(s);  // now has no free object
    if constexpr (Init::kTracks) {
      if (ABSL_PREDICT_FALSE((e & kInitBit) == 0)) return Construct(e);
      return reinterpret_cast<void*>(e - kInitBit);
    } else {
      return reinterpret_cast<void*>(e);
    }
  }

  // Pushes `p` onto slab `s`, whose stack holds `c` entries, and applies the
  // list transition if the slab was full of live objects or is now
  // completely free.
  void Push(SlabHeader* s, uint32_t c, void* p, bool initialised) {
    Stack(s)[c] = reinterpret_cast<uintptr_t>(p) | (initialised ? kInitBit : 0);
    s->count = c + 1;
    if (c == 0 || c + 1 == num_obj_) AfterPush(s, c);
  }

  // The rare frees: into a slab with no free object, one that makes its
  // slab completely free, and double frees into a completely free slab.
  ABSL_ATTRIBUTE_NOINLINE void DeallocSlow(SlabHeader* s, uint32_t c, void* p) {
    ALLOC_CHECK(c != num_obj_, "slab_alloc: double free: %p", p);
#if ALLOC_DCHECK_IS_ON
    CheckNotOnStack(s, p);
#endif
    Push(s, c, p, /*initialised=*/true);
  }

  [[noreturn]] ABSL_ATTRIBUTE_NOINLINE static void ForeignFree(const void* p) {
    alloc_fmt::Fatal("slab_alloc: free of a pointer not from this cache: %p",
                     p);
  }

  ABSL_ATTRIBUTE_NOINLINE void* AllocSlow() {
    SlabHeader* s = head_;
    if (s == &sentinel_) {
      s = NewSlab();
      if (s == nullptr) return nullptr;
      LinkBack(s);
      ++total_slabs_;
      ++num_free_;
    }
    // `s` is completely free: one fewer free slab from now on.
    --num_free_;
    working_set_.UpdateMin(num_free_);
    return PopFrom(s);
  }

  // Constructs the never-initialised object of entry `e`.
  ABSL_ATTRIBUTE_NOINLINE void* Construct(uintptr_t e) {
    void* p = reinterpret_cast<void*>(e);
    if constexpr (Init::kTracks) {
#if defined(__cpp_exceptions)
      try {
        init_.Construct(p);
      } catch (...) {
        // Give the memory back, still uninitialised, then let it propagate.
        SlabHeader* s = SlabOf(p);
        Push(s, s->count, p, /*initialised=*/false);
        throw;
      }
#else
      init_.Construct(p);
#endif
    }
    return p;
  }

  // List bookkeeping after a push onto a slab that held `old` entries.
  ABSL_ATTRIBUTE_NOINLINE void AfterPush(SlabHeader* s, uint32_t old) {
    const bool was_empty = old == 0;            // was on no list
    const bool now_free = old + 1 == num_obj_;  // completely free now
    if (was_empty && now_free) {
      LinkBack(s);
    } else if (was_empty) {
      LinkFront(s);
    } else if (now_free) {
      Unlink(s);
      LinkBack(s);
    }
    if (now_free) {
      ++num_free_;
      // Reclaim only when a slab has just become free: that is the only
      // moment the number of free slabs grows, so it is the only moment
      // there can be more free slabs than the working set needs, and it
      // keeps the clock read off the common paths.
      Reclaim();
    }
  }

  // The working-set policy: at the end of a period, release the minimum
  // number of free slabs seen during it (from the back, where free slabs
  // are) and start the next period at the current count.
  void Reclaim() {
    const std::optional<size_t> min_free = working_set_.Refresh();
    if (!min_free.has_value()) return;
    size_t n = *min_free;
    ALLOC_DCHECK_LE(n, num_free_);
    if (n > num_free_) n = num_free_;
    for (size_t i = 0; i < n; ++i) {
      SlabHeader* s = tail_;
      Unlink(s);
      ReleaseSlab(s);
      --total_slabs_;
      --num_free_;
    }
    working_set_.Set(num_free_);
  }

  // A new slab with every object on its stack, uninitialised, object 0 on
  // top: a fresh slab hands out its objects in ascending address order, so
  // the first writes to its memory (constructors, or the caller's) run
  // forward through it, the pattern hardware prefetchers follow. (Popping
  // the highest index first, as the original did, wrote each slab
  // backwards: allocating fresh 1 KiB objects with a zeroing constructor
  // took about 1.4x as long.)
  // nullptr if the backing (or, for large slabs, the map) is out of memory.
  SlabHeader* NewSlab() {
    void* mem = aligned_ ? aligned_backing_->Alloc() : large_backing_->Alloc();
    if (mem == nullptr) return nullptr;
    const uintptr_t base = reinterpret_cast<uintptr_t>(mem);
    const size_t need = aligned_ ? geometry_.slab_size : page_;
    ALLOC_CHECK((base & (need - 1)) == 0,
                "slab_alloc: backing returned a slab at %p, not aligned to "
                "%zu",
                mem, need);
    const size_t color = colors_.Next();
    uintptr_t obj = base + array_offset_ + color;
    SlabHeader* s =
        ::new (mem) SlabHeader{num_obj_, id_, obj, nullptr, nullptr};
    uintptr_t* stack = Stack(s);
    for (uint32_t i = num_obj_; i-- > 0; obj += stride_) stack[i] = obj;
    if (!aligned_ && !MapSlab(s)) {
      large_backing_->Dealloc(mem);
      return nullptr;
    }
    return s;
  }

  // The i-th map key of large slab `s`.
  uintptr_t KeyOf(const SlabHeader* s, size_t i) const {
    const uintptr_t base = reinterpret_cast<uintptr_t>(s);
    return by_page_ ? base + i * page_ : s->objects + i * stride_;
  }
  size_t KeysPerSlab() const {
    return by_page_ ? geometry_.slab_size / page_ : geometry_.num_obj;
  }

  // Enters every key of `s` in the map; on failure removes those added.
  bool MapSlab(SlabHeader* s) {
    const size_t n = KeysPerSlab();
    for (size_t i = 0; i < n; ++i) {
      if (!map_->Insert(KeyOf(s, i), s)) {
        while (i-- > 0) map_->Delete(KeyOf(s, i));
        return false;
      }
    }
    return true;
  }

  // Gives a completely free slab back to the backing, destroying the
  // objects it caches.
  void ReleaseSlab(SlabHeader* s) {
    if (!aligned_) {
      if (memo_slab_ == s) ResetMemo();
      const size_t n = KeysPerSlab();
      for (size_t i = 0; i < n; ++i) map_->Delete(KeyOf(s, i));
    }
    if constexpr (Init::kDestroys) {
      const uintptr_t* stack = Stack(s);
      for (uint32_t i = 0; i < num_obj_; ++i) {
        if (stack[i] & kInitBit) {
          init_.Destroy(reinterpret_cast<void*>(stack[i] - kInitBit));
        }
      }
    }
    if (aligned_) {
      aligned_backing_->Dealloc(s);
    } else {
      large_backing_->Dealloc(s);
    }
  }

  // Debug builds: a pointer already on its slab's stack is a double free.
  void CheckNotOnStack(SlabHeader* s, void* p) const {
    const uintptr_t want = reinterpret_cast<uintptr_t>(p);
    const uintptr_t* stack = Stack(s);
    for (uint32_t i = 0; i < s->count; ++i) {
      ALLOC_CHECK((stack[i] & ~kInitBit) != want, "slab_alloc: double free: %p",
                  p);
    }
  }

  // --- Slab list -----------------------------------------------------------

  // The first slab on the list, or nullptr if it is empty.
  SlabHeader* First() const { return head_ == &sentinel_ ? nullptr : head_; }

  void LinkFront(SlabHeader* s) {
    s->prev = nullptr;
    s->next = First();
    if (s->next != nullptr) {
      s->next->prev = s;
    } else {
      tail_ = s;
    }
    head_ = s;
  }

  void LinkBack(SlabHeader* s) {
    s->next = nullptr;
    s->prev = tail_;
    if (tail_ != nullptr) {
      tail_->next = s;
    } else {
      head_ = s;
    }
    tail_ = s;
  }

  void Unlink(SlabHeader* s) {
    if (s->prev != nullptr) {
      s->prev->next = s->next;
    } else {
      head_ = s->next != nullptr ? s->next : &sentinel_;
    }
    if (s->next != nullptr) {
      s->next->prev = s->prev;
    } else {
      tail_ = s->prev;
    }
    s->next = nullptr;
    s->prev = nullptr;
  }

  // Fields read by Alloc and Dealloc come first and fill one 64-byte line
  // (with the large-slab memo); everything else is for slow paths.
  //
  // The slab list: partial slabs, then completely free ones. head_ is
  // &sentinel_ when the list is empty (so Alloc needs no null test); tail_
  // is then nullptr.
  SlabHeader* head_ = &sentinel_;
  uintptr_t slab_mask_ = 0;      // aligned: ~(slab_size - 1); large: key mask
  uint64_t stride_inverse_ = 1;  // (stride >> stride_shift_)^-1 mod 2^64
  uint32_t num_obj_ = 0;
  uint32_t push_slow_above_ = 0;  // see Dealloc
  uint32_t id_;
  uint8_t stride_shift_ = 0;  // trailing zero bits of the stride
  bool aligned_ = false;
  // Large slabs: a one-entry memo of the last slab found through the map.
  // Frees tend to come in runs from the same slab; a hit costs one compare
  // instead of a hash lookup. memo_base_ is the memoised slab's address and
  // memo_size_ the slab size, so `p - memo_base_ < memo_size_` is exactly
  // "p is inside it". With nothing memoised, memo_base_ is 0 and
  // memo_slab_ points at sentinel_, a header owned by no cache, so a stray
  // tiny pointer is still reported as foreign.
  uintptr_t memo_base_ = 0;
  size_t memo_size_ = 0;
  SlabHeader* memo_slab_ = &sentinel_;

  SlabHeader* tail_ = nullptr;
  bool by_page_ = false;  // large slabs keyed by page (else by object)
  Init init_;
  std::optional<LargeSlabMap> map_;  // large slabs only
  // Stands for "no slab": ends the empty list (its count is num_obj_, so it
  // looks completely free to Alloc) and is the memo's empty value (its
  // owner, 0, is no cache's id). Never linked, popped or pushed.
  SlabHeader sentinel_{0, 0, 0, nullptr, nullptr};
  size_t array_offset_ = 0;
  size_t stride_ = 0;
  size_t total_slabs_ = 0;
  size_t num_free_ = 0;  // completely free slabs
  WorkingSet<Clock> working_set_;
  ColorCycle colors_;
  std::optional<AlignedAlloc> aligned_backing_;
  std::optional<LargeAlloc> large_backing_;
  object_alloc::Layout user_layout_;
  SlabGeometry geometry_;
  size_t page_;
};

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_INTERNAL_SLAB_CACHE_H_
