// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Epoch-based safe memory reclamation (EBR) for the bagpipe queues.
//
// This replaces the original's crossbeam 0.2 epochs. It must work inside
// malloc (elfmalloc keeps its free lists in bagpipes), so it never calls
// malloc, takes its memory only from bsalloc, and needs no thread-exit hook.
//
// How it works
// ------------
// There is one global epoch counter and a global, push-only list of
// participant *records*. Instead of registering threads, every operation
// *leases* a record for its duration:
//
//   EbrGuard g;   // lease a free record and announce the current epoch in it
//   ...           // read shared pointers; they stay valid until g dies
//   g.Retire(p, reclaim, arg);   // p is unlinked: free it once safe
//                 // ~EbrGuard releases the record (state = 0)
//
// A record's `state` word is 0 while free and (epoch << 1) | 1 while leased,
// so leasing and announcing are a single compare-and-swap. A thread first
// tries the record it used last (a trivially-typed, initial-exec TLS hint)
// and only walks the list when that record is busy; if every record is busy,
// a new batch is allocated from bsalloc and pushed onto the list. The number
// of records is therefore bounded by the largest number of guards that were
// ever alive at once, and records never leak: a thread that exits simply
// stops leasing its record and someone else will pick it up.
//
// Nested guards on one thread reuse the outer guard's record (a TLS depth
// counter), so a looping Push() that holds a guard makes the guards of the
// individual TryPush() calls free.
//
// The epoch advances from E to E+1 only when every leased record has
// announced E. Objects retired while the global epoch is E go into the
// retiring record's limbo list for E (three lists, indexed E mod 3) and are
// reclaimed once the global epoch reaches E+2: by then every guard that was
// alive when the object was unlinked has ended. Limbo lists are chains of
// 4 KiB blocks from bsalloc. Each Retire() of a queue block tries to advance
// the epoch and collect the record's expired lists, so in steady state only a
// handful of blocks per record are pending; generic retirements (one per
// operation in the Treiber stack, say) do so every kGenericAdvanceInterval.
//
// Memory orderings. The proof needs, in the single total order S of seq_cst
// operations: (1) a guard's announcement precedes its first load of a shared
// root pointer, (2) the unlinking CAS precedes the retirer's load of the
// epoch, and (3) the advancer's scan of the records follows its load of the
// epoch. So the lease CAS, the epoch loads and the advance CAS are seq_cst,
// and the queues load their root pointers (head, tail) and unlink with
// seq_cst operations. Reclamation is ordered after every reader's last access
// by acquire/release: the reader's release store of state = 0 (or the next
// lessee's CAS, which continues its release sequence) is read by the
// advancer's scan, whose advance CAS is read by the reclaimer's epoch load.
//
// Limitations (documented, not bugs): a guard held forever stops all
// reclamation; after fork() call EbrAtForkChild() in the child, or records
// leased by threads that do not exist in the child stay leased forever.

#ifndef BAGPIPE_INTERNAL_EBR_H_
#define BAGPIPE_INTERNAL_EBR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/config.h"
#include "absl/base/optimization.h"

namespace allocators {
namespace bagpipe {
namespace internal {

// Frees (or recycles) a retired object. Runs on whichever thread collects
// the limbo list, with that thread's record leased.
// REQUIRES: must not create EbrGuards, retire objects or block.
using Reclaimer = void (*)(void* p, uintptr_t arg);

struct EbrLimboBlock;
struct EbrCachedBlock;

inline constexpr size_t kEbrLimboLists = 3;
// Bytes of reclaimed blocks a record keeps for reuse. Large enough to absorb
// the burst that follows a stalled epoch (a preempted guard) without a
// munmap/mmap per block, small enough not to matter per record (records are
// bounded by the number of concurrent operations). EbrFlush(true) empties it.
inline constexpr size_t kEbrCacheBudget = 256 * 1024;
// Alignment of blocks handed out by EbrGuard::AllocBlock().
inline constexpr size_t kEbrBlockAlign = 64;

// A participant record. Lives forever once created. `state` is shared; the
// rest belongs to whoever holds the lease (ordered by the lease CAS, which is
// an acquire, and the release store that ends the lease).
struct alignas(ABSL_CACHELINE_SIZE) EbrRecord {
  // 0 when free; (announced epoch << 1) | 1 while leased.
  std::atomic<uint64_t> state{0};
  // Next record in the global list. Written before publication, then
  // immutable.
  EbrRecord* next = nullptr;

  // --- Owned by the lessee. ---
  EbrLimboBlock* limbo[kEbrLimboLists] = {};
  uint64_t limbo_epoch[kEbrLimboLists] = {};
  uint32_t retires_since_advance = 0;
  // Reclaimed blocks kept for reuse by AllocBlock() (exact size match),
  // linked through their first words, at most kEbrCacheBudget bytes.
  EbrCachedBlock* cache = nullptr;
  size_t cache_bytes = 0;

