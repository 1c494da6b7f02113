// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/hardening.h"

#include <cstdint>
#include <cstring>

#include "alloc_fmt/format.h"
#include "alloc_fmt/once.h"
#include "elfmalloc/internal/page_map.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

// Bytes of a reused object checked for writes after free: its first cache
// line, where a dangling pointer's fields (and an attacker's fake list
// links) land. Checking everything doubled the cost of mixed workloads.
constexpr size_t kCheckedAfterFree = 64;

uint64_t& CanaryAt(size_t c, void* p) {
  return *reinterpret_cast<uint64_t*>(static_cast<char*>(p) + ClassSize(c) -
                                      kCanaryBytes<true>);
}

uint64_t CanaryFor(const void* p) {
  return g_secure_key ^ reinterpret_cast<uintptr_t>(p);
}

}  // namespace

void InitSecret() {
  ABSL_CONST_INIT static Once once;
  once.Run([] {
    uint64_t k = 0;
    if (!platform::RandomBytes(&k, sizeof(k)) || k == 0) {
      k = static_cast<uint64_t>(platform::MonotonicNs()) *
              0x9E3779B97F4A7C15u ^
          reinterpret_cast<uintptr_t>(&k);
    }
    g_secure_key = k | 1;
  });
}

void CheckCachedObject(const ClassPool& pool, const void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  BitPos pos;
  if (ABSL_PREDICT_FALSE(
          (pool.map_tag != 0 && GlobalPageMap().Get(p) != pool.map_tag) ||
          !BitAt(pool.geom, a & (pool.slag_bytes() - 1), &pos))) {
    alloc_fmt::Fatal("elfmalloc: malloc(): corrupted thread cache entry %p", p);
  }
}

void CanaryOnAlloc(size_t c, void* p) {
  const auto* w = static_cast<const uint64_t*>(p);
  const size_t usable = ClassSize(c) - kCanaryBytes<true>;
  const size_t check = usable < kCheckedAfterFree ? usable : kCheckedAfterFree;
  uint64_t any = 0;
  for (size_t i = 0; i < check / sizeof(uint64_t); ++i) any |= w[i];
  if (ABSL_PREDICT_FALSE(any != 0)) {
    alloc_fmt::Fatal("elfmalloc: malloc(): write after free detected %p", p);
  }
  CanaryAt(c, p) = CanaryFor(p);
}

void CanaryCheckLive(size_t c, void* p, const char* fn,
                     const char* freed_what) {
  const uint64_t canary = CanaryAt(c, p);
  if (ABSL_PREDICT_TRUE(canary == CanaryFor(p))) return;
  if (canary == 0) {
    alloc_fmt::Fatal("elfmalloc: %s(): %s %p", fn, freed_what, p);
  }
  alloc_fmt::Fatal("elfmalloc: %s(): heap overflow detected %p", fn, p);
}

void CanaryOnFree(size_t c, void* p, const char* fn) {
  CanaryCheckLive(c, p, fn, "double free of");
  std::memset(p, 0, ClassSize(c));
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
