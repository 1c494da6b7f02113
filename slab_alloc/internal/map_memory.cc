// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "slab_alloc/internal/map_memory.h"

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "alloc_fmt/check.h"
#include "alloc_fmt/spin_lock.h"
#include "mmap_alloc/mmap_alloc.h"

namespace allocators {
namespace slab_alloc {
namespace internal {
namespace {

// Written into the first bytes of a pooled block.
struct FreeBlock {
  FreeBlock* next;
  size_t bytes;  // page-rounded size
};

// Free lists by floor(log2(pages)); a list holds blocks of any size in its
// class, and Alloc takes the first one of exactly the size it wants. Maps
// request few distinct sizes (one per table size, plus the one-page
// overflow chunks), so the lists are short and a class rarely mixes sizes.
constexpr int kClasses = 64;

struct Pool {
  SpinLock lock;
  FreeBlock* heads[kClasses] ABSL_GUARDED_BY(lock) = {};
  size_t bytes ABSL_GUARDED_BY(lock) = 0;
  size_t blocks ABSL_GUARDED_BY(lock) = 0;
};

// Constant-initialised (SpinLock and the rest are constexpr-constructible,
// and Pool is trivially destructible), so usable at any time.
ABSL_CONST_INIT Pool g_pool;

size_t RoundToPages(size_t size) {
  const size_t page = mmap_alloc::PageSize();
  ALLOC_CHECK(size != 0 && size <= SIZE_MAX - (page - 1),
              "slab_alloc: bad map memory size %zu", size);
  return (size + page - 1) & ~(page - 1);
}

int ClassOf(size_t bytes) {
  const size_t pages = bytes / mmap_alloc::PageSize();
  return 63 - __builtin_clzll(pages);
}

const mmap_alloc::MapAlloc& Prefaulted() {
  static const mmap_alloc::MapAlloc alloc =
      mmap_alloc::MapAllocBuilder().commit(true).Build();
  return alloc;
}

}  // namespace

void* MapMemory::Alloc(size_t size, size_t align) const {
  const size_t bytes = RoundToPages(size);
  if (align <= mmap_alloc::PageSize()) {
    SpinLockHolder hold(&g_pool.lock);
    for (FreeBlock** link = &g_pool.heads[ClassOf(bytes)]; *link != nullptr;
         link = &(*link)->next) {
      FreeBlock* b = *link;
      if (b->bytes == bytes) {
        *link = b->next;
        g_pool.bytes -= bytes;
        --g_pool.blocks;
        return b;
      }
    }
  }
  return Prefaulted().Alloc(bytes, align);
}

void MapMemory::Dealloc(void* p, size_t size) const {
  const size_t bytes = RoundToPages(size);
  ALLOC_CHECK(p != nullptr && (reinterpret_cast<uintptr_t>(p) &
                               (mmap_alloc::PageSize() - 1)) == 0,
              "slab_alloc: map memory freed at %p, not a page", p);
  {
    SpinLockHolder hold(&g_pool.lock);
    if (bytes <= kMaxRetainedBytes - g_pool.bytes) {
      FreeBlock* b = static_cast<FreeBlock*>(p);
      FreeBlock** head = &g_pool.heads[ClassOf(bytes)];
      b->next = *head;
      b->bytes = bytes;
      *head = b;
      g_pool.bytes += bytes;
      ++g_pool.blocks;
      return;
    }
  }
  Prefaulted().Dealloc(p, bytes);
}

size_t MapMemory::RetainedBytes() {
  SpinLockHolder hold(&g_pool.lock);
  return g_pool.bytes;
}

size_t MapMemory::RetainedBlocks() {
  SpinLockHolder hold(&g_pool.lock);
  return g_pool.blocks;
}

void MapMemory::ReleaseRetained() {
  FreeBlock* all = nullptr;
  {
    SpinLockHolder hold(&g_pool.lock);
    for (FreeBlock*& head : g_pool.heads) {
      while (head != nullptr) {
        FreeBlock* b = head;
        head = b->next;
        b->next = all;
        all = b;
      }
    }
    g_pool.bytes = 0;
    g_pool.blocks = 0;
  }
  // Unmapped outside the lock: munmap can be slow.
  while (all != nullptr) {
    FreeBlock* next = all->next;
    Prefaulted().Dealloc(all, all->bytes);
    all = next;
  }
}

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators
