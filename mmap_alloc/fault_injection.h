// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Test-only fault injection for mmap_alloc, so that packages built on top of
// it (bsalloc, slab_alloc, elfmalloc, malloc_bind) can test their
// out-of-memory paths deterministically, without exhausting the machine.
//
// Only testonly targets can depend on //mmap_alloc:fault_injection. The
// counter itself lives in //mmap_alloc (it has to be consulted by every map),
// where it costs one relaxed atomic load per map while it is zero.
//
// "Operations that map new memory" are: MapAlloc::Alloc (both overloads),
// MapAlloc::AllocZeroed, and MapAlloc::Realloc / MapAlloc::GrowInPlace when
// the page-rounded size grows. An injected failure returns nullptr / false
// with errno = ENOMEM, without calling the kernel, and leaves any block
// passed in untouched, exactly like a real ENOMEM. Calls that die on misuse
// (zero size, bad pointer) still die: arguments are checked first. Shrinks,
// equal-size resizes, Dealloc, Commit, Uncommit and Protect never consume a
// failure.

#ifndef MMAP_ALLOC_FAULT_INJECTION_H_
#define MMAP_ALLOC_FAULT_INJECTION_H_

#include <cstddef>

namespace allocators {
namespace mmap_alloc {
namespace testing {

// Makes the next `n` map operations (see above), process-wide and across all
// threads, fail with ENOMEM. Replaces any previous pending count. Concurrent
// callers consume exactly `n` failures in total. Thread-safe.
void FailNextMaps(size_t n);

// The number of injected failures not yet consumed. Thread-safe.
size_t PendingMapFailures();

// Same as FailNextMaps(0). Call it in test teardown so that one test's
// leftovers cannot fail the next. Thread-safe.
void ClearMapFailures();

}  // namespace testing
}  // namespace mmap_alloc
}  // namespace allocators

#endif  // MMAP_ALLOC_FAULT_INJECTION_H_
