// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// MsQueue: Michael and Scott's lock-free FIFO queue ("Simple, Fast, and
// Practical Non-Blocking and Blocking Concurrent Queue Algorithms", 1996),
// as a benchmark baseline (the original compared against crossbeam's
// MsQueue). Test-only: nodes come from operator new.
//
// The queue always holds a dummy node at its head; a pop moves the head to
// the next node, takes that node's value and retires the old dummy through
// the package's EBR (internal/ebr.h), which keeps every node a thread has
// loaded alive, so neither a use after free nor an ABA can happen.

#ifndef BAGPIPE_TESTING_MS_QUEUE_H_
#define BAGPIPE_TESTING_MS_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <utility>

#include "bagpipe/bag.h"
#include "bagpipe/internal/ebr.h"

namespace allocators {
namespace bagpipe {
namespace testing {

// A FIFO shared weak bag that never fails transiently. Thread-safe, except
// construction and destruction. T must be default-constructible (the dummy
// node's value).
template <typename T>
class MsQueue : public SharedWeakBagBase<MsQueue<T>, T> {
 public:
  using value_type = T;

  MsQueue() {
    Node* dummy = new Node{};
    head_.store(dummy, std::memory_order_relaxed);
    tail_.store(dummy, std::memory_order_relaxed);
  }
  MsQueue(const MsQueue&) = delete;
  MsQueue& operator=(const MsQueue&) = delete;
  ~MsQueue() {
    Node* n = head_.load(std::memory_order_relaxed);
    while (n != nullptr) {
      Node* next = n->next.load(std::memory_order_relaxed);
      delete n;
      n = next;
    }
  }

  // Always succeeds.
  bool TryPush(T&& item) {
    Node* n = new Node{std::move(item), {nullptr}};
    internal::EbrGuard guard;
    for (;;) {
      Node* tail = tail_.load(std::memory_order_seq_cst);
      Node* next = tail->next.load(std::memory_order_seq_cst);
      if (tail != tail_.load(std::memory_order_seq_cst)) continue;
      if (next != nullptr) {
        // The tail lags: help it forward.
        tail_.compare_exchange_strong(tail, next, std::memory_order_seq_cst);
        continue;
      }
      Node* expected = nullptr;
      if (tail->next.compare_exchange_strong(expected, n,
                                             std::memory_order_seq_cst)) {
        tail_.compare_exchange_strong(tail, n, std::memory_order_seq_cst);
        return true;
      }
    }
  }
  bool TryPush(const T& item) {
    T copy(item);
    return TryPush(std::move(copy));
  }
  bool Push(T item) { return TryPush(std::move(item)); }

  // kOk or kEmpty; never a transient failure.
  PopStatus TryPop(T* out) {
    internal::EbrGuard guard;
    for (;;) {
      Node* head = head_.load(std::memory_order_seq_cst);
      Node* tail = tail_.load(std::memory_order_seq_cst);
      Node* next = head->next.load(std::memory_order_seq_cst);
      if (head != head_.load(std::memory_order_seq_cst)) continue;
      if (next == nullptr) return PopStatus::kEmpty;
      if (head == tail) {
        tail_.compare_exchange_strong(tail, next, std::memory_order_seq_cst);
        continue;
      }
      // Read the value before the CAS: once head moves, another pop may
      // take `next` as its dummy and retire it.
      T value = next->value;
      if (head_.compare_exchange_strong(head, next,
                                        std::memory_order_seq_cst)) {
        *out = std::move(value);
        guard.Retire(head, &DeleteNode, 0);
        return PopStatus::kOk;
      }
    }
  }

 private:
  struct Node {
    T value{};
    std::atomic<Node*> next{nullptr};
  };
  static void DeleteNode(void* p, uintptr_t) { delete static_cast<Node*>(p); }

  alignas(64) std::atomic<Node*> head_{nullptr};
  alignas(64) std::atomic<Node*> tail_{nullptr};
};

}  // namespace testing
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_TESTING_MS_QUEUE_H_
