// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Size-specific elfmalloc allocators: the slag machinery of the general
// allocator, dedicated to objects of one type or layout, as object
// allocators (object_alloc/object_alloc.h).
//
// Typed: objects stay constructed while cached (Bonwick's object caching).
// An object is made the first time a slag hands it out, a freed object goes
// back to the pools as it is, and the next Alloc may hand it out again
// without running a constructor; destructors run when a slag's page goes
// back to the page allocator (all its objects free).
//
//   elfmalloc::MagazineAllocator<Conn> conns;           // Conn() on first use
//   Conn* c = conns.Alloc();
//   std::thread t([h = conns]() mutable {  // a copy is a new per-thread
//     Conn* d = h.Alloc();                 // handle onto the same pools
//     h.Dealloc(d);
//   });
//   conns.Dealloc(c);                      // any handle may free any object
//   elfmalloc::MagazineAllocator<Conn> made({}, [] { return Conn(kPort); });
//
// Untyped, by layout (raw memory, no construction):
//
//   auto a = elfmalloc::UntypedMagazineAllocator(object_alloc::Layout{24, 8});
//   void* p = a.Alloc();
//   a.Dealloc(p);
//
// The Magazine allocators use the MagazineCache front-end and the Local
// ones the LocalCache one (internal/magazine_cache.h,
// internal/local_cache.h). Every handle owns a front-end; the pools (page
// allocator, available-slag bag, geometry, initialiser) are shared by all
// handles copied from the same original and live until the last handle
// goes.
//
// Builder defaults are the original's AllocBuilder's: reuse cutoff 0.6 of a
// slag's objects, slag size max(32 KiB, 4 x object size) rounded up to a
// power of two, at most 1 MiB of free pages kept committed (the original
// compared this byte figure with a page count; here it is bytes), eager
// decommit of freed slags of at least 128 KiB, and pages unused for 1 s
// returned to the OS.
//
// Objects are sizeof-rounded to the alignment (and to at least 8 bytes);
// alignments up to a quarter of the slag size are honoured.
//
// Construction and destruction (typed): the constructor runs on the thread
// that first hands an object out, the destructor on the thread that frees
// the last object of a slag (any handle's thread). Neither may throw: a
// constructor that throws stops the process with a one-line error, and T
// must be nothrow-destructible.
//
// Thread-safety: a handle is thread-compatible (one thread at a time);
// different handles of the same pools may be used concurrently, and an
// object may be freed through any handle of its pools. Destroying the last
// handle returns every free slag's memory (destroying its objects);
// objects still allocated then are leaked with their slags (still mapped,
// never unmapped under a user), and so are the free objects that share a
// slag with them.

#ifndef ELFMALLOC_OBJECT_ALLOCATORS_H_
#define ELFMALLOC_OBJECT_ALLOCATORS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "absl/base/config.h"
#include "alloc_fmt/check.h"
#include "alloc_fmt/format.h"
#include "bsalloc/bsalloc.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/frontends.h"
#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/internal/slag_geometry.h"
#include "object_alloc/object_alloc.h"

namespace allocators {
namespace elfmalloc {

struct ObjectAllocOptions {
  // Typed allocators: objects aligned to at least this (0: alignof(T)).
  // Untyped ones take their layout's alignment.
  size_t align = 0;
  double cutoff_factor = 0.6;
  size_t slag_bytes = 0;  // 0: max(32 KiB, 4 x object size), power of two
  size_t max_dirty_bytes = size_t{1} << 20;
  size_t eager_decommit_bytes = size_t{128} << 10;
  int64_t decay_ms = 1000;
};

namespace internal {

// A typed pool's initialiser and what frees its state (owned by the pools).
struct OwnedInit {
  ObjectInit init;
  void (*release)(void* ctx) = nullptr;
};

}  // namespace internal

// An untyped object allocator over front-end FE (one handle; see the file
// comment). Thread-compatible; handles of the same pools may be used
// concurrently.
template <typename FE>
class SizedAllocator {
 public:
  // REQUIRES: layout.IsValid() and layout.align <= slag size / 4 (fatal,
  // naming the value, otherwise).
  explicit SizedAllocator(object_alloc::Layout layout,
                          const ObjectAllocOptions& options = {})
      : SizedAllocator(layout, options, internal::OwnedInit{}) {}
  // The same, for a typed pool: `init` makes and ends its objects, and its
  // release (if any) runs with the pools' destruction. REQUIRES: FE
  // constructs objects (Config::kConstructs) if and only if init has a
  // construct function.
  SizedAllocator(object_alloc::Layout layout, const ObjectAllocOptions& options,
                 internal::OwnedInit init)
      : shared_(Shared::Create(layout, options, init)) {
    ALLOC_CHECK(FE::kConstructs == (init.init.construct != nullptr),
                "elfmalloc: a typed pool needs a constructing front-end");
    InitHandle();
  }
  // A new handle onto the same pools, for another thread.
  SizedAllocator(const SizedAllocator& other) : shared_(other.shared_) {
    shared_->refs.fetch_add(1, std::memory_order_relaxed);
    InitHandle();
  }
  SizedAllocator& operator=(const SizedAllocator&) = delete;
  ~SizedAllocator() {
    fe_.Shutdown();
    pages().~Handle();
    if (shared_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      Shared::Destroy(shared_);
    }
  }

