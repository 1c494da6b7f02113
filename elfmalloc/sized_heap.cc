// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/sized_heap.h"

#include <errno.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "alloc_fmt/check.h"
#include "alloc_fmt/format.h"
#include "alloc_fmt/spin_lock.h"
#include "bagpipe/bagpipe.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/lazy_bag_pipe.h"
#include "elfmalloc/internal/cache_base.h"
#include "elfmalloc/internal/cache_stack.h"
#include "elfmalloc/internal/class_layout.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/large_alloc.h"
#include "elfmalloc/internal/magazine_cache.h"
#include "elfmalloc/internal/page_alloc.h"
#include "elfmalloc/internal/page_map.h"
#include "elfmalloc/internal/slag.h"
#include "elfmalloc/internal/slag_geometry.h"
#include "malloc_bind/internal/cxx_runtime.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace {

using internal::ClassPool;
using internal::GlobalPageMap;
using internal::PageAlloc;
using internal::PageAllocOptions;
using FE = internal::MagazineCache<internal::MagazineConfig>;
using MediumBag = bagpipe::LazyBagPipe<bagpipe::FAAQueueLowLevel<char*>>;

// Small slags are one page-map granule each, so every slag is tagged.
constexpr size_t kSlagBytes = internal::PageMap::kGranule;
constexpr size_t kMaxSmallBytes = size_t{8} << 10;
constexpr size_t kMaxSmallClasses = kMaxSmallBytes / 16;
constexpr size_t kMaxMediumBytes = size_t{128} << 20;
static_assert(kMaxMediumBytes / 2 / kMaxSmallBytes <=
                  size_t{1} << (internal::kSizedMediumClasses - 1),
              "every medium class has a page-map tag");

using internal::geometry_detail::IsPow2;
using internal::geometry_detail::Log2;  // of a power of two
using internal::geometry_detail::NextPow2;

enum class Tier { kSmall, kMedium, kHuge };
struct Class {
  Tier tier;
  size_t index;  // small: size / 16 - 1; medium: log2(size) - first shift
  size_t bytes;  // the class's size (huge: the request)
};

// Names where a pointer a SizedHeap rejects belongs (from its tag alone),
// or says it is invalid. Never reads *p.
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void BadPointer(const char* fn,
                                                     const void* p) {
  const uint8_t tag = GlobalPageMap().Get(p);
  if (internal::IsProcessTag(tag) ||
      (tag == 0 && internal::LargeUsableSize(p, 0) != 0)) {
    alloc_fmt::Fatal("elfmalloc: %s(): pointer %p belongs to the process heap",
                     fn, p);
  }
  if (tag != 0 && !internal::IsSizedHeapTag(tag)) {
    alloc_fmt::Fatal("elfmalloc: %s(): pointer %p belongs to an elfmalloc::Heap",
                     fn, p);
  }
  alloc_fmt::Fatal("elfmalloc: %s(): invalid pointer %p", fn, p);
}

