// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Helpers shared by elfmalloc's tests: the test-scale knob and starting
// threads together (sanitizer detection and resident memory come from
// //platform's test helpers).

#ifndef ELFMALLOC_TESTING_TEST_UTIL_H_
#define ELFMALLOC_TESTING_TEST_UTIL_H_

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "platform/testing/proc.h"
#include "platform/testing/sanitizers.h"

namespace allocators {
namespace elfmalloc {
namespace testing {

using platform::testing::kSanitized;
using platform::testing::kTsan;
using platform::testing::ResidentBytes;

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
