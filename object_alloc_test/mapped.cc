// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/mapped.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>

#include "object_alloc_test/internal/failure.h"

#if defined(__SANITIZE_ADDRESS__)
#define OBJECT_ALLOC_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OBJECT_ALLOC_TEST_ASAN 1
#endif
#endif

#ifdef OBJECT_ALLOC_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace allocators {
namespace object_alloc_test {
namespace {

// At most PIPE_BUF bytes per write: on an empty pipe such a write is atomic
// (all or nothing), so with O_NONBLOCK it can never block or be split by
// buffer space, and a short or failed write can only mean a bad address.
constexpr size_t kChunk = PIPE_BUF;

struct Probe {
  std::mutex mu;
  int read_fd = -1;
  int write_fd = -1;
};

Probe& GetProbe() {
  // Created once and kept for the life of the process (deliberately leaked:
  // tests may call IsMappedRange from exit-time destructors).
  static Probe* probe = [] {
    Probe* p = new Probe;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      internal::Fail("IsMappedRange: pipe2 failed (errno %d)", errno);
    }
    p->read_fd = fds[0];
    p->write_fd = fds[1];
    return p;
  }();
  return *probe;
}

// Reads `n` bytes back out of the pipe so that it is empty again.
void Drain(const Probe& probe, size_t n) {
  char sink[kChunk];
  while (n > 0) {
    ssize_t got = read(probe.read_fd, sink, n < kChunk ? n : kChunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      internal::Fail("IsMappedRange: draining the probe pipe failed (errno %d)",
                     got < 0 ? errno : 0);
    }
    n -= static_cast<size_t>(got);
  }
}

}  // namespace

bool IsMappedRange(const void* p, size_t len) {
  if (len == 0) return true;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  if (begin + len < begin) return false;  // wraps around the address space
#ifdef OBJECT_ALLOC_TEST_ASAN
  // Must come before write(2): ASan's write interceptor checks the buffer
  // after the call and would report a poisoned range as a bad read.
  if (__asan_region_is_poisoned(const_cast<void*>(p), len) != nullptr) {
    return false;
  }
#endif
  Probe& probe = GetProbe();
  std::lock_guard<std::mutex> lock(probe.mu);
  const char* cur = static_cast<const char*>(p);
  while (len > 0) {
    const size_t chunk = len < kChunk ? len : kChunk;
    const ssize_t wrote = write(probe.write_fd, cur, chunk);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      if (errno == EFAULT) return false;
      internal::Fail("IsMappedRange: write to the probe pipe failed (errno %d)",
                     errno);
    }
    Drain(probe, static_cast<size_t>(wrote));
    if (static_cast<size_t>(wrote) != chunk) return false;  // faulted midway
    cur += chunk;
    len -= chunk;
  }
  return true;
}

}  // namespace object_alloc_test
}  // namespace allocators
