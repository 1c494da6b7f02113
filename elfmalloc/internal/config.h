// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Every compile-time switch of the general allocator, in one place.
//
// A build of elfmalloc (a "variant": libelfmalloc.so, libelfmalloc-l.so,
// libelfmalloc-secure.so, ...) is Heap<Config> for one Config type: a
// struct with the members below. Templates that need a switch take the
// Config as their parameter, so a variant is an instantiation and two
// variants can live in one process (benchmarks and tests drive several)
// without a preprocessor define anywhere. elfmalloc/variants.bzl turns a
// Config into its libraries, shared and static archives and test suite.
//
//   kName       the build's name, in the --verbose line and stats header
//   kFrontEnd   the thread cache: FrontEnd::kMagazine or kLocal
//   kHardened   canaries, encoded cache pointers, zero on free, random
//               reuse order and guard pages (hardening.h)
//   kChecks     the default free-time checks: object start, size of sized
//               frees, the held-back last freed object
//   kStats      the per-cache allocation and free counters
//
// Production builds keep kChecks and kStats on; configs that turn them off
// exist only to price them, in elfmalloc/testing/bench_configs.h.
//
// Thread-safety: constants only.

#ifndef ELFMALLOC_INTERNAL_CONFIG_H_
#define ELFMALLOC_INTERNAL_CONFIG_H_

#include <cstddef>
#include <cstdint>

namespace allocators {
namespace elfmalloc {
namespace internal {

enum class FrontEnd {
  kMagazine,  // MagazineCache: caches any object of its class
  kLocal,     // LocalCache: caches only its current slag's objects
};

// The default build: libelfmalloc.so, //elfmalloc:elfmalloc.
struct MagazineConfig {
  static constexpr const char* kName = "elfmalloc";
  static constexpr FrontEnd kFrontEnd = FrontEnd::kMagazine;
  static constexpr bool kHardened = false;
  static constexpr bool kChecks = true;
  static constexpr bool kStats = true;
};

// elfmalloc-l: the LocalCache front-end.
struct LocalConfig : MagazineConfig {
  static constexpr const char* kName = "elfmalloc-l";
  static constexpr FrontEnd kFrontEnd = FrontEnd::kLocal;
};

// elfmalloc-secure: the hardened build of the default front-end.
struct HardenedConfig : MagazineConfig {
  static constexpr const char* kName = "elfmalloc-secure";
  static constexpr bool kHardened = true;
};

// --- Layout constants shared by every build ------------------------------

// Slags of classes below kSmallSlagMaxObject are kSmallSlagBytes long (the
// original's ELFMALLOC_SMALL_CUTOFF of a quarter slag); the rest are
// kBigSlagBytes long.
inline constexpr size_t kSmallSlagBytes = size_t{256} << 10;
inline constexpr size_t kBigSlagBytes = size_t{2} << 20;
inline constexpr size_t kSmallSlagMaxObject = kSmallSlagBytes / 4;

// A slag becomes available for reuse once this fraction of its objects is
// free (ELFMALLOC_REUSE_THRESHOLD overrides it at run time).
inline constexpr double kCutoffFactor = 0.6;

// Freed slags with at least this many usable bytes are uncommitted at once.
// None are: re-faulting 2 MiB slags made 1 MiB-object churn slow, and decay
// returns their memory anyway.
inline constexpr size_t kEagerDecommitBytes = SIZE_MAX;

// The hardened build's guard: the last bytes of every slag, inaccessible.
inline constexpr size_t kHardenedGuardBytes = 4096;

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_CONFIG_H_
