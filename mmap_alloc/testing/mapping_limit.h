// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Test-only: brings the calling process to its mapping limit
// (vm.max_map_count, 65 530 by default), so that tests can check how code
// behaves when the kernel refuses new mappings and mapping splits, without
// root and without lowering the system-wide limit for everyone else.

#ifndef MMAP_ALLOC_TESTING_MAPPING_LIMIT_H_
#define MMAP_ALLOC_TESTING_MAPPING_LIMIT_H_

#include <cstddef>

namespace allocators {
namespace mmap_alloc {
namespace testing {

// Maps one region and changes the protection of its pages one at a time,
// from the end, alternating "none" and "read", so that every change splits
// off one more mapping; it stops when the kernel refuses (ENOMEM). The
// process is then at the limit: a new mapping or the split of an existing
// one (munmap or mprotect of part of a mapping) is refused, until Release().
// Thread-compatible. Filling takes a few hundred milliseconds at the default
// limit.
class MappingLimitFiller {
 public:
  // Limits above this are not filled (full() stays false): it would take
  // too long and too much address space.
  static constexpr size_t kMaxLimit = size_t{1} << 20;

  MappingLimitFiller();
  ~MappingLimitFiller() { Release(); }
  MappingLimitFiller(const MappingLimitFiller&) = delete;
  MappingLimitFiller& operator=(const MappingLimitFiller&) = delete;

  // True if the kernel refused a split: the process is at its limit.
  bool full() const { return full_; }
  // vm.max_map_count as read at construction (0 if unreadable).
  size_t limit() const { return limit_; }
  // Mappings the filler added.
  size_t added() const { return added_; }

  // Unmaps the region. First some of its one-page mappings whole (which the
  // kernel never refuses: nothing is split), so that the process is below
  // its limit again when the rest goes. Idempotent.
  void Release();

 private:
  char* region_ = nullptr;
  size_t bytes_ = 0;
  size_t pages_ = 0;
  size_t limit_ = 0;
  size_t added_ = 0;
  bool full_ = false;
};

}  // namespace testing
}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_TESTING_MAPPING_LIMIT_H_
