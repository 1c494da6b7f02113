// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C-API conformance suite over bsalloc, through prefixed symbols
// (bs_malloc, bs_free, ...): the same layer that gives libelfmalloc.so,
// bound to a second allocator.

#include "malloc_bind/bsalloc_binding.h"
#include "malloc_bind/c_api_conformance.h"
#include "malloc_bind/malloc_bind.h"

MALLOC_BIND_DEFINE_C(bs_, ::allocators::malloc_bind::BsallocBinding)

namespace allocators {
namespace malloc_bind {
namespace {

const CApiTable kBsalloc = MALLOC_BIND_TABLE("bsalloc", bs_);

INSTANTIATE_TEST_SUITE_P(Bsalloc, CApiConformanceTest,
                         ::testing::Values(&kBsalloc),
                         CApiConformanceTest::Name);

}  // namespace
}  // namespace malloc_bind
}  // namespace allocators
