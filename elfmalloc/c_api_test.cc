// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C-API conformance suite over elfmalloc through prefixed symbols
// (elf_malloc, elf_free, ...), which do not replace the test's own malloc.

#include "elfmalloc/testing/api_binding.h"
#include "malloc_bind/c_api_conformance.h"
#include "malloc_bind/malloc_bind.h"

MALLOC_BIND_DEFINE_C(elf_, ::allocators::elfmalloc::testing::ApiBinding)

namespace allocators {
namespace elfmalloc {
namespace {

using malloc_bind::CApiConformanceTest;

const malloc_bind::CApiTable kElfmalloc = MALLOC_BIND_TABLE("elfmalloc", elf_);

INSTANTIATE_TEST_SUITE_P(Elfmalloc, CApiConformanceTest,
                         ::testing::Values(&kElfmalloc),
                         CApiConformanceTest::Name);

}  // namespace
}  // namespace elfmalloc
}  // namespace allocators
