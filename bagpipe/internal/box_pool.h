// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// BoxPool<T>: storage for the boxes of one boxing queue (boxed_queue.h).
//
// A box holds one T while it sits in a low-level queue. Taking a bsalloc
// block (a whole page and possibly a system call) per item would be absurd,
// so boxes are carved from geometrically growing chunks (chunk c holds
// kFirstChunk << c boxes) and recycled through a lock-free free list. The
// list links boxes by 32-bit index and its head carries a 32-bit version
// tag, which rules out ABA in practice (2^32 pool operations would have to
// happen between one thread's read of the head and its CAS). A popper may
// read the `next` field of a box that another thread has just taken; that is
// harmless because chunks stay mapped until the pool dies and `next` is
// atomic (it never overlaps the T storage).
//
// Memory: the pool grows to the largest number of items that were in the
// queue at once (rounded up to a chunk) and is released only when the pool
// is destroyed. Growth takes a spin lock; the common path is one CAS.
//
// Thread-safe, except construction and destruction.

#ifndef BAGPIPE_INTERNAL_BOX_POOL_H_
#define BAGPIPE_INTERNAL_BOX_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "alloc_fmt/check.h"
#include "alloc_fmt/spin_lock.h"
#include "bsalloc/bsalloc.h"

namespace allocators {
namespace bagpipe {
namespace internal {

template <typename T>
class BoxPool {
 public:
  struct Box {
    std::atomic<uint32_t> next;  // index + 1 of the next free box; 0 = none
    uint32_t index;              // immutable after the chunk is built
    alignas(T) unsigned char storage[sizeof(T)];

    T* value() { return reinterpret_cast<T*>(storage); }
  };

  BoxPool() = default;
  BoxPool(const BoxPool&) = delete;
  BoxPool& operator=(const BoxPool&) = delete;

  // REQUIRES: every box is back in the pool (its T destroyed).
  ~BoxPool() {
    for (size_t c = 0; c < kMaxChunks; ++c) {
      Box* chunk = chunks_[c].load(std::memory_order_relaxed);
      if (chunk != nullptr) bsalloc::Free(chunk, ChunkBytes(c));
    }
  }

  // Returns an unused box (its storage holds no T), or nullptr if the pool
  // must grow and the chunk cannot be allocated (out of memory).
  Box* Alloc() {
    for (;;) {
      uint64_t head = head_.load(std::memory_order_acquire);
      while (static_cast<uint32_t>(head) != 0) {
        Box* b = BoxAt(static_cast<uint32_t>(head) - 1);
        const uint32_t next = b->next.load(std::memory_order_relaxed);
        if (head_.compare_exchange_weak(head, Pack(next, Tag(head) + 1),
                                        std::memory_order_acquire,
                                        std::memory_order_acquire)) {
          return b;
        }
      }
      bool out_of_memory = false;
      Box* b = Grow(&out_of_memory);
      if (b != nullptr || out_of_memory) return b;
    }
  }

  // Returns a box whose T has been destroyed.
  void Free(Box* b) { PushChain(b, b); }

  // Number of boxes ever created (for tests).
  size_t capacity() const {
    const uint32_t n = num_chunks_.load(std::memory_order_acquire);
    return n == 0 ? 0 : kFirstChunk * ((size_t{1} << n) - 1);
  }

 private:
  static constexpr size_t kMaxChunks = 26;
  // Boxes in chunk 0: about one page worth, a power of two.
  static constexpr size_t FirstChunk() {
    size_t n = 1;
    while (n * 2 * sizeof(Box) <= 4096) n *= 2;
    return n;
  }
  static constexpr size_t kFirstChunk = FirstChunk();

  static size_t ChunkBytes(size_t c) {
    return (kFirstChunk << c) * sizeof(Box);
  }
  static uint64_t Pack(uint32_t index_plus_one, uint64_t tag) {
    return (tag << 32) | index_plus_one;
  }
  static uint64_t Tag(uint64_t word) { return word >> 32; }

  Box* BoxAt(uint32_t index) const {
    // Chunk c starts at index kFirstChunk * (2^c - 1).
    const uint64_t q = index / kFirstChunk + 1;
    const int c = 63 - __builtin_clzll(q);
    const size_t first = kFirstChunk * ((size_t{1} << c) - 1);
    return chunks_[c].load(std::memory_order_acquire) + (index - first);
  }

  // Pushes the chain first..last (linked through `next`) onto the list.
  void PushChain(Box* first, Box* last) {
    uint64_t head = head_.load(std::memory_order_relaxed);
    do {
      last->next.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
      // Release: the box's last use happens-before its next Alloc().
    } while (!head_.compare_exchange_weak(
        head, Pack(first->index + 1, Tag(head) + 1), std::memory_order_release,
        std::memory_order_relaxed));
  }

  // Adds a chunk and returns one of its boxes, or nullptr if another thread
  // grew the pool meanwhile (the caller retries the free list) or, with
  // *out_of_memory set, if the chunk could not be allocated.
  Box* Grow(bool* out_of_memory) {
    SpinLockHolder hold(&grow_lock_);
    if (static_cast<uint32_t>(head_.load(std::memory_order_acquire)) != 0) {
      return nullptr;
    }
    const uint32_t c = num_chunks_.load(std::memory_order_relaxed);
    ALLOC_CHECK(c < kMaxChunks, "bagpipe: box pool exhausted");
    const size_t n = kFirstChunk << c;
    void* mem = bsalloc::Alloc(ChunkBytes(c), alignof(Box));
    if (mem == nullptr) {
      *out_of_memory = true;
      return nullptr;
    }
    Box* chunk = static_cast<Box*>(mem);
    const uint32_t base =
        static_cast<uint32_t>(kFirstChunk * ((size_t{1} << c) - 1));
    for (size_t i = 0; i < n; ++i) {
      new (&chunk[i].next) std::atomic<uint32_t>(
          i + 1 < n ? static_cast<uint32_t>(base + i + 2) : 0);
      chunk[i].index = static_cast<uint32_t>(base + i);
    }
    chunks_[c].store(chunk, std::memory_order_release);
    num_chunks_.store(c + 1, std::memory_order_release);
    if (n > 1) PushChain(&chunk[1], &chunk[n - 1]);
    return &chunk[0];
  }

  std::atomic<uint64_t> head_{0};
  std::atomic<uint32_t> num_chunks_{0};
  SpinLock grow_lock_;
  std::atomic<Box*> chunks_[kMaxChunks] = {};
};

}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_INTERNAL_BOX_POOL_H_
