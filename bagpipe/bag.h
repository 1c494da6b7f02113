// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Weak bags: concurrent pools with no ordering guarantee whose operations may
// fail *transiently*.
//
// Shared weak bag B (operations on a shared object; the queues in this
// package and the baselines):
//
//   using value_type = T;
//   bool TryPush(T&& item);     // false: transient failure; `item` is left
//                               //   unchanged and still owned by the caller
//   PopStatus TryPop(T* out);   // kOk (item moved into *out), kEmpty, or
//                               //   kTransientFailure (the bag may be
//                               //   non-empty; try again)
//   bool Push(T item);          // retries TryPush until it succeeds (true)
//                               //   or the bag is out of memory (false;
//                               //   the caller still owns `item`)
//   bool Pop(T* out);           // retries TryPop until an item (true) or a
//                               //   genuine kEmpty (false)
//
// Out of memory: a push that needs a new node (queue segment, box) and
// cannot get one fails without changing the bag. TryPush reports it as a
// plain false; a bag that can tell the two failures apart also has
//
//   PushStatus TryPushStatus(T&& item);  // kOk, kTransientFailure or
//                                        //   kOutOfMemory
//
// which Push uses to stop retrying. Pops never allocate in the queues
// elfmalloc uses (the FAA queues); see yc_queue.h for the one exception.
//
// Word-sized queues take `T item` by value instead of `T&&`; both shapes
// accept `TryPush(std::move(x))` and leave x intact on failure.
//
// Weak bag handle H (per-handle mutable state, e.g. a BagPipe handle; every
// copy is a new handle sharing the same bag):
//
//   bool TryPushMut(T&& item);  PopStatus TryPopMut(T* out);
//   bool PushMut(T item);       bool PopMut(T* out);
//   template <class It> size_t BulkAdd(It first, It last);
//
// PushMut returns false only when out of memory (the caller keeps `item`);
// BulkAdd returns how many items, from `first` on, it pushed: fewer than
// last - first only when out of memory, and the rest still belong to the
// caller.
//
// Revocable bag: additionally `static bool Revoke(T item)` removes an item
// from wherever it sits in the bag (see faa_queue.h).
//
// The traits below check these shapes at compile time (detection idiom), so
// generic code such as BagPipe<Q> takes its queue as a template parameter
// and makes no virtual calls.
//
// Push() and Pop() may loop forever in pathological cases (for instance a
// Yang-Crummey queue whose every cell is poisoned by concurrent pops), as in
// the original.

#ifndef BAGPIPE_BAG_H_
#define BAGPIPE_BAG_H_

#include <atomic>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "alloc_fmt/check.h"
#include "bagpipe/internal/ebr.h"
#include "bsalloc/bsalloc.h"

namespace allocators {
namespace bagpipe {

// Result of a TryPop.
enum class PopStatus {
  kOk,                // an item was popped
  kEmpty,             // the bag was (serialisably) empty
  kTransientFailure,  // contention; the bag may hold items
};

// Result of a TryPushStatus.
enum class PushStatus {
  kOk,                // the item is in the bag
  kTransientFailure,  // contention; try again (the caller keeps the item)
  kOutOfMemory,       // a node could not be allocated; the bag is unchanged
                      //   and the caller keeps the item
};

namespace internal {

template <typename B, typename = void>
struct IsSharedWeakBagImpl : std::false_type {};
template <typename B>
struct IsSharedWeakBagImpl<
    B, std::void_t<typename B::value_type,
                   decltype(std::declval<B&>().TryPush(
                       std::declval<typename B::value_type&&>())),
                   decltype(std::declval<B&>().TryPop(
                       std::declval<typename B::value_type*>())),
                   decltype(std::declval<B&>().Push(
                       std::declval<typename B::value_type&&>())),
                   decltype(std::declval<B&>().Pop(
                       std::declval<typename B::value_type*>()))>>
    : std::bool_constant<
          std::is_same_v<decltype(std::declval<B&>().TryPush(
                             std::declval<typename B::value_type&&>())),
                         bool> &&
          std::is_same_v<decltype(std::declval<B&>().TryPop(
                             std::declval<typename B::value_type*>())),
                         PopStatus> &&
          std::is_same_v<decltype(std::declval<B&>().Pop(
                             std::declval<typename B::value_type*>())),
                         bool>> {};

template <typename B, typename = void>
struct HasTryPushStatus : std::false_type {};
template <typename B>
struct HasTryPushStatus<
    B, std::void_t<decltype(std::declval<B&>().TryPushStatus(
           std::declval<typename B::value_type&&>()))>> : std::true_type {};

template <typename H, typename = void>
struct IsWeakBagImpl : std::false_type {};
template <typename H>
struct IsWeakBagImpl<H,
                     std::void_t<typename H::value_type,
                                 decltype(std::declval<H&>().TryPushMut(
                                     std::declval<typename H::value_type&&>())),
                                 decltype(std::declval<H&>().TryPopMut(
                                     std::declval<typename H::value_type*>())),
                                 decltype(std::declval<H&>().PushMut(
                                     std::declval<typename H::value_type&&>())),
                                 decltype(std::declval<H&>().PopMut(
                                     std::declval<typename H::value_type*>())),
                                 decltype(std::declval<H&>().BulkAdd(
                                     std::declval<typename H::value_type*>(),
                                     std::declval<typename H::value_type*>()))>>
    : std::bool_constant<
          std::is_copy_constructible_v<H> &&
          std::is_same_v<decltype(std::declval<H&>().TryPushMut(
                             std::declval<typename H::value_type&&>())),
                         bool> &&
          std::is_same_v<decltype(std::declval<H&>().TryPopMut(
                             std::declval<typename H::value_type*>())),
                         PopStatus> &&
          std::is_same_v<decltype(std::declval<H&>().PopMut(
                             std::declval<typename H::value_type*>())),
                         bool>> {};

template <typename B, typename = void>
struct IsRevocableBagImpl : std::false_type {};
template <typename B>
struct IsRevocableBagImpl<
    B, std::void_t<decltype(B::Revoke(std::declval<typename B::value_type>()))>>
    : std::is_same<decltype(B::Revoke(std::declval<typename B::value_type>())),
                   bool> {};

}  // namespace internal

// True if B is a shared weak bag (see the file comment).
template <typename B>
inline constexpr bool kIsSharedWeakBag =
    internal::IsSharedWeakBagImpl<B>::value;

// True if H is a weak bag handle (see the file comment).
template <typename H>
inline constexpr bool kIsWeakBag = internal::IsWeakBagImpl<H>::value;

// True if B is a shared weak bag with a static Revoke(item).
template <typename B>
inline constexpr bool kIsRevocableBag =
    std::conjunction_v<internal::IsSharedWeakBagImpl<B>,
                       internal::IsRevocableBagImpl<B>>;

// CRTP base that gives a shared weak bag its looping Push() and Pop() from
// the derived class's TryPush() and TryPop(). The loops hold one EBR guard,
// so the guards of the individual attempts nest for free. As thread-safe as
// the derived class.
template <typename Derived, typename T>
class SharedWeakBagBase {
 public:
  using value_type = T;

