// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The number of CPUs this process may run on, for sizing BagPipes.

#ifndef BAGPIPE_INTERNAL_CPU_COUNT_H_
#define BAGPIPE_INTERNAL_CPU_COUNT_H_

#include <cstddef>

namespace allocators {
namespace bagpipe {
namespace internal {

// The CPUs in this thread's affinity mask (like Rust's num_cpus::get()),
// falling back to the online CPU count, and to 1. Computed once and cached;
// never allocates, so it is safe inside malloc. Thread-safe.
size_t NumCpus();

}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_INTERNAL_CPU_COUNT_H_
