// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The working-set policy that decides when a slab cache gives memory back.
//
// Over each working period (15 s by default) the cache tracks the smallest
// number of completely free slabs it held at any moment. Those slabs were
// not needed during the whole period, so when the period is over that many
// free slabs are released and a new period starts. A burst of frees followed
// by a burst of allocations within one period therefore never returns memory
// only to ask for it again (Bonwick's working-set reasoning).
//
// The clock is a template parameter so tests can drive time by hand. A
// Clock is any copyable type with
//
//   std::chrono::nanoseconds Now();  // monotonic, arbitrary epoch
//
// SteadyClock below is the default.

#ifndef SLAB_ALLOC_INTERNAL_WORKING_SET_H_
#define SLAB_ALLOC_INTERNAL_WORKING_SET_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

namespace allocators {
namespace slab_alloc {
namespace internal {

// The default working period (the original's WORKING_PERIOD_SECONDS).
inline constexpr std::chrono::nanoseconds kDefaultWorkingPeriod =
    std::chrono::seconds(15);

// std::chrono::steady_clock as a Clock. Stateless; thread-safe.
struct SteadyClock {
  std::chrono::nanoseconds Now() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
};

// Running minimum of a count over a period of `period` (the original's
// WorkingSet<usize>). The first period starts at construction.
// Thread-compatible.
template <typename Clock>
class WorkingSet {
 public:
  // REQUIRES: period >= 0. nanoseconds::max() never ends a period.
  WorkingSet(Clock clock, std::chrono::nanoseconds period, size_t initial)
      : clock_(std::move(clock)),
        period_(period),
        begin_(clock_.Now()),
        min_(initial) {}

  // Lowers the tracked minimum to `value` if it is smaller.
  void UpdateMin(size_t value) {
    if (value < min_) min_ = value;
  }

  // Replaces the tracked value (used to start a period at the current
  // count).
  void Set(size_t value) { min_ = value; }

  // If at least `period` has passed since the current period began, starts
  // a new period now and returns the tracked minimum (which stays the
  // tracked value until Set is called). Otherwise returns nullopt and
  // changes nothing. Reads the clock once.
  std::optional<size_t> Refresh() {
    const std::chrono::nanoseconds now = clock_.Now();
    // A clock that goes backwards never ends the period early.
    if (now < begin_ || now - begin_ < period_) return std::nullopt;
    begin_ = now;
    return min_;
  }

  size_t min() const { return min_; }
  std::chrono::nanoseconds period() const { return period_; }

 private:
  Clock clock_;
  std::chrono::nanoseconds period_;
  std::chrono::nanoseconds begin_;
  size_t min_;
};

}  // namespace internal
}  // namespace slab_alloc
}  // namespace allocators

#endif  // SLAB_ALLOC_INTERNAL_WORKING_SET_H_