  object_alloc::Layout layout() const { return shared_->layout; }

  // An object of layout(), or nullptr (errno ENOMEM) if no memory is left.
  void* Alloc() { return internal::AllocFrom(fe_); }

  // REQUIRES: p came from Alloc() on a handle of the same pools.
  void Dealloc(void* p) { fe_.Free(p); }

  // The slag layout these pools use (for tests and statistics).
  const internal::SlagGeometry& geometry() const { return shared_->pool.geom; }

 private:
  struct Shared {
    static Shared* Create(object_alloc::Layout layout,
                          const ObjectAllocOptions& o, internal::OwnedInit init) {
      ALLOC_CHECK(layout.IsValid(), "elfmalloc: invalid layout {%zu, %zu}",
                  layout.size, layout.align);
      size_t align = layout.align < 8 ? 8 : layout.align;
      const size_t size = (layout.size + align - 1) / align * align;
      size_t slag = o.slag_bytes;
      if (slag == 0) {
        slag = size_t{32} << 10;
        while (slag < 4 * size) slag <<= 1;
      }
      ALLOC_CHECK(align <= slag / 4,
                  "elfmalloc: alignment %zu too large for %zu-byte slags",
                  layout.align, slag);
      void* mem = bsalloc::Alloc(sizeof(Shared), alignof(Shared));
      ALLOC_CHECK(mem != nullptr, "elfmalloc: out of memory for %zu-byte pools",
                  sizeof(Shared));
      return new (mem) Shared(layout, size, align, slag, o, init);
    }
    static void Destroy(Shared* s) {
      {
        // Return the slags parked in the bag whose objects are all free
        // (destroying them); ~PageAlloc unmaps the pages. A slag that
        // still holds an object stays mapped (leaked with it).
        internal::PageAlloc::Handle h(&s->page_alloc);
        internal::AvailableBag bag(s->bag);
        internal::Slag* slag;
        const uint64_t all_free = s->pool.geom.n_objects * internal::kRcOne;
        while (bag.PopMut(&slag)) {
          if (slag->rc.load(std::memory_order_acquire) == all_free) {
            internal::ReleaseSlagPage(&s->pool, &h, slag);
          }
        }
      }
      void (*const release)(void*) = s->release_init;
      void* const ctx = s->pool.init.ctx;
      s->~Shared();
      bsalloc::Free(s, sizeof(Shared));
      if (release != nullptr) release(ctx);
    }

    Shared(object_alloc::Layout l, size_t size, size_t align, size_t slag,
           const ObjectAllocOptions& o, internal::OwnedInit i)
        : layout(l),
          release_init(i.release),
          page_alloc(internal::PageAllocOptions{
              slag, 2, 8, o.max_dirty_bytes, o.decay_ms}),
          bag(8) {
      pool.geom =
          internal::ComputeGeometry(size, slag, o.cutoff_factor, slag, align);
      ALLOC_CHECK(internal::GeometryIsValid(pool.geom),
                  "elfmalloc: no slag layout for %zu-byte objects in %zu bytes",
                  size, slag);
      pool.kind = internal::SlagKind::kSmall;
      pool.map_tag = 0;
      pool.eager_decommit_bytes = o.eager_decommit_bytes;
      pool.pages = &page_alloc;
      pool.available = &bag;
      pool.init = i.init;
    }

    std::atomic<size_t> refs{1};
    object_alloc::Layout layout;
    void (*release_init)(void* ctx);  // frees pool.init.ctx, or nullptr
    internal::PageAlloc page_alloc;
    internal::AvailableBag bag;
    internal::ClassPool pool;
  };

  void InitHandle() {
    new (pages_storage_) internal::PageAlloc::Handle(&shared_->page_alloc);
    fe_.Setup(&shared_->pool, &pages(), FE::CapacityFor(shared_->pool.geom));
  }
  internal::PageAlloc::Handle& pages() {
    return *std::launder(
        reinterpret_cast<internal::PageAlloc::Handle*>(pages_storage_));
  }

