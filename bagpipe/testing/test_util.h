// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Helpers for bagpipe's threaded tests: environment-controlled sizes and a
// thread runner with a common start line.
//
// Sizes: tests use small defaults so that the whole package runs in seconds,
// also under TSan. Set BAGPIPE_TEST_SCALE=large for the original's large
// configurations (64 threads x 1024 items, 8 segments' worth of items, ...),
// or override single knobs with the variables each test names.

#ifndef BAGPIPE_TESTING_TEST_UTIL_H_
#define BAGPIPE_TESTING_TEST_UTIL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "platform/testing/sanitizers.h"

namespace allocators {
namespace bagpipe {
namespace testing {

using platform::testing::kSanitized;

// True if BAGPIPE_TEST_SCALE=large.
inline bool LargeScale() {
  const char* s = std::getenv("BAGPIPE_TEST_SCALE");
  return s != nullptr && std::strcmp(s, "large") == 0;
}

// The value of environment variable `name` if set to a positive integer,
// else `large` under BAGPIPE_TEST_SCALE=large, else `small` (divided by
// `sanitizer_divisor` under a sanitizer, at least 1).
inline size_t Knob(const char* name, size_t small, size_t large,
                   size_t sanitizer_divisor = 1) {
  if (const char* s = std::getenv(name)) {
    const long long v = std::atoll(s);
    if (v > 0) return static_cast<size_t>(v);
  }
  if (LargeScale()) return large;
  size_t v = kSanitized ? small / sanitizer_divisor : small;
  return v == 0 ? 1 : v;
}

// Spins until pred() is true, yielding now and then: the machine may have
// fewer cores than the test has threads.
template <typename Pred>
void SpinUntil(Pred pred) {
  for (int spins = 0; !pred(); ++spins) {
    if (spins >= 64) {
      std::this_thread::yield();
      spins = 0;
    }
  }
}

// Runs fn(0) ... fn(n - 1) on n threads that start together, and joins them.
// The values popped by several threads plus those drained afterwards must be
// exactly 0..n-1, each once: nothing lost, nothing duplicated.
inline void ExpectExactlyRange(const std::vector<std::vector<uint64_t>>& got,
                               std::vector<uint64_t> drained, size_t n) {
  for (const auto& v : got) drained.insert(drained.end(), v.begin(), v.end());
  std::sort(drained.begin(), drained.end());
  ASSERT_EQ(drained.size(), n);
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(drained[i], i);
}

inline void RunThreads(size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      SpinUntil([&] { return ready.load() >= n; });
      fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace testing
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_TESTING_TEST_UTIL_H_
