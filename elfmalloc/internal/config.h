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
//   kFrontEnd   the thread cache: FrontEnd::kMagazine, kLocal or kDepot
//   kHardened   canaries, encoded cache pointers, zero on free, random
//               reuse order and guard pages (hardening.h)
//   kChecks     the default free-time checks: object start, size of sized
//               frees, the held-back last freed object
//   kStats      the per-cache allocation and free counters
//   kEvents     the event counters of the logging build (events.h)
//
// Production builds keep kChecks and kStats on; configs that turn them off
// exist only to price them, in elfmalloc/testing/bench_configs.h.
//
// Thread-safety: constants only.

#ifndef ELFMALLOC_INTERNAL_CONFIG_H_
#define ELFMALLOC_INTERNAL_CONFIG_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace allocators {
namespace elfmalloc {
namespace internal {

enum class FrontEnd {
  kMagazine,  // MagazineCache: caches any object of its class
  kLocal,     // LocalCache: caches only its current slag's objects
  kDepot,     // DepotCache: two magazines per thread over a shared depot
};

// The default build: libelfmalloc.so, //elfmalloc:elfmalloc.
struct MagazineConfig {
  static constexpr const char* kName = "elfmalloc";
  static constexpr FrontEnd kFrontEnd = FrontEnd::kMagazine;
  static constexpr bool kHardened = false;
  static constexpr bool kChecks = true;
  static constexpr bool kStats = true;
  static constexpr bool kEvents = false;
  // Objects are constructed before their first use and stay constructed
  // while cached (the typed object allocators; see ObjectInit in slag.h).
  static constexpr bool kConstructs = false;
};

// elfmalloc-l: the LocalCache front-end.
struct LocalConfig : MagazineConfig {
  static constexpr const char* kName = "elfmalloc-l";
  static constexpr FrontEnd kFrontEnd = FrontEnd::kLocal;
};

// elfmalloc-depot: the magazine layer (DepotCache).
struct DepotConfig : MagazineConfig {
  static constexpr const char* kName = "elfmalloc-depot";
  static constexpr FrontEnd kFrontEnd = FrontEnd::kDepot;
};

// elfmalloc-events: the default build counting the original's ten events,
// logged by each thread about every 2^22 allocations and summed in the
// statistics report (events.h).
struct EventsConfig : MagazineConfig {
  static constexpr const char* kName = "elfmalloc-events";
  static constexpr bool kEvents = true;
};

// elfmalloc-secure: the hardened build of the default front-end.
struct HardenedConfig : MagazineConfig {
  static constexpr const char* kName = "elfmalloc-secure";
  static constexpr bool kHardened = true;
};

// --- Layout constants shared by every build ------------------------------

// The slag sizes, one page allocator each. A class lives in the smallest
// slag whose quarter is more than its objects (the original's
// ELFMALLOC_SMALL_CUTOFF of a quarter slag): 64 KiB below 16 KiB, 256 KiB
// below 64 KiB, 2 MiB above. Small slags keep a class cheap: a thread's
// partly used slags, and a slag that is waiting for its objects to come
// back, hold a few pages rather than a few hundred KiB. The hardened build
// uses no 64 KiB slags: each slag's guard page splits its mapping in two,
// and a process may have only so many mappings (vm.max_map_count).
inline constexpr size_t kSlagKinds = 3;
inline constexpr std::array<size_t, kSlagKinds> kSlagBytes = {
    size_t{64} << 10, size_t{256} << 10, size_t{2} << 20};
inline constexpr size_t kLargestSlagBytes = kSlagBytes[kSlagKinds - 1];

// The index in kSlagBytes of the slags of objects of `object_size` bytes
// (in the hardened build if `hardened`).
constexpr size_t SlagKindFor(size_t object_size, bool hardened) {
  for (size_t k = hardened ? 1 : 0; k + 1 < kSlagKinds; ++k) {
    if (object_size < kSlagBytes[k] / 4) return k;
  }
  return kSlagKinds - 1;
}
static_assert(SlagKindFor(16383, false) == 0 &&
              SlagKindFor(16384, false) == 1 &&
              SlagKindFor(65535, false) == 1 &&
              SlagKindFor(65536, false) == 2 && SlagKindFor(8, true) == 1);

// A slag becomes available for reuse once this fraction of its objects is
// free (ELFMALLOC_REUSE_THRESHOLD overrides it at run time). The original's
// 0.6 left slags with up to 60% of their objects free out of reuse while
// new pages were taken: a long mixed-size churn peaked 15% higher.
inline constexpr double kCutoffFactor = 0.25;

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
