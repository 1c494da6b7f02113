// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "platform/testing/proc.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "platform/platform.h"
#include "platform/testing/proc_c.h"
#include "platform/testing/sanitizers.h"

#if defined(PLATFORM_TESTING_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace allocators {
namespace platform {
namespace testing {
namespace {

// Large enough for smaps of a sanitizer process (a few hundred mappings of
// about 1 KiB each). Static so that reading allocates nothing.
constexpr size_t kBufSize = size_t{8} << 20;
char proc_buf[kBufSize];

[[noreturn]] void Fail(const char* what, const char* path) {
  platform::WriteAll(2, "platform/testing/proc: ", 23);
  platform::WriteAll(2, what, std::strlen(what));
  platform::WriteAll(2, path, std::strlen(path));
  platform::WriteAll(2, "\n", 1);
  std::abort();
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

// Skips one blank-separated field and the blanks after it.
void SkipField(const char* line, size_t len, size_t* i) {
  while (*i < len && line[*i] != ' ') ++*i;
  while (*i < len && line[*i] == ' ') ++*i;
}

// The value of "<field>: <n>" in `text` (a status or meminfo file), or -1.
int64_t FieldValue(const char* text, const char* field) {
  const size_t n = std::strlen(field);
  for (const char* line = text; *line != '\0';) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      const char* p = line + n + 1;
      while (*p == ' ' || *p == '\t') ++p;
      if (*p < '0' || *p > '9') return -1;
      return std::strtoll(p, nullptr, 10);
    }
    const char* next = std::strchr(line, '\n');
    if (next == nullptr) break;
    line = next + 1;
  }
  return -1;
}

}  // namespace

namespace internal {

const char* ReadProc(const char* path, size_t* len) {
  const int64_t n = platform::ReadFile(path, proc_buf, kBufSize);
  if (n < 0) Fail("cannot read ", path);
  if (static_cast<size_t>(n) + 1 == kBufSize) Fail("file too large: ", path);
  *len = static_cast<size_t>(n);
  return proc_buf;
}

}  // namespace internal

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
  // offset, device and inode, then the path (if any).
  while (i < len && line[i] == ' ') ++i;
  for (int field = 0; field < 3 && i < len; ++field) SkipField(line, len, &i);
  e.path = line + i;
  e.path_len = len - i;
  *out = e;
  return true;
}

bool FindMapping(const void* addr, MapsEntry* out) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  bool found = false;
  ForEachMapping([&](const MapsEntry& e) {
    if (!found && e.start <= a && a < e.end) {
      *out = e;
      out->path = nullptr;  // points into the buffer the next read reuses
      out->path_len = 0;
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
  size_t total = 0;
  ForEachMapping([&](const MapsEntry& e) { total += e.end - e.start; });
  return total;
}

size_t MappingCount() {
  size_t n = 0;
  ForEachMapping([&](const MapsEntry&) { ++n; });
  return n;
}

bool AnyMappingPathContains(const char* needle) {
  const size_t n = std::strlen(needle);
  bool found = false;
  ForEachMapping([&](const MapsEntry& e) {
    for (size_t i = 0; !found && i + n <= e.path_len; ++i) {
      found = std::memcmp(e.path + i, needle, n) == 0;
    }
  });
  return found;
}

std::string VmFlagsAt(const void* addr) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  size_t len;
  const char* text = internal::ReadProc("/proc/self/smaps", &len);
  // smaps is a maps line per mapping followed by "Key: value" lines; find the
  // header of the mapping containing `a`, then its VmFlags line.
  bool in_target = false;
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n') ++j;
    const char* line = text + i;
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
  size_t len;
  const char* text = internal::ReadProc("/proc/self/statm", &len);
  // "size resident shared text lib data dt", in pages.
  size_t i = 0;
  while (i < len && text[i] != ' ') ++i;
  size_t pages = 0;
  for (++i; i < len && text[i] >= '0' && text[i] <= '9'; ++i) {
    pages = pages * 10 + static_cast<size_t>(text[i] - '0');
  }
  return pages * platform::PageSize();
}

int64_t StatusKib(const char* field) {
  char text[4096];
  if (platform::ReadFile("/proc/self/status", text, sizeof(text)) < 0) {
    return -1;
  }
  return FieldValue(text, field);
}

int64_t MeminfoKib(const char* field) {
  char text[8192];
  if (platform::ReadFile("/proc/meminfo", text, sizeof(text)) < 0) return -1;
  return FieldValue(text, field);
}

int64_t ReadProcNumber(const char* path) {
  char text[64];
  if (platform::ReadFile(path, text, sizeof(text)) <= 0) return -1;
  if (text[0] < '0' || text[0] > '9') return -1;
  return std::strtoll(text, nullptr, 10);
}

size_t ThreadCount() {
  const int64_t n = StatusKib("Threads");  // a plain count, not KiB
  return n < 0 ? 0 : static_cast<size_t>(n);
}

bool IsReadable(const void* p, size_t len) {
  if (len == 0) return true;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  if (begin + len < begin) return false;  // wraps around the address space
#if defined(PLATFORM_TESTING_ASAN)
  // Before write(2): ASan's write interceptor checks the buffer after the
  // call and would report a poisoned range as a bad read.
  if (__asan_region_is_poisoned(const_cast<void*>(p), len) != nullptr) {
    return false;
  }
#endif
  // One pipe for the whole process, kept for its life (tests may probe from
  // exit-time destructors). Writes of at most PIPE_BUF bytes to an empty
  // non-blocking pipe are all or nothing, so a short or failed write can
  // only mean a bad address; the mutex keeps each write paired with the
  // read that drains it.
  static std::mutex mu;
  static int fds[2] = {-1, -1};
  std::lock_guard<std::mutex> lock(mu);
  if (fds[0] < 0 && pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    Fail("pipe2 failed", "");
  }
  const char* cur = static_cast<const char*>(p);
  while (len > 0) {
    const size_t chunk = len < PIPE_BUF ? len : PIPE_BUF;
    const ssize_t wrote = write(fds[1], cur, chunk);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      if (errno == EFAULT) return false;
      Fail("probe write failed", "");
    }
    char sink[PIPE_BUF];
    for (ssize_t left = wrote; left > 0;) {
      const ssize_t got = read(fds[0], sink, static_cast<size_t>(left));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) Fail("draining the probe pipe failed", "");
      left -= got;
    }
    if (static_cast<size_t>(wrote) != chunk) return false;  // faulted midway
    cur += chunk;
    len -= chunk;
  }
  return true;
}

}  // namespace testing
}  // namespace platform
}  // namespace allocators

extern "C" int64_t platform_testing_status_kib(const char* field) {
  return allocators::platform::testing::StatusKib(field);
}
