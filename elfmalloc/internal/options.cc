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
#include "platform/platform.h"

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
    {"ELFMALLOC_SAMPLE_RATE", Kind::kInt, 0, kMaxSampleRate},
    {"ELFMALLOC_BACKTRACE", Kind::kBool, 0, 1},
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
    case 7: return o.background_thread;
    case 8: return o.sample_rate;
    default: return o.backtrace;
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
    case 7: o->background_thread = v != 0; break;
    case 8: o->sample_rate = v; break;
    default: o->backtrace = v != 0; break;
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

// At most this many characters of a name or value are shown in a warning,
// so the line stays whole.
constexpr size_t kShown = 64;

// Copies `s` up to its first `stop` or NUL into `out`, cut at kShown
// characters with "..." appended.
void Shorten(const char* s, char stop, char (&out)[kShown + 4]) {
  size_t n = 0;
  while (n < kShown && s[n] != '\0' && s[n] != stop) {
    out[n] = s[n];
    ++n;
  }
  if (s[n] != '\0' && s[n] != stop) {
    out[n++] = '.';
    out[n++] = '.';
    out[n++] = '.';
  }
  out[n] = '\0';
}

void Warn(int fd, const Spec& spec, const char* value, int64_t fallback) {
  if (fd < 0) return;
  char shown[kShown + 4];
  Shorten(value, '\0', shown);

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

constexpr size_t kPrefixLength = sizeof("ELFMALLOC_") - 1;

// ELFMALLOC_* names that the test and benchmark programs read for
// themselves (ELFMALLOC_TEST_SCALE, ELFMALLOC_BENCH_ITERS, ...): not
// options, and not typos either.
constexpr const char* kNotOptions[] = {"ELFMALLOC_TEST_", "ELFMALLOC_BENCH_",
                                       "ELFMALLOC_STRESS_"};

// The length of the name of a "NAME=value" entry; 0 if it has no '='.
size_t NameLength(const char* entry) {
  for (size_t n = 0; entry[n] != '\0'; ++n) {
    if (entry[n] == '=') return n;
  }
  return 0;
}

// The optimal-string-alignment distance (insertions, deletions,
// substitutions and swaps of neighbours) between a[0, a_len) and the
// string b, ignoring case, or kFar if it is above kNear. Three rows on the
// stack: b is a known option's name, never longer than kMaxName.
constexpr size_t kMaxName = 32;
constexpr int kNear = 3;
constexpr int kFar = kNear + 1;
int Distance(const char* a, size_t a_len, const char* b) {
  size_t b_len = 0;
  while (b[b_len] != '\0') ++b_len;
  if (b_len > kMaxName) return kFar;
  const size_t diff = a_len > b_len ? a_len - b_len : b_len - a_len;
  if (diff > static_cast<size_t>(kNear)) return kFar;
  int rows[3][kMaxName + 1];
  int* before = rows[0];  // row i - 2
  int* last = rows[1];    // row i - 1
  int* row = rows[2];     // row i
  for (size_t j = 0; j <= b_len; ++j) last[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a_len; ++i) {
    row[0] = static_cast<int>(i);
    int best = row[0];
    for (size_t j = 1; j <= b_len; ++j) {
      const bool same = Lower(a[i - 1]) == Lower(b[j - 1]);
      int d = last[j - 1] + (same ? 0 : 1);
      if (last[j] + 1 < d) d = last[j] + 1;
      if (row[j - 1] + 1 < d) d = row[j - 1] + 1;
      if (i > 1 && j > 1 && Lower(a[i - 1]) == Lower(b[j - 2]) &&
          Lower(a[i - 2]) == Lower(b[j - 1]) && before[j - 2] + 1 < d) {
        d = before[j - 2] + 1;
      }
      row[j] = d;
      if (d < best) best = d;
    }
    if (best > kNear) return kFar;  // the rows never decrease
    int* const recycled = before;
    before = last;
    last = row;
    row = recycled;
  }
  return last[b_len] > kNear ? kFar : last[b_len];
}

// Whether the shorter of a[0, a_len) and b, at least 4 characters long, is
// a prefix of the other, ignoring case.
bool PrefixMatch(const char* a, size_t a_len, const char* b) {
  size_t n = 0;
  while (n < a_len && b[n] != '\0' && Lower(a[n]) == Lower(b[n])) ++n;
  return n >= 4 && (n == a_len || b[n] == '\0');
}

// The known option closest to the unknown name name[0, name_len),
// comparing the parts after "ELFMALLOC_": the first whose name begins the
// other or is begun by it, else the one within the smallest edit distance
// up to kNear. nullptr if none is that close.
const Spec* Closest(const char* name, size_t name_len) {
  const char* tail = name + kPrefixLength;
  const size_t tail_len = name_len - kPrefixLength;
  const Spec* best = nullptr;
  int best_score = kFar;  // a prefix match scores -1
  for (const Spec& spec : kSpecs) {
    const char* known = spec.name + kPrefixLength;
    const int score = PrefixMatch(tail, tail_len, known)
                          ? -1
                          : Distance(tail, tail_len, known);
    if (score < best_score) {
      best = &spec;
      best_score = score;
    }
  }
  return best;
}

// Whether an earlier entry of envp[0, current) has the same name as
// `entry`, whose name is name_len long.
bool SeenBefore(const char* const* envp, const char* const* current,
                const char* entry, size_t name_len) {
  for (; envp != current; ++envp) {
    const char* other = *envp;
    size_t n = 0;
    while (n < name_len && other[n] == entry[n]) ++n;
    if (n == name_len && other[n] == '=') return true;
  }
  return false;
}

void WarnUnknown(int fd, const char* entry, size_t name_len) {
  if (fd < 0) return;
  char name[kShown + 4];
  char value[kShown + 4];
  Shorten(entry, '=', name);
  Shorten(entry + name_len + 1, '\0', value);
  const Spec* closest = Closest(entry, name_len);
  if (closest != nullptr) {
    alloc_fmt::Print(fd,
                     "elfmalloc: ignoring unknown option %s=%s (did you mean "
                     "%s?)\n",
                     name, value, closest->name);
  } else {
    alloc_fmt::Print(fd, "elfmalloc: ignoring unknown option %s=%s\n", name,
                     value);
  }
}

std::atomic<int> g_state{0};  // 0: not parsed, 1: parsing, 2: g_options set
Options g_options;

}  // namespace

