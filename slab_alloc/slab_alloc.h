// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// slab_alloc: Bonwick-style object caches.
//
// A slab cache serves objects of one type (SlabAlloc<T>) or one layout
// (UntypedSlabAlloc) from slabs, blocks of memory carved into equal slots.
// It caches objects in their constructed state: the constructor runs only
// the first time a slot is handed out, a freed object is kept as it is, and
// destructors run only when a slab goes back to its backing memory. Types
// that are expensive to construct and cheap to reset (a buffer with an
// allocated table, a mutex, a pre-built graph node) are allocated for little
// more than the cost of a pointer pop.
//
//   #include "slab_alloc/slab_alloc.h"
//   using allocators::slab_alloc::SlabAllocBuilder;
//
//   auto cache = SlabAllocBuilder<Connection>::Default().Build();
//   Connection* c = cache.Alloc();   // constructed (or a cached object)
//   ...
//   cache.Dealloc(c);                // stays constructed for the next Alloc
//
// Builders choose how new objects are initialised:
//   SlabAllocBuilder<T>::Default()       ::new (p) T()
//   SlabAllocBuilder<T>::Func(f)         ::new (p) T(f())
//   SlabAllocBuilder<T>::UnsafeFunc(f)   f(T* p) constructs in place
//   SlabAllocBuilder<T>::NoInitialize()  raw memory; no constructor or
//                                        destructor ever runs
//   UntypedSlabAllocBuilder<>::NoInitialize(layout)
//   UntypedSlabAllocBuilder<>::UnsafeFunc(layout, f)   f(void* p)
// and, before Build*():
//   .align(a)            raise the alignment (power of two, divides the
//                        object size, at most a page; the largest wins)
//   .coloring(false)     disable slab colouring
//   .working_period(d)   reclamation period (default 15 s)
//   .clock(c)            the clock reclamation reads (tests inject one)
// and then the memory source: Build() / BuildUntyped() use the C++ heap,
// BuildMmap() / BuildUntypedMmap() use mmap_alloc, BuildBacking(b) /
// BuildUntypedBacking(b) any backing provider (backing.h).
//
// The caches implement object_alloc's interfaces: SlabAlloc<T> is an
// ObjectAlloc<T> (Alloc() returns T*), UntypedSlabAlloc an
// UntypedObjectAlloc (Alloc() returns void*; layout()). Alloc returns
// nullptr when the backing is exhausted.
//
// Misuse detected (fatal, one line on stderr; see internal/slab_cache.h):
// freeing a pointer that is not an object of this cache, freeing an object
// into a slab whose free stack is full (and, in debug builds, any double
// free whose first free is still on the slab's stack), destroying a cache
// with live objects, and invalid builder arguments.
//
// Thread-compatible: a cache must not be used by two threads at once (use
// one per thread, or an external lock). Caches are neither copyable nor
// movable; Build*() returns them by value through guaranteed copy elision
// (`auto cache = builder.Build();`).

#ifndef SLAB_ALLOC_SLAB_ALLOC_H_
#define SLAB_ALLOC_SLAB_ALLOC_H_

#include <chrono>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "alloc_fmt/check.h"
#include "mmap_alloc/mmap_alloc.h"
#include "object_alloc/object_alloc.h"
#include "slab_alloc/backing.h"
#include "slab_alloc/internal/init.h"
#include "slab_alloc/internal/slab_cache.h"
#include "slab_alloc/internal/working_set.h"

namespace allocators {
namespace slab_alloc {

// Init policies (internal/init.h), named for use in cache types.
using NoInit = internal::NoInit;
template <typename T>
using DefaultInit = internal::DefaultInit<T>;
template <typename T, typename F>
using FuncInit = internal::FuncInit<T, F>;
template <typename T, typename F>
using UnsafeFuncInit = internal::UnsafeFuncInit<T, F>;
template <typename F>
using UntypedFuncInit = internal::UntypedFuncInit<F>;

// The default clock for working-set reclamation.
using SteadyClock = internal::SteadyClock;

// The default working period.
inline constexpr std::chrono::nanoseconds kDefaultWorkingPeriod =
    internal::kDefaultWorkingPeriod;

template <typename T, typename Init, typename Clock>
class SlabAllocBuilder;
template <typename Init, typename Clock>
class UntypedSlabAllocBuilder;

namespace internal {

// The part SlabAlloc and UntypedSlabAlloc share: the engine and the
// introspection that tests, benchmarks and monitoring use.
// Thread-compatible.
template <typename Init, typename Backing, typename Clock>
class CacheHandle {
 public:
  CacheHandle(const CacheHandle&) = delete;
  CacheHandle& operator=(const CacheHandle&) = delete;

