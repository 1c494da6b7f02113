// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// BlockRegistry: the live blocks of a memory resource that has no header of
// its own to check a deallocation against (mmap_alloc's and bsalloc's
// std::pmr resources). A record is {address, size, alignment}; removing one
// checks that the caller names the same size and alignment, and the last
// kRecent removed addresses name double frees.
//
// The records are an AddressTable (address_table.h), grown at half load.
//
// Thread-safe (a spin lock: the resources map or unmap around each call,
// which costs far more).

#ifndef MMAP_ALLOC_INTERNAL_BLOCK_REGISTRY_H_
#define MMAP_ALLOC_INTERNAL_BLOCK_REGISTRY_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "alloc_fmt/spin_lock.h"
#include "mmap_alloc/internal/address_table.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {

class BlockRegistry {
 public:
  struct Block {
    uintptr_t addr;  // 0: empty slot
    size_t size;
    size_t align;
  };

  constexpr BlockRegistry() = default;
  ~BlockRegistry();  // unmaps the table (not the blocks)
  BlockRegistry(const BlockRegistry&) = delete;
  BlockRegistry& operator=(const BlockRegistry&) = delete;

  // Records live block `b`; false if the table could not grow (no memory).
  bool Insert(const Block& b) ABSL_LOCKS_EXCLUDED(lock_);

  // Removes the record of `addr`, which must have `size` and `align`. Fatal
  // otherwise, with one line naming `owner` (the resource's package):
  // "<owner>: deallocate(): size mismatch 0x..." (live with another size or
  // alignment), "... double free of 0x..." (removed lately), or "...
  // invalid pointer 0x..." (never a block here, or long ago).
  void Remove(uintptr_t addr, size_t size, size_t align, const char* owner)
      ABSL_LOCKS_EXCLUDED(lock_);

  // Takes one live record out into `*out`; false when none is left. For an
  // owner releasing every block.
  bool TakeAny(Block* out) ABSL_LOCKS_EXCLUDED(lock_);

  size_t count() ABSL_LOCKS_EXCLUDED(lock_);

 private:
  static constexpr size_t kRecent = 16;

  SpinLock lock_;
  AddressTable<Block, 256> table_ ABSL_GUARDED_BY(lock_);
  size_t count_ ABSL_GUARDED_BY(lock_) = 0;
  uintptr_t recent_[kRecent] ABSL_GUARDED_BY(lock_) = {};
  size_t recent_next_ ABSL_GUARDED_BY(lock_) = 0;
};

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_INTERNAL_BLOCK_REGISTRY_H_
