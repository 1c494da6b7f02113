// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The text statistics report (elfmalloc_stats_print, ELFMALLOC_SHOW_STATS)
// and the process's resident memory, both without allocating: the report
// is built line by line in a stack buffer and handed to a callback, so it
// can run at exit, from a signal-free context with other threads still in
// malloc, or with the caller's own output sink. Every counter is described
// in info/stats.md.
//
// Thread-safe (reads a HeapStats snapshot).

#ifndef ELFMALLOC_INTERNAL_STATS_REPORT_H_
#define ELFMALLOC_INTERNAL_STATS_REPORT_H_

#include <cstddef>

#include "elfmalloc/internal/heap_stats.h"

namespace allocators {
namespace elfmalloc {
namespace internal {

// Receives one line of the report (NUL-terminated, ending in '\n').
using StatsWriter = void (*)(void* opaque, const char* text);

// Writes to stderr (for a null writer).
void WriteToStderr(void* opaque, const char* text);

// The process's resident set now and at its peak (VmRSS, VmHWM), in bytes.
// False (and zeros) if /proc/self/status cannot be read.
bool ResidentBytes(size_t* current, size_t* peak);

// Writes the report for `s` of the build `description` (its name and
// front-end, as in the header line "elfmalloc statistics (<description>)").
void WriteStatsReport(const HeapStats& s, const char* description,
                      StatsWriter write, void* opaque);

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_STATS_REPORT_H_
