// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C extension API (include/elfmalloc.h) over the elfmalloc API of
// whichever front-end the target links. Part of //elfmalloc:malloc and
// :malloc_local, so libelfmalloc.so and libelfmalloc.a export it.

#include <elfmalloc.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "alloc_fmt/format.h"
#include "elfmalloc/elfmalloc.h"
#include "elfmalloc/internal/options.h"

namespace {

namespace elf = ::allocators::elfmalloc;

bool IsDecayMs(const char* name) { return std::strcmp(name, "decay_ms") == 0; }

// Heap-wide figures for glibc's statistics functions.
struct HeapTotals {
  size_t slag_bytes;  // mapped for slags
  size_t dirty_bytes;
  size_t live_small_bytes;  // live objects of the size classes
  size_t large_count;
  size_t large_bytes;
};

HeapTotals Totals() {
  const elf::Stats s = elf::GetStats();
  HeapTotals t{};
  t.slag_bytes = s.slag_bytes_mapped;
  t.dirty_bytes = s.dirty_bytes;
  t.large_count = s.large_count;
  t.large_bytes = s.large_bytes;
  for (size_t c = 0; c < elf::ClassCount(); ++c) {
    const elf::ClassStats k = elf::GetClassStats(c);
    if (k.allocated > k.freed) {
      t.live_small_bytes += (k.allocated - k.freed) * k.object_size;
    }
  }
  return t;
}

}  // namespace

extern "C" {

void elfmalloc_release(void) noexcept { elf::Release(); }

size_t elfmalloc_usable_size(const void* p) noexcept {
  return p == nullptr ? 0 : elf::UsableSize(p);
}

const char* elfmalloc_version(void) noexcept {
  return ELFMALLOC_VERSION_STRING;
}

int elfmalloc_option_get(const char* name, long long* value) noexcept {
  if (name == nullptr || value == nullptr) return EINVAL;
  if (IsDecayMs(name)) {
    *value = elf::DecayMs();
    return 0;
  }
  return EINVAL;
}

int elfmalloc_option_set(const char* name, long long value) noexcept {
  if (name == nullptr) return EINVAL;
  if (IsDecayMs(name)) {
    if (value < -1 || value > elf::internal::kMaxDecayMs) return EINVAL;
    elf::SetDecayMs(value);
    return 0;
  }
  return EINVAL;
}

void elfmalloc_stats_print(elfmalloc_write_fn write, void* opaque) noexcept {
  elf::PrintStats(write, opaque);
}

// --- glibc's statistics functions, describing elfmalloc's heap ---

// malloc_stats(): glibc's layout (one "arena"), on stderr.
void malloc_stats(void) noexcept {
  const HeapTotals t = Totals();
  ::allocators::alloc_fmt::Print(
      STDERR_FILENO,
      "Arena 0:\nsystem bytes     = %zu\nin use bytes     = %zu\n"
      "Total (incl. mmap):\nsystem bytes     = %zu\n"
      "in use bytes     = %zu\nmax mmap regions = %zu\n"
      "max mmap bytes   = %zu\n",
      t.slag_bytes, t.live_small_bytes, t.slag_bytes + t.large_bytes,
      t.live_small_bytes + t.large_bytes, t.large_count, t.large_bytes);
}

struct mallinfo2 mallinfo2(void) noexcept {
  const HeapTotals t = Totals();
  struct mallinfo2 m;
  std::memset(&m, 0, sizeof(m));
  m.arena = t.slag_bytes;   // mapped for slags
  m.hblks = t.large_count;  // large objects (one mapping each)
  m.hblkhd = t.large_bytes;
  m.uordblks = t.live_small_bytes;
  m.fordblks =
      t.slag_bytes > t.live_small_bytes ? t.slag_bytes - t.live_small_bytes : 0;
  m.keepcost = t.dirty_bytes;  // free but still committed
  return m;
}

// The deprecated int version; values saturate at INT_MAX.
struct mallinfo mallinfo(void) noexcept {
  const struct mallinfo2 m2 = mallinfo2();
  auto clamp = [](size_t v) {
    return static_cast<int>(v > INT_MAX ? INT_MAX : v);
  };
  struct mallinfo m;
  std::memset(&m, 0, sizeof(m));
  m.arena = clamp(m2.arena);
  m.hblks = clamp(m2.hblks);
  m.hblkhd = clamp(m2.hblkhd);
  m.uordblks = clamp(m2.uordblks);
  m.fordblks = clamp(m2.fordblks);
  m.keepcost = clamp(m2.keepcost);
  return m;
}

// malloc_trim(pad): glibc's purge call, here elfmalloc_release (`pad` is
// not needed: nothing is kept at a heap top). Returns 1 if memory went back
// to the OS, 0 otherwise, as glibc does.
int malloc_trim(size_t pad) noexcept {
  static_cast<void>(pad);
  return elf::Release() ? 1 : 0;
}

// malloc_info(0, fp): glibc's XML shape, with one <heap> per size class in
// use. `options` must be 0 (EINVAL otherwise).
int malloc_info(int options, FILE* fp) noexcept {
  if (options != 0 || fp == nullptr) {
    errno = EINVAL;
    return -1;
  }
  char line[256];
  fputs("<malloc version=\"elfmalloc-" ELFMALLOC_VERSION_STRING "\">\n", fp);
  for (size_t c = 0; c < elf::ClassCount(); ++c) {
    const elf::ClassStats k = elf::GetClassStats(c);
    if (k.allocated == 0 && k.slags == 0) continue;
    ::allocators::alloc_fmt::Format(
        line, sizeof(line),
        "<size class=\"%zu\" bytes=\"%zu\" allocated=\"%llu\" "
        "freed=\"%llu\" slags=\"%zu\"/>\n",
        c, k.object_size, static_cast<unsigned long long>(k.allocated),
        static_cast<unsigned long long>(k.freed), k.slags);
    fputs(line, fp);
  }
  const HeapTotals t = Totals();
  ::allocators::alloc_fmt::Format(
      line, sizeof(line),
      "<total type=\"slags\" size=\"%zu\"/>\n"
      "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n"
      "<system type=\"current\" size=\"%zu\"/>\n",
      t.slag_bytes, t.large_count, t.large_bytes, t.slag_bytes + t.large_bytes);
  fputs(line, fp);
  ::allocators::alloc_fmt::Format(line, sizeof(line),
                                  "<aspace type=\"total\" size=\"%zu\"/>\n",
                                  t.slag_bytes + t.large_bytes);
  fputs(line, fp);
  fputs("</malloc>\n", fp);
  return 0;
}

}  // extern "C"
