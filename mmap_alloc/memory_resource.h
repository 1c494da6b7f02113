// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// mmap_alloc::Resource: a std::pmr::memory_resource whose every block is a
// mapping of its own (page-rounded, aligned as asked; any power of two).
// For big, long-lived buffers that should go back to the OS the moment
// they are freed.
//
//   #include "mmap_alloc/memory_resource.h"
//   allocators::mmap_alloc::Resource pages;
//   std::pmr::vector<char> buffer(&pages);
//
// The resource records its live blocks (BlockRegistry), so a deallocation
// is checked: another size or alignment ("size mismatch"), a block of
// another resource or none ("invalid pointer"), or a block freed lately
// ("double free") is a fatal one-line error starting "mmap_alloc: ". The
// destructor unmaps the blocks still live, as the standard pool resources
// release theirs. Allocation failure throws std::bad_alloc.
//
// Thread-safe. Resources are equal only to themselves.

#ifndef MMAP_ALLOC_MEMORY_RESOURCE_H_
#define MMAP_ALLOC_MEMORY_RESOURCE_H_

#include <cstddef>
#include <memory_resource>

#include "mmap_alloc/internal/block_registry.h"

namespace allocators {
namespace mmap_alloc {

class Resource final : public std::pmr::memory_resource {
 public:
  Resource() = default;
  // Unmaps every block still live.
  ~Resource() override;

  // Blocks live now.
  size_t live_blocks() { return blocks_.count(); }

 private:
  void* do_allocate(size_t bytes, size_t align) override;
  void do_deallocate(void* p, size_t bytes, size_t align) override;
  bool do_is_equal(const memory_resource& other) const noexcept override {
    return this == &other;
  }

  internal::BlockRegistry blocks_;
};

}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_MEMORY_RESOURCE_H_
