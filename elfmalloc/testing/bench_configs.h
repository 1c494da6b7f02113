// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Benchmark-only builds of the default variant, each with one of its
// always-on costs removed, so //bench:compare can price it against
// libelfmalloc.so (libelfmalloc-nochecks.so, libelfmalloc-nostats.so;
// elfmalloc/variants.bzl). Never shipped.

#ifndef ELFMALLOC_TESTING_BENCH_CONFIGS_H_
#define ELFMALLOC_TESTING_BENCH_CONFIGS_H_

#include "elfmalloc/internal/config.h"

namespace allocators {
namespace elfmalloc {
namespace testing {

// Without the default free-time checks (object start, sized-free sizes,
// the held-back last freed object).
struct NoChecksConfig : internal::MagazineConfig {
  static constexpr const char* kName = "elfmalloc-nochecks";
  static constexpr bool kChecks = false;
};

// Without the statistics counters (and so without the idle-cache trim,
// which reads them).
struct NoStatsConfig : internal::MagazineConfig {
  static constexpr const char* kName = "elfmalloc-nostats";
  static constexpr bool kStats = false;
};

}  // namespace testing
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_TESTING_BENCH_CONFIGS_H_
