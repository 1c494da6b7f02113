// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// MutexDeque: a std::deque behind a std::mutex, the simplest correct
// concurrent queue, as a benchmark baseline. Test-only (it allocates with
// the C++ heap and blocks).

#ifndef BAGPIPE_TESTING_MUTEX_DEQUE_H_
#define BAGPIPE_TESTING_MUTEX_DEQUE_H_

#include <deque>
#include <mutex>
#include <utility>

#include "bagpipe/bag.h"

namespace allocators {
namespace bagpipe {
namespace testing {

// A FIFO shared weak bag that never fails transiently. Thread-safe.
template <typename T>
class MutexDeque : public SharedWeakBagBase<MutexDeque<T>, T> {
 public:
  using value_type = T;

  bool TryPush(T&& item) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(item));
    return true;
  }
  bool TryPush(const T& item) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(item);
    return true;
  }

  PopStatus TryPop(T* out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (items_.empty()) return PopStatus::kEmpty;
    *out = std::move(items_.front());
    items_.pop_front();
    return PopStatus::kOk;
  }

  // The tries never fail, so the looping forms are the tries themselves
  // (hiding SharedWeakBagBase's, which would take an EBR guard this
  // structure does not need and make the baseline look slower).
  bool Push(T item) { return TryPush(std::move(item)); }
  bool Pop(T* out) { return TryPop(out) == PopStatus::kOk; }

 private:
  std::mutex mu_;
  std::deque<T> items_;
};

}  // namespace testing
}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_TESTING_MUTEX_DEQUE_H_
