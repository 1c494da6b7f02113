// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A global free list of page-aligned nodes that are never unmapped.
//
// Why: a revoker (RevocableFAAQueue::Revoke) reaches a queue cell through the
// address stored in the item, not through the queue's links, so EBR cannot
// protect it: the node may already be unlinked and its grace period may
// already be running. Revocable nodes are therefore *type-stable*: once a
// block has been a revocable node of some type, it stays one forever (here,
// or in a queue), so a late revoker's compare-and-swap always lands on an
// atomic cell of a node. It can only succeed if that cell holds the very
// item being revoked, which means the item really is in a bag there.
//
// The list is a Treiber stack whose head packs the node's page number with a
// 24-bit version tag (ABA protection). Popping reads `pool_link` of a node
// that another thread may pop and reuse concurrently; that is harmless
// because the memory stays mapped, `pool_link` is atomic in every
// incarnation, and the stale value is discarded by the failing CAS.
//
// Memory: bounded by the largest number of revocable nodes of this type that
// were ever live at once. Nothing is returned to the system.
//
// Thread-safe.

#ifndef BAGPIPE_INTERNAL_TYPE_STABLE_POOL_H_
#define BAGPIPE_INTERNAL_TYPE_STABLE_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "alloc_fmt/check.h"

namespace allocators {
namespace bagpipe {
namespace internal {

// Node must have a member `std::atomic<uintptr_t> pool_link` and be placed
// at page-aligned addresses below 2^52.
template <typename Node>
class TypeStablePool {
 public:
  constexpr TypeStablePool() = default;
  TypeStablePool(const TypeStablePool&) = delete;
  TypeStablePool& operator=(const TypeStablePool&) = delete;

  // The pool shared by every queue that uses Node.
  static TypeStablePool& Global() { return global_; }

  // Returns a pooled node, or nullptr if the pool is empty. The node's
  // contents are whatever its last user left.
  Node* TryPop() {
    uint64_t head = head_.load(std::memory_order_acquire);
    while (Unpack(head) != nullptr) {
      Node* n = Unpack(head);
      const uintptr_t next = n->pool_link.load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(
              head, Pack(reinterpret_cast<Node*>(next), Tag(head) + 1),
              std::memory_order_acquire, std::memory_order_acquire)) {
        count_.fetch_sub(1, std::memory_order_relaxed);
        return n;
      }
    }
    return nullptr;
  }

  // Adds a node that nobody will use as a queue node any more.
  void Push(Node* n) {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(n);
    ALLOC_CHECK((addr & (kPageAlign - 1)) == 0 && addr < (uint64_t{1} << 52),
                "bagpipe: type-stable node %p is not page-aligned below 2^52",
                static_cast<void*>(n));
    count_.fetch_add(1, std::memory_order_relaxed);
    uint64_t head = head_.load(std::memory_order_relaxed);
    do {
      n->pool_link.store(reinterpret_cast<uintptr_t>(Unpack(head)),
                         std::memory_order_relaxed);
      // Release: the node's last uses happen-before the next TryPop().
    } while (!head_.compare_exchange_weak(head, Pack(n, Tag(head) + 1),
                                          std::memory_order_release,
                                          std::memory_order_relaxed));
  }

  // An EBR Reclaimer that pushes onto the pool at `pool`.
  static void Reclaim(void* p, uintptr_t pool) {
    reinterpret_cast<TypeStablePool*>(pool)->Push(static_cast<Node*>(p));
  }

  // Pooled nodes (racy).
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  static constexpr uintptr_t kPageAlign = 4096;
  static constexpr int kPageShift = 12;
  static constexpr int kTagShift = 40;  // 40 bits of page number: 2^52 bytes

  static uint64_t Pack(Node* n, uint64_t tag) {
    return (reinterpret_cast<uintptr_t>(n) >> kPageShift) | (tag << kTagShift);
  }
  static Node* Unpack(uint64_t word) {
    return reinterpret_cast<Node*>((word & ((uint64_t{1} << kTagShift) - 1))
                                   << kPageShift);
  }
  static uint64_t Tag(uint64_t word) { return word >> kTagShift; }

  static TypeStablePool global_;

  std::atomic<uint64_t> head_{0};
  std::atomic<size_t> count_{0};
};

template <typename Node>
TypeStablePool<Node> TypeStablePool<Node>::global_;

}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_INTERNAL_TYPE_STABLE_POOL_H_
