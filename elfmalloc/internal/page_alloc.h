// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// PageAlloc: a coarse allocator of fixed-size, size-aligned pages (the
// memory slags are made of), with dirty-page decay.
//
// Pages live in three bags (BagPipes of page addresses):
//
//   dirty[gen & 1]        pages freed during the current decay period
//   dirty[(gen + 1) & 1]  pages freed during the previous period
//   clean                 uncommitted pages (read as zero) and fresh ones
//
// Alloc() tries the current dirty bag, then the previous one, then clean,
// and finally maps `pages_per_refill` new pages in one mapping (returning
// the first and adding the rest to clean). Free() puts a page in the current
// dirty bag, or, if the dirty pages already exceed max_dirty_bytes, returns
// its memory to the OS at once and files it as clean.
//
// Decay (the original never returned memory; its overhead target compared
// bytes with a page count and so never fired): once per decay period, the
// first page free, refill or MaybePurge call (thread exit calls it) that
// notices the period has passed
// uncommits every page of the *previous* dirty bag and moves it to clean,
// then flips `gen`. A page is therefore returned to the OS after lying
// unused for between one and two periods. PageAlloc starts no thread: an
// allocator that goes completely idle keeps its dirty pages until the next
// call, until Release(), which uncommits every dirty page now, or until the
// heap's optional decay thread (ELFMALLOC_BACKGROUND_THREAD) calls
// MaybePurge.
//
// Kept pages (PageAllocOptions::local_pages): while a Handle's keep_freed
// is on, the pages it frees stay with it (up to local_pages) and its next
// Allocs take them first; they count as dirty and go to the current dirty
// bag at the handle's next decay step, Release, Unmap or destruction.
//
// Eager decommit: Free(page, /*decommit=*/true) uncommits everything but the
// first OS page (which holds the slag header and bitset, so the page can be
// reused by the same size class without re-initialisation), as the
// original did for 2 MiB slags.
//
// Free pages keep their addresses (only their memory is returned) except
// under address-space exhaustion: when an allocation fails, the owner may
// call Unmap() to give back the address space of every free page, then
// retry. Destroying a PageAlloc unmaps the pages in its bags.
//
// Out of memory: the bags need memory for their nodes (bagpipe), so a push
// can fail. A page that no bag can take is unmapped at once (UnmapUnfiled):
// it is free, its page-map tags are already clear, and unmapping is what
// the allocator does with free pages under address-space pressure anyway;
// the next refill maps a new one. Nothing is lost and no count drifts.
//
// Thread-safety: PageAlloc is thread-safe through Handles; each thread uses
// its own Handle (a Handle is thread-compatible). Release() and MaybePurge()
// may be called from any thread with that thread's Handle.

#ifndef ELFMALLOC_INTERNAL_PAGE_ALLOC_H_
#define ELFMALLOC_INTERNAL_PAGE_ALLOC_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "alloc_fmt/spin_lock.h"
#include "bagpipe/bagpipe.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/lazy_bag_pipe.h"
#include "elfmalloc/internal/events.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

struct PageAllocOptions {
  size_t page_bytes = size_t{256} << 10;  // power of two, >= the OS page
  size_t pages_per_refill = 8;            // pages carved per mapping
  size_t pipes = 8;                       // pipes per bag
  // Dirty pages beyond this many bytes are uncommitted as soon as freed.
  size_t max_dirty_bytes = size_t{256} << 20;
  // Dirty pages unused this long are uncommitted (-1: never, 0: at once).
  int64_t decay_ms = 1000;
  // The hardened build's guard: the last `guard_bytes` of every page are
  // made inaccessible when the page is first mapped (and stay so through
  // uncommit and reuse), so a linear overflow off the end of one slag
  // faults instead of reaching the next slag's header. 0: none. Applied
  // only when it is a whole number of OS pages.
  size_t guard_bytes = 0;
  // Pages a Handle keeps, of those it frees while keep_freed() is on, for
  // its own next Alloc (at most Handle::kMaxLocalPages). The general heap
  // turns it on while a thread trims its idle caches: the pages freed then
  // are what the thread's next refreshes need, and taken through the
  // shared bags they often go to another thread, whose first writes to
  // each line then miss to the cache of the core that freed it. Kept pages
  // count as dirty and rejoin the bags when their thread next runs a decay
  // step, flushes its caches or exits.
  size_t local_pages = 0;
  // Called before a refill maps new memory, or nullptr. The general heap
  // gives back its idle cached large blocks there (LargeYield): memory
  // the program no longer uses should go before new memory comes.
  void (*before_map)() = nullptr;
  // Keep a log of every mapping, so that UnmapAll() can give back every
  // page at once, in use or free (a heap that is destroyed whole). A refill
  // whose mapping cannot be logged (no memory for the log) fails.
  bool track_mappings = false;
};

