// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Which sanitizer this translation unit is built with, for tests that scale
// themselves down (sanitizer runtimes intercept every map, unmap and
// atomic) or skip what a sanitizer makes meaningless (resident memory,
// which shadow memory inflates). The one place that spells the GCC and
// Clang feature tests.

#ifndef PLATFORM_TESTING_SANITIZERS_H_
#define PLATFORM_TESTING_SANITIZERS_H_

#if defined(__SANITIZE_ADDRESS__)
#define PLATFORM_TESTING_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PLATFORM_TESTING_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define PLATFORM_TESTING_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PLATFORM_TESTING_TSAN 1
#endif
#endif

namespace allocators {
namespace platform {
namespace testing {

#if defined(PLATFORM_TESTING_ASAN)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif

#if defined(PLATFORM_TESTING_TSAN)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif

// Built with AddressSanitizer or ThreadSanitizer.
inline constexpr bool kSanitized = kAsan || kTsan;

}  // namespace testing
}  // namespace platform
}  // namespace allocators

#endif  // PLATFORM_TESTING_SANITIZERS_H_
