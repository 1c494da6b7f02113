// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Replaces the C library's malloc family and the C++ operators new/delete
// with elfmalloc, for libelfmalloc.so (LD_PRELOAD) and for programs that
// link //elfmalloc:malloc (cc_binary(malloc = ...)).

#include "elfmalloc/malloc_binding.h"
#include "malloc_bind/malloc_bind.h"

MALLOC_BIND_DEFINE_C(, ::allocators::elfmalloc::ElfmallocBinding)
MALLOC_BIND_DEFINE_CXX(::allocators::elfmalloc::ElfmallocBinding)