class PageAlloc {
 public:
  // Built by their first push: a process that never frees a page pays
  // nothing for the dirty bags, and one that never uses this page size
  // nothing for any of them (an empty bag holds a 4 KiB node per pipe).
  using Bag = bagpipe::LazyBagPipe<bagpipe::FAAQueueLowLevel<char*>>;

  explicit PageAlloc(const PageAllocOptions& options);
  // Unmaps every page still in the bags. REQUIRES: no Handle outlives it;
  // pages handed out and never freed are leaked (still mapped).
  ~PageAlloc();
  PageAlloc(const PageAlloc&) = delete;
  PageAlloc& operator=(const PageAlloc&) = delete;

  // One thread's access to the bags. Cheap to make (no allocation).
  class Handle {
   public:
    explicit Handle(PageAlloc* owner);
    ~Handle() { FlushLocal(); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    static constexpr size_t kMaxLocalPages = 16;

    // A page of page_bytes, aligned to page_bytes, or nullptr (errno
    // ENOMEM) if a refill could not be mapped. The page's contents are
    // whatever its last user left (dirty), or zero (clean or fresh).
    char* Alloc();

    // Returns `page` (from Alloc() on any Handle of this PageAlloc). With
    // `decommit`, everything after its first OS page is uncommitted now.
    void Free(char* page, bool decommit);

    // While on, Free keeps up to PageAllocOptions::local_pages pages for
    // this handle's next Allocs instead of filing them in the shared bags.
    void set_keep_freed(bool on) { keep_freed_ = on; }
    // Files the pages this handle keeps in the current dirty bag, where
    // decay and Release() see them.
    void FlushLocal();

    PageAlloc* owner() const { return owner_; }
    size_t local_pages() const { return n_local_; }

    // The logging build's counters of the thread that owns this handle
    // (events.h), which Alloc and the slag layer above it count into;
    // nullptr (the default): nothing is counted.
    void set_events(EventCounters* events) { events_ = events; }
    EventCounters* events() const { return events_; }

   private:
    friend class PageAlloc;
    void Count(Event e) {
      if (events_ != nullptr) events_->Add(e);
    }
    PageAlloc* owner_;
    EventCounters* events_ = nullptr;
    Bag::Handle clean_;
    Bag::Handle dirty_[2];
    bool keep_freed_ = false;
    size_t n_local_ = 0;
    char* local_[kMaxLocalPages];
  };

  // Uncommits every dirty page now (the whole page) and files it as clean,
  // after flushing `h`'s kept pages (other handles keep theirs). Returns
  // the number of pages uncommitted.
  size_t Release(Handle& h);

  // Uncommits every dirty page and then unmaps every free page, giving its
  // address space back to the OS. Pages in use are untouched; the next
  // refill maps new ones. Returns the number of pages unmapped. Free pages'
  // page-map tags are already clear (SlagAllocator clears them before it
  // frees a page), so a stale pointer into an unmapped page is still
  // reported as invalid rather than followed.
  size_t Unmap(Handle& h);