  // The user's layout, with its alignment raised by align().
  object_alloc::Layout layout() const { return cache_.layout(); }

  // Objects handed out and not yet freed.
  size_t live_objects() const { return cache_.live_objects(); }
  // Slabs held, and how many of them are completely free.
  size_t slabs() const { return cache_.slabs(); }
  size_t free_slabs() const { return cache_.free_slabs(); }
  // Bytes per slab and objects per slab.
  size_t slab_size() const { return cache_.geometry().slab_size; }
  size_t objects_per_slab() const { return cache_.geometry().num_obj; }
  // True for aligned slabs (slab found by masking), false for large slabs
  // (slab found through the hash map).
  bool uses_aligned_slabs() const { return cache_.uses_aligned_slabs(); }
  // Fatal if an internal invariant is broken. O(slabs).
  void CheckInvariants() const { cache_.CheckInvariants(); }
  // The engine, for white-box tests.
  const SlabCache<Init, Backing, Clock>& cache_for_testing() const {
    return cache_;
  }

 protected:
  CacheHandle(Init init, const CacheConfig& config, Backing backing,
              Clock clock)
      : cache_(std::move(init), config, std::move(backing), std::move(clock)) {}
  ~CacheHandle() = default;

  SlabCache<Init, Backing, Clock> cache_;
};

}  // namespace internal

// A typed slab cache of T. Alloc() returns a constructed T (when built with
// an initialising builder) or raw memory for T (NoInitialize()).
// Thread-compatible; not copyable or movable.
template <typename T, typename Init = DefaultInit<T>,
          typename Backing = HeapBacking, typename Clock = SteadyClock>
class SlabAlloc : public internal::CacheHandle<Init, Backing, Clock> {
 public:
  using value_type = T;

  // A T, or nullptr if the backing is out of memory. Exceptions from the
  // constructor propagate (the slot stays in the cache, uninitialised).
  ABSL_ATTRIBUTE_ALWAYS_INLINE T* Alloc() {
    return static_cast<T*>(this->cache_.Alloc());
  }

  // Takes p back; it stays constructed and may be handed out again as is.
  // REQUIRES: p came from Alloc() of this cache and has not been freed since
  // (fatal where detected).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Dealloc(T* p) {
    this->cache_.Dealloc(static_cast<void*>(p));
  }

 private:
  template <typename, typename, typename>
  friend class SlabAllocBuilder;

  SlabAlloc(Init init, const internal::CacheConfig& config, Backing backing,
            Clock clock)
      : internal::CacheHandle<Init, Backing, Clock>(
            std::move(init), config, std::move(backing), std::move(clock)) {}
};

// An untyped slab cache: objects of one layout. Alloc() returns memory of
// layout().size bytes aligned to layout().align: initialised by the init
// function when the builder had one, raw otherwise.
// Thread-compatible; not copyable or movable.
template <typename Init = NoInit, typename Backing = HeapBacking,
          typename Clock = SteadyClock>
class UntypedSlabAlloc : public internal::CacheHandle<Init, Backing, Clock> {
 public:
  // An object, or nullptr if the backing is out of memory.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void* Alloc() { return this->cache_.Alloc(); }

  // REQUIRES: p came from Alloc() of this cache and is live (fatal where
  // detected).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Dealloc(void* p) {
    this->cache_.Dealloc(p);
  }

 private:
  template <typename, typename, typename>
  friend class SlabAllocBuilder;
  template <typename, typename>
  friend class UntypedSlabAllocBuilder;

  UntypedSlabAlloc(Init init, const internal::CacheConfig& config,
                   Backing backing, Clock clock)
      : internal::CacheHandle<Init, Backing, Clock>(
            std::move(init), config, std::move(backing), std::move(clock)) {}
};

namespace internal {

// The checks of the builders' align() (the original's asserts). Fatal with
// a message naming the bad value.
inline void CheckAlign(size_t align, size_t size) {
  ALLOC_CHECK(align != 0 && (align & (align - 1)) == 0,
              "slab_alloc: align(%zu) is not a power of two", align);
  ALLOC_CHECK(align <= size && size % align == 0,
              "slab_alloc: align(%zu) does not divide the object size %zu",
              align, size);
  ALLOC_CHECK(align <= mmap_alloc::PageSize(),
              "slab_alloc: align(%zu) exceeds the page size %zu", align,
              mmap_alloc::PageSize());
}

// Options shared by both builders (CRTP: setters return the derived
// builder). A value type; thread-compatible.
template <typename Derived, typename Clock>
class BuilderOptions {
 public:
  // Raises the guaranteed alignment to `align` (the largest of all calls
  // wins). REQUIRES: align is a power of two, divides the object size and
  // is at most the page size (fatal otherwise).
  Derived& align(size_t align) {
    CheckAlign(align, config_.layout.size);
    if (align > config_.layout.align) config_.layout.align = align;
    return self();
  }

