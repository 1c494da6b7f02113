// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Fork safety. elfmalloc's fast paths are lock-free, but a few slow paths
// take short spin locks (the large-object registry, each heap's fallback
// cache, each page allocator's purge). A child forked while another thread
// held one would inherit it held forever. So every such lock is registered
// here, once, and pthread_atfork handlers take them all, in registration
// order, before fork() and release them after it in the parent and the
// child; the child also resets bagpipe's reclamation records.
//
// Thread-safety: RegisterForkLock is thread-safe and allocation-free.

#ifndef ELFMALLOC_INTERNAL_FORK_H_
#define ELFMALLOC_INTERNAL_FORK_H_

#include <cstddef>

#include "alloc_fmt/spin_lock.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

inline constexpr size_t kMaxForkLocks = 32;

// Adds `lock` (which must live forever) to the locks fork() takes. Installs
// the atfork handlers on first use. Fatal beyond kMaxForkLocks.
void RegisterForkLock(SpinLock* lock);

// For tests: the number of registered locks, and access to one of them (to
// hold it while another thread forks).
size_t ForkLockCount();
SpinLock* ForkLockForTesting(size_t i);

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_FORK_H_
