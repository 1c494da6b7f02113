// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Fork safety. elfmalloc's fast paths are lock-free, but a few slow paths
// take short spin locks (each heap's fallback cache and thread list, the
// large-object registry, each page allocator's purge, the spare stacks). A
// child forked while another thread held one would inherit it held
// forever. So every such lock is registered here, and the atfork handlers
// take them all before fork() and release them after it in the parent and
// the child; the child also resets bagpipe's reclamation records.
//
// The handlers are installed when the library loads (InstallForkHandlers),
// so that they run after the prepare handlers of code loaded later, which
// may allocate. Heaps are built lazily, on their first allocation: a heap
// builds itself and registers its locks inside WithForkHeldOff, so a fork
// sees either no heap or a whole one with its locks registered.
//
// Locks are taken level by level (ForkLockLevel, the order in which the
// slow paths nest them), and in registration order within a level, so that
// registering a heap's locks at any time keeps the prepare handler's order
// consistent with the lock order.
//
// Thread-safety: everything here is thread-safe and allocation-free.

#ifndef ELFMALLOC_INTERNAL_FORK_H_
#define ELFMALLOC_INTERNAL_FORK_H_

#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "alloc_fmt/spin_lock.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

inline constexpr size_t kMaxForkLocks = 48;

// Lock levels, outermost first: a thread that holds a lock may take locks
// of later levels only.
enum class ForkLockLevel {
  kFallback = 0,  // a heap's fallback cache (held while it refills)
  kThreads,       // a heap's list of thread caches
  kLarge,         // the large-object registry
  kPurge,         // a page allocator's purge
  kLeaf,          // locks under which nothing else is taken (spare stacks)
};
inline constexpr int kForkLockLevels = 5;

// Installs the atfork handlers, once (later calls do nothing). Call when
// the library loads, outside any allocation.
void InstallForkHandlers();

// Registers the locks of something being built; see WithForkHeldOff.
class ForkLockRegistry {
 public:
  // Adds `lock` (which must live forever) at `level`. A lock that is
  // registered already is not added again. Fatal beyond kMaxForkLocks.
  void Add(SpinLock* lock, ForkLockLevel level);

 private:
  friend class ForkLockRegistryAccess;
  ForkLockRegistry() = default;
};

// Runs build(registry) while fork() waits, and returns what it returns:
// the function builds something and registers its locks with
// registry.Add. REQUIRES: `build` does not fork and does not call
// WithForkHeldOff.
template <typename F>
auto WithForkHeldOff(F build);

// For tests: the number of registered locks, and one of them (to hold it
// while another thread forks).
size_t ForkLockCount();
SpinLock* ForkLockForTesting(size_t i);

// --- Implementation -------------------------------------------------------

// The lock the prepare handler takes first; held while something registers.
SpinLock* ForkRegistrationLock();

class ForkLockRegistryAccess {
 public:
  static ForkLockRegistry Make() { return ForkLockRegistry(); }
};

template <typename F>
auto WithForkHeldOff(F build) {
  SpinLockHolder h(ForkRegistrationLock());
  ForkLockRegistry registry = ForkLockRegistryAccess::Make();
  return build(registry);
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_FORK_H_