  // Slab colouring staggers the first object of successive slabs by
  // multiples of the alignment, so objects at equal indices do not compete
  // for the same cache sets. On by default.
  Derived& coloring(bool on) {
    config_.coloring = on;
    return self();
  }

  // How long a working period lasts: at its end the cache releases as many
  // completely free slabs as it never needed during the period. Default 15
  // s; nanoseconds::max() never reclaims (slabs are then only released when
  // the cache is destroyed). REQUIRES: period >= 0 (fatal otherwise).
  Derived& working_period(std::chrono::nanoseconds period) {
    ALLOC_CHECK(period.count() >= 0,
                "slab_alloc: negative working period %lld ns",
                static_cast<long long>(period.count()));
    config_.working_period = period;
    return self();
  }

  const CacheConfig& config() const { return config_; }

 protected:
  BuilderOptions(object_alloc::Layout layout, Clock clock)
      : clock_(std::move(clock)) {
    config_.layout = layout;
  }
  BuilderOptions(const CacheConfig& config, Clock clock)
      : config_(config), clock_(std::move(clock)) {}

  CacheConfig config_;
  Clock clock_;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace internal

// Configures and builds a SlabAlloc<T> (or an UntypedSlabAlloc of T's
// layout). Start from one of the static constructors, which fix the init
// policy. A value type; copyable when the init callable is.
template <typename T, typename Init = DefaultInit<T>,
          typename Clock = SteadyClock>
class SlabAllocBuilder
    : public internal::BuilderOptions<SlabAllocBuilder<T, Init, Clock>, Clock> {
  using Base =
      internal::BuilderOptions<SlabAllocBuilder<T, Init, Clock>, Clock>;

 public:
  // New objects are value-initialised: ::new (p) T().
  static SlabAllocBuilder<T, DefaultInit<T>> Default() {
    static_assert(std::is_default_constructible_v<T>,
                  "Default() needs a default-constructible T");
    return SlabAllocBuilder<T, DefaultInit<T>>(DefaultInit<T>{});
  }

  // New objects are made from a factory: ::new (p) T(f()).
  template <typename F>
  static SlabAllocBuilder<T, FuncInit<T, std::decay_t<F>>> Func(F&& f) {
    return SlabAllocBuilder<T, FuncInit<T, std::decay_t<F>>>(
        FuncInit<T, std::decay_t<F>>(std::forward<F>(f)));
  }

  // New objects are constructed in place by f(T* p).
  // REQUIRES (unchecked): f constructs a valid T at p; the cache will
  // destroy it as a T.
  template <typename F>
  static SlabAllocBuilder<T, UnsafeFuncInit<T, std::decay_t<F>>> UnsafeFunc(
      F&& f) {
    return SlabAllocBuilder<T, UnsafeFuncInit<T, std::decay_t<F>>>(
        UnsafeFuncInit<T, std::decay_t<F>>(std::forward<F>(f)));
  }

  // No initialisation: Alloc() returns raw memory for a T (fresh or as it
  // was freed) and nothing is ever constructed or destroyed by the cache.
  static SlabAllocBuilder<T, NoInit> NoInitialize() {
    return SlabAllocBuilder<T, NoInit>(NoInit{});
  }

  // The same configuration with another clock (see working_set.h).
  template <typename C>
  SlabAllocBuilder<T, Init, C> clock(C c) const {
    return SlabAllocBuilder<T, Init, C>(init_, this->config_, std::move(c));
  }

  // Builds a cache whose slabs come from the C++ heap.
  SlabAlloc<T, Init, HeapBacking, Clock> Build() const {
    return BuildBacking(HeapBacking{});
  }
  // Builds a cache whose slabs come from mmap_alloc.
  SlabAlloc<T, Init, MmapBacking, Clock> BuildMmap() const {
    return BuildBacking(MmapBacking{});
  }
  // Builds a cache over a custom backing provider (backing.h).
  template <typename B>
  SlabAlloc<T, Init, B, Clock> BuildBacking(B backing) const {
    return SlabAlloc<T, Init, B, Clock>(init_, this->config_,
                                        std::move(backing), this->clock_);
  }

  // The untyped forms: the same cache behind the untyped interface.
  UntypedSlabAlloc<Init, HeapBacking, Clock> BuildUntyped() const {
    return BuildUntypedBacking(HeapBacking{});
  }
  UntypedSlabAlloc<Init, MmapBacking, Clock> BuildUntypedMmap() const {
    return BuildUntypedBacking(MmapBacking{});
  }
  template <typename B>
  UntypedSlabAlloc<Init, B, Clock> BuildUntypedBacking(B backing) const {
    return UntypedSlabAlloc<Init, B, Clock>(init_, this->config_,
                                            std::move(backing), this->clock_);
  }

 private:
  template <typename, typename, typename>
  friend class SlabAllocBuilder;

  explicit SlabAllocBuilder(Init init)
      : Base(object_alloc::Layout::Of<T>(), Clock()), init_(std::move(init)) {
    // T's own alignment must also fit a slab.
    ALLOC_CHECK(alignof(T) <= mmap_alloc::PageSize(),
                "slab_alloc: alignof(T) %zu exceeds the page size %zu",
                alignof(T), mmap_alloc::PageSize());
  }
  SlabAllocBuilder(Init init, const internal::CacheConfig& config, Clock clock)
      : Base(config, std::move(clock)), init_(std::move(init)) {}

  Init init_;
};

// Configures and builds an UntypedSlabAlloc for objects of a given layout.
// A value type; copyable when the init callable is.
template <typename Init = NoInit, typename Clock = SteadyClock>
class UntypedSlabAllocBuilder
    : public internal::BuilderOptions<UntypedSlabAllocBuilder<Init, Clock>,
                                      Clock> {
  using Base =
      internal::BuilderOptions<UntypedSlabAllocBuilder<Init, Clock>, Clock>;

 public:
  // Objects of `layout`, handed out uninitialised (the original's
  // UntypedSlabAllocBuilder::new / no_initialize).
  // REQUIRES: layout.IsValid() and layout.align <= page size (fatal
  // otherwise).
  static UntypedSlabAllocBuilder<NoInit> NoInitialize(
      object_alloc::Layout layout) {
    return UntypedSlabAllocBuilder<NoInit>(NoInit{}, layout);
  }

  // Objects of `layout`; never-initialised memory is passed to f(void* p)
  // before it is first handed out; nothing is destroyed on release.
  // REQUIRES: as for NoInitialize.
  template <typename F>
  static UntypedSlabAllocBuilder<UntypedFuncInit<std::decay_t<F>>> UnsafeFunc(
      object_alloc::Layout layout, F&& f) {
    return UntypedSlabAllocBuilder<UntypedFuncInit<std::decay_t<F>>>(
        UntypedFuncInit<std::decay_t<F>>(std::forward<F>(f)), layout);
  }

  template <typename C>
  UntypedSlabAllocBuilder<Init, C> clock(C c) const {
    return UntypedSlabAllocBuilder<Init, C>(init_, this->config_, std::move(c));
  }

  UntypedSlabAlloc<Init, HeapBacking, Clock> Build() const {
    return BuildBacking(HeapBacking{});
  }
  UntypedSlabAlloc<Init, MmapBacking, Clock> BuildMmap() const {
    return BuildBacking(MmapBacking{});
  }
  template <typename B>
  UntypedSlabAlloc<Init, B, Clock> BuildBacking(B backing) const {
    return UntypedSlabAlloc<Init, B, Clock>(init_, this->config_,
                                            std::move(backing), this->clock_);
  }

 private:
  template <typename, typename>
  friend class UntypedSlabAllocBuilder;

  UntypedSlabAllocBuilder(Init init, object_alloc::Layout layout)
      : Base(layout, Clock()), init_(std::move(init)) {
    ALLOC_CHECK(layout.IsValid(),
                "slab_alloc: invalid object layout (size %zu, align %zu)",
                layout.size, layout.align);
    ALLOC_CHECK(layout.align <= mmap_alloc::PageSize(),
                "slab_alloc: alignment %zu exceeds the page size %zu",
                layout.align, mmap_alloc::PageSize());
  }
  UntypedSlabAllocBuilder(Init init, const internal::CacheConfig& config,
                          Clock clock)
      : Base(config, std::move(clock)), init_(std::move(init)) {}

  Init init_;
};

static_assert(object_alloc::kIsObjectAlloc<SlabAlloc<int>, int>);
static_assert(object_alloc::kIsUntypedObjectAlloc<UntypedSlabAlloc<>>);

}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_SLAB_ALLOC_H_
