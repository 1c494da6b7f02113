// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// YangCrummeyQueue: the obstruction-free "infinite array" queue of Yang and
// Crummey ("A Wait-Free Queue as Fast as Fetch-and-Add", PPoPP 2016) without
// its wait-free slow path; Morrison and Afek's LCRQ paper describes the same
// idea. Cells live in lazily linked segments of 2^kSegShift cells:
//
//   head_index_, tail_index_   global FAA counters (cache-padded)
//   head_seg_, tail_seg_       cursors: a segment at or before the current
//                              head / tail cell
//   segment k                  {id = k, ctr, next, cells[2^kSegShift]}
//
// * TryPush: FAA tail_index_ to claim cell ix, find segment ix >> kSegShift
//   (creating missing segments with a CAS on `next`; a losing allocation is
//   recycled), CAS the item into the cell (0 -> item). A cell already
//   poisoned by a popper is a transient failure.
// * TryPop: (optionally) report kEmpty when head_index_ >= tail_index_;
//   otherwise FAA head_index_, swap SENTINEL into the cell. An item is
//   success; 0 means the queue was empty (ix >= tail) or the pusher of that
//   cell is slow (transient failure).
// Each try is a bounded number of steps; looping Push/Pop are
// obstruction-free only.
//
// Segment reclamation: a thread whose cell is in a later segment than the
// cursor it started from moves that cursor forward one segment at a time
// (CAS), incrementing each passed segment's `ctr`. Each cursor passes each
// segment exactly once, so the second increment (ctr 1 -> 2) means both
// cursors are past it and nobody can reach it any more: that thread retires
// it through EBR. The cursor is loaded *before* the FAA, so a cursor can never
// be past the segment of a cell claimed afterwards.
//
// Memory per empty queue: the queue object (4 cache lines) plus one segment
// of 64 + 8 * 2^kSegShift bytes. The default kSegShift = 11 makes a segment
// 16,448 bytes, which fits bsalloc's 20 KiB medium class; the original used
// 2^15 cells (256 KiB per queue, 16 MiB for an empty 64-pipe BagPipe) and
// said 2^10 already performs well. elfmalloc keeps hundreds of queues, so
// the smaller default matters; pass kSegShift = 15 for the original layout.
//
// Deviations from the original: kSegShift is a template parameter instead
// of a debug/release/feature switch (the original's 12, 15 and 16 are
// instantiations; bag_benchmark measures them); the empty pre-check (the
// original's default feature `check_empty_yq`) is the kCheckEmpty
// parameter, and the `staggered_indexes` feature the kStaggered parameter:
// claim ix uses cell (7 * ix) mod 2^kSegShift of its segment, so that
// consecutive claims touch cells 56 bytes apart, on different cache lines,
// instead of neighbours (7 is odd, so every cell is still used once); a
// cursor advances to the
// segment actually used (the original advanced it only from segment k to
// k+1); pop reports kEmpty when ix >= tail (the original: ix > tail, which
// calls an index nobody has claimed "transient").

#ifndef BAGPIPE_YC_QUEUE_H_
#define BAGPIPE_YC_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "absl/base/config.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/check.h"
#include "bagpipe/bag.h"
#include "bagpipe/internal/ebr.h"
#include "bagpipe/internal/word.h"
#include "platform/platform.h"

