// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/internal/failure.h"

#include <cstdarg>
#include <cstring>

#include "alloc_fmt/format.h"

namespace allocators {
namespace object_alloc_test {
namespace internal {
namespace {

// Empty string = no context. Constant-initialised, so no TLS guard.
thread_local char context[kMaxContext] = {};

}  // namespace

ScopedFailureContext::ScopedFailureContext(const char* fmt, ...) {
  std::memcpy(saved_, context, kMaxContext);
  va_list args;
  va_start(args, fmt);
  alloc_fmt::FormatV(context, kMaxContext, fmt, args);
  va_end(args);
}

ScopedFailureContext::~ScopedFailureContext() {
  std::memcpy(context, saved_, kMaxContext);
}

void Fail(const char* fmt, ...) {
  char message[alloc_fmt::kMaxMessage - kMaxContext - 32];
  va_list args;
  va_start(args, fmt);
  alloc_fmt::FormatV(message, sizeof(message), fmt, args);
  va_end(args);
  if (context[0] != '\0') {
    alloc_fmt::Fatal("object_alloc_test: %s [while %s]", message, context);
  }
  alloc_fmt::Fatal("object_alloc_test: %s", message);
}

}  // namespace internal
}  // namespace object_alloc_test
}  // namespace allocators