  // Pushes `item`, retrying transient failures. Returns false, with `item`
  // not pushed, if the bag ran out of memory (bags without TryPushStatus
  // never do).
  bool Push(T item) {
    internal::EbrGuard guard;
    if constexpr (internal::HasTryPushStatus<Derived>::value) {
      for (;;) {
        switch (self().TryPushStatus(std::move(item))) {
          case PushStatus::kOk:
            return true;
          case PushStatus::kOutOfMemory:
            return false;
          case PushStatus::kTransientFailure:
            break;
        }
      }
    } else {
      while (!self().TryPush(std::move(item))) {
      }
      return true;
    }
  }

  // Pops into *out and returns true, or returns false once the bag reports
  // kEmpty. Transient failures are retried.
  bool Pop(T* out) {
    internal::EbrGuard guard;
    for (;;) {
      switch (self().TryPop(out)) {
        case PopStatus::kOk:
          return true;
        case PopStatus::kEmpty:
          return false;
        case PopStatus::kTransientFailure:
          break;
      }
    }
  }

 protected:
  SharedWeakBagBase() = default;
  ~SharedWeakBagBase() = default;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// A reference-counted handle onto one shared weak bag: the original's
// `ArcLike` / `impl WeakBag for Arc<B>`. Copies share the bag; the last copy
// destroys it. The bag and the count live in one bsalloc block, so handles
// are usable inside malloc. The per-handle operations simply forward (a
// shared bag has no per-handle state).
//
// Thread-safety: a handle is thread-compatible (one thread per handle); the
// bag behind it is shared and thread-safe.
template <typename B>
class SharedHandle {
  static_assert(kIsSharedWeakBag<B>, "SharedHandle needs a shared weak bag");

 public:
  using value_type = typename B::value_type;
  using Bag = B;

  // Creates a new bag, constructed from `args`.
  template <typename... Args>
  explicit SharedHandle(std::in_place_t, Args&&... args) {
    void* mem = bsalloc::Alloc(sizeof(Block), alignof(Block));
    ALLOC_CHECK(mem != nullptr, "bagpipe: out of memory (SharedHandle)");
    block_ = new (mem) Block(std::forward<Args>(args)...);
  }
  SharedHandle() : SharedHandle(std::in_place) {}

  SharedHandle(const SharedHandle& other) : block_(other.block_) {
    if (block_ != nullptr) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  SharedHandle(SharedHandle&& other) noexcept : block_(other.block_) {
    other.block_ = nullptr;
  }
  SharedHandle& operator=(SharedHandle other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~SharedHandle() {
    // acq_rel: every other handle's use of the bag happens-before its
    // destruction by the last one.
    if (block_ != nullptr &&
        block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      block_->~Block();
      bsalloc::Free(block_, sizeof(Block));
    }
  }

  B& bag() const { return block_->bag; }

  bool TryPushMut(value_type&& item) { return bag().TryPush(std::move(item)); }
  bool TryPushMut(const value_type& item) {
    value_type copy = item;
    return bag().TryPush(std::move(copy));
  }
  PopStatus TryPopMut(value_type* out) { return bag().TryPop(out); }
  // False only when out of memory (the caller keeps `item`).
  bool PushMut(value_type item) { return bag().Push(std::move(item)); }
  bool PopMut(value_type* out) { return bag().Pop(out); }
  // The number of items pushed from `first` on (fewer only when out of
  // memory).
  template <typename It>
  size_t BulkAdd(It first, It last) {
    size_t n = 0;
    for (; first != last; ++first, ++n) {
      if (!bag().Push(value_type(*first))) break;
    }
    return n;
  }

 private:
  struct Block {
    template <typename... Args>
    explicit Block(Args&&... args) : bag(std::forward<Args>(args)...) {}
    std::atomic<size_t> refs{1};
    B bag;
  };
  Block* block_;
};

}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_BAG_H_
