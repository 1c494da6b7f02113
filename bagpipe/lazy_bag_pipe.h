// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// LazyBagPipe: a BagPipe that is built by its first push.
//
// An empty BagPipe already owns its shared state and one node per pipe
// (4 KiB each for FAA queues). An owner with several bags that often stay
// empty for the whole life of a process (a page allocator's bags of freed
// pages, say) pays for all of them up front. A LazyBagPipe holds only an
// atomic pointer until an item first arrives: pops from an unbuilt bag find
// nothing, and the first push builds the bag.
//
//   LazyBagPipe<FAAQueueLowLevel<char*>> bag(/*pipes=*/2);  // no memory yet
//   LazyBagPipe<FAAQueueLowLevel<char*>>::Handle h(&bag);   // per thread
//   h.PushMut(p);   // builds the bag (false if out of memory)
//   h.PopMut(&p);   // false if empty or never built
//
// PublishBagPipe() is the build step on its own, for owners that keep the
// pointer themselves.
//
// Thread-safety: LazyBagPipe is thread-safe; a Handle is thread-compatible
// (one per thread, like a BagPipe handle). Building is lock-free: racing
// builders each make a bag and the losers of the publishing CAS destroy
// theirs, so no lock is held across fork.

#ifndef BAGPIPE_LAZY_BAG_PIPE_H_
#define BAGPIPE_LAZY_BAG_PIPE_H_

#include <atomic>
#include <cstddef>
#include <new>
#include <utility>

#include "absl/base/optimization.h"
#include "bagpipe/bagpipe.h"
#include "bsalloc/bsalloc.h"

namespace allocators {
namespace bagpipe {

// Returns the bag published in `slot`, first building one with `pipes`
// pipes (bsalloc memory) and publishing it if `slot` is empty. Returns
// nullptr if out of memory. A bag published here is destroyed with
// DestroyPublishedBagPipe.
template <typename Bag>
Bag* PublishBagPipe(std::atomic<Bag*>* slot, size_t pipes) {
  Bag* bag = slot->load(std::memory_order_acquire);
  if (bag != nullptr) return bag;
  void* mem = bsalloc::Alloc(sizeof(Bag), alignof(Bag));
  if (mem == nullptr) return nullptr;
  Bag* made = new (mem) Bag(pipes, std::nothrow);
  if (made->valid() &&
      slot->compare_exchange_strong(bag, made, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
    return made;
  }
  // Out of memory (bag stays nullptr), or another thread published first.
  made->~Bag();
  bsalloc::Free(mem, sizeof(Bag));
  return bag;
}

// Destroys a bag from PublishBagPipe (its last handle runs the cleanup
// policy) and empties `slot`. REQUIRES: no concurrent use of `slot`.
template <typename Bag>
void DestroyPublishedBagPipe(std::atomic<Bag*>* slot) {
  Bag* bag = slot->exchange(nullptr, std::memory_order_acq_rel);
  if (bag == nullptr) return;
  bag->~Bag();
  bsalloc::Free(bag, sizeof(Bag));
}

template <typename Q, typename Cleanup = NoCleanup>
class LazyBagPipe {
 public:
  using Bag = BagPipe<Q, Cleanup>;
  using value_type = typename Bag::value_type;

  // A bag of `pipes` pipes, built by the first push. Allocates nothing.
  explicit LazyBagPipe(size_t pipes) : pipes_(pipes) {}
  // REQUIRES: every Handle is gone. Items still in the bag go with it (the
  // cleanup policy runs on them).
  ~LazyBagPipe() { DestroyPublishedBagPipe(&proto_); }
  LazyBagPipe(const LazyBagPipe&) = delete;
  LazyBagPipe& operator=(const LazyBagPipe&) = delete;

  // True once the first push built the bag.
  bool built() const {
    return proto_.load(std::memory_order_acquire) != nullptr;
  }

  // One thread's handle. Cheap to make: it copies the bag's handle only
  // when the bag exists and this handle first needs it.
  class Handle {
   public:
    explicit Handle(LazyBagPipe* shared) : shared_(shared) {}
    ~Handle() {
      if (bag_ != nullptr) bag_->~Bag();
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    // Pops an item into `*out`; false if the bag is empty or unbuilt.
    bool PopMut(value_type* out) {
      Bag* bag = Get(/*build=*/false);
      return bag != nullptr && bag->PopMut(out);
    }
    // Pushes `item`, building the bag if needed. False (the item is still
    // the caller's) if out of memory.
    bool PushMut(value_type item) {
      Bag* bag = Get(/*build=*/true);
      return bag != nullptr && bag->PushMut(std::move(item));
    }
    // The bag's SizeGuess() (bagpipe.h): 0 while it is unbuilt.
    int64_t SizeGuess() {
      Bag* bag = Get(/*build=*/false);
      return bag == nullptr ? 0 : bag->SizeGuess();
    }
    // Pushes [first, last); returns how many were pushed (fewer only when
    // out of memory; the rest are still the caller's).
    template <typename It>
    size_t BulkAdd(It first, It last) {
      if (first == last) return 0;
      Bag* bag = Get(/*build=*/true);
      return bag == nullptr ? 0 : bag->BulkAdd(first, last);
    }

   private:
    Bag* Get(bool build) {
      if (ABSL_PREDICT_TRUE(bag_ != nullptr)) return bag_;
      Bag* proto = build ? PublishBagPipe(&shared_->proto_, shared_->pipes_)
                         : shared_->proto_.load(std::memory_order_acquire);
      if (proto == nullptr) return nullptr;
      bag_ = new (storage_) Bag(*proto);
      return bag_;
    }

    LazyBagPipe* shared_;
    Bag* bag_ = nullptr;  // in storage_ once made
    alignas(Bag) unsigned char storage_[sizeof(Bag)];
  };

 private:
  const size_t pipes_;
  std::atomic<Bag*> proto_{nullptr};
};

}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_LAZY_BAG_PIPE_H_
