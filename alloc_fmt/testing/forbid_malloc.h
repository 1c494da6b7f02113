// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Test-only: proves that code never allocates. Linking
// //alloc_fmt:forbid_malloc replaces the program's malloc family with
// forwarders to glibc's __libc_* entry points that, while ForbidMalloc(true)
// is in effect, write "ALLOCATION WHILE FORBIDDEN" to stderr and _exit with
// kForbiddenExitCode. Not for sanitizer builds (they interpose malloc too).
//
// Thread-safe: the flag is an atomic, checked by every call on every thread.

#ifndef ALLOC_FMT_TESTING_FORBID_MALLOC_H_
#define ALLOC_FMT_TESTING_FORBID_MALLOC_H_

namespace allocators {
namespace alloc_fmt {
namespace testing {

inline constexpr int kForbiddenExitCode = 99;

// Turns the trap on or off for every thread.
void ForbidMalloc(bool forbid);

}  // namespace testing
}  // namespace alloc_fmt
}  // namespace allocators

#endif  // ALLOC_FMT_TESTING_FORBID_MALLOC_H_
