// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// bsalloc as the program's malloc and operator new/delete (the override
// flavour of malloc_bind over a second allocator). Every block is at least
// a page: this is for tests and bootstrapping, not for speed.

#include "malloc_bind/bsalloc_binding.h"
#include "malloc_bind/malloc_bind.h"

MALLOC_BIND_DEFINE_C(, ::allocators::malloc_bind::BsallocBinding)
MALLOC_BIND_DEFINE_CXX(::allocators::malloc_bind::BsallocBinding)
