// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/events.h"

#include <cstring>

#include "alloc_fmt/format.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

constexpr const char* kNames[kEventCount] = {
    "cache_alloc",          "slag_alloc",        "local_free",
    "remote_free",          "bulk_remote_free",  "transition_available",
    "transition_full",      "grabbed_available", "grabbed_dirty",
    "grabbed_clean",
};

}  // namespace

const char* EventName(Event e) { return kNames[static_cast<size_t>(e)]; }

void FormatEvents(char* out, size_t cap, const char* prefix,
                  const EventCounters& c) {
  size_t len = alloc_fmt::Format(out, cap, "%s", prefix);
  for (size_t i = 0; i < kEventCount && len + 1 < cap; ++i) {
    len += alloc_fmt::Format(out + len, cap - len, " %s=%llu", kNames[i],
                             static_cast<unsigned long long>(
                                 c.n[i].load(std::memory_order_relaxed)));
  }
}

void LogEvents(uint64_t thread_id, const EventCounters& c) {
  char prefix[64];
  alloc_fmt::Format(prefix, sizeof(prefix), "elfmalloc: events of thread %llu:",
                    static_cast<unsigned long long>(thread_id));
  char line[alloc_fmt::kMaxMessage];
  FormatEvents(line, sizeof(line), prefix, c);
  alloc_fmt::Print(2, "%s\n", line);
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
