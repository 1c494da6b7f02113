// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The one reader of /proc for tests, benchmarks and probes: this process's
// mappings (/proc/self/maps, smaps), its memory counters (statm, status),
// its threads, the system's memory counters and sysctls, and a probe that
// tells whether an address is readable without touching it.
//
// Readers fill one static buffer through platform::ReadFile and never
// allocate (except the functions returning std::string), so a measurement
// such as TotalMappedBytes() before and after an allocation sees only that
// allocation. Consequently they are NOT thread-safe: call them from one
// thread at a time. IsReadable is thread-safe.

#ifndef PLATFORM_TESTING_PROC_H_
#define PLATFORM_TESTING_PROC_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace allocators {
namespace platform {
namespace testing {

// One line of /proc/<pid>/maps: "start-end perms offset dev inode [path]".
struct MapsEntry {
  uintptr_t start = 0;
  uintptr_t end = 0;   // one past the last byte
  char perms[5] = {};  // e.g. "rw-p", NUL-terminated
  // The path column (a file, "[stack]", ...), not NUL-terminated: valid
  // only inside a ForEachMapsEntry callback. Empty for anonymous memory.
  const char* path = nullptr;
  size_t path_len = 0;
};

// Parses the mapping range, permissions and path of `line` (which need not
// be NUL-terminated; `len` bytes are available). Returns false if the line
// does not have that shape, e.g. the "Rss: ..." lines of smaps.
bool ParseMapsLine(const char* line, size_t len, MapsEntry* out);

// Calls fn(const MapsEntry&) for every parsable line of `text[0, len)`.
template <typename Fn>
void ForEachMapsEntry(const char* text, size_t len, Fn fn) {
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n') ++j;
    MapsEntry e;
    if (ParseMapsLine(text + i, j - i, &e)) fn(e);
    i = j + 1;
  }
}

// Calls fn(const MapsEntry&) for every mapping of this process now.
// Fatal (one line) if /proc/self/maps cannot be read.
template <typename Fn>
void ForEachMapping(Fn fn);

// Finds the mapping containing `addr`; false if `addr` is not mapped.
bool FindMapping(const void* addr, MapsEntry* out);

// The permission string ("rw-p", "---p", ...) of the mapping containing
// `addr`, or "" if it is unmapped.
std::string PermsAt(const void* addr);

// The sum of the sizes of all mappings, and their number.
size_t TotalMappedBytes();
size_t MappingCount();

// True if any mapping's path contains `needle` (a preloaded library, say).
bool AnyMappingPathContains(const char* needle);

// The "VmFlags:" value from /proc/self/smaps for the mapping containing
// `addr` (e.g. "rd wr mr mw me ac hg"), or "" if unmapped or not reported.
std::string VmFlagsAt(const void* addr);

// The resident set size from /proc/self/statm, in bytes.
size_t ResidentBytes();

// A "Name:  <n> kB" field of /proc/self/status ("VmRSS", "VmHWM",
// "VmSize", ...) in KiB; -1 if missing or unreadable.
int64_t StatusKib(const char* field);

// A field of /proc/meminfo ("MemAvailable", ...) in KiB; -1 if missing.
int64_t MeminfoKib(const char* field);

// The number at the start of a one-line /proc file such as
// "/proc/sys/vm/max_map_count"; -1 if it cannot be read.
int64_t ReadProcNumber(const char* path);

// The number of threads of this process (/proc/self/task); 0 if unknown.
size_t ThreadCount();

// True if the `len` bytes at `p` can be read. Probed by writing them into
// a pipe (the kernel reports EFAULT instead of delivering SIGSEGV), so it
// is safe on unmapped and PROT_NONE addresses. Thread-safe.
bool IsReadable(const void* p, size_t len = 1);

namespace internal {
// The text of /proc file `path` in a static buffer; fatal if unreadable.
// Not thread-safe (see the file comment).
const char* ReadProc(const char* path, size_t* len);
}  // namespace internal

template <typename Fn>
void ForEachMapping(Fn fn) {
  size_t len;
  const char* text = internal::ReadProc("/proc/self/maps", &len);
  ForEachMapsEntry(text, len, fn);
}

}  // namespace testing
}  // namespace platform
}  // namespace allocators

#endif  // PLATFORM_TESTING_PROC_H_
