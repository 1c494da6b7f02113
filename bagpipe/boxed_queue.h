// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Boxing adaptors: queues of arbitrary T built on the word-sized queues (the
// original's `generalize!` macro, which produced FAAArrayQueue and
// GeneralYC).
//
// A push moves the item into a box and pushes the box pointer; a failed push
// moves the item back into the caller's variable. A pop moves the item out
// and recycles the box. Boxes come from a per-queue BoxPool (chunks from
// bsalloc, never malloc). Destroying the queue pops and destroys every item
// still inside.

#ifndef BAGPIPE_BOXED_QUEUE_H_
#define BAGPIPE_BOXED_QUEUE_H_

#include <new>
#include <type_traits>
#include <utility>

#include "bagpipe/bag.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/internal/box_pool.h"
#include "bagpipe/yc_queue.h"

namespace allocators {
namespace bagpipe {

// A shared weak bag of T on top of LowLevel<Box*>, where LowLevel is a
// word-sized queue template (FAAQueueLowLevel, YangCrummeyQueue, ...).
// REQUIRES: T is move-constructible and move-assignable.
// Thread-safe, except construction and destruction. Ordering and progress
// are those of LowLevel.
template <typename T, template <typename> class LowLevel>
class BoxedQueue : public SharedWeakBagBase<BoxedQueue<T, LowLevel>, T> {
  static_assert(std::is_move_constructible_v<T> && std::is_move_assignable_v<T>,
                "BoxedQueue needs a movable T");
  using Pool = internal::BoxPool<T>;
  using Box = typename Pool::Box;
  using Low = LowLevel<Box*>;
  static_assert(kIsSharedWeakBag<Low>);

 public:
  using value_type = T;

  BoxedQueue() = default;
  BoxedQueue(const BoxedQueue&) = delete;
  BoxedQueue& operator=(const BoxedQueue&) = delete;

  // REQUIRES: no concurrent operation. Destroys every remaining item.
  ~BoxedQueue() {
    Box* b = nullptr;
    for (;;) {
      const PopStatus s = low_.TryPop(&b);
      if (s == PopStatus::kEmpty) break;
      if (s == PopStatus::kOk) {
        b->value()->~T();
        pool_.Free(b);
      }
    }
  }

  // On false (transient failure, or out of memory for a box or a node)
  // `item` holds its original value again.
  bool TryPush(T&& item) {
    return TryPushStatus(std::move(item)) == PushStatus::kOk;
  }
  PushStatus TryPushStatus(T&& item) {
    Box* b = pool_.Alloc();
    if (b == nullptr) return PushStatus::kOutOfMemory;
    T* slot = new (b->storage) T(std::move(item));
    const PushStatus st = low_.TryPushStatus(b);
    if (st == PushStatus::kOk) return st;
    item = std::move(*slot);
    slot->~T();
    pool_.Free(b);
    return st;
  }
  bool TryPush(const T& item) {
    T copy(item);
    return TryPush(std::move(copy));
  }

  // On kOk the item is move-assigned into *out.
  PopStatus TryPop(T* out) {
    Box* b = nullptr;
    const PopStatus s = low_.TryPop(&b);
    if (s == PopStatus::kOk) {
      *out = std::move(*b->value());
      b->value()->~T();
      pool_.Free(b);
    }
    return s;
  }

  // Boxes ever created (memory grows to the peak number of items).
  size_t box_capacity() const { return pool_.capacity(); }

 private:
  // Declared first so it is destroyed last, after ~BoxedQueue drained low_.
  Pool pool_;
  Low low_;
};

namespace internal {
template <typename U>
using FAAQueueOf = FAAQueueLowLevel<U, false>;
template <int kSegShift>
struct YcOf {
  template <typename U>
  using Queue = YangCrummeyQueue<U, kSegShift>;
};
}  // namespace internal

// The original's FAAArrayQueue<T>: a lock-free FIFO of any movable T.
template <typename T>
using FAAArrayQueue = BoxedQueue<T, internal::FAAQueueOf>;

// The original's GeneralYC<T>: a Yang-Crummey queue of any movable T.
template <typename T, int kSegShift = kDefaultYcSegShift>
using GeneralYC = BoxedQueue<T, internal::YcOf<kSegShift>::template Queue>;

}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_BOXED_QUEUE_H_