namespace allocators {
namespace bagpipe {

inline constexpr int kDefaultYcSegShift = 11;

// An obstruction-free FIFO queue of word-sized items (see internal/word.h).
// Thread-safe, except that construction and destruction must not race with
// other operations. Not revocable.
template <typename T, int kSegShift = kDefaultYcSegShift,
          bool kCheckEmpty = true, bool kStaggered = false>
class YangCrummeyQueue
    : public SharedWeakBagBase<
          YangCrummeyQueue<T, kSegShift, kCheckEmpty, kStaggered>, T> {
  static_assert(internal::kIsWordStorable<T>,
                "YangCrummeyQueue stores pointers or integers; use GeneralYC "
                "for other types");
  static_assert(kSegShift >= 1 && kSegShift <= 20, "unreasonable segment");

 public:
  using value_type = T;
  static constexpr size_t kSegCells = size_t{1} << kSegShift;

  // Fatal ("bagpipe: out of memory (YC segment)") if the first segment
  // cannot be allocated: a constructor has no way to report it.
  YangCrummeyQueue() {
    internal::EbrGuard guard;
    Segment* s = NewSegment(guard, 0);
    ALLOC_CHECK(s != nullptr, "bagpipe: out of memory (YC segment)");
    head_seg_.store(s, std::memory_order_relaxed);
    tail_seg_.store(s, std::memory_order_relaxed);
  }

  // REQUIRES: no concurrent operation. Remaining items are dropped.
  ~YangCrummeyQueue() {
    Segment* head = head_seg_.load(std::memory_order_relaxed);
    Segment* tail = tail_seg_.load(std::memory_order_relaxed);
    // Segments before the older cursor were retired when the newer cursor
    // passed them; free the rest.
    Segment* s = head->id < tail->id ? head : tail;
    while (s != nullptr) {
      Segment* next = s->next.load(std::memory_order_relaxed);
      internal::EbrFreeBlockNow(s, sizeof(Segment));
      s = next;
    }
  }

  YangCrummeyQueue(const YangCrummeyQueue&) = delete;
  YangCrummeyQueue& operator=(const YangCrummeyQueue&) = delete;

  // Appends `item`, or returns false if the claimed cell was already
  // poisoned by a popper or a segment could not be allocated (the caller
  // still owns `item`).
  bool TryPush(T item) { return TryPushStatus(item) == PushStatus::kOk; }

  // TryPush that tells a transient failure from running out of memory. A
  // push that cannot allocate the segment of its cell abandons the cell:
  // it stays empty, and the popper that reaches it poisons it and reports a
  // transient failure, exactly as for a slow pusher.
  PushStatus TryPushStatus(T item) {
    const uintptr_t word = internal::WordCodec<T>::Encode(item);
    internal::EbrGuard guard;
    // The cursor must be read before the FAA (see the file comment); seq_cst
    // also makes it the guard's first root load (internal/ebr.h).
    Segment* start = tail_seg_.load(std::memory_order_seq_cst);
    const uint64_t ix = tail_index_.fetch_add(1, std::memory_order_seq_cst);
    std::atomic<uintptr_t>* cell =
        FindCell(tail_seg_, start, ix, guard, /*wait_for_memory=*/false);
    if (ABSL_PREDICT_FALSE(cell == nullptr)) return PushStatus::kOutOfMemory;
    uintptr_t expected = internal::kEmptyCell;
    // Release: the item's contents happen-before the popper's use of it.
    return cell->compare_exchange_strong(expected, word,
                                         std::memory_order_release,
                                         std::memory_order_relaxed)
               ? PushStatus::kOk
               : PushStatus::kTransientFailure;
  }

  // Pops the oldest reachable item into *out.
  PopStatus TryPop(T* out) {
    if constexpr (kCheckEmpty) {
      // Head first: both only grow, so head >= tail means empty at the time
      // tail was read.
      const uint64_t head = head_index_.load(std::memory_order_seq_cst);
      if (head >= tail_index_.load(std::memory_order_seq_cst)) {
        return PopStatus::kEmpty;
      }
    }
    internal::EbrGuard guard;
    Segment* start = head_seg_.load(std::memory_order_seq_cst);
    const uint64_t ix = head_index_.fetch_add(1, std::memory_order_seq_cst);
    // A popper must reach (and poison) its cell, or a late pusher's item
    // would land where nobody looks: out of memory it waits for a segment.
    std::atomic<uintptr_t>* cell =
        FindCell(head_seg_, start, ix, guard, /*wait_for_memory=*/true);
    // Acquire pairs with the pusher's release CAS.
    const uintptr_t word =
        cell->exchange(internal::kSentinel, std::memory_order_acquire);
    if (word == internal::kEmptyCell) {
      // Nobody had claimed cell ix: the queue was empty. Otherwise its pusher
      // is slow and will fail.
      return ix >= tail_index_.load(std::memory_order_seq_cst)
                 ? PopStatus::kEmpty
                 : PopStatus::kTransientFailure;
    }
    ALLOC_DCHECK(word != internal::kSentinel, "bagpipe: YC cell popped twice");
    *out = internal::WordCodec<T>::Decode(word);
    return PopStatus::kOk;
  }

  // Checks that the cursors are consistent with the indices. REQUIRES:
  // quiescent. Fatal on violation.
  void CheckInvariants() const {
    const Segment* head = head_seg_.load(std::memory_order_relaxed);
    const Segment* tail = tail_seg_.load(std::memory_order_relaxed);
    ALLOC_CHECK(
        head->id <= (head_index_.load(std::memory_order_relaxed) >> kSegShift),
        "bagpipe: YC head cursor ahead of head index");
    ALLOC_CHECK(
        tail->id <= (tail_index_.load(std::memory_order_relaxed) >> kSegShift),
        "bagpipe: YC tail cursor ahead of tail index");
    const Segment* older = head->id < tail->id ? head : tail;
    const Segment* newer = head->id < tail->id ? tail : head;
    uint64_t id = older->id;
    const Segment* s = older;
    for (; s != newer && s != nullptr;
         s = s->next.load(std::memory_order_relaxed)) {
      ALLOC_CHECK(s->id == id++, "bagpipe: YC segment ids not consecutive");
    }
    ALLOC_CHECK(s == newer, "bagpipe: YC newer cursor not reachable");
  }

  // Bytes of one segment (for memory accounting).
  static constexpr size_t segment_bytes() { return sizeof(Segment); }

 private:
  struct Segment {
    explicit Segment(uint64_t segment_id) : id(segment_id) {}
    const uint64_t id;
    // How many cursors have moved past this segment (0, 1 or 2).
    std::atomic<uint32_t> ctr{0};
    std::atomic<Segment*> next{nullptr};
    alignas(ABSL_CACHELINE_SIZE) std::atomic<uintptr_t> cells[kSegCells]{};
  };

  // A zeroed segment, or nullptr if out of memory.
  static Segment* NewSegment(internal::EbrGuard& guard, uint64_t id) {
    void* mem = guard.AllocBlock(sizeof(Segment));
    return mem == nullptr ? nullptr : new (mem) Segment(id);
  }

  // Returns cell `ix`, walking (and extending) the list from `start`, and
  // moves `cursor` up to the cell's segment. Out of memory for a segment it
  // returns nullptr, or with `wait_for_memory` retries (yielding) until a
  // segment is allocated or linked by someone else.
  // REQUIRES: start was loaded from `cursor` under `guard` before ix was
  // claimed, so start->id <= ix >> kSegShift.
  static std::atomic<uintptr_t>* FindCell(std::atomic<Segment*>& cursor,
                                          Segment* start, uint64_t ix,
                                          internal::EbrGuard& guard,
                                          bool wait_for_memory) {
    const uint64_t target = ix >> kSegShift;
    ALLOC_DCHECK(start->id <= target, "bagpipe: YC cursor passed its cell");
    Segment* s = start;
    while (s->id < target) {
      Segment* next = s->next.load(std::memory_order_acquire);
      if (next == nullptr) {
        Segment* fresh = NewSegment(guard, s->id + 1);
        if (ABSL_PREDICT_FALSE(fresh == nullptr)) {
          if (!wait_for_memory) return nullptr;
          platform::Yield();
          continue;
        }
        // Release publishes the zeroed segment.
        if (s->next.compare_exchange_strong(next, fresh,
                                            std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
          next = fresh;
        } else {
          fresh->~Segment();
          guard.FreeUnpublishedBlock(fresh, sizeof(Segment));
        }
      }
      s = next;
    }
    if (ABSL_PREDICT_FALSE(s != start)) AdvanceCursor(cursor, s, guard);
    return &s->cells[(kStaggered ? ix * 7 : ix) & (kSegCells - 1)];
  }

  // Moves `cursor` forward to `target` one segment at a time; whoever moves
  // the second cursor past a segment retires it.
  static void AdvanceCursor(std::atomic<Segment*>& cursor, Segment* target,
                            internal::EbrGuard& guard) {
    // The cursor's segment cannot be retired yet (this cursor has not passed
    // it), so it is safe to dereference under the guard.
    Segment* cur = cursor.load(std::memory_order_acquire);
    while (cur->id < target->id) {
      Segment* next = cur->next.load(std::memory_order_acquire);
      // seq_cst: possibly the unlinking step before RetireBlock.
      if (cursor.compare_exchange_strong(cur, next, std::memory_order_seq_cst,
                                         std::memory_order_acquire)) {
        if (cur->ctr.fetch_add(1, std::memory_order_acq_rel) == 1) {
          guard.RetireBlock(cur, sizeof(Segment));
        }
        cur = next;
      }
    }
  }

  alignas(ABSL_CACHELINE_SIZE) std::atomic<uint64_t> head_index_{0};
  alignas(ABSL_CACHELINE_SIZE) std::atomic<uint64_t> tail_index_{0};
  alignas(ABSL_CACHELINE_SIZE) std::atomic<Segment*> head_seg_{nullptr};
  alignas(ABSL_CACHELINE_SIZE) std::atomic<Segment*> tail_seg_{nullptr};
};

}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_YC_QUEUE_H_
