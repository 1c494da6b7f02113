// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Helpers shared by elfmalloc's tests: sanitizer detection, the test-scale
// knob, resident memory, and starting threads together.

#ifndef ELFMALLOC_TESTING_TEST_UTIL_H_
#define ELFMALLOC_TESTING_TEST_UTIL_H_

#include <sys/auxv.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace allocators {
namespace elfmalloc {
namespace testing {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// True when ELFMALLOC_TEST_SCALE=full asks for the original's full sizes.
inline bool FullScale() {
  const char* s = std::getenv("ELFMALLOC_TEST_SCALE");
  return s != nullptr && std::strcmp(s, "full") == 0;
}

// `full` at ELFMALLOC_TEST_SCALE=full, else `sanitized` under a sanitizer,
// else `normal`.
inline size_t Scaled(size_t normal, size_t sanitized, size_t full) {
  if (FullScale()) return full;
  return kSanitized ? sanitized : normal;
}

// The resident set size from /proc/self/statm, in bytes (0 if unreadable).
inline size_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<size_t>(resident) * getauxval(AT_PAGESZ);
}

// Starts `n` threads running fn(i) together and joins them.
template <typename Fn>
void RunThreads(size_t n, Fn fn) {
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < n) std::this_thread::yield();
      fn(i);
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace testing
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_TESTING_TEST_UTIL_H_