[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void SizeMismatch(const char* fn,
                                                       const void* p) {
  alloc_fmt::Fatal("elfmalloc: %s(): size mismatch %p", fn, p);
}

[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void DoubleFree(const char* fn,
                                                     const void* p) {
  alloc_fmt::Fatal("elfmalloc: %s(): double free of %p", fn, p);
}

// UnmapAll's hook: pages about to be unmapped leave the page map.
void ClearTags(char* base, size_t bytes) {
  GlobalPageMap().Set(base, bytes, 0);
}

}  // namespace

// What every handle of a heap shares.
struct SizedHeap::Shared {
  explicit Shared(const SizedHeapOptions& o)
      : options(o),
        n_small(o.small_max_bytes / 16),
        first_medium_shift(Log2(NextPow2(o.small_max_bytes + 1))),
        n_medium(Log2(o.max_object_bytes) - first_medium_shift + 1),
        small_pages(SmallPagesOptions(o)),
        medium_pages(MediumPagesOptions(o)) {
    for (size_t k = 0; k < n_medium; ++k) {
      new (&medium_storage[k]) MediumBag(PagePipes());
    }
  }
  ~Shared() {
    for (size_t i = 0; i < n_small; ++i) {
      ClassPool* pool = pools[i].load(std::memory_order_acquire);
      if (pool == nullptr) continue;
      internal::DrainSpareStacks(pool);
      bagpipe::DestroyPublishedBagPipe(&pool->available);
      pool->~ClassPool();
    }
    for (size_t k = 0; k < n_medium; ++k) medium_bag(k).~MediumBag();
    {
      PageAlloc::Handle h(&small_pages);
      small_pages.UnmapAll(h, &ClearTags);
    }
    {
      PageAlloc::Handle h(&medium_pages);
      medium_pages.UnmapAll(h, &ClearTags);
    }
    internal::LargeFreeOwned(owner());
  }

  static size_t PagePipes() {
    const size_t cpus = platform::CpuCount();
    return cpus < 8 ? cpus : 8;
  }
  static PageAllocOptions SmallPagesOptions(const SizedHeapOptions& o) {
    PageAllocOptions p{kSlagBytes, (size_t{2} << 20) / kSlagBytes, PagePipes(),
                       o.max_dirty_bytes, o.decay_ms};
    p.track_mappings = true;
    return p;
  }
  static PageAllocOptions MediumPagesOptions(const SizedHeapOptions& o) {
    PageAllocOptions p{o.max_object_bytes, 4, PagePipes(), o.max_dirty_bytes,
                       o.decay_ms};
    p.track_mappings = true;
    return p;
  }

  uintptr_t owner() const { return reinterpret_cast<uintptr_t>(this); }
  MediumBag& medium_bag(size_t k) {
    return *std::launder(reinterpret_cast<MediumBag*>(&medium_storage[k]));
  }

  // Class of a request, or of a free that names the request.
  Class Classify(size_t size, size_t align) const {
    if (size == 0) size = 1;
    const size_t s = align <= 16 ? (size + 15) & ~size_t{15}
                                 : NextPow2(size > align ? size : align);
    if (s <= options.small_max_bytes) return {Tier::kSmall, s / 16 - 1, s};
    if (s <= options.max_object_bytes && align <= options.max_object_bytes) {
      const size_t m = NextPow2(s);
      return {Tier::kMedium, Log2(m) - first_medium_shift, m};
    }
    return {Tier::kHuge, 0, size};
  }

  // Small class i's pool, built by its first user.
  ClassPool* Pool(size_t i) {
    ClassPool* pool = pools[i].load(std::memory_order_acquire);
    if (ABSL_PREDICT_TRUE(pool != nullptr)) return pool;
    SpinLockHolder h(&pools_lock);
    pool = pools[i].load(std::memory_order_relaxed);
    if (pool != nullptr) return pool;
    pool = new (&pool_storage[i]) ClassPool();
    const size_t size = (i + 1) * 16;
    // Power-of-two sizes are aligned to themselves (aligned requests round
    // up to them); others to 16.
    const size_t align = size & (~size + 1);
    pool->geom = internal::ComputeGeometry(size, kSlagBytes,
                                           options.reuse_threshold, kSlagBytes,
                                           align < 16 ? 16 : align);
    ALLOC_CHECK(internal::GeometryIsValid(pool->geom),
                "elfmalloc: no slag layout for %zu-byte objects", size);
    pool->kind = internal::SlagKind::kSmall;
    pool->map_tag = internal::kSizedSlagTag;
    pool->pages = &small_pages;
    size_t pipes = bagpipe::DefaultPipeCount();
    pool->bag_pipes = pipes > 16 ? 16 : pipes;
    pool->spares = &spares;
    pools[i].store(pool, std::memory_order_release);
    return pool;
  }

  // True if `pool` is one of this heap's small pools.
  bool IsOwnPool(const ClassPool* pool) const {
    const auto* first = reinterpret_cast<const unsigned char*>(pool_storage);
    const auto* p = reinterpret_cast<const unsigned char*>(pool);
    return p >= first && p < first + sizeof(pool_storage);
  }

  const SizedHeapOptions options;
  const size_t n_small;
  const size_t first_medium_shift;
  const size_t n_medium;
  PageAlloc small_pages;
  PageAlloc medium_pages;
  internal::StackSpares spares;
  SpinLock pools_lock;
  std::atomic<ClassPool*> pools[kMaxSmallClasses] = {};
  std::atomic<size_t> handles{0};
  alignas(ClassPool) unsigned char pool_storage[kMaxSmallClasses]
                                               [sizeof(ClassPool)];
  alignas(MediumBag) unsigned char medium_storage[internal::kSizedMediumClasses]
                                                 [sizeof(MediumBag)];
};

// One handle's caches: a magazine per small class (built on first use)
// and a handle of each medium class's bag.
struct SizedHeap::Local {
  explicit Local(Shared* s)
      : shared(s), small_pages(&s->small_pages), medium_pages(&s->medium_pages) {
    for (size_t k = 0; k < s->n_medium; ++k) {
      new (&bag_storage[k]) MediumBag::Handle(&s->medium_bag(k));
    }
  }
  ~Local() {
    for (size_t i = 0; i < shared->n_small; ++i) {
      if (ready[i]) cache(i).Shutdown();
    }
    for (size_t k = 0; k < shared->n_medium; ++k) bag(k).~Handle();
  }

  FE& cache(size_t i) {
    return *std::launder(reinterpret_cast<FE*>(&fe_storage[i]));
  }
  // Small class i's magazine, set up on its first use.
  FE& Ready(size_t i) {
    if (ABSL_PREDICT_FALSE(!ready[i])) {
      FE* fe = new (&fe_storage[i]) FE();
      fe->Setup(shared->Pool(i), &small_pages,
                internal::MagazineCapacity((i + 1) * 16));
      ready[i] = 1;
    }
    return cache(i);
  }
  MediumBag::Handle& bag(size_t k) {
    return *std::launder(reinterpret_cast<MediumBag::Handle*>(&bag_storage[k]));
  }

  Shared* shared;
  PageAlloc::Handle small_pages;
  PageAlloc::Handle medium_pages;
  uint8_t ready[kMaxSmallClasses] = {};
  alignas(FE) unsigned char fe_storage[kMaxSmallClasses][sizeof(FE)];
  alignas(MediumBag::Handle) unsigned char
      bag_storage[internal::kSizedMediumClasses][sizeof(MediumBag::Handle)];
};

SizedHeap::SizedHeap(const SizedHeapOptions& o) {
  ALLOC_CHECK(o.small_max_bytes >= 16 && o.small_max_bytes <= kMaxSmallBytes &&
                  o.small_max_bytes % 16 == 0,
              "elfmalloc: SizedHeap: small_max_bytes %zu is not a multiple of "
              "16 from 16 to %zu",
              o.small_max_bytes, kMaxSmallBytes);
  ALLOC_CHECK(IsPow2(o.max_object_bytes) &&
                  o.max_object_bytes > o.small_max_bytes &&
                  o.max_object_bytes >= NextPow2(o.small_max_bytes + 1) &&
                  o.max_object_bytes >= (size_t{16} << 10) &&
                  o.max_object_bytes <= kMaxMediumBytes,
              "elfmalloc: SizedHeap: max_object_bytes %zu is not a power of "
              "two from 16 KiB to 128 MiB above small_max_bytes",
              o.max_object_bytes);
  ALLOC_CHECK(o.reuse_threshold > 0 && o.reuse_threshold <= 1,
              "elfmalloc: SizedHeap: reuse_threshold is not in (0, 1]");
  const mmap_alloc::MapAlloc map;
  void* mem = map.Alloc(sizeof(Shared));
  if (mem == nullptr) malloc_bind::internal::ThrowBadAlloc(sizeof(Shared));
  shared_ = new (mem) Shared(o);
}

SizedHeap::~SizedHeap() {
  const size_t live = shared_->handles.load(std::memory_order_acquire);
  if (live != 0) {
    alloc_fmt::Fatal("elfmalloc: ~SizedHeap(): %zu handle%s still in use", live,
                     live == 1 ? "" : "s");
  }
  shared_->~Shared();
  const mmap_alloc::MapAlloc map;
  map.Dealloc(shared_, sizeof(Shared));
}

SizedHeap& SizedHeap::Global() {
  // Never destroyed: blocks may be freed by other static destructors. The
  // original's global handle used 16 KiB pages; here small slags are 64 KiB
  // in every heap.
  alignas(SizedHeap) static unsigned char storage[sizeof(SizedHeap)];
  static SizedHeap* const heap = new (storage) SizedHeap();
  return *heap;
}

SizedHeap::Handle& SizedHeap::ThreadHandle() {
  thread_local Handle handle(Global());
  return handle;
}

const SizedHeapOptions& SizedHeap::options() const { return shared_->options; }

SizedHeap::Stats SizedHeap::GetStats() const {
  Stats s{};
  s.small_bytes_mapped = shared_->small_pages.mapped_pages() * kSlagBytes;
  s.medium_bytes_mapped =
      shared_->medium_pages.mapped_pages() * shared_->options.max_object_bytes;
  s.huge_bytes = internal::LargeOwnedBytes(shared_->owner(), &s.huge_count);
  return s;
}

SizedHeap::Handle::Handle(SizedHeap& heap) : heap_(&heap) {
  const mmap_alloc::MapAlloc map;
  void* mem = map.Alloc(sizeof(Local));
  if (mem == nullptr) {
    malloc_bind::internal::ThrowBadAlloc(sizeof(Local));
  }
  heap.shared_->handles.fetch_add(1, std::memory_order_relaxed);
  local_ = new (mem) Local(heap.shared_);
}

SizedHeap::Handle::~Handle() {
  auto* local = static_cast<Local*>(local_);
  local->~Local();
  const mmap_alloc::MapAlloc map;
  map.Dealloc(local, sizeof(Local));
  heap_->shared_->handles.fetch_sub(1, std::memory_order_release);
}

void* SizedHeap::Handle::Alloc(size_t size, size_t align) {
  if (!IsPow2(align)) {
    errno = EINVAL;
    return nullptr;
  }
  if (size > PTRDIFF_MAX || align > (size_t{1} << 40)) {
    errno = ENOMEM;
    return nullptr;
  }
  auto* local = static_cast<Local*>(local_);
  Shared* shared = heap_->shared_;
  const Class c = shared->Classify(size, align);
  switch (c.tier) {
    case Tier::kSmall: {
      FE& fe = local->Ready(c.index);
      void* p = internal::AllocFrom(fe);
      if (p == nullptr) {
        // Out of address space: give back the free pages' and retry once.
        shared->small_pages.Unmap(local->small_pages);
        shared->medium_pages.Unmap(local->medium_pages);
        internal::LargeRelease();
        p = fe.AllocRefreshing();
        if (p == nullptr) errno = ENOMEM;
      }
      return p;
    }
    case Tier::kMedium: {
      char* b = nullptr;
      if (!local->bag(c.index).PopMut(&b)) {
        b = local->medium_pages.Alloc();
        if (b == nullptr) {
          errno = ENOMEM;
          return nullptr;
        }
      }
      if (!GlobalPageMap().Set(
              b, internal::PageMap::kGranule,
              static_cast<uint8_t>(internal::kSizedMediumTag + c.index))) {
        local->medium_pages.Free(b, false);
        errno = ENOMEM;
        return nullptr;
      }
      return b;
    }
    case Tier::kHuge:
      break;
  }
  internal::LargeAllocOptions o;
  o.owner = shared->owner();
  const size_t page = mmap_alloc::PageSize();
  void* p = internal::LargeAlloc(size, align > page ? align : 0, o);
  if (p == nullptr) errno = ENOMEM;
  return p;
}

void SizedHeap::Handle::Free(void* p, size_t size, size_t align) {
  static constexpr const char* kFn = "SizedHeap::Free";
  if (p == nullptr) return;
  if (!IsPow2(align)) SizeMismatch(kFn, p);
  auto* local = static_cast<Local*>(local_);
  Shared* shared = heap_->shared_;
  const Class c = shared->Classify(size, align);
  const uint8_t tag = GlobalPageMap().Get(p);
  switch (c.tier) {
    case Tier::kSmall: {
      if (tag != internal::kSizedSlagTag) {
        if (internal::IsSizedHeapTag(tag)) SizeMismatch(kFn, p);
        BadPointer(kFn, p);
      }
      // A tagged granule is a live slag of some SizedHeap: its header is
      // mapped.
      const ClassPool* pool = internal::SlagOf(p, kSlagBytes)->pool;
      if (pool != shared->pools[c.index].load(std::memory_order_relaxed)) {
        if (shared->IsOwnPool(pool)) SizeMismatch(kFn, p);
        alloc_fmt::Fatal(
            "elfmalloc: %s(): pointer %p belongs to another SizedHeap", kFn, p);
      }
      FE& fe = local->Ready(c.index);
      if (!fe.IsObjectStart(p)) BadPointer(kFn, p);
      fe.Free(p);
      return;
    }
    case Tier::kMedium: {
      const uintptr_t a = reinterpret_cast<uintptr_t>(p);
      if (!internal::IsSizedHeapTag(tag)) BadPointer(kFn, p);
      if (tag == internal::kSizedSlagTag) SizeMismatch(kFn, p);
      if ((a & (shared->options.max_object_bytes - 1)) != 0) {
        BadPointer(kFn, p);
      }
      if (tag == internal::kSizedMediumFreeTag) DoubleFree(kFn, p);
      if (tag != internal::kSizedMediumTag + c.index) SizeMismatch(kFn, p);
      char* b = static_cast<char*>(p);
      GlobalPageMap().Set(b, internal::PageMap::kGranule,
                          internal::kSizedMediumFreeTag);
      MediumBag::Handle& bag = local->bag(c.index);
      const int64_t keep =
          static_cast<int64_t>(shared->options.class_cache_bytes / c.bytes);
      if ((bag.SizeGuess() < keep || bag.SizeGuess() == 0) &&
          bag.PushMut(b)) {
        return;
      }
      local->medium_pages.Free(b,
                               c.bytes >= shared->options.uncommit_from_bytes);
      return;
    }
    case Tier::kHuge:
      break;
  }
  size_t usable, requested;
  if (!internal::LargeSizes(p, &usable, &requested, shared->owner())) {
    if (internal::LargeIsRecentlyFreed(p)) DoubleFree(kFn, p);
    if (internal::IsSizedHeapTag(tag)) SizeMismatch(kFn, p);
    BadPointer(kFn, p);
  }
  if (!internal::SizeFitsLarge(size, usable, requested) ||
      (align > mmap_alloc::PageSize() &&
       (reinterpret_cast<uintptr_t>(p) & (align - 1)) != 0)) {
    SizeMismatch(kFn, p);
  }
  internal::LargeFree(p, shared->owner());
}

// --- SizedHeapResource

SizedHeapResource::SizedHeapResource() : heap_(&SizedHeap::Global()) {}

SizedHeapResource::SizedHeapResource(SizedHeap& heap) : heap_(&heap) {
  if (heap_ != &SizedHeap::Global()) {
    const mmap_alloc::MapAlloc map;
    void* mem = map.Alloc(sizeof(SizedHeap::Handle));
    if (mem == nullptr) {
      malloc_bind::internal::ThrowBadAlloc(sizeof(SizedHeap::Handle));
    }
    own_ = new (mem) SizedHeap::Handle(heap);
  }
}

SizedHeapResource::~SizedHeapResource() {
  if (own_ != nullptr) {
    own_->~Handle();
    const mmap_alloc::MapAlloc map;
    map.Dealloc(own_, sizeof(SizedHeap::Handle));
  }
}

SizedHeap::Handle& SizedHeapResource::handle() {
  return own_ != nullptr ? *own_ : SizedHeap::ThreadHandle();
}

void* SizedHeapResource::do_allocate(size_t bytes, size_t align) {
  void* p = handle().Alloc(bytes, align);
  if (p == nullptr) malloc_bind::internal::ThrowBadAlloc(bytes);
  return p;
}

void SizedHeapResource::do_deallocate(void* p, size_t bytes, size_t align) {
  handle().Free(p, bytes, align);
}

bool SizedHeapResource::do_is_equal(
    const std::pmr::memory_resource& other) const noexcept {
  if (this == &other) return true;
  const auto* o = dynamic_cast<const SizedHeapResource*>(&other);
  return o != nullptr && o->heap_ == heap_;
}

}  // namespace elfmalloc
}  // namespace allocators
