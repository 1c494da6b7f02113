// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// slab_alloc::PoolResource: a std::pmr::memory_resource over slab caches,
// one per size class, in the manner of std::pmr::unsynchronized_pool_resource.
//
//   #include "slab_alloc/memory_resource.h"
//   allocators::slab_alloc::PoolResource pool;
//   std::pmr::map<int, std::pmr::string> m(&pool);
//
// Classes: 16 to 128 bytes by 16, then four per doubling up to 2 KiB (at
// most a quarter of slack). A request aligned above 16 takes the
// power-of-two class at least as large as its size and alignment (whose
// objects are aligned to their size). Each class's cache is built on its
// first request and takes its slabs from mmap_alloc. Larger requests go to
// the upstream resource and are recorded, so every deallocation is checked:
// a pool block handed back with another class's size or as a large one, or
// an unknown or twice-freed large block, is a fatal one-line error
// ("slab_alloc: ..."), as is a deallocation slab_alloc itself rejects.
//
// Unlike the standard pool resources, destroying the resource while a pool
// block is still allocated is a fatal error ("slab_alloc: ~PoolResource():
// N blocks still allocated"; slab_alloc's rule for a cache with live
// objects) rather than a silent release; large blocks still live go back
// to upstream.
//
// Thread-compatible, like unsynchronized_pool_resource: one thread at a
// time. Resources are equal only to themselves.

#ifndef SLAB_ALLOC_MEMORY_RESOURCE_H_
#define SLAB_ALLOC_MEMORY_RESOURCE_H_

#include <cstddef>
#include <memory_resource>

#include "mmap_alloc/internal/block_registry.h"
#include "slab_alloc/slab_alloc.h"

namespace allocators {
namespace slab_alloc {

class PoolResource final : public std::pmr::memory_resource {
 public:
  // The class sizes, ascending.
  static constexpr size_t kClassSizes[] = {
      16,  32,  48,  64,  80,   96,   112,  128,  160,  192,  224, 256,
      320, 384, 448, 512, 640,  768,  896,  1024, 1280, 1536, 1792, 2048};
  static constexpr size_t kNumClasses = sizeof(kClassSizes) / sizeof(size_t);
  static constexpr size_t kMaxPooled = kClassSizes[kNumClasses - 1];

  // Larger requests go to `upstream` (which must outlive the resource).
  explicit PoolResource(
      std::pmr::memory_resource* upstream = std::pmr::get_default_resource());
  // Fatal while a pool block is live; gives live large blocks back.
  ~PoolResource() override;
  PoolResource(const PoolResource&) = delete;
  PoolResource& operator=(const PoolResource&) = delete;

  std::pmr::memory_resource* upstream() const { return upstream_; }
  // Live pool blocks of class c (c < kNumClasses), for tests.
  size_t live_blocks(size_t c) const;

 private:
  using Cache = UntypedSlabAlloc<NoInit, MmapBacking>;

  // The class of a request, or kNumClasses for upstream.
  static size_t ClassOf(size_t bytes, size_t align);
  Cache& CacheFor(size_t c);

  void* do_allocate(size_t bytes, size_t align) override;
  void do_deallocate(void* p, size_t bytes, size_t align) override;
  bool do_is_equal(const memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::pmr::memory_resource* upstream_;
  Cache* caches_[kNumClasses] = {};
  alignas(Cache) unsigned char storage_[kNumClasses][sizeof(Cache)];
  mmap_alloc::internal::BlockRegistry large_;
};

}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_MEMORY_RESOURCE_H_
