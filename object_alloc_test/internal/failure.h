// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// How the conformance suite and the corruption tester report a broken
// invariant: one line on stderr, then abort.
//
// Why abort rather than a gtest failure: once an allocator has handed out a
// pointer twice or corrupted an object, carrying on (deallocating, destroying
// the allocator) usually trips a second, more confusing failure, and the
// tester's own destructor runs inside the allocator where gtest cannot help.
// The original panicked for the same reason. The messages are death-testable.

#ifndef OBJECT_ALLOC_TEST_INTERNAL_FAILURE_H_
#define OBJECT_ALLOC_TEST_INTERNAL_FAILURE_H_

#include <cstddef>

namespace allocators {
namespace object_alloc_test {
namespace internal {

inline constexpr size_t kMaxContext = 256;

// Describes what the current thread is doing (test, object size, alignment,
// seed...) for the lifetime of the object. Every Fail() on this thread
// appends the innermost description, so a failure deep inside an allocator
// still says how to replay it. Nested scopes restore the outer description.
// Allocation-free. Thread-compatible (the description is thread-local).
class ScopedFailureContext {
 public:
  explicit ScopedFailureContext(const char* fmt, ...)
      __attribute__((format(printf, 2, 3)));
  ~ScopedFailureContext();

  ScopedFailureContext(const ScopedFailureContext&) = delete;
  ScopedFailureContext& operator=(const ScopedFailureContext&) = delete;

 private:
  char saved_[kMaxContext];
};

// Writes "object_alloc_test: <message>[ [while <context>]]" to stderr and
// aborts. Allocation-free.
[[noreturn]] void Fail(const char* fmt, ...)
    __attribute__((format(printf, 1, 2)));

}  // namespace internal
}  // namespace object_alloc_test
}  // namespace allocators

#endif  // OBJECT_ALLOC_TEST_INTERNAL_FAILURE_H_
