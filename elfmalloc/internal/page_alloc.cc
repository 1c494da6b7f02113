// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/page_alloc.h"

#include <errno.h>

#include <algorithm>

#include "alloc_fmt/check.h"
#include "bsalloc/bsalloc.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// A block of the mapping log (see page_alloc.h).
struct PageAlloc::LogBlock {
  static constexpr size_t kBytes = 4096;
  static constexpr size_t kRecords =
      (kBytes - 2 * sizeof(void*)) / sizeof(MapRecord);
  LogBlock* next;
  size_t n;
  MapRecord records[kRecords];
};

PageAlloc::PageAlloc(const PageAllocOptions& options)
    : options_(options),
      clean_(options.pipes),
      dirty_{Bag(options.pipes), Bag(options.pipes)},
      decay_ms_(options.decay_ms) {
  const size_t os_page = mmap_alloc::PageSize();
  ALLOC_CHECK(options.page_bytes >= os_page &&
                  (options.page_bytes & (options.page_bytes - 1)) == 0,
              "elfmalloc: page size %zu is not a power of two >= %zu",
              options.page_bytes, os_page);
  ALLOC_CHECK(options.pages_per_refill >= 1,
              "elfmalloc: pages_per_refill must be >= 1");
  ALLOC_CHECK(options.local_pages <= Handle::kMaxLocalPages,
              "elfmalloc: local_pages %zu is over %zu", options.local_pages,
              Handle::kMaxLocalPages);
  ALLOC_CHECK(!options.track_mappings || options.pages_per_refill <= 64,
              "elfmalloc: a tracked refill of %zu pages is over 64",
              options.pages_per_refill);
  next_purge_ms_.store(platform::CoarseMonotonicMs() +
                           (options.decay_ms > 0 ? options.decay_ms : 0),
                       std::memory_order_relaxed);
}

PageAlloc::~PageAlloc() {
  Handle h(this);
  char* page;
  for (Bag::Handle* bag : {&h.clean_, &h.dirty_[0], &h.dirty_[1]}) {
    while (bag->PopMut(&page)) DeallocPage(page);
  }
  SpinLockHolder lock(&log_lock_);
  while (log_ != nullptr) {
    LogBlock* b = log_;
    log_ = b->next;
    bsalloc::Free(b, LogBlock::kBytes);
  }
}

bool PageAlloc::LogMapping(char* base, size_t pages) {
  static_assert(sizeof(LogBlock) <= LogBlock::kBytes);
  SpinLockHolder lock(&log_lock_);
  if (log_ == nullptr || log_->n == LogBlock::kRecords) {
    auto* b = static_cast<LogBlock*>(bsalloc::Alloc(LogBlock::kBytes));
    if (b == nullptr) return false;
    b->next = log_;
    b->n = 0;
    log_ = b;
  }
  log_->records[log_->n++] =
      MapRecord{base, static_cast<uint32_t>(pages), 0};
  return true;
}

void PageAlloc::LogUnmapped(char* page) {
  const size_t bytes = options_.page_bytes;
  SpinLockHolder lock(&log_lock_);
  for (LogBlock* b = log_; b != nullptr; b = b->next) {
    for (size_t i = 0; i < b->n; ++i) {
      MapRecord& r = b->records[i];
      if (page >= r.base && page < r.base + r.pages * bytes) {
        r.gone |= uint64_t{1} << ((page - r.base) / bytes);
        return;
      }
    }
  }
}

void PageAlloc::DeallocPage(char* page) {
  if (options_.track_mappings) LogUnmapped(page);
  const mmap_alloc::MapAlloc map;
  map.Dealloc(page, options_.page_bytes);
}

