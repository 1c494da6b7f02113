// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "bagpipe/internal/cpu_count.h"

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>

#include "absl/base/attributes.h"

namespace allocators {
namespace bagpipe {
namespace internal {
namespace {

ABSL_CONST_INIT std::atomic<size_t> g_num_cpus{0};

size_t ComputeNumCpus() {
  // sched_getaffinity is a plain system call on a stack buffer; unlike some
  // libc sysconf implementations it cannot allocate.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<size_t>(n);
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<size_t>(online) : 1;
}

}  // namespace

size_t NumCpus() {
  size_t n = g_num_cpus.load(std::memory_order_relaxed);
  if (n == 0) {
    // Racing first calls compute the same value; any of them may store it.
    n = ComputeNumCpus();
    g_num_cpus.store(n, std::memory_order_relaxed);
  }
  return n;
}

}  // namespace internal
}  // namespace bagpipe
}  // namespace allocators