  // --- Statistics: written only by the lessee, read racily by stats. ---
  std::atomic<uint64_t> retired{0};
  std::atomic<uint64_t> reclaimed{0};
};

// The global epoch. Only ever increases.
extern std::atomic<uint64_t> g_ebr_epoch;

// The record this thread used last (a hint; may be leased by someone else
// now) and how many guards this thread currently holds. GCC/Clang `__thread`
// rather than `thread_local`: it guarantees static initialisation, so there
// is no TLS wrapper call, constructor or destructor registration (which could
// call malloc); initial-exec keeps each access a single fs-relative load.
extern __thread EbrRecord* tls_ebr_record
    __attribute__((tls_model("initial-exec")));
extern __thread uint32_t tls_ebr_depth
    __attribute__((tls_model("initial-exec")));

// Leases a record, walking the list or allocating a batch. Out of line. Out
// of memory for a batch, it waits (yielding) for a leased record to come
// free; fatal only if no record exists at all.
EbrRecord* EbrLeaseSlow();

// RAII critical section. While a guard is alive, no object that was
// reachable from a shared root at the guard's creation (or later) is
// reclaimed. Thread-compatible: a guard belongs to the thread that made it
// and must be destroyed on that thread, in LIFO order with other guards.
class EbrGuard {
 public:
  EbrGuard() {
    if (tls_ebr_depth != 0) {
      ++tls_ebr_depth;
      rec_ = tls_ebr_record;
      return;
    }
    EbrRecord* r = tls_ebr_record;
    uint64_t expected = 0;
    // Fast path: the record this thread used last is usually still free.
    // seq_cst: the announcement must precede this guard's pointer loads in
    // the total order (see the file comment).
    if (ABSL_PREDICT_FALSE(
            r == nullptr ||
            !r->state.compare_exchange_strong(
                expected,
                (g_ebr_epoch.load(std::memory_order_seq_cst) << 1) | 1,
                std::memory_order_seq_cst, std::memory_order_relaxed))) {
      r = EbrLeaseSlow();
      tls_ebr_record = r;
    }
    tls_ebr_depth = 1;
    rec_ = r;
  }

  ~EbrGuard() {
    if (--tls_ebr_depth == 0) {
      // Release: everything this guard read happens-before whoever observes
      // the record free (and, transitively, the reclaimer).
      rec_->state.store(0, std::memory_order_release);
    }
  }

  EbrGuard(const EbrGuard&) = delete;
  EbrGuard& operator=(const EbrGuard&) = delete;

  // Defers reclaim(p, arg) until every guard that might still see p is gone.
  // REQUIRES: p is no longer reachable from any shared root (new guards
  // cannot find it) and is retired once. If no limbo block can be
  // allocated (out of memory), p is leaked instead: never reclaimed.
  void Retire(void* p, Reclaimer reclaim, uintptr_t arg) {
    RetireEntry(p, reclaim, arg, kGenericAdvanceInterval);
  }

  // Returns a block of `size` bytes aligned to kEbrBlockAlign: a recycled
  // block of exactly this size from the record's cache, or a fresh one from
  // bsalloc. Contents are unspecified. nullptr if out of memory (the queues
  // report that as a failed push; the original aborted).
  // REQUIRES: size >= 16 (a cached block stores its link and size in place).
  void* AllocBlock(size_t size);

  // Retires a block obtained from AllocBlock(size); once safe it goes back
  // to a record cache or to bsalloc. Also tries to advance the epoch, since
  // blocks are large and retired rarely.
  void RetireBlock(void* p, size_t size) { RetireEntry(p, nullptr, size, 1); }

  // Gives back a block from AllocBlock(size) that was never published (for
  // example the loser of a CAS race): immediately reusable.
  void FreeUnpublishedBlock(void* p, size_t size);

 private:
  // A generic retirement tries to advance the epoch this often.
  static constexpr uint32_t kGenericAdvanceInterval = 64;

  void RetireEntry(void* p, Reclaimer reclaim, uintptr_t arg,
                   uint32_t interval);

  EbrRecord* rec_;
};

// Frees a block from EbrGuard::AllocBlock() at once.
// REQUIRES: no other thread can reach the block (e.g. a queue destructor).
void EbrFreeBlockNow(void* p, size_t size);

// Tries to advance the global epoch by one. Returns true if the epoch moved
// (by this call or a concurrent one).
bool EbrTryAdvance();

// Advances the epoch as far as possible and reclaims every limbo list whose
// grace period is over, in every record that is not leased right now. With
// `release_caches`, also returns cached and spare blocks to bsalloc. When no
// other thread holds a guard, afterwards pending == 0.
// REQUIRES: the calling thread holds no guard (fatal otherwise).
void EbrFlush(bool release_caches);

// Call in the child after fork(): frees every record other than the one the
// calling thread holds, because their lessees do not exist in the child.
void EbrAtForkChild();

// A racy snapshot of the reclamation counters, for tests and diagnostics.
struct EbrStats {
  uint64_t epoch = 0;
  uint64_t records = 0;           // records ever created
  uint64_t retired = 0;           // objects retired
  uint64_t reclaimed = 0;         // objects reclaimed
  uint64_t pending = 0;           // retired - reclaimed
  uint64_t blocks_allocated = 0;  // blocks taken from bsalloc (AllocBlock)
  uint64_t blocks_released = 0;   // blocks given back to bsalloc
  uint64_t blocks_cached = 0;     // blocks sitting in record caches
  // Objects retired when no limbo block could be allocated (out of
  // memory): never reclaimed, which is safe, and not counted in retired.
  uint64_t leaked = 0;
};
EbrStats GetEbrStats();

}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_INTERNAL_EBR_H_
