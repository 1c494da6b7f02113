// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// FAAQueueLowLevel: Ramalhete's FAAArrayQueue ("FAAArrayQueue - MPMC
// lock-free queue", Concurrency Freaks, 2016), decomposed into try-operations
// so that a BagPipe can react to contention, as in the original.
//
// The queue is a linked list of nodes, each an array of 256 cells with its
// own enqueue and dequeue indices:
//
//   head_ --> [deq_idx | enq_idx | next | cells 0..255] --> ... <-- tail_
//
// * TryPush takes a cell with a fetch-and-add on the tail node's enq_idx and
//   CASes the item into it (0 -> item). If a popper already poisoned the cell
//   (0 -> SENTINEL) the push fails transiently. When the node is full the
//   pusher links a new node whose cell 0 already holds its item, or helps a
//   concurrent pusher by swinging tail_ forward.
// * TryPop reports kEmpty when the head node is drained and has no
//   successor. Otherwise it takes a cell with a fetch-and-add on deq_idx and
//   swaps SENTINEL in: an item means success, 0 or SENTINEL (a slow pusher,
//   or a revoked cell) is a transient failure. A popper that runs off the end
//   of a node swings head_ to the next node and retires the old one.
//
// Out of memory: a push that finds the tail node full and cannot allocate a
// new node returns PushStatus::kOutOfMemory from TryPushStatus (false from
// TryPush, Push) without touching the list: the failed fetch-and-add only
// bumped a full node's enq_idx past kNodeCells, which every operation
// already treats as "full". Pops never allocate. Only the constructor's
// first node is fatal if it cannot be had (a constructor cannot report).
//
// Progress: TryPush and TryPop are lock-free (their internal loops retry only
// when another thread made progress); Push/Pop (looping) are lock-free too.
// Nodes are reclaimed with internal/ebr.h.
//
// RevocableFAAQueue<U*> additionally supports Revoke(item): before the cell
// CAS the pusher stores the cell's address in the item's revocation handle
// (see internal/word.h); Revoke CASes that cell from the item to SENTINEL, so
// exactly one of a revoke and a concurrent pop of the same item wins. Poppers
// skip revoked cells as transient failures, so heavy revocation slows pops.
// Revocable nodes are type-stable (internal/type_stable_pool.h) so that a
// late revoker never touches unmapped memory.
//
// Memory per empty queue: the queue object (3 cache lines) plus one node,
// 2240 bytes in a 4 KiB bsalloc block.
//
// Deviations from the original:
// * The original retired a drained head node even when tail_ still pointed
//   at it (tail lags while a new node is being linked), so a later pusher
//   could load a reclaimed tail. Here a popper first swings tail_ past the
//   node, which keeps tail_ at or after head_ and makes retirement safe.
// * A failed push clears the revocation handle in every build (the original
//   meant to do so in debug builds but misspelt the cfg, so it never did).
// * The losing node of a link race is recycled instead of wasted.

#ifndef BAGPIPE_FAA_QUEUE_H_
#define BAGPIPE_FAA_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "absl/base/config.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/check.h"
#include "bagpipe/bag.h"
#include "bagpipe/internal/ebr.h"
#include "bagpipe/internal/type_stable_pool.h"
#include "bagpipe/internal/word.h"
#include "bsalloc/bsalloc.h"

