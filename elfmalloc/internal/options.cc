// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The ELFMALLOC_* environment parser (options.h). Everything here works on
// the caller's strings and the stack: no allocation, no stdio, no locale.

#include "elfmalloc/internal/options.h"

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "alloc_fmt/format.h"

namespace allocators {
namespace elfmalloc {
namespace internal {
namespace {

enum class Kind { kBool, kInt, kThreshold };

struct Spec {
  const char* name;
  Kind kind;
  int64_t min;
  int64_t max;
};

// The index of each entry is the field it sets (see Get / Set).
constexpr Spec kSpecs[] = {
    {"ELFMALLOC_SHOW_STATS", Kind::kBool, 0, 1},
    {"ELFMALLOC_VERBOSE", Kind::kBool, 0, 1},
    {"ELFMALLOC_DECAY_MS", Kind::kInt, -1, kMaxDecayMs},
    {"ELFMALLOC_SECURE", Kind::kBool, 0, 1},
    {"ELFMALLOC_MAGAZINE_SIZE", Kind::kInt, 0, kMaxMagazineSize},
    {"ELFMALLOC_DIRTY_MAX_MB", Kind::kInt, 0, kMaxDirtyMaxMb},
    {"ELFMALLOC_REUSE_THRESHOLD", Kind::kThreshold, 0, kReuseThresholdOne},
    {"ELFMALLOC_BACKGROUND_THREAD", Kind::kBool, 0, 1},
};
constexpr size_t kNumSpecs = sizeof(kSpecs) / sizeof(kSpecs[0]);

int64_t Get(const Options& o, size_t i) {
  switch (i) {
    case 0: return o.show_stats;
    case 1: return o.verbose;
    case 2: return o.decay_ms;
    case 3: return o.secure;
    case 4: return o.magazine_size;
    case 5: return o.dirty_max_mb;
    case 6: return o.reuse_threshold_ppm;
    default: return o.background_thread;
  }
}

void Set(Options* o, size_t i, int64_t v) {
  switch (i) {
    case 0: o->show_stats = v != 0; break;
    case 1: o->verbose = v != 0; break;
    case 2: o->decay_ms = v; break;
    case 3: o->secure = v != 0; break;
    case 4: o->magazine_size = v; break;
    case 5: o->dirty_max_mb = v; break;
    case 6: o->reuse_threshold_ppm = v; break;
    default: o->background_thread = v != 0; break;
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

// If `entry` is "<name>=<value>", returns the value; else nullptr.
const char* MatchName(const char* entry, const char* name) {
  while (*name != '\0') {
    if (*entry != *name) return nullptr;
    ++entry;
    ++name;
  }
  return *entry == '=' ? entry + 1 : nullptr;
}

bool StartsWith(const char* s, const char* prefix) {
  while (*prefix != '\0') {
    if (*s++ != *prefix++) return false;
  }
  return true;
}

bool EqualsIgnoreCase(const char* s, const char* word) {
  while (*s != '\0' && *word != '\0') {
    if (Lower(*s) != *word) return false;
    ++s;
    ++word;
  }
  return *s == '\0' && *word == '\0';
}

bool ParseBool(const char* s, int64_t* out) {
  static constexpr const char* kTrue[] = {"1", "true", "yes", "on"};
  static constexpr const char* kFalse[] = {"0", "false", "no", "off"};
  for (const char* w : kTrue) {
    if (EqualsIgnoreCase(s, w)) {
      *out = 1;
      return true;
    }
  }
  for (const char* w : kFalse) {
    if (EqualsIgnoreCase(s, w)) {
      *out = 0;
      return true;
    }
  }
  return false;
}

// Parses the digits at *s (at least one) into *out, saturating at `cap`
// (so overflow reads as "too big"), and advances *s past them.
bool ParseDigits(const char** s, int64_t cap, int64_t* out) {
  const char* p = *s;
  if (!IsDigit(*p)) return false;
  int64_t v = 0;
  for (; IsDigit(*p); ++p) {
    if (v <= cap) v = v * 10 + (*p - '0');  // v <= cap < 2^62: no overflow
  }
  *out = v > cap ? cap + 1 : v;
  *s = p;
  return true;
}

// Saturation bound for parsed magnitudes: above every option's range, far
// below INT64_MAX / 10.
constexpr int64_t kSaturate = int64_t{1} << 40;

// "[+-]digits", nothing after.
bool ParseInt(const char* s, int64_t* out) {
  bool negative = false;
  if (*s == '+' || *s == '-') negative = *s++ == '-';
  int64_t v;
  if (!ParseDigits(&s, kSaturate, &v) || *s != '\0') return false;
  *out = negative ? -v : v;
  return true;
}

// "P" or "P%" (a percentage), or "I.F" / ".F" / "I." (a fraction), into
// millionths. Digits beyond the sixth decimal are ignored.
bool ParseThreshold(const char* s, int64_t* out) {
  const char* p = s;
  int64_t whole = 0;
  const bool has_whole = ParseDigits(&p, kSaturate, &whole);
  if (*p == '.') {
    ++p;
    int64_t frac = 0;
    int64_t scale = kReuseThresholdOne;
    bool has_frac = false;
    for (; IsDigit(*p); ++p) {
      has_frac = true;
      if (scale > 1) {
        scale /= 10;
        frac += (*p - '0') * scale;
      }
    }
    if ((!has_whole && !has_frac) || *p != '\0') return false;
    *out = whole > kSaturate / kReuseThresholdOne
               ? kSaturate
               : whole * kReuseThresholdOne + frac;
    return true;
  }
  if (!has_whole) return false;
  if (*p == '%') ++p;
  if (*p != '\0') return false;
  *out = whole > kSaturate / 10000 ? kSaturate : whole * 10000;
  return true;
}

// Writes "<value>" as the user would type it, into buf.
void FormatValue(const Spec& spec, int64_t v, char* buf, size_t cap) {
  switch (spec.kind) {
    case Kind::kBool:
      alloc_fmt::Format(buf, cap, "%s", v != 0 ? "true" : "false");
      break;
    case Kind::kInt:
      alloc_fmt::Format(buf, cap, "%lld", static_cast<long long>(v));
      break;
    case Kind::kThreshold:
      if (v % 10000 == 0) {
        alloc_fmt::Format(buf, cap, "%lld%%", static_cast<long long>(v / 10000));
      } else {
        // 0 < v < 10^6 here (10^6 is a whole percentage).
        char digits[8];
        alloc_fmt::Format(digits, sizeof(digits), "%lld",
                          static_cast<long long>(v + kReuseThresholdOne));
        size_t len = 7;
        while (digits[len - 1] == '0') --len;  // v % 10 may be 0
        digits[len] = '\0';
        alloc_fmt::Format(buf, cap, "0.%s", digits + 1);  // drop the "1"
      }
      break;
  }
}

void Warn(int fd, const Spec& spec, const char* value, int64_t fallback) {
  if (fd < 0) return;
  // Show at most 64 characters of the bad value, so the line stays whole.
  constexpr size_t kShown = 64;
  char shown[kShown + 4];
  size_t n = 0;
  while (n < kShown && value[n] != '\0') {
    shown[n] = value[n];
    ++n;
  }
  if (value[n] != '\0') {
    shown[n++] = '.';
    shown[n++] = '.';
    shown[n++] = '.';
  }
  shown[n] = '\0';

  char expected[96];
  switch (spec.kind) {
    case Kind::kBool:
      alloc_fmt::Format(expected, sizeof(expected), "%s",
                        "1/0, true/false, yes/no or on/off");
      break;
    case Kind::kInt:
      alloc_fmt::Format(expected, sizeof(expected), "an integer in [%lld, %lld]",
                        static_cast<long long>(spec.min),
                        static_cast<long long>(spec.max));
      break;
    case Kind::kThreshold:
      alloc_fmt::Format(expected, sizeof(expected), "%s",
                        "a percentage in [0, 100] or a fraction in [0.0, 1.0]");
      break;
  }
  char def[32];
  FormatValue(spec, fallback, def, sizeof(def));
  alloc_fmt::Print(fd, "elfmalloc: ignoring %s=%s (expected %s); using %s\n",
                   spec.name, shown, expected, def);
}

std::atomic<int> g_state{0};  // 0: not parsed, 1: parsing, 2: g_options set
Options g_options;

}  // namespace

int ParseOptions(const char* const* envp, Options* out, int warn_fd) {
  *out = Options();
  const Options defaults;
  bool seen[kNumSpecs] = {};
  int bad = 0;
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    const char* entry = *envp;
    if (!StartsWith(entry, "ELFMALLOC_")) continue;
    for (size_t i = 0; i < kNumSpecs; ++i) {
      const Spec& spec = kSpecs[i];
      const char* value = MatchName(entry, spec.name);
      if (value == nullptr) continue;
      if (seen[i]) break;  // getenv(3) sees the first one
      seen[i] = true;
      if (*value == '\0') break;  // empty: unset
      int64_t v = 0;
      bool ok = false;
      switch (spec.kind) {
        case Kind::kBool: ok = ParseBool(value, &v); break;
        case Kind::kInt: ok = ParseInt(value, &v); break;
        case Kind::kThreshold: ok = ParseThreshold(value, &v); break;
      }
      if (ok && v >= spec.min && v <= spec.max) {
        Set(out, i, v);
      } else {
        Warn(warn_fd, spec, value, Get(defaults, i));
        ++bad;
      }
      break;
    }
  }
  return bad;
}

Options GetOptions() {
  if (g_state.load(std::memory_order_acquire) == 2) return g_options;
  Options o;
  int expected = 0;
  if (g_state.compare_exchange_strong(expected, 1,
                                      std::memory_order_acq_rel)) {
    ParseOptions(environ, &o, STDERR_FILENO);
    g_options = o;
    g_state.store(2, std::memory_order_release);
  } else {
    // Another thread is parsing (or just finished): the same environment
    // gives the same values; its warnings are enough.
    ParseOptions(environ, &o, -1);
  }
  return o;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
