// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The thread-cache front-ends, and which one a build uses:
//
//   MagazineCache (magazine_cache.h)  caches any object of its class
//   LocalCache    (local_cache.h)     caches only its current slag's objects
//   DepotCache    (depot_cache.h)     two magazines per thread, traded with
//                                     a depot per class
//
// All derive from CacheBase (cache_base.h), which describes the
// allocation path they share. FrontEndFor<Config> is the front-end of
// Config::kFrontEnd.

#ifndef ELFMALLOC_INTERNAL_FRONTENDS_H_
#define ELFMALLOC_INTERNAL_FRONTENDS_H_

#include <type_traits>

#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/depot_cache.h"
#include "elfmalloc/internal/local_cache.h"
#include "elfmalloc/internal/magazine_cache.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

template <typename Config>
using FrontEndFor = std::conditional_t<
    Config::kFrontEnd == FrontEnd::kLocal, LocalCache<Config>,
    std::conditional_t<Config::kFrontEnd == FrontEnd::kDepot,
                       DepotCache<Config>, MagazineCache<Config>>>;

// True if Config's front-end trades magazines with a depot per class.
template <typename Config>
inline constexpr bool kUsesDepot = Config::kFrontEnd == FrontEnd::kDepot;

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_FRONTENDS_H_
