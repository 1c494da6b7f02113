// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "elfmalloc/internal/stats_report.h"

#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "alloc_fmt/format.h"
#include "elfmalloc/internal/config.h"
#include "elfmalloc/internal/events.h"
#include "mmap_alloc/mmap_alloc.h"
#include "platform/platform.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

constexpr size_t kLine = 512;

// A line under construction: text appended left to right, numbers
// right-aligned in columns (alloc_fmt has no field widths).
class Line {
 public:
  Line() { buf_[0] = '\0'; }

  void Text(const char* s) { Append(s, std::strlen(s)); }

  // `v` right-aligned in `width` characters.
  void Num(uint64_t v, size_t width) {
    char digits[24];
    const size_t n = alloc_fmt::Format(digits, sizeof(digits), "%llu",
                                       static_cast<unsigned long long>(v));
    for (size_t i = n; i < width; ++i) Append(" ", 1);
    Append(digits, n);
  }

  // A signed value (live counts can be briefly negative; see Heap::Stats).
  void SignedNum(int64_t v, size_t width) {
    char digits[24];
    const size_t n = alloc_fmt::Format(digits, sizeof(digits), "%lld",
                                       static_cast<long long>(v));
    for (size_t i = n; i < width; ++i) Append(" ", 1);
    Append(digits, n);
  }

  // Bytes in KiB with one column per unit, e.g. "1536 KiB".
  void Kib(uint64_t bytes, size_t width) {
    Num(bytes >> 10, width);
    Text(" KiB");
  }

  void Emit(StatsWriter write, void* opaque) {
    Append("\n", 1);
    write(opaque, buf_);
    len_ = 0;
    buf_[0] = '\0';
  }

 private:
  void Append(const char* s, size_t n) {
    if (len_ + n >= kLine) n = kLine - 1 - len_;
    std::memcpy(buf_ + len_, s, n);
    len_ += n;
    buf_[len_] = '\0';
  }

  char buf_[kLine];
  size_t len_ = 0;
};

// Parses "<key>:   <n> kB" out of /proc/self/status text.
bool FindKib(const char* text, const char* key, size_t* out) {
  const char* p = std::strstr(text, key);
  if (p == nullptr) return false;
  p += std::strlen(key);
  while (*p == ' ' || *p == '\t') ++p;
  size_t v = 0;
  bool any = false;
  for (; *p >= '0' && *p <= '9'; ++p) {
    v = v * 10 + static_cast<size_t>(*p - '0');
    any = true;
  }
  *out = v << 10;
  return any;
}

}  // namespace

void WriteToStderr(void*, const char* text) {
  platform::WriteAll(STDERR_FILENO, text, std::strlen(text));
}

bool ResidentBytes(size_t* current, size_t* peak) {
  *current = 0;
  *peak = 0;
  char text[4096];
  if (platform::ReadFile("/proc/self/status", text, sizeof(text)) < 0) {
    return false;
  }
  return FindKib(text, "VmRSS:", current) && FindKib(text, "VmHWM:", peak);
}

void WriteStatsReport(const HeapStats& s, const char* description,
                      StatsWriter write, void* opaque) {
  if (write == nullptr) write = &WriteToStderr;
  Line l;
  l.Text("elfmalloc statistics (");
  l.Text(description);
  l.Text(")");
  l.Emit(write, opaque);
  l.Text(
      "class     size    allocated        freed         live"
      "     live KiB  slags    slag KiB");
  l.Emit(write, opaque);
  uint64_t total_allocs = 0, total_frees = 0, live_bytes = 0;
  for (size_t c = 0; c < kNumClasses; ++c) {
    const ClassStats& k = s.classes[c];
    if (k.allocs == 0 && k.frees == 0 && k.slags == 0) continue;
    const int64_t live = static_cast<int64_t>(k.allocs - k.frees);
    total_allocs += k.allocs;
    total_frees += k.frees;
    if (live > 0) live_bytes += static_cast<uint64_t>(live) * k.object_size;
    l.Num(c, 5);
    l.Num(k.object_size, 9);
    l.Num(k.allocs, 13);
    l.Num(k.frees, 13);
    l.SignedNum(live, 13);
    l.SignedNum(live * static_cast<int64_t>(k.object_size) / 1024, 13);
    l.Num(k.slags, 7);
    l.Num(k.slags * k.slag_bytes >> 10, 12);
    l.Emit(write, opaque);
  }
  l.Text("total          ");
  l.Num(total_allocs, 13);
  l.Num(total_frees, 13);
  l.SignedNum(static_cast<int64_t>(total_allocs - total_frees), 13);
  l.Num(live_bytes >> 10, 13);
  l.Emit(write, opaque);

  l.Text(
      "pages        size       mapped       in use        dirty"
      "     released");
  l.Emit(write, opaque);
  // One row per page size: in use = mapped - dirty - released.
  auto pages_row = [&](const char* name, size_t page_bytes, size_t mapped,
                       size_t dirty, size_t clean) {
    l.Text(name);
    l.Num(page_bytes >> 10, 8);
    l.Text(" KiB");
    l.Kib(mapped * page_bytes, 9);
    l.Kib((mapped - dirty - clean) * page_bytes, 9);
    l.Kib(dirty * page_bytes, 9);
    l.Kib(clean * page_bytes, 9);
    l.Emit(write, opaque);
  };
  static constexpr const char* kNames[kSlagKinds] = {"small ", "medium",
                                                     "big   "};
  for (size_t k = 0; k < kSlagKinds; ++k) {
    pages_row(kNames[k], kSlagBytes[k], s.pages_mapped[k], s.pages_dirty[k],
              s.pages_clean[k]);
  }

  l.Text("large objects: ");
  l.Num(s.large_count, 0);
  l.Text(" live, ");
  l.Num(s.large_bytes >> 10, 0);
  l.Text(" KiB mapped; ");
  l.Num(s.large_cached_bytes >> 10, 0);
  l.Text(" KiB of freed blocks cached");
  l.Emit(write, opaque);
  l.Text("thread caches: ");
  l.Num(s.threads, 0);
  l.Emit(write, opaque);
  size_t rss = 0, peak = 0;
  if (ResidentBytes(&rss, &peak)) {
    l.Text("resident: ");
    l.Num(rss >> 10, 0);
    l.Text(" KiB now, ");
    l.Num(peak >> 10, 0);
    l.Text(" KiB at peak");
  } else {
    l.Text("resident: unknown (/proc/self/status unreadable)");
  }
  l.Emit(write, opaque);
  if (s.has_events) {
    EventCounters totals;
    for (size_t e = 0; e < kEventCount; ++e) totals.n[e] = s.events[e];
    char line[alloc_fmt::kMaxMessage];
    FormatEvents(line, sizeof(line), "events:", totals);
    l.Text(line);
    l.Emit(write, opaque);
  }
  // Only ever at vm.max_map_count (mmap_alloc.h): worth a line when it
  // happened, noise otherwise.
  if (const size_t refused = mmap_alloc::UnmapsRefused(); refused != 0) {
    l.Text("unmaps refused at the mapping limit: ");
    l.Num(refused, 0);
    l.Text(" (their pages were discarded instead)");
    l.Emit(write, opaque);
  }
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
