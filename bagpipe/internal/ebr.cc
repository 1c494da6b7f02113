// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Slow paths of the epoch-based reclamation (see ebr.h for the design).

#include "bagpipe/internal/ebr.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "absl/base/attributes.h"
#include "alloc_fmt/check.h"
#include "bsalloc/bsalloc.h"
#include "platform/platform.h"

namespace allocators {
namespace bagpipe {
namespace internal {

ABSL_CONST_INIT std::atomic<uint64_t> g_ebr_epoch{0};
__thread EbrRecord* tls_ebr_record __attribute__((tls_model("initial-exec"))) =
    nullptr;
__thread uint32_t tls_ebr_depth __attribute__((tls_model("initial-exec"))) = 0;

// One bsalloc page of limbo entries.
constexpr size_t kLimboBlockBytes = 4096;

struct EbrLimboEntry {
  void* p;
  Reclaimer reclaim;  // nullptr: p is an AllocBlock() block of `arg` bytes
  uintptr_t arg;
};

struct EbrLimboBlock {
  EbrLimboBlock* next;
  uint32_t count;
  EbrLimboEntry entries[(kLimboBlockBytes - 16) / sizeof(EbrLimboEntry)];
};
static_assert(sizeof(EbrLimboBlock) <= kLimboBlockBytes);

// The header written into a block while it sits in a record's cache.
struct EbrCachedBlock {
  EbrCachedBlock* next;
  size_t size;
};

namespace {

// Records are carved from one bsalloc page at a time.
constexpr size_t kRecordBatchBytes = 4096;
constexpr size_t kRecordsPerBatch = kRecordBatchBytes / sizeof(EbrRecord);
static_assert(sizeof(EbrRecord) <= 128, "a record is two cache lines");
static_assert(kRecordsPerBatch >= 32);

ABSL_CONST_INIT std::atomic<EbrRecord*> g_records{nullptr};
ABSL_CONST_INIT std::atomic<uint64_t> g_record_count{0};
ABSL_CONST_INIT std::atomic<uint64_t> g_blocks_allocated{0};
ABSL_CONST_INIT std::atomic<uint64_t> g_blocks_released{0};
ABSL_CONST_INIT std::atomic<uint64_t> g_leaked{0};

// Single-writer counter bump: the lessee is the only writer, so a load and a
// store suffice (no locked instruction); readers only need atomicity.
inline void Bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

uint64_t Announcement() {
  return (g_ebr_epoch.load(std::memory_order_seq_cst) << 1) | 1;
}

bool TryLease(EbrRecord* r) {
  uint64_t expected = 0;
  return r->state.load(std::memory_order_relaxed) == 0 &&
         r->state.compare_exchange_strong(expected, Announcement(),
                                          std::memory_order_seq_cst,
                                          std::memory_order_relaxed);
}

void Release(EbrRecord* r) { r->state.store(0, std::memory_order_release); }

void ReleaseBlockToBsalloc(void* p, size_t size) {
  bsalloc::Free(p, size);
  g_blocks_released.fetch_add(1, std::memory_order_relaxed);
}

// Keeps a reclaimed block in the record's cache, or returns it to bsalloc.
// When the cache is over budget, blocks of other sizes (left behind by a
// different workload) are dropped first, so the cache follows the current
// block size instead of staying clogged.
void RecycleBlock(EbrRecord* r, void* p, size_t size) {
  ALLOC_DCHECK(size >= sizeof(EbrCachedBlock), "bagpipe: block too small");
  if (r->cache_bytes + size > kEbrCacheBudget) {
    EbrCachedBlock** link = &r->cache;
    while (*link != nullptr && r->cache_bytes + size > kEbrCacheBudget) {
      EbrCachedBlock* b = *link;
      if (b->size != size) {
        *link = b->next;
        r->cache_bytes -= b->size;
        ReleaseBlockToBsalloc(b, b->size);
      } else {
        link = &b->next;
      }
    }
    if (r->cache_bytes + size > kEbrCacheBudget) {
      ReleaseBlockToBsalloc(p, size);
      return;
    }
  }
  EbrCachedBlock* b = static_cast<EbrCachedBlock*>(p);
  b->next = r->cache;
  b->size = size;
  r->cache = b;
  r->cache_bytes += size;
}

// Takes a cached block of exactly `size` bytes, or returns nullptr.
void* TakeCachedBlock(EbrRecord* r, size_t size) {
  for (EbrCachedBlock** link = &r->cache; *link != nullptr;
       link = &(*link)->next) {
    EbrCachedBlock* b = *link;
    if (b->size == size) {
      *link = b->next;
      r->cache_bytes -= size;
      return b;
    }
  }
  return nullptr;
}

// Runs every entry of limbo list `i` and empties it, keeping its first block
// for reuse. REQUIRES: the caller leases r and the list's grace period is
// over.
void ReclaimList(EbrRecord* r, size_t i) {
  EbrLimboBlock* head = r->limbo[i];
  if (head == nullptr) return;
  uint64_t n = 0;
  for (EbrLimboBlock* b = head; b != nullptr;) {
    for (uint32_t k = 0; k < b->count; ++k) {
      const EbrLimboEntry& e = b->entries[k];
      if (e.reclaim == nullptr) {
        RecycleBlock(r, e.p, e.arg);
      } else {
        e.reclaim(e.p, e.arg);
      }
    }
    n += b->count;
    EbrLimboBlock* next = b->next;
    if (b != head) bsalloc::Free(b, kLimboBlockBytes);
    b = next;
  }
  head->next = nullptr;
  head->count = 0;
  Bump(r->reclaimed, n);
}

// Reclaims every list of r whose epoch is at least two behind the global one.
void Collect(EbrRecord* r) {
  const uint64_t global = g_ebr_epoch.load(std::memory_order_seq_cst);
  for (size_t i = 0; i < kEbrLimboLists; ++i) {
    if (r->limbo[i] != nullptr && r->limbo[i]->count != 0 &&
        r->limbo_epoch[i] + 2 <= global) {
      ReclaimList(r, i);
    }
  }
}

// Returns cached blocks and empty limbo blocks of r to bsalloc.
void ReleaseCaches(EbrRecord* r) {
  while (EbrCachedBlock* b = r->cache) {
    r->cache = b->next;
    ReleaseBlockToBsalloc(b, b->size);
  }
  r->cache_bytes = 0;
  for (size_t i = 0; i < kEbrLimboLists; ++i) {
    EbrLimboBlock* b = r->limbo[i];
    if (b != nullptr && b->count == 0 && b->next == nullptr) {
      bsalloc::Free(b, kLimboBlockBytes);
      r->limbo[i] = nullptr;
    }
  }
}

}  // namespace

EbrRecord* EbrLeaseSlow() {
  void* mem;
  for (;;) {
    for (EbrRecord* r = g_records.load(std::memory_order_acquire);
         r != nullptr; r = r->next) {
      if (TryLease(r)) return r;
    }
    // Every record is busy: make a batch, lease its first record and
    // publish the whole batch with one CAS.
    mem = bsalloc::Alloc(kRecordBatchBytes, alignof(EbrRecord));
    if (mem != nullptr) break;
    // Out of memory. A guard cannot report failure, but records in use are
    // leased only for one bag operation (lock-free, short): wait for one
    // to come free. With no record at all there is nothing to wait for.
    ALLOC_CHECK(g_records.load(std::memory_order_acquire) != nullptr,
                "bagpipe: out of memory (first EBR records)");
    platform::Yield();
  }
  EbrRecord* batch = static_cast<EbrRecord*>(mem);
  for (size_t i = 0; i < kRecordsPerBatch; ++i) new (&batch[i]) EbrRecord();
  for (size_t i = 0; i + 1 < kRecordsPerBatch; ++i) {
    batch[i].next = &batch[i + 1];
  }
  // The announcement is stored before publication; a scan that misses the
  // batch is ordered before the publishing CAS and therefore before any of
  // this guard's pointer loads (see ebr.h).
  batch[0].state.store(Announcement(), std::memory_order_seq_cst);
  EbrRecord* head = g_records.load(std::memory_order_relaxed);
  do {
    batch[kRecordsPerBatch - 1].next = head;
  } while (!g_records.compare_exchange_weak(
      head, batch, std::memory_order_seq_cst, std::memory_order_relaxed));
  g_record_count.fetch_add(kRecordsPerBatch, std::memory_order_relaxed);
  return batch;
}

void EbrGuard::RetireEntry(void* p, Reclaimer reclaim, uintptr_t arg,
                           uint32_t interval) {
  EbrRecord* r = rec_;
  // seq_cst: ordered after the caller's unlinking CAS (see ebr.h).
  const uint64_t epoch = g_ebr_epoch.load(std::memory_order_seq_cst);
  const size_t i = epoch % kEbrLimboLists;
  if (r->limbo_epoch[i] != epoch) {
    // The list holds objects from epoch - 3 or earlier: expired.
    if (r->limbo[i] != nullptr && r->limbo[i]->count != 0) ReclaimList(r, i);
    r->limbo_epoch[i] = epoch;
  }
  EbrLimboBlock* b = r->limbo[i];
  constexpr uint32_t kCap =
      sizeof(EbrLimboBlock::entries) / sizeof(EbrLimboBlock::entries[0]);
  if (b == nullptr || b->count == kCap) {
    void* mem = bsalloc::Alloc(kLimboBlockBytes);
    if (ABSL_PREDICT_FALSE(mem == nullptr)) {
      // Out of memory for the limbo list: the object is unreachable and
      // will never be reclaimed, which is safe (nobody frees it under a
      // reader), so leak it rather than abort. Counted in EbrStats::leaked.
      g_leaked.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    EbrLimboBlock* fresh = static_cast<EbrLimboBlock*>(mem);
    fresh->next = b;
    fresh->count = 0;
    r->limbo[i] = b = fresh;
  }
  b->entries[b->count++] = EbrLimboEntry{p, reclaim, arg};
  Bump(r->retired);
  if (++r->retires_since_advance >= interval) {
    r->retires_since_advance = 0;
    EbrTryAdvance();
    Collect(r);
  }
}

void* EbrGuard::AllocBlock(size_t size) {
  if (void* cached = TakeCachedBlock(rec_, size)) return cached;
  void* p = bsalloc::Alloc(size, kEbrBlockAlign);
  if (ABSL_PREDICT_FALSE(p == nullptr)) return nullptr;
  g_blocks_allocated.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void EbrGuard::FreeUnpublishedBlock(void* p, size_t size) {
  RecycleBlock(rec_, p, size);
}

void EbrFreeBlockNow(void* p, size_t size) { ReleaseBlockToBsalloc(p, size); }

bool EbrTryAdvance() {
  uint64_t epoch = g_ebr_epoch.load(std::memory_order_seq_cst);
  for (EbrRecord* r = g_records.load(std::memory_order_seq_cst); r != nullptr;
       r = r->next) {
    const uint64_t s = r->state.load(std::memory_order_seq_cst);
    if ((s & 1) != 0 && (s >> 1) != epoch) return false;
  }
  // Failure means someone else advanced: just as good.
  g_ebr_epoch.compare_exchange_strong(epoch, epoch + 1,
                                      std::memory_order_seq_cst);
  return true;
}

void EbrFlush(bool release_caches) {
  ALLOC_CHECK(tls_ebr_depth == 0, "bagpipe: EbrFlush() called inside a guard");
  // Three advances take every list that exists now past its grace period.
  constexpr int kRounds = kEbrLimboLists + 1;
  for (int round = 0; round < kRounds; ++round) {
    EbrTryAdvance();
    for (EbrRecord* r = g_records.load(std::memory_order_acquire); r != nullptr;
         r = r->next) {
      if (!TryLease(r)) continue;  // busy: its lessee collects it later
      Collect(r);
      if (release_caches && round == kRounds - 1) ReleaseCaches(r);
      Release(r);
    }
  }
}

void EbrAtForkChild() {
  EbrRecord* mine = tls_ebr_depth != 0 ? tls_ebr_record : nullptr;
  for (EbrRecord* r = g_records.load(std::memory_order_acquire); r != nullptr;
       r = r->next) {
    if (r != mine) r->state.store(0, std::memory_order_release);
  }
}

EbrStats GetEbrStats() {
  EbrStats s;
  s.epoch = g_ebr_epoch.load(std::memory_order_relaxed);
  s.records = g_record_count.load(std::memory_order_relaxed);
  for (EbrRecord* r = g_records.load(std::memory_order_acquire); r != nullptr;
       r = r->next) {
    s.retired += r->retired.load(std::memory_order_relaxed);
    s.reclaimed += r->reclaimed.load(std::memory_order_relaxed);
  }
  s.pending = s.retired >= s.reclaimed ? s.retired - s.reclaimed : 0;
  s.blocks_allocated = g_blocks_allocated.load(std::memory_order_relaxed);
  s.blocks_released = g_blocks_released.load(std::memory_order_relaxed);
  s.leaked = g_leaked.load(std::memory_order_relaxed);
  // Caches belong to lessees; count them only for free records, which
  // is exact when the caller is quiescent (tests call this after joining).
  for (EbrRecord* r = g_records.load(std::memory_order_acquire); r != nullptr;
       r = r->next) {
    if (!TryLease(r)) continue;
    for (EbrCachedBlock* b = r->cache; b != nullptr; b = b->next) {
      ++s.blocks_cached;
    }
    Release(r);
  }
  return s;
}

}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators
