// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The public API over the process-wide Heap of the front-end this target is
// built with (internal/default_heap.h; ELFMALLOC_LOCAL_CACHE selects
// LocalCache).

#include "elfmalloc/elfmalloc.h"

#include <elfmalloc.h>  // ELFMALLOC_VERSION_STRING
#include <unistd.h>

#include <cstdlib>

#include "alloc_fmt/format.h"
#include "elfmalloc/internal/default_heap.h"
#include "elfmalloc/internal/frontends.h"
#include "elfmalloc/internal/heap.h"
#include "elfmalloc/internal/options.h"
#include "elfmalloc/internal/stats_report.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
// The link-time token of default_heap.h: only this front-end's build of
// this file defines it.
const char ELFMALLOC_INTERNAL_DEFAULT_HEAP_LINK_TOKEN = 1;
}  // namespace internal

namespace {

using internal::DefaultHeap;

// ELFMALLOC_SHOW_STATS: the report on stderr when the process exits
// normally. Other threads may still be allocating; the report only reads
// counters.
void PrintStatsAtExit() { PrintStats(nullptr, nullptr); }

// One-time set-up, at load time (a static initializer: never inside an
// allocation, and nothing on the allocation paths):
// * fork() safety: the handlers take the heap's few spin locks;
// * ELFMALLOC_VERBOSE's start-up line. (The heap reads the other
//   ELFMALLOC_* options when it is built, on the first allocation.)
[[maybe_unused]] const bool g_initialized = [] {
  DefaultHeap& heap = DefaultHeap::Instance();
  heap.RegisterForkLocks();
  if (heap.options().show_stats) std::atexit(&PrintStatsAtExit);
  if (heap.options().secure && !internal::kSecure) {
    // Hardening is a build, not a switch (the default build compiles it
    // out); say so rather than let the user believe it is on.
    alloc_fmt::Print(STDERR_FILENO,
                     "elfmalloc: ELFMALLOC_SECURE=1 has no effect in this "
                     "library; preload libelfmalloc-secure.so (tools/elfrun "
                     "--secure)\n");
  }
  if (heap.options().verbose) {
    alloc_fmt::Print(STDERR_FILENO,
                     "elfmalloc: %s (%s front-end) active in process %d; "
                     "decay_ms=%lld\n",
                     ELFMALLOC_VERSION_STRING, FrontendName(),
                     static_cast<int>(getpid()),
                     static_cast<long long>(DecayMs()));
  }
  return true;
}();

}  // namespace

void* Alloc(size_t size) { return DefaultHeap::Alloc(size); }

void* AlignedAlloc(size_t size, size_t align) {
  return DefaultHeap::AlignedAlloc(size, align);
}

void Free(void* p) { DefaultHeap::Free(p); }

void* Realloc(void* p, size_t size) { return DefaultHeap::Realloc(p, size, 1); }

void* AlignedRealloc(void* p, size_t size, size_t align) {
  return DefaultHeap::Realloc(p, size, align);
}

void FreeSized(void* p, size_t size, size_t align, const char* fn) {
  if (p != nullptr) DefaultHeap::FreeSized(p, size, align, fn);
}

size_t UsableSize(const void* p) { return DefaultHeap::UsableSize(p); }

bool Release() { return DefaultHeap::Instance().Release(); }

bool CheckInvariants() {
  DefaultHeap::Instance().CheckInvariants();
  return true;
}

void SetDecayMs(int64_t ms) { DefaultHeap::Instance().SetDecayMs(ms); }

int64_t DecayMs() { return DefaultHeap::Instance().decay_ms(); }

Stats GetStats() {
  const internal::HeapStats s = DefaultHeap::Instance().Stats();
  return Stats{s.small_pages_mapped * internal::kSmallSlagBytes +
                   s.big_pages_mapped * internal::kBigSlagBytes,
               s.dirty_bytes, s.large_bytes, s.large_count,
               s.large_cached_bytes};
}

size_t ClassCount() { return kNumClasses; }

ClassStats GetClassStats(size_t c) {
  const internal::HeapStats s = DefaultHeap::Instance().Stats();
  const internal::ClassStats& k = s.classes[c < kNumClasses ? c : 0];
  return ClassStats{k.object_size, k.allocs, k.frees, k.slags};
}

void PrintStats(void (*write)(void* opaque, const char* line), void* opaque) {
  internal::WriteStatsReport(DefaultHeap::Instance().Stats(), FrontendName(),
                             write, opaque);
}

const char* FrontendName() { return DefaultHeap::FrontEnd::kName; }

}  // namespace elfmalloc
}  // namespace allocators