  // Unmaps every page this allocator mapped, handed out or free, and
  // empties its bags; returns the number of pages unmapped. `forget`, if
  // given, is called with each run of pages just before it is unmapped
  // (the owner drops what it recorded about them). The allocator may be
  // used again afterwards. REQUIRES: track_mappings; nothing will touch a
  // page it handed out; no Handle other than `h` exists (the owner is
  // destroying everything it built on these pages at once).
  size_t UnmapAll(Handle& h, void (*forget)(char* base, size_t bytes) = nullptr);

  // Runs the decay step if a period has passed since the last one.
  void MaybePurge(Handle& h) {
    if (decay_ms_.load(std::memory_order_relaxed) >= 0 &&
        platform::CoarseMonotonicMs() >=
            next_purge_ms_.load(std::memory_order_relaxed)) {
      PurgeOld(h);
    }
  }

  size_t page_bytes() const { return options_.page_bytes; }
  // Held while pages are being purged; registered with the fork handlers
  // for the general heap's page allocators.
  SpinLock* purge_lock() { return &purge_lock_; }

  // Approximate counters, for statistics and tests.
  size_t dirty_pages() const {
    return dirty_pages_.load(std::memory_order_relaxed);
  }
  // Free pages whose memory was given back (uncommitted, or never touched).
  size_t clean_pages() const {
    return clean_pages_.load(std::memory_order_relaxed);
  }
  // Pages currently mapped (in use or free).
  size_t mapped_pages() const {
    return mapped_pages_.load(std::memory_order_relaxed);
  }
  // Changes the decay period (see PageAllocOptions::decay_ms); the next
  // period starts now.
  void set_decay_ms(int64_t ms);
  int64_t decay_ms() const { return decay_ms_.load(std::memory_order_relaxed); }
  // Free pages unmapped because no bag could take them (out of memory).
  size_t unfiled_unmaps() const {
    return unfiled_unmaps_.load(std::memory_order_relaxed);
  }

  // Checks the page counts against the bags' contents: pops every free page
  // (under the purge lock), checks each is page-aligned and counted where
  // it was found, and pushes it back. Returns false, with a one-line
  // description in `what`, on a violation. REQUIRES: quiescent (no other
  // thread uses this PageAlloc): pages in flight would be missing.
  bool CheckInvariants(Handle& h, const char** what);

 private:
  char* Refill(Handle& h);
  void PurgeOld(Handle& h);
  // Pops every page of `bag`, uncommits it and adds it to clean.
  size_t DrainToClean(Handle& h, Bag::Handle& bag);
  // Unmaps free `page` that no bag could take (out of memory).
  void UnmapUnfiled(char* page);
  // Unmaps `page` for good, and forgets it in the mapping log.
  void DeallocPage(char* page);

  // The mapping log (track_mappings): one record per refill, in blocks of
  // bsalloc memory. A page unmapped alone (UnmapUnfiled, Unmap) is marked
  // gone, so that UnmapAll never unmaps an address the OS may have handed
  // to someone else since. Guarded by log_lock_ (a leaf lock; refills and
  // page unmaps are rare).
  struct MapRecord {
    char* base;
    uint32_t pages;
    uint64_t gone;  // bit i: page i was unmapped alone
  };
  struct LogBlock;
  // Logs a refill of `pages` pages at `base`; false if out of memory.
  bool LogMapping(char* base, size_t pages);
  void LogUnmapped(char* page);

  PageAllocOptions options_;
  Bag clean_;
  Bag dirty_[2];
  std::atomic<int64_t> decay_ms_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int64_t> next_purge_ms_{0};
  SpinLock purge_lock_;                 // one decay step or Release at a time
  std::atomic<size_t> dirty_pages_{0};  // in the dirty bags or kept
  std::atomic<size_t> local_pages_{0};  // kept by handles (all threads)
  std::atomic<size_t> mapped_pages_{0};
  std::atomic<size_t> clean_pages_{0};
  std::atomic<size_t> unfiled_unmaps_{0};
  SpinLock log_lock_;
  LogBlock* log_ ABSL_GUARDED_BY(log_lock_) = nullptr;
};

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_PAGE_ALLOC_H_
