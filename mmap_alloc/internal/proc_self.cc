// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "mmap_alloc/internal/proc_self.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

#include "alloc_fmt/check.h"

namespace allocators {
namespace mmap_alloc {
namespace internal {
namespace {

// Large enough for smaps of a sanitizer process (a few hundred mappings of
// about 1 KiB each). Static so that reading allocates nothing.
constexpr size_t kBufSize = size_t{8} << 20;
char proc_buf[kBufSize];

// Reads the whole file at `path` into proc_buf and returns its length.
size_t ReadProcFile(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  ALLOC_CHECK(fd >= 0, "proc_self: cannot open %s: errno %d", path, errno);
  size_t len = 0;
  for (;;) {
    ALLOC_CHECK(len < kBufSize, "proc_self: %s is larger than %zu bytes", path,
                kBufSize);
    const ssize_t n = read(fd, proc_buf + len, kBufSize - len);
    if (n < 0 && errno == EINTR) continue;
    ALLOC_CHECK(n >= 0, "proc_self: read of %s failed: errno %d", path, errno);
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  close(fd);
  return len;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses hex digits at line[*i, len) into *out; false if there are none.
bool ParseHex(const char* line, size_t len, size_t* i, uintptr_t* out) {
  uintptr_t v = 0;
  const size_t begin = *i;
  while (*i < len && HexDigit(line[*i]) >= 0) {
    v = v * 16 + static_cast<uintptr_t>(HexDigit(line[*i]));
    ++*i;
  }
  *out = v;
  return *i != begin;
}

}  // namespace

bool ParseMapsLine(const char* line, size_t len, MapsEntry* out) {
  size_t i = 0;
  MapsEntry e;
  if (!ParseHex(line, len, &i, &e.start)) return false;
  if (i >= len || line[i] != '-') return false;
  ++i;
  if (!ParseHex(line, len, &i, &e.end)) return false;
  if (i >= len || line[i] != ' ') return false;
  ++i;
  if (len - i < 4) return false;
  static constexpr char kAllowed[4][2] = {
      {'r', '-'}, {'w', '-'}, {'x', '-'}, {'p', 's'}};
  for (int k = 0; k < 4; ++k) {
    const char c = line[i + k];
    if (c != kAllowed[k][0] && c != kAllowed[k][1]) return false;
    e.perms[k] = c;
  }
  e.perms[4] = '\0';
  i += 4;
  if (i < len && line[i] != ' ') return false;
  if (e.end <= e.start) return false;
  *out = e;
  return true;
}

bool FindMapping(const void* addr, MapsEntry* out) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  const size_t len = ReadProcFile("/proc/self/maps");
  bool found = false;
  ForEachMapsEntry(proc_buf, len, [&](const MapsEntry& e) {
    if (!found && e.start <= a && a < e.end) {
      *out = e;
      found = true;
    }
  });
  return found;
}

std::string PermsAt(const void* addr) {
  MapsEntry e;
  if (!FindMapping(addr, &e)) return "";
  return e.perms;
}

size_t TotalMappedBytes() {
  const size_t len = ReadProcFile("/proc/self/maps");
  size_t total = 0;
  ForEachMapsEntry(proc_buf, len,
                   [&](const MapsEntry& e) { total += e.end - e.start; });
  return total;
}

std::string VmFlagsAt(const void* addr) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  const size_t len = ReadProcFile("/proc/self/smaps");
  // smaps is a maps line per mapping followed by "Key: value" lines; find the
  // header of the mapping containing `a`, then its VmFlags line.
  bool in_target = false;
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    while (j < len && proc_buf[j] != '\n') ++j;
    const char* line = proc_buf + i;
    const size_t line_len = j - i;
    MapsEntry e;
    if (ParseMapsLine(line, line_len, &e)) {
      if (in_target) return "";  // next mapping: no VmFlags for ours
      in_target = e.start <= a && a < e.end;
    } else if (in_target) {
      static constexpr char kKey[] = "VmFlags:";
      constexpr size_t kKeyLen = sizeof(kKey) - 1;
      if (line_len >= kKeyLen && std::memcmp(line, kKey, kKeyLen) == 0) {
        size_t k = kKeyLen;
        while (k < line_len && line[k] == ' ') ++k;
        size_t end = line_len;
        while (end > k && line[end - 1] == ' ') --end;
        return std::string(line + k, end - k);
      }
    }
    i = j + 1;
  }
  return "";
}

size_t ResidentBytes() {
  char buf[128];
  const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  ALLOC_CHECK(fd >= 0, "proc_self: cannot open statm: errno %d", errno);
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  ALLOC_CHECK(n > 0, "proc_self: cannot read statm: errno %d", errno);
  buf[n] = '\0';
  // "size resident shared text lib data dt", in pages.
  size_t i = 0;
  while (buf[i] != '\0' && buf[i] != ' ') ++i;
  size_t pages = 0;
  for (++i; buf[i] >= '0' && buf[i] <= '9'; ++i) {
    pages = pages * 10 + static_cast<size_t>(buf[i] - '0');
  }
  return pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

bool IsReadable(const void* p) {
  // One pipe for the whole process; the mutex keeps each write paired with
  // the read that drains it.
  static std::mutex mu;
  static int fds[2] = {-1, -1};
  std::lock_guard<std::mutex> lock(mu);
  if (fds[0] < 0) {
    ALLOC_CHECK(pipe2(fds, O_CLOEXEC) == 0, "proc_self: pipe2: errno %d",
                errno);
  }
  ssize_t n;
  do {
    n = write(fds[1], p, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    ALLOC_CHECK(errno == EFAULT, "proc_self: probe write: errno %d", errno);
    return false;
  }
  char c;
  do {
    n = read(fds[0], &c, 1);
  } while (n < 0 && errno == EINTR);
  ALLOC_CHECK(n == 1, "proc_self: probe read: errno %d", errno);
  return true;
}

}  // namespace internal
}  // namespace mmap_alloc
}  // namespace allocators
