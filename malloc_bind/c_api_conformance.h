// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C-API conformance suite: one set of GoogleTest cases run against
// every malloc binding, through prefixed symbols (elf_malloc, bs_malloc,
// ...) and through the real, overriding malloc.
//
//   const CApiTable kTable = MALLOC_BIND_TABLE("elfmalloc", elf_);
//   INSTANTIATE_TEST_SUITE_P(Elf, CApiConformanceTest,
//                            ::testing::Values(&kTable),
//                            CApiConformanceTest::Name);
//
// Every case checks return values and errno as the malloc_bind header
// promises (glibc-compatible where the standards leave a choice).

#ifndef MALLOC_BIND_C_API_CONFORMANCE_H_
#define MALLOC_BIND_C_API_CONFORMANCE_H_

#include <cstddef>
#include <string>

#include "gtest/gtest.h"

namespace allocators {
namespace malloc_bind {

struct CApiTable {
  const char* name;
  void* (*malloc)(size_t);
  void (*free)(void*);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  void* (*reallocarray)(void*, size_t, size_t);
  int (*posix_memalign)(void**, size_t, size_t);
  void* (*aligned_alloc)(size_t, size_t);
  void* (*memalign)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
  size_t (*malloc_usable_size)(void*);
  void (*free_sized)(void*, size_t);
  void (*free_aligned_sized)(void*, size_t, size_t);
};

// A table of the functions named prefix##malloc, prefix##free, ...
#define MALLOC_BIND_TABLE(name, prefix)                                      \
  ::allocators::malloc_bind::CApiTable {                                     \
    name, &prefix##malloc, &prefix##free, &prefix##calloc, &prefix##realloc, \
        &prefix##reallocarray, &prefix##posix_memalign,                      \
        &prefix##aligned_alloc, &prefix##memalign, &prefix##valloc,          \
        &prefix##pvalloc, &prefix##malloc_usable_size, &prefix##free_sized,  \
        &prefix##free_aligned_sized                                          \
  }

class CApiConformanceTest : public ::testing::TestWithParam<const CApiTable*> {
 public:
  static std::string Name(const ::testing::TestParamInfo<const CApiTable*>& i) {
    return i.param->name;
  }

 protected:
  const CApiTable& api() const { return *GetParam(); }
};

}  // namespace malloc_bind
}  // namespace allocators

#endif  // MALLOC_BIND_C_API_CONFORMANCE_H_
