// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// bsalloc::Resource: bsalloc (page-granular blocks, each a mapping of its
// own, with small caches of freed ones) as a std::pmr::memory_resource, for
// containers that must not touch the C++ heap, e.g. inside an allocator.
//
//   #include "bsalloc/memory_resource.h"
//   allocators::bsalloc::Resource bootstrap;
//   std::pmr::vector<void*> list(&bootstrap);
//
// Every block takes at least a page, so it suits few, modest blocks. The
// resource records its live blocks (mmap_alloc's BlockRegistry), so a
// deallocation with another size or alignment, of another resource's
// block, or of a block freed already is a fatal one-line error starting
// "bsalloc: ". The destructor frees the blocks still live. Alignments up
// to a page are what bsalloc gives; larger ones are honoured too.
// Allocation failure throws std::bad_alloc.
//
// Thread-safe. Resources are equal only to themselves.

#ifndef BSALLOC_MEMORY_RESOURCE_H_
#define BSALLOC_MEMORY_RESOURCE_H_

#include <cstddef>
#include <memory_resource>

#include "mmap_alloc/internal/block_registry.h"

namespace allocators {
namespace bsalloc {

class Resource final : public std::pmr::memory_resource {
 public:
  Resource() = default;
  // Frees every block still live.
  ~Resource() override;

  // Blocks live now.
  size_t live_blocks() { return blocks_.count(); }

 private:
  void* do_allocate(size_t bytes, size_t align) override;
  void do_deallocate(void* p, size_t bytes, size_t align) override;
  bool do_is_equal(const memory_resource& other) const noexcept override {
    return this == &other;
  }

  mmap_alloc::internal::BlockRegistry blocks_;
};

}  // namespace bsalloc
}  // namespace allocators

#endif  // BSALLOC_MEMORY_RESOURCE_H_