namespace allocators {
namespace bagpipe {

// A lock-free FIFO queue of word-sized items (pointers or integers; see
// internal/word.h). With kRevocable, items must be pointers to revocable
// objects and Revoke() is available (use the RevocableFAAQueue alias).
//
// Thread-safe, except that construction and destruction must not race with
// other operations. FIFO for each producer/consumer pair when every try
// succeeds; as a bag, no ordering is promised.
template <typename T, bool kRevocable = false>
class FAAQueueLowLevel
    : public SharedWeakBagBase<FAAQueueLowLevel<T, kRevocable>, T> {
  static_assert(internal::kIsWordStorable<T>,
                "FAAQueueLowLevel stores pointers or integers; use "
                "FAAArrayQueue for other types");
  static_assert(!kRevocable || internal::kIsRevocable<T>,
                "a revocable queue needs U* items where U has "
                "std::atomic<uintptr_t>& revocation_handle()");

 public:
  using value_type = T;
  static constexpr size_t kNodeCells = 256;

  // Fatal ("bagpipe: out of memory (FAA node)") if the first node cannot be
  // allocated: a constructor has no way to report it.
  FAAQueueLowLevel() {
    internal::EbrGuard guard;
    Node* n = NewNode(guard, internal::kEmptyCell);
    ALLOC_CHECK(n != nullptr, "bagpipe: out of memory (FAA node)");
    head_.store(n, std::memory_order_relaxed);
    tail_.store(n, std::memory_order_relaxed);
  }

  // The same, except that out of memory leaves the queue unusable (ok()
  // false; only destruction is allowed), for owners that must report
  // allocation failure instead of dying (BagPipe's nothrow constructor).
  explicit FAAQueueLowLevel(std::nothrow_t) {
    internal::EbrGuard guard;
    Node* n = NewNode(guard, internal::kEmptyCell);
    head_.store(n, std::memory_order_relaxed);
    tail_.store(n, std::memory_order_relaxed);
  }

  // False only after the nothrow constructor ran out of memory.
  bool ok() const { return head_.load(std::memory_order_relaxed) != nullptr; }

  // REQUIRES: no concurrent operation. Remaining word-sized items are simply
  // dropped (they own nothing).
  ~FAAQueueLowLevel() {
    Node* n = head_.load(std::memory_order_relaxed);
    while (n != nullptr) {
      Node* next = n->next.load(std::memory_order_relaxed);
      DestroyNodeNow(n);
      n = next;
    }
  }

  FAAQueueLowLevel(const FAAQueueLowLevel&) = delete;
  FAAQueueLowLevel& operator=(const FAAQueueLowLevel&) = delete;

  // Appends `item`. Returns false if a concurrent pop poisoned the cell
  // this push claimed (transient) or a new node could not be allocated; the
  // caller still owns `item`.
  bool TryPush(T item) { return TryPushStatus(item) == PushStatus::kOk; }

  // TryPush that tells a transient failure from running out of memory.
  PushStatus TryPushStatus(T item) {
    const uintptr_t word = Codec::Encode(item);
    internal::EbrGuard guard;
    for (;;) {
      // seq_cst: first root load of the operation (see internal/ebr.h).
      Node* tail = tail_.load(std::memory_order_seq_cst);
      const uint64_t idx =
          tail->enq_idx.fetch_add(1, std::memory_order_relaxed);
      if (ABSL_PREDICT_FALSE(idx >= kNodeCells)) {
        if (tail != tail_.load(std::memory_order_acquire)) continue;
        Node* next = tail->next.load(std::memory_order_acquire);
        if (next == nullptr) {
          Node* fresh = NewNode(guard, word);
          if (ABSL_PREDICT_FALSE(fresh == nullptr)) {
            // Another pusher may have linked a node meanwhile: use it.
            if (tail->next.load(std::memory_order_acquire) != nullptr) {
              continue;
            }
            return PushStatus::kOutOfMemory;
          }
          if constexpr (kRevocable) SetHandle(item, &fresh->cells[0]);
          // Release publishes the initialised node (and the item in cell 0).
          if (tail->next.compare_exchange_strong(next, fresh,
                                                 std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
            tail_.compare_exchange_strong(tail, fresh,
                                          std::memory_order_seq_cst);
            return PushStatus::kOk;
          }
          if constexpr (kRevocable) {
            // While the node was private, a revoker could already take the
            // item out of cell 0 through the handle. Then the push counts
            // as done (and revoked): the item must not be pushed again.
            const uintptr_t back = fresh->cells[0].exchange(
                internal::kSentinel, std::memory_order_acq_rel);
            if (back != word) {
              DiscardUnpublishedNode(guard, fresh);
              return PushStatus::kOk;
            }
            SetHandle(item, nullptr);
          }
          DiscardUnpublishedNode(guard, fresh);
          // `next` now holds the winner's node: help it become the tail.
        }
        tail_.compare_exchange_strong(tail, next, std::memory_order_seq_cst);
        continue;
      }
      std::atomic<uintptr_t>& cell = tail->cells[idx];
      if constexpr (kRevocable) SetHandle(item, &cell);
      uintptr_t expected = internal::kEmptyCell;
      // Release: the item's contents happen-before the popper's use of it.
      if (ABSL_PREDICT_TRUE(cell.compare_exchange_strong(
              expected, word, std::memory_order_release,
              std::memory_order_relaxed))) {
        return PushStatus::kOk;
      }
      if constexpr (kRevocable) SetHandle(item, nullptr);
      return PushStatus::kTransientFailure;
    }
  }

  // Pops the oldest reachable item into *out.
  PopStatus TryPop(T* out) {
    internal::EbrGuard guard;
    for (;;) {
      Node* head = head_.load(std::memory_order_seq_cst);
      // Both indices only grow, so deq >= enq (read in this order) means the
      // node was drained at the moment enq was read.
      if (head->deq_idx.load(std::memory_order_acquire) >=
              head->enq_idx.load(std::memory_order_acquire) &&
          head->next.load(std::memory_order_acquire) == nullptr) {
        return PopStatus::kEmpty;
      }
      const uint64_t idx =
          head->deq_idx.fetch_add(1, std::memory_order_relaxed);
      if (ABSL_PREDICT_FALSE(idx >= kNodeCells)) {
        Node* next = head->next.load(std::memory_order_acquire);
        if (next == nullptr) return PopStatus::kEmpty;
        // Keep tail_ at or after head_, so a retired node is never named by
        // either root (see the file comment).
        Node* expected_tail = head;
        tail_.compare_exchange_strong(expected_tail, next,
                                      std::memory_order_seq_cst);
        // seq_cst: the unlinking CAS precedes the retirer's epoch load.
        if (head_.compare_exchange_strong(head, next,
                                          std::memory_order_seq_cst)) {
          RetireNode(guard, head);
        }
        continue;
      }
      // Acquire pairs with the pusher's release CAS.
      const uintptr_t word = head->cells[idx].exchange(
          internal::kSentinel, std::memory_order_acquire);
      if (word == internal::kEmptyCell || word == internal::kSentinel) {
        return PopStatus::kTransientFailure;
      }
      T item = Codec::Decode(word);
      if constexpr (kRevocable) SetHandle(item, nullptr);
      *out = item;
      return PopStatus::kOk;
    }
  }

  // Removes `item` from the cell recorded in its handle. Returns true if
  // this call removed it (a concurrent pop then cannot get it), false if
  // the item is in no cell or a pop won. Clears the handle on success.
  // REQUIRES: `item` is alive; it was pushed into a RevocableFAAQueue of this
  // type, or its handle is 0.
  template <bool R = kRevocable, typename = std::enable_if_t<R>>
  static bool Revoke(T item) {
    std::atomic<uintptr_t>& handle = internal::HandleOf(item);
    const uintptr_t cell_addr = handle.load(std::memory_order_acquire);
    if (cell_addr == 0) return false;
    // The cell is in a type-stable node, so it is a live atomic even if the
    // item left it long ago.
    auto* cell = reinterpret_cast<std::atomic<uintptr_t>*>(cell_addr);
    uintptr_t expected = Codec::Encode(item);
    if (!cell->compare_exchange_strong(expected, internal::kSentinel,
                                       std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
      return false;
    }
    handle.store(0, std::memory_order_relaxed);
    return true;
  }

  // Checks structural invariants: head_ reaches tail_, tail_ is the last
  // node, indices are sane. REQUIRES: quiescent (no concurrent operations).
  // Fatal on violation.
  void CheckInvariants() const {
    Node* head = head_.load(std::memory_order_relaxed);
    Node* tail = tail_.load(std::memory_order_relaxed);
    bool seen_tail = false;
    for (Node* n = head; n != nullptr;
         n = n->next.load(std::memory_order_relaxed)) {
      if (n == tail) seen_tail = true;
      if (n->next.load(std::memory_order_relaxed) != nullptr) {
        ALLOC_CHECK(n->enq_idx.load(std::memory_order_relaxed) >= kNodeCells,
                    "bagpipe: FAA node linked before it was full");
      }
    }
    ALLOC_CHECK(seen_tail, "bagpipe: FAA tail not reachable from head");
    ALLOC_CHECK(tail->next.load(std::memory_order_relaxed) == nullptr,
                "bagpipe: FAA tail is not the last node");
  }

  // Revocable nodes of this type waiting in the type-stable pool (racy).
  template <bool R = kRevocable, typename = std::enable_if_t<R>>
  static size_t pooled_nodes() {
    return Pool::Global().size();
  }

  // Bytes of the node each queue holds at least (for memory accounting).
  static constexpr size_t node_bytes() { return sizeof(Node); }

 private:
  using Codec = internal::WordCodec<T>;

  struct Node {
    alignas(ABSL_CACHELINE_SIZE) std::atomic<uint64_t> deq_idx{0};
    alignas(ABSL_CACHELINE_SIZE) std::atomic<uint64_t> enq_idx{0};
    alignas(ABSL_CACHELINE_SIZE) std::atomic<Node*> next{nullptr};
    std::atomic<uintptr_t> pool_link{0};  // TypeStablePool link (revocable)
    alignas(ABSL_CACHELINE_SIZE) std::atomic<uintptr_t> cells[kNodeCells]{};

    // Re-initialises a recycled node with atomic stores only: a late
    // revoker may CAS a cell concurrently (revocable nodes are type-stable).
    void Reset(uintptr_t first) {
      for (auto& c : cells)
        c.store(internal::kEmptyCell, std::memory_order_relaxed);
      cells[0].store(first, std::memory_order_relaxed);
      deq_idx.store(0, std::memory_order_relaxed);
      enq_idx.store(first == internal::kEmptyCell ? 0 : 1,
                    std::memory_order_relaxed);
      next.store(nullptr, std::memory_order_relaxed);
    }
  };
  using Pool = internal::TypeStablePool<Node>;

  static void SetHandle(T item, std::atomic<uintptr_t>* cell) {
    internal::HandleOf(item).store(reinterpret_cast<uintptr_t>(cell),
                                   std::memory_order_release);
  }

  // A node holding `first` in cell 0 (or empty when first == kEmptyCell),
  // or nullptr if out of memory.
  static Node* NewNode(internal::EbrGuard& guard, uintptr_t first) {
    Node* n;
    if constexpr (kRevocable) {
      n = Pool::Global().TryPop();
      if (n == nullptr) {
        void* mem = bsalloc::Alloc(sizeof(Node), alignof(Node));
        if (mem == nullptr) return nullptr;
        n = new (mem) Node();
      }
    } else {
      void* mem = guard.AllocBlock(sizeof(Node));
      if (mem == nullptr) return nullptr;
      n = new (mem) Node();
    }
    n->Reset(first);
    return n;
  }

  static void DiscardUnpublishedNode(internal::EbrGuard& guard, Node* n) {
    if constexpr (kRevocable) {
      // A revoker may hold the address of cell 0 (it was in the handle).
      n->cells[0].store(internal::kSentinel, std::memory_order_relaxed);
      Pool::Global().Push(n);
    } else {
      guard.FreeUnpublishedBlock(n, sizeof(Node));
    }
  }

  static void RetireNode(internal::EbrGuard& guard, Node* n) {
    if constexpr (kRevocable) {
      guard.Retire(n, &Pool::Reclaim,
                   reinterpret_cast<uintptr_t>(&Pool::Global()));
    } else {
      guard.RetireBlock(n, sizeof(Node));
    }
  }

  static void DestroyNodeNow(Node* n) {
    if constexpr (kRevocable) {
      // Items left behind keep stale handles; poison their cells so a later
      // Revoke() of such an item fails instead of "succeeding".
      for (auto& c : n->cells) {
        c.store(internal::kSentinel, std::memory_order_relaxed);
      }
      Pool::Global().Push(n);
    } else {
      internal::EbrFreeBlockNow(n, sizeof(Node));
    }
  }

  alignas(ABSL_CACHELINE_SIZE) std::atomic<Node*> head_{nullptr};
  alignas(ABSL_CACHELINE_SIZE) std::atomic<Node*> tail_{nullptr};
};

// The revocable variant: items are U* with a revocation handle.
template <typename T>
using RevocableFAAQueue = FAAQueueLowLevel<T, true>;

}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_FAA_QUEUE_H_