size_t PageAlloc::UnmapAll(Handle& h, void (*forget)(char*, size_t)) {
  ALLOC_CHECK(options_.track_mappings,
              "elfmalloc: UnmapAll on a page allocator without a log");
  h.n_local_ = 0;
  char* page;
  for (Bag::Handle* bag : {&h.clean_, &h.dirty_[0], &h.dirty_[1]}) {
    while (bag->PopMut(&page)) {
    }
  }
  const mmap_alloc::MapAlloc map;
  const size_t bytes = options_.page_bytes;
  size_t n = 0;
  SpinLockHolder lock(&log_lock_);
  while (log_ != nullptr) {
    LogBlock* b = log_;
    for (size_t i = 0; i < b->n; ++i) {
      const MapRecord& r = b->records[i];
      // Unmap each run of pages that are still there in one call.
      for (size_t p = 0; p < r.pages;) {
        if ((r.gone >> p) & 1) {
          ++p;
          continue;
        }
        size_t q = p;
        while (q < r.pages && ((r.gone >> q) & 1) == 0) ++q;
        if (forget != nullptr) forget(r.base + p * bytes, (q - p) * bytes);
        map.Dealloc(r.base + p * bytes, (q - p) * bytes);
        n += q - p;
        p = q;
      }
    }
    log_ = b->next;
    bsalloc::Free(b, LogBlock::kBytes);
  }
  mapped_pages_.store(0, std::memory_order_relaxed);
  dirty_pages_.store(0, std::memory_order_relaxed);
  clean_pages_.store(0, std::memory_order_relaxed);
  local_pages_.store(0, std::memory_order_relaxed);
  return n;
}

void PageAlloc::set_decay_ms(int64_t ms) {
  decay_ms_.store(ms, std::memory_order_relaxed);
  next_purge_ms_.store(platform::CoarseMonotonicMs() + (ms > 0 ? ms : 0),
                       std::memory_order_relaxed);
}

PageAlloc::Handle::Handle(PageAlloc* owner)
    : owner_(owner),
      clean_(&owner->clean_),
      dirty_{Bag::Handle(&owner->dirty_[0]), Bag::Handle(&owner->dirty_[1])} {}

char* PageAlloc::Handle::Alloc() {
  PageAlloc& pa = *owner_;
  if (n_local_ != 0) {
    pa.local_pages_.fetch_sub(1, std::memory_order_relaxed);
    pa.dirty_pages_.fetch_sub(1, std::memory_order_relaxed);
    Count(Event::kGrabbedDirty);
    return local_[--n_local_];
  }
  const uint64_t gen = pa.gen_.load(std::memory_order_relaxed);
  char* page;
  // Most recently freed first: its cache lines and TLB entries are warmest.
  if (dirty_[gen & 1].PopMut(&page) || dirty_[(gen + 1) & 1].PopMut(&page)) {
    pa.dirty_pages_.fetch_sub(1, std::memory_order_relaxed);
    Count(Event::kGrabbedDirty);
    return page;
  }
  if (clean_.PopMut(&page)) {
    pa.clean_pages_.fetch_sub(1, std::memory_order_relaxed);
    Count(Event::kGrabbedClean);
    return page;
  }
  page = pa.Refill(*this);
  if (page != nullptr) Count(Event::kGrabbedClean);
  return page;
}

void PageAlloc::Handle::Free(char* page, bool decommit) {
  PageAlloc& pa = *owner_;
  const size_t bytes = pa.options_.page_bytes;
  const mmap_alloc::MapAlloc map;
  const int64_t decay = pa.decay_ms_.load(std::memory_order_relaxed);
  if (decay == 0 || pa.dirty_pages_.load(std::memory_order_relaxed) * bytes >=
                        pa.options_.max_dirty_bytes) {
    map.Uncommit(page, bytes);
    pa.clean_pages_.fetch_add(1, std::memory_order_relaxed);
    if (!clean_.PushMut(page)) {
      pa.clean_pages_.fetch_sub(1, std::memory_order_relaxed);
      pa.UnmapUnfiled(page);
    }
    return;
  }
  if (decommit) {
    const size_t keep = mmap_alloc::PageSize();
    if (bytes > keep) map.Uncommit(page + keep, bytes - keep);
  }
  pa.dirty_pages_.fetch_add(1, std::memory_order_relaxed);
  if (keep_freed_ && !decommit && n_local_ < pa.options_.local_pages) {
    pa.local_pages_.fetch_add(1, std::memory_order_relaxed);
    local_[n_local_++] = page;
    return;
  }
  if (!dirty_[pa.gen_.load(std::memory_order_relaxed) & 1].PushMut(page)) {
    pa.dirty_pages_.fetch_sub(1, std::memory_order_relaxed);
    pa.UnmapUnfiled(page);
  }
  pa.MaybePurge(*this);
}

