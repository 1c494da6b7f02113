// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/testing/forbid_malloc.h"

#include <errno.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace allocators {
namespace alloc_fmt {
namespace testing {
namespace {

std::atomic<bool> g_forbid{false};

void CheckAllowed() {
  if (!g_forbid.load()) return;
  static const char kMsg[] = "ALLOCATION WHILE FORBIDDEN\n";
  (void)!write(2, kMsg, sizeof(kMsg) - 1);
  _exit(kForbiddenExitCode);
}

}  // namespace

void ForbidMalloc(bool forbid) { g_forbid.store(forbid); }

}  // namespace testing
}  // namespace alloc_fmt
}  // namespace allocators

using allocators::alloc_fmt::testing::CheckAllowed;

extern "C" {
void* malloc(size_t n) {
  CheckAllowed();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t s) {
  CheckAllowed();
  return __libc_calloc(n, s);
}
void* realloc(void* p, size_t n) {
  CheckAllowed();
  return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) {
  CheckAllowed();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  CheckAllowed();
  void* p = __libc_memalign(a, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
void free(void* p) {
  CheckAllowed();
  __libc_free(p);
}
}
