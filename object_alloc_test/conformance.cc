// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "object_alloc_test/conformance.h"

#include <cstdlib>

#include "alloc_fmt/format.h"

namespace allocators {
namespace object_alloc_test {
namespace internal {

std::optional<uint64_t> ParseUint(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  uint64_t base = 10;
  const char* p = text;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
    if (*p == '\0') return std::nullopt;
  }
  uint64_t value = 0;
  for (; *p != '\0'; ++p) {
    uint64_t digit;
    if (*p >= '0' && *p <= '9') {
      digit = static_cast<uint64_t>(*p - '0');
    } else if (base == 16 && *p >= 'a' && *p <= 'f') {
      digit = static_cast<uint64_t>(*p - 'a' + 10);
    } else if (base == 16 && *p >= 'A' && *p <= 'F') {
      digit = static_cast<uint64_t>(*p - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (value > (UINT64_MAX - digit) / base) return std::nullopt;  // overflow
    value = value * base + digit;
  }
  return value;
}

uint64_t UintFromEnv(const char* name, uint64_t default_value,
                     uint64_t min_value) {
  const char* text = std::getenv(name);
  if (text == nullptr) return default_value;
  const std::optional<uint64_t> value = ParseUint(text);
  if (!value.has_value() || *value < min_value) {
    alloc_fmt::Print(2,
                     "object_alloc_test: warning: ignoring %s=\"%s\" (expected "
                     "a decimal or 0x-hex integer >= %llu); using %llu\n",
                     name, text, static_cast<unsigned long long>(min_value),
                     static_cast<unsigned long long>(default_value));
    return default_value;
  }
  return *value;
}

}  // namespace internal

// Each knob is read once per process, so a bad value warns once.
size_t TestIters() {
  static const size_t iters = static_cast<size_t>(
      internal::UintFromEnv("OBJECT_ALLOC_TEST_ITERS", kDefaultTestIters, 1));
  return iters;
}

size_t TestSequences() {
  static const size_t sequences = static_cast<size_t>(internal::UintFromEnv(
      "OBJECT_ALLOC_TEST_SEQUENCES", kDefaultTestSequences, 1));
  return sequences;
}

uint64_t TestSeed() {
  static const uint64_t seed =
      internal::UintFromEnv("OBJECT_ALLOC_TEST_SEED", kDefaultTestSeed, 0);
  return seed;
}

std::vector<AllocOp> GenerateOps(uint64_t seed, size_t max_len) {
  internal::SplitMix64 rng(seed);
  const size_t len = static_cast<size_t>(rng.Below(max_len + 1));
  std::vector<AllocOp> ops;
  ops.reserve(len);
  for (size_t i = 0; i < len; ++i) {
    if (rng.Coin()) {
      ops.push_back(AllocOp::Alloc());
    } else {
      ops.push_back(
          AllocOp::Dealloc(static_cast<size_t>(rng.Below(i > 0 ? i : 1))));
    }
  }
  return ops;
}

}  // namespace object_alloc_test
}  // namespace allocators
