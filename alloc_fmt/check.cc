// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/check.h"

#include <cstdarg>

namespace allocators {
namespace alloc_fmt {
namespace internal {

void CheckFailed(const char* file, int line, const char* cond,
                 const char* fmt, ...) {
  // `fmt` is ": <message format>"; with no message it is just ": ".
  char msg[kMaxMessage];
  va_list args;
  va_start(args, fmt);
  FormatV(msg, sizeof(msg), fmt, args);
  va_end(args);
  if (msg[2] == '\0') msg[0] = '\0';
  FatalSkipping(1, "%s:%d: CHECK failed: %s%s", file, line, cond, msg);
}

void CheckOpFailed(const char* file, int line, const char* expr,
                   const char* fmt, unsigned long long a,
                   unsigned long long b) {
  char values[96];
  // `fmt` comes from OpFormat<T>(), one of three fixed literals.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  Format(values, sizeof(values), fmt, a, b);
#pragma GCC diagnostic pop
  FatalSkipping(1, "%s:%d: CHECK failed: %s (%s)", file, line, expr, values);
}

}  // namespace internal
}  // namespace alloc_fmt
}  // namespace allocators