int ParseOptions(const char* const* envp, Options* out, int warn_fd) {
  *out = Options();
  const Options defaults;
  bool seen[kNumSpecs] = {};
  int bad = 0;
  for (const char* const* it = envp; it != nullptr && *it != nullptr; ++it) {
    const char* entry = *it;
    if (!StartsWith(entry, "ELFMALLOC_")) continue;
    size_t i = 0;
    for (; i < kNumSpecs; ++i) {
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
    if (i < kNumSpecs) continue;  // a known option
    const size_t name_len = NameLength(entry);
    if (name_len == 0 || entry[name_len + 1] == '\0') continue;  // unset
    bool reserved = false;
    for (const char* prefix : kNotOptions) {
      reserved = reserved || StartsWith(entry, prefix);
    }
    if (reserved || SeenBefore(envp, it, entry, name_len)) continue;
    WarnUnknown(warn_fd, entry, name_len);
    ++bad;
  }
  return bad;
}

Options GetOptions() {
  if (g_state.load(std::memory_order_acquire) == 2) return g_options;
  Options o;
  int expected = 0;
  if (g_state.compare_exchange_strong(expected, 1,
                                      std::memory_order_acq_rel)) {
    ParseOptions(platform::Environment(), &o, STDERR_FILENO);
    g_options = o;
    g_state.store(2, std::memory_order_release);
  } else {
    // Another thread is parsing (or just finished): the same environment
    // gives the same values; its warnings are enough.
    ParseOptions(platform::Environment(), &o, -1);
  }
  return o;
}

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators
