// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// elfmalloc's run-time options, read from ELFMALLOC_* environment variables.
//
//   ELFMALLOC_SHOW_STATS        bool            false
//   ELFMALLOC_VERBOSE           bool            false
//   ELFMALLOC_DECAY_MS          [-1, 3600000]   100   (-1 never, 0 at once)
//   ELFMALLOC_SECURE            bool            false
//   ELFMALLOC_MAGAZINE_SIZE     [0, 65536]      0     (0: built-in sizes)
//   ELFMALLOC_DIRTY_MAX_MB      [0, 1048576]    256
//   ELFMALLOC_REUSE_THRESHOLD   0-100 (percent) or 0.0-1.0 (a decimal
//                               with a '.'); 25 %
//   ELFMALLOC_BACKGROUND_THREAD bool            false
//   ELFMALLOC_SAMPLE_RATE       [0, 1000000000] 0     (0: off; N: about one
//                                                     allocation in N)
//   ELFMALLOC_BACKTRACE         bool            false
//
// A bool is one of 1/0, true/false, yes/no, on/off (any case). An integer is
// decimal with an optional sign. An empty value counts as unset. Any other
// value (not a number, out of range, trailing characters) is ignored with one
// line on the warning fd, e.g.
//
//   elfmalloc: ignoring ELFMALLOC_DECAY_MS=abc (expected an integer in
//   [-1, 3600000]); using 100
//
// and the default is kept. When a variable appears twice in the
// environment, the first occurrence counts (as getenv(3) would see it).
//
// Any other ELFMALLOC_* name with a non-empty value is ignored with one
// line (once per name) that names the closest option if one is close,
// comparing the parts after "ELFMALLOC_" and ignoring case: one whose name
// begins the other's or is begun by it (at least 4 characters), else the
// nearest within edit distance 3. E.g.
//
//   elfmalloc: ignoring unknown option ELFMALLOC_DECAY=0 (did you mean
//   ELFMALLOC_DECAY_MS?)
//
// except the names the test and benchmark programs read for themselves,
// ELFMALLOC_TEST_*, ELFMALLOC_BENCH_* and ELFMALLOC_STRESS_*.
//
// This code runs inside malloc: it never allocates (no std::string, no
// stdio, no copies of the environment); integers and decimals are parsed by
// hand and warnings go through alloc_fmt with write(2).
//
// Thread-safety: ParseOptions is thread-safe for distinct `out` objects.
// GetOptions is thread-safe and lock-free (no spinning, so a fork child can
// never wait on a parse its parent's other thread had begun): the first
// caller parses `environ` and publishes the result; callers racing with it
// parse again silently and get the same values. Like getenv(3), neither may
// run concurrently with setenv(3)/putenv(3).

#ifndef ELFMALLOC_INTERNAL_OPTIONS_H_
#define ELFMALLOC_INTERNAL_OPTIONS_H_

#include <cstdint>

namespace allocators {
namespace elfmalloc {
namespace internal {

inline constexpr int64_t kDefaultDecayMs = 100;
inline constexpr int64_t kMaxDecayMs = int64_t{3600} * 1000;  // one hour
inline constexpr int64_t kDefaultDirtyMaxMb = 256;
inline constexpr int64_t kMaxDirtyMaxMb = int64_t{1} << 20;  // 1 TiB
inline constexpr int64_t kMaxMagazineSize = int64_t{1} << 16;
// The reuse threshold in millionths: the fraction of a slag's objects that
// must be free before the slag is offered for reuse (slag_geometry.h's
// cutoff; kCutoffFactor in config.h is the same default).
inline constexpr int64_t kReuseThresholdOne = 1000000;
inline constexpr int64_t kDefaultReuseThresholdPpm = 250000;
inline constexpr int64_t kMaxSampleRate = 1000000000;

// Every option with its value (the default unless the environment set it).
struct Options {
  // Print statistics at exit.
  bool show_stats = false;
  // Print a line at start-up (and other diagnostics).
  bool verbose = false;
  // Free pages unused this long (ms) go back to the OS; -1 never, 0 at once.
  int64_t decay_ms = kDefaultDecayMs;
  // Hardened mode (built separately; only parsed here).
  bool secure = false;
  // At most this many objects per thread magazine; 0: the built-in
  // size-dependent capacities (magazine_cache.h MagazineCapacity).
  int64_t magazine_size = 0;
  // At most this many MiB of dirty (freed, still committed) pages are kept
  // per page size.
  int64_t dirty_max_mb = kDefaultDirtyMaxMb;
  // A slag is offered for reuse once this fraction (in millionths, so
  // 250000 = 0.25 = 25 %) of its objects is free.
  int64_t reuse_threshold_ppm = kDefaultReuseThresholdPpm;
  // Run the decay steps on a background thread too, so memory goes back to
  // the OS while the program makes no allocator calls.
  bool background_thread = false;
  // About one allocation of a page or less in this many is placed in the
  // sampled pool, against a guard page (sampled_pool.h); 0: none.
  int64_t sample_rate = 0;
  // A fatal error prints the stack after its message
  // (alloc_fmt::SetFatalBacktrace).
  bool backtrace = false;

  double reuse_threshold() const {
    return static_cast<double>(reuse_threshold_ppm) /
           static_cast<double>(kReuseThresholdOne);
  }
};

// Parses the ELFMALLOC_* entries of `envp` (a NULL-terminated array of
// "NAME=value" strings, like environ; nullptr counts as empty) into `out`,
// which is first reset to the defaults. Each bad value and each unknown
// name writes one line to `warn_fd` (none if warn_fd < 0). Returns the
// number of such lines. Never allocates.
int ParseOptions(const char* const* envp, Options* out, int warn_fd);

// The process's options: parsed from `environ` on the first call (warnings
// to stderr), the same values on every later call.
Options GetOptions();

}  // namespace internal
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_INTERNAL_OPTIONS_H_