  Shared* shared_;
  alignas(internal::PageAlloc::Handle) unsigned char
      pages_storage_[sizeof(internal::PageAlloc::Handle)];
  FE fe_;
};

using UntypedMagazineAllocator =
    SizedAllocator<internal::MagazineCache<internal::MagazineConfig>>;
using UntypedLocalAllocator =
    SizedAllocator<internal::LocalCache<internal::LocalConfig>>;

static_assert(object_alloc::kIsUntypedObjectAlloc<UntypedMagazineAllocator>);
static_assert(object_alloc::kIsUntypedObjectAlloc<UntypedLocalAllocator>);

namespace internal {

struct TypedMagazineConfig : MagazineConfig {
  static constexpr bool kConstructs = true;
};
struct TypedLocalConfig : LocalConfig {
  static constexpr bool kConstructs = true;
};

// The initialiser of a typed pool of T whose objects are made with
// T(make()), with the thunks an ObjectInit calls.
template <typename T, typename F>
struct FactoryInit {
  F make;

  static void Construct(void* ctx, void* p) {
#ifdef ABSL_HAVE_EXCEPTIONS
    try {
      ::new (p) T(static_cast<FactoryInit*>(ctx)->make());
    } catch (...) {
      alloc_fmt::Fatal("elfmalloc: an object allocator's constructor threw");
    }
#else
    ::new (p) T(static_cast<FactoryInit*>(ctx)->make());
#endif
  }
  static void Destroy(void*, void* p) { static_cast<T*>(p)->~T(); }
  static void Release(void* ctx) {
    auto* f = static_cast<FactoryInit*>(ctx);
    f->~FactoryInit();
    bsalloc::Free(f, sizeof(FactoryInit));
  }

  // The pools' copy of `make`, or fatal if there is no memory for it.
  static OwnedInit Own(F make) {
    void* mem = bsalloc::Alloc(sizeof(FactoryInit), alignof(FactoryInit));
    ALLOC_CHECK(mem != nullptr,
                "elfmalloc: out of memory for an object initialiser");
    auto* f = new (mem) FactoryInit{std::move(make)};
    OwnedInit o;
    o.init.construct = &Construct;
    if constexpr (!std::is_trivially_destructible_v<T>) {
      o.init.destroy = &Destroy;
    }
    o.init.ctx = f;
    o.release = &Release;
    return o;
  }
};

}  // namespace internal

// A typed object allocator of T over front-end FE (one handle; see the file
// comment): Alloc() returns a constructed T, either new or one freed
// earlier in the state it was freed in. Thread-compatible; copies are
// handles onto the same pools, for other threads.
template <typename T, typename FE>
class TypedAllocator {
 public:
  using value_type = T;
  static_assert(std::is_nothrow_destructible_v<T>,
                "cached objects are destroyed when their slag is freed, "
                "which cannot report an exception");

  // Objects are value-initialised (T()) when first handed out.
  explicit TypedAllocator(const ObjectAllocOptions& options = {})
      : TypedAllocator(options, [] { return T(); }) {}
  // Objects are made with T(make()) when first handed out; `make` is
  // copied into the pools and called on the allocating thread. REQUIRES:
  // as for SizedAllocator, for the layout {sizeof(T), max(alignof(T),
  // options.align)}.
  template <typename F>
  TypedAllocator(const ObjectAllocOptions& options, F make)
      : raw_(LayoutFor(options), options,
             internal::FactoryInit<T, F>::Own(std::move(make))) {}

  object_alloc::Layout layout() const { return raw_.layout(); }

  // A constructed T, or nullptr (errno ENOMEM) if no memory is left.
  T* Alloc() { return static_cast<T*>(raw_.Alloc()); }

  // Caches `p` as it is (still constructed). REQUIRES: p came from Alloc()
  // on a handle of the same pools and was not freed since.
  void Dealloc(T* p) { raw_.Dealloc(p); }

  // The slag layout these pools use (for tests and statistics).
  const internal::SlagGeometry& geometry() const { return raw_.geometry(); }

 private:
  static object_alloc::Layout LayoutFor(const ObjectAllocOptions& o) {
    return {sizeof(T), o.align > alignof(T) ? o.align : alignof(T)};
  }

  SizedAllocator<FE> raw_;
};

template <typename T>
using MagazineAllocator =
    TypedAllocator<T, internal::MagazineCache<internal::TypedMagazineConfig>>;
template <typename T>
using LocalAllocator =
    TypedAllocator<T, internal::LocalCache<internal::TypedLocalConfig>>;

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_OBJECT_ALLOCATORS_H_
