// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/memory_resource.h"

#include <cstdint>
#include <new>

#include "alloc_fmt/format.h"

namespace allocators {
namespace slab_alloc {

namespace {

size_t Pow2Ceil(size_t x) {
  size_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

}  // namespace

PoolResource::PoolResource(std::pmr::memory_resource* upstream)
    : upstream_(upstream) {}

PoolResource::~PoolResource() {
  size_t live = 0;
  for (size_t c = 0; c < kNumClasses; ++c) live += live_blocks(c);
  if (live != 0) {
    alloc_fmt::Fatal("slab_alloc: ~PoolResource(): %zu block%s still allocated",
                     live, live == 1 ? "" : "s");
  }
  for (size_t c = 0; c < kNumClasses; ++c) {
    if (caches_[c] != nullptr) caches_[c]->~Cache();
  }
  mmap_alloc::internal::BlockRegistry::Block b;
  while (large_.TakeAny(&b)) {
    upstream_->deallocate(reinterpret_cast<void*>(b.addr), b.size, b.align);
  }
}

size_t PoolResource::live_blocks(size_t c) const {
  return caches_[c] == nullptr ? 0 : caches_[c]->live_objects();
}

size_t PoolResource::ClassOf(size_t bytes, size_t align) {
  if (bytes == 0) bytes = 1;
  if (align > 16) bytes = Pow2Ceil(bytes > align ? bytes : align);
  if (bytes > kMaxPooled) return kNumClasses;
  size_t c = 0;
  while (kClassSizes[c] < bytes) ++c;
  return c;
}

PoolResource::Cache& PoolResource::CacheFor(size_t c) {
  if (caches_[c] == nullptr) {
    const size_t size = kClassSizes[c];
    // Power-of-two classes serve aligned requests: align them to their
    // size.
    const size_t align = (size & (size - 1)) == 0 ? size : 16;
    caches_[c] = new (&storage_[c]) Cache(
        UntypedSlabAllocBuilder<>::NoInitialize(object_alloc::Layout{size, align})
            .BuildMmap());
  }
  return *caches_[c];
}

void* PoolResource::do_allocate(size_t bytes, size_t align) {
  const size_t c = ClassOf(bytes, align);
  if (c < kNumClasses) {
    void* p = CacheFor(c).Alloc();
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void* p = upstream_->allocate(bytes, align);
  if (!large_.Insert({reinterpret_cast<uintptr_t>(p), bytes, align})) {
    upstream_->deallocate(p, bytes, align);
    throw std::bad_alloc();
  }
  return p;
}

void PoolResource::do_deallocate(void* p, size_t bytes, size_t align) {
  const size_t c = ClassOf(bytes, align);
  if (c < kNumClasses) {
    if (caches_[c] == nullptr) {
      alloc_fmt::Fatal("slab_alloc: deallocate(): invalid pointer %p", p);
    }
    caches_[c]->Dealloc(p);  // fatal for a pointer not of this cache
    return;
  }
  large_.Remove(reinterpret_cast<uintptr_t>(p), bytes, align, "slab_alloc");
  upstream_->deallocate(p, bytes, align);
}

}  // namespace slab_alloc
}  // namespace allocators
