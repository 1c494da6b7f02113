// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Size-specific elfmalloc allocators: the slag machinery of the general
// allocator, dedicated to objects of one layout, as untyped object
// allocators (object_alloc/object_alloc.h).
//
//   auto a = elfmalloc::MagazineAllocator(object_alloc::Layout{24, 8});
//   void* p = a.Alloc();
//   std::thread t([b = a]() mutable {   // a copy is a new per-thread handle
//     void* q = b.Alloc();              // onto the same shared pools
//     b.Dealloc(q);
//   });
//   a.Dealloc(p);
//
// MagazineAllocator uses the MagazineCache front-end and LocalAllocator the
// LocalCache one (internal/magazine_cache.h, internal/local_cache.h). Every
// handle owns a front-end; the pools (page allocator, available-slag bag,
// geometry) are shared by all handles copied from the same original and
// live until the last handle goes.
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
// Thread-safety: a handle is thread-compatible (one thread at a time);
// different handles of the same pools may be used concurrently, and an
// object may be freed through any handle of its pools. Destroying the last
// handle returns every free slag's memory; objects still allocated then are
// leaked (their slags stay mapped), never unmapped under a user.

#ifndef ELFMALLOC_OBJECT_ALLOCATORS_H_
#define ELFMALLOC_OBJECT_ALLOCATORS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "alloc_fmt/check.h"
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
  double cutoff_factor = 0.6;
  size_t slag_bytes = 0;  // 0: max(32 KiB, 4 x object size), power of two
  size_t max_dirty_bytes = size_t{1} << 20;
  size_t eager_decommit_bytes = size_t{128} << 10;
  int64_t decay_ms = 1000;
};

template <typename FE>
class SizedAllocator {
 public:
  // REQUIRES: layout.IsValid() and layout.align <= slag size / 4 (fatal,
  // naming the value, otherwise).
  explicit SizedAllocator(object_alloc::Layout layout,
                          const ObjectAllocOptions& options = {})
      : shared_(Shared::Create(layout, options)) {
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
                          const ObjectAllocOptions& o) {
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
      return new (mem) Shared(layout, size, align, slag, o);
    }
    static void Destroy(Shared* s) {
      {
        // Return the free slags parked in the bag; ~PageAlloc unmaps them.
        internal::PageAlloc::Handle h(&s->page_alloc);
        internal::AvailableBag bag(s->bag);
        internal::Slag* slag;
        while (bag.PopMut(&slag)) h.Free(reinterpret_cast<char*>(slag), false);
      }
      s->~Shared();
      bsalloc::Free(s, sizeof(Shared));
    }

    Shared(object_alloc::Layout l, size_t size, size_t align, size_t slag,
           const ObjectAllocOptions& o)
        : layout(l),
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
    }

    std::atomic<size_t> refs{1};
    object_alloc::Layout layout;
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

using MagazineAllocator =
    SizedAllocator<internal::MagazineCache<internal::MagazineConfig>>;
using LocalAllocator =
    SizedAllocator<internal::LocalCache<internal::LocalConfig>>;

static_assert(object_alloc::kIsUntypedObjectAlloc<MagazineAllocator>);
static_assert(object_alloc::kIsUntypedObjectAlloc<LocalAllocator>);

}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_OBJECT_ALLOCATORS_H_
