// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// TreiberStack: the classic lock-free stack, as a benchmark baseline (the
// original compared against crossbeam's TreiberStack). Test-only: nodes come
// from operator new, as crossbeam's came from the Rust heap.
//
// Popped nodes are retired through the package's EBR (internal/ebr.h), which
// makes the stack both memory-safe and ABA-safe: a node that some thread has
// loaded as the head cannot be freed, so its address cannot come back as a
// new node while that thread's CAS is pending.

#ifndef BAGPIPE_TESTING_TREIBER_STACK_H_
#define BAGPIPE_TESTING_TREIBER_STACK_H_

#include <atomic>
#include <cstdint>
#include <utility>

#include "bagpipe/bag.h"
#include "bagpipe/internal/ebr.h"

namespace allocators {
namespace bagpipe {
namespace testing {

// A LIFO shared weak bag that never fails transiently. Thread-safe, except
// construction and destruction.
template <typename T>
class TreiberStack : public SharedWeakBagBase<TreiberStack<T>, T> {
 public:
  using value_type = T;

  TreiberStack() = default;
  TreiberStack(const TreiberStack&) = delete;
  TreiberStack& operator=(const TreiberStack&) = delete;
  ~TreiberStack() {
    Node* n = head_.load(std::memory_order_relaxed);
    while (n != nullptr) {
      Node* next = n->next;
      delete n;
      n = next;
    }
  }

  // Always succeeds.
  bool TryPush(T&& item) {
    Node* n = new Node{std::move(item), head_.load(std::memory_order_relaxed)};
    // Release publishes the node's fields.
    while (!head_.compare_exchange_weak(n->next, n, std::memory_order_release,
                                        std::memory_order_relaxed)) {
    }
    return true;
  }
  bool TryPush(const T& item) {
    T copy(item);
    return TryPush(std::move(copy));
  }

  // Never fails, and needs no guard (it does not dereference shared nodes).
  bool Push(T item) { return TryPush(std::move(item)); }

  // kOk or kEmpty; never a transient failure.
  PopStatus TryPop(T* out) {
    internal::EbrGuard guard;
    Node* head = head_.load(std::memory_order_seq_cst);
    while (head != nullptr) {
      // `next` is immutable once the node is published, and the guard keeps
      // `head` alive even if another thread pops it meanwhile.
      if (head_.compare_exchange_weak(head, head->next,
                                      std::memory_order_seq_cst,
                                      std::memory_order_acquire)) {
        *out = std::move(head->value);
        guard.Retire(head, &DeleteNode, 0);
        return PopStatus::kOk;
      }
    }
    return PopStatus::kEmpty;
  }

 private:
  struct Node {
    T value;
    Node* next;
  };
  static void DeleteNode(void* p, uintptr_t) { delete static_cast<Node*>(p); }

  std::atomic<Node*> head_{nullptr};
};

}  // namespace testing
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_TESTING_TREIBER_STACK_H_