void PageAlloc::Handle::FlushLocal() {
  PageAlloc& pa = *owner_;
  Bag::Handle& bag = dirty_[pa.gen_.load(std::memory_order_relaxed) & 1];
  while (n_local_ != 0) {
    char* page = local_[--n_local_];
    pa.local_pages_.fetch_sub(1, std::memory_order_relaxed);
    if (!bag.PushMut(page)) {
      pa.dirty_pages_.fetch_sub(1, std::memory_order_relaxed);
      pa.UnmapUnfiled(page);
    }
  }
}

char* PageAlloc::Refill(Handle& h) {
  const size_t bytes = options_.page_bytes;
  size_t n = options_.pages_per_refill;
  const mmap_alloc::MapAlloc map;
  if (options_.before_map != nullptr) options_.before_map();
  char* block = static_cast<char*>(map.Alloc(bytes * n, bytes));
  if (block == nullptr && n > 1) {
    n = 1;  // a single page may still fit where a batch does not
    block = static_cast<char*>(map.Alloc(bytes, bytes));
  }
  if (block == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  if (options_.track_mappings && !LogMapping(block, n)) {
    map.Dealloc(block, bytes * n);
    errno = ENOMEM;
    return nullptr;
  }
  const size_t guard = options_.guard_bytes;
  if (guard != 0 && guard < bytes && guard % mmap_alloc::PageSize() == 0) {
    // A failed protect leaves that page without its guard: the hardening
    // is weaker there, but the memory is as usable as in the default build.
    for (size_t i = 0; i < n; ++i) {
      map.Protect(block + (i + 1) * bytes - guard, guard, 0);
    }
  }
  mapped_pages_.fetch_add(n, std::memory_order_relaxed);
  if (n > 1) {
    char* rest[64];
    size_t done = 1;
    while (done < n) {
      size_t k = 0;
      for (; k < 64 && done < n; ++k, ++done) rest[k] = block + done * bytes;
      clean_pages_.fetch_add(k, std::memory_order_relaxed);
      const size_t filed = h.clean_.BulkAdd(rest, rest + k);
      // The bag is out of memory for nodes: the pages it could not take
      // are given back at once (see UnmapUnfiled).
      if (filed < k) {
        clean_pages_.fetch_sub(k - filed, std::memory_order_relaxed);
        for (size_t i = filed; i < k; ++i) UnmapUnfiled(rest[i]);
      }
    }
  }
  MaybePurge(h);
  return block;
}

void PageAlloc::UnmapUnfiled(char* page) {
  DeallocPage(page);
  mapped_pages_.fetch_sub(1, std::memory_order_relaxed);
  unfiled_unmaps_.fetch_add(1, std::memory_order_relaxed);
}

size_t PageAlloc::DrainToClean(Handle& h, Bag::Handle& bag) {
  const mmap_alloc::MapAlloc map;
  const size_t bytes = options_.page_bytes;
  size_t n = 0;
  char* page;
  while (bag.PopMut(&page)) {
    dirty_pages_.fetch_sub(1, std::memory_order_relaxed);
    map.Uncommit(page, bytes);
    clean_pages_.fetch_add(1, std::memory_order_relaxed);
    if (!h.clean_.PushMut(page)) {
      clean_pages_.fetch_sub(1, std::memory_order_relaxed);
      UnmapUnfiled(page);
    }
    ++n;
  }
  return n;
}

void PageAlloc::PurgeOld(Handle& h) {
  // The caller's kept pages join the current bag, to be purged one period
  // from now if nobody takes them.
  h.FlushLocal();
  if (!purge_lock_.TryLock()) return;  // another thread is on it
  const int64_t decay = decay_ms_.load(std::memory_order_relaxed);
  const uint64_t gen = gen_.load(std::memory_order_relaxed);
  DrainToClean(h, h.dirty_[(gen + 1) & 1]);
  // From now on frees go to the bag just emptied; the current bag becomes
  // the previous one and is purged one period from now.
  gen_.store(gen + 1, std::memory_order_relaxed);
  next_purge_ms_.store(platform::CoarseMonotonicMs() + (decay > 0 ? decay : 0),
                       std::memory_order_relaxed);
  purge_lock_.Unlock();
}

size_t PageAlloc::Unmap(Handle& h) {
  h.FlushLocal();
  SpinLockHolder lock(&purge_lock_);
  DrainToClean(h, h.dirty_[0]);
  DrainToClean(h, h.dirty_[1]);
  size_t n = 0;
  char* page;
  while (h.clean_.PopMut(&page)) {
    clean_pages_.fetch_sub(1, std::memory_order_relaxed);
    DeallocPage(page);
    ++n;
  }
  mapped_pages_.fetch_sub(n, std::memory_order_relaxed);
  return n;
}

bool PageAlloc::CheckInvariants(Handle& h, const char** what) {
  SpinLockHolder lock(&purge_lock_);
  const size_t mapped = mapped_pages_.load(std::memory_order_relaxed);
  const size_t dirty = dirty_pages_.load(std::memory_order_relaxed);
  const size_t clean = clean_pages_.load(std::memory_order_relaxed);
  if (dirty + clean > mapped) {
    *what = "more free pages than mapped pages";
    return false;
  }
  // Pop every free page into a scratch array, check, and push them back.
  // The scratch array is mapped (never malloc); without memory for it only
  // the bound above is checked.
  const mmap_alloc::MapAlloc map;
  const size_t cap = mapped + 1;
  const size_t scratch_bytes = cap * sizeof(char*);
  char** pages = static_cast<char**>(map.Alloc(scratch_bytes));
  if (pages == nullptr) return true;
  size_t n = 0;
  size_t found[3] = {0, 0, 0};
  Bag::Handle* bags[3] = {&h.clean_, &h.dirty_[0], &h.dirty_[1]};
  bool ok = true;
  for (size_t b = 0; b < 3; ++b) {
    char* page;
    while (n < cap && bags[b]->PopMut(&page)) {
      pages[n++] = page;
      ++found[b];
    }
  }
  if (n == cap) {
    *what = "the page bags hold more pages than are mapped";
    ok = false;
  } else if (found[0] != clean) {
    *what = "clean_pages differs from the clean bag's contents";
    ok = false;
  } else if (found[1] + found[2] +
                 local_pages_.load(std::memory_order_relaxed) !=
             dirty) {
    *what = "dirty_pages differs from the dirty bags' and handles' contents";
    ok = false;
  }
  for (size_t k = 0; ok && k < h.n_local_; ++k) {
    if ((reinterpret_cast<uintptr_t>(h.local_[k]) &
         (options_.page_bytes - 1)) != 0) {
      *what = "a kept page is not aligned to the page size";
      ok = false;
    }
  }
  for (size_t i = 0; ok && i < n; ++i) {
    if ((reinterpret_cast<uintptr_t>(pages[i]) & (options_.page_bytes - 1)) !=
        0) {
      *what = "a free page is not aligned to the page size";
      ok = false;
    }
  }
  // Push back in the same bags (so decay keeps its generations). Sorting a
  // copy would need more scratch; duplicates are found by sorting in place
  // after the bags got their pages back.
  size_t i = 0;
  for (size_t b = 0; b < 3; ++b) {
    const size_t filed = bags[b]->BulkAdd(pages + i, pages + i + found[b]);
    for (size_t k = filed; k < found[b]; ++k) {
      // Out of memory for the bag: give the page back (as Free does).
      if (b == 0) {
        clean_pages_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        dirty_pages_.fetch_sub(1, std::memory_order_relaxed);
      }
      UnmapUnfiled(pages[i + k]);
    }
    i += found[b];
  }
  std::sort(pages, pages + n);
  for (size_t k = 1; ok && k < n; ++k) {
    if (pages[k] == pages[k - 1]) {
      *what = "a free page is in the page bags twice";
      ok = false;
    }
  }
  map.Dealloc(pages, scratch_bytes);
  return ok;
}

size_t PageAlloc::Release(Handle& h) {
  // Wait for a concurrent decay step rather than skip: the caller expects
  // every dirty page to be gone when this returns.
  h.FlushLocal();
  SpinLockHolder lock(&purge_lock_);
  size_t n = DrainToClean(h, h.dirty_[0]);
  n += DrainToClean(h, h.dirty_[1]);
  return n;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
