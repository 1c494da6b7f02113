// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// BagPipe: a scalable concurrent bag built by sharding over many weak
// queues ("pipes") with coordination-free load balancing.
//
//   BagPipe<FAAQueueLowLevel<Slab*>> bag;       // 2 x CPUs pipes
//   std::thread t([h = bag] () mutable {        // copy = new handle
//     h.PushMut(slab);
//     Slab* s;
//     if (h.TryPopMut(&s) == PopStatus::kOk) { ... }
//   });
//
// Every handle walks the power-of-two array of pipes with its own odd
// stride (seed = handles-ever-made + 1; with the default OddStrides,
// stride = 2 * seed + 1; with PrimeStrides, the seed-th odd prime of a
// 1024-entry table; start offset = stride mod len), so different handles
// start at different pipes and every handle visits all pipes in `len` steps. A handle adapts to contention:
//
// * TryPushMut probes up to push_failures + 1 pipes with TryPush. Success
//   halves push_failures; failure moves the offset by one stride and
//   increments it. PushMut is one TryPushMut and then a second schedule whose
//   last step is a blocking Push (which counts as a failure).
// * TryPopMut probes up to 2 * pop_failures + 1 pipes. kEmpty is returned
//   only after `len` consecutive pipes reported kEmpty (so a fresh handle's
//   first TryPopMut on an empty bag with several pipes reports
//   kTransientFailure, and PopMut keeps going until the budget covers a full
//   sweep). The emptiness answer is serialisable, not linearisable.
// * BulkAdd walks the schedule, pushing each item until it lands.
// * Out of memory (a pipe cannot allocate a node): TryPushMut, PushMut and
//   BulkAdd move on to the next pipe, whose tail node may still have room.
//   Once every pipe in a row has reported out of memory for the same item,
//   PushMut returns false and BulkAdd returns the number of items pushed;
//   unpushed items stay the caller's and the bag is unchanged by them. The
//   shared state is allocated by the first constructor, which is fatal if
//   it cannot be ("bagpipe: out of memory (BagPipe state)"): a constructor
//   cannot report failure, and users build their bags up front.
// * SizeGuess(): each handle accumulates its net pushes and pops and adds
//   them to one of 4 cache-padded counters when the difference reaches +-4
//   and when the handle is destroyed. The guess is the counters' sum,
//   clamped at 0; it is only "very weakly quiescently consistent".
//
// The shared state (handle count, counters, pipes, cleanup policy) is one
// bsalloc block; the last handle to go runs the cleanup policy on every item
// still in the bag and destroys it.
//
// Progress is inherited from the queue type Q. Handles are cheap to copy;
// never share one handle between threads (and never wrap a BagPipe in
// another reference-counted box: copies are the sharing mechanism).
//
// Deviations from the original: TryPopMut reports kEmpty as soon as `len`
// consecutive pipes were empty even if that was its last probe (the
// original checked the probe budget first, so a one-pipe bag needed two
// calls); the `prime_schedules` feature is the Schedule parameter
// (PrimeStrides).

#ifndef BAGPIPE_BAGPIPE_H_
#define BAGPIPE_BAGPIPE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "absl/base/config.h"
#include "alloc_fmt/check.h"
#include "bagpipe/bag.h"
#include "bagpipe/internal/ebr.h"
#include "bsalloc/bsalloc.h"
#include "platform/platform.h"

namespace allocators {
namespace bagpipe {

namespace internal {
template <typename Q, typename = void>
struct HasCheckInvariants : std::false_type {};
template <typename Q>
struct HasCheckInvariants<
    Q, std::void_t<decltype(std::declval<const Q&>().CheckInvariants())>>
    : std::true_type {};
}  // namespace internal

// The pipe count a default-constructed BagPipe uses: 2 x CPUs (before
// rounding up to a power of two). Users that keep many bags (one per size
// class, say) cap it with this as a reference.
inline size_t DefaultPipeCount() { return 2 * platform::CpuCount(); }

// Call in the child after fork(), with no bag operation in progress on the
// calling thread: reclamation records leased by threads that do not exist in
// the child are released (else they would stop reclamation forever). Bags
// themselves stay usable: their operations are lock-free, so an operation
// a vanished thread left half done cannot block anyone.
inline void AtForkChild() { internal::EbrAtForkChild(); }

// Schedules: the stride of the handle with seed `seed` (0 for a bag's first
// handle). Any odd stride visits every pipe of a power-of-two array.
//
// OddStrides (the default): 2 * seed + 1, so handles made one after another
// get neighbouring strides.
struct OddStrides {
  static constexpr size_t Stride(size_t seed) { return 2 * seed + 1; }
};

namespace internal {
// The first kPrimeStrides odd primes (3, 5, 7, ..., 8167).
inline constexpr size_t kPrimeStrides = 1024;
struct PrimeTable {
  uint16_t p[kPrimeStrides];
};
constexpr PrimeTable MakePrimeTable() {
  PrimeTable t{};
  size_t n = 0;
  for (uint32_t c = 3; n < kPrimeStrides; c += 2) {
    bool prime = true;
    for (uint32_t d = 3; d * d <= c; d += 2) {
      if (c % d == 0) {
        prime = false;
        break;
      }
    }
    if (prime) t.p[n++] = static_cast<uint16_t>(c);
  }
  return t;
}
inline constexpr PrimeTable kPrimeTable = MakePrimeTable();
static_assert(kPrimeTable.p[0] == 3 && kPrimeTable.p[1] == 5 &&
              kPrimeTable.p[kPrimeStrides - 1] == 8167);
}  // namespace internal

// PrimeStrides (the original's `prime_schedules`): the first handle walks
// with stride 1, every later one with an odd prime from a 1024-entry table,
// so that the strides of handles made together share no factor and their
// walks collide less.
struct PrimeStrides {
  static constexpr size_t Stride(size_t seed) {
    return seed == 0 ? 1
                     : internal::kPrimeTable
                           .p[(seed - 1) % internal::kPrimeStrides];
  }
};

// The no-op cleanup policy: items still in the bag when the last handle
// goes away are dropped (boxing queues still destroy them).
struct NoCleanup {
  template <typename T>
  void operator()(T&&) const {}
};

// A cleanup policy is any copyable callable `void(value_type&&)`; it runs once
// for every item still in the bag when the last handle is destroyed (for
// example to unmap pages that the bag caches).

// A weak bag handle over `pipes` queues of type Q (a shared weak bag).
// Thread-compatible per handle; the bag itself is thread-safe.
template <typename Q, typename Cleanup = NoCleanup,
          typename Schedule = OddStrides>
class BagPipe {
  static_assert(kIsSharedWeakBag<Q>, "BagPipe pipes must be shared weak bags");

 public:
  using value_type = typename Q::value_type;
  using Queue = Q;

  // A bag with 2 x CpuCount() pipes, rounded up to a power of two.
  BagPipe() : BagPipe(DefaultPipeCount()) {}

  // A bag with `pipes` pipes rounded up to a power of two (at least 1).
  explicit BagPipe(size_t pipes, Cleanup cleanup = Cleanup()) {
    size_t len = 1;
    while (len < pipes) len <<= 1;
    state_ = State::Create(len, std::move(cleanup), /*nothrow=*/false);
    // The first handle has seed 0: stride 1, like the original's new().
    InitSchedule(0);
  }

  // The same, except that if the shared state or a pipe's memory cannot be
  // had the handle is left empty (valid() false) instead of dying, so that
  // a bag built lazily on an allocation path can report ENOMEM. REQUIRES: Q
  // is constructible from std::nothrow (FAAQueueLowLevel is).
  BagPipe(size_t pipes, std::nothrow_t, Cleanup cleanup = Cleanup()) {
    static_assert(std::is_constructible_v<Q, std::nothrow_t>,
                  "BagPipe(pipes, std::nothrow) needs Q(std::nothrow)");
    size_t len = 1;
    while (len < pipes) len <<= 1;
    state_ = State::Create(len, std::move(cleanup), /*nothrow=*/true);
    if (state_ != nullptr) InitSchedule(0);
  }

  // False for a handle whose nothrow construction failed (or that was
  // moved from); such a handle may only be destroyed.
  bool valid() const { return state_ != nullptr; }

  // A new handle onto the same bag, with its own schedule.
  BagPipe(const BagPipe& other) : state_(other.state_) {
    state_->handles.fetch_add(1, std::memory_order_relaxed);
    InitSchedule(state_->seeds.fetch_add(1, std::memory_order_relaxed) + 1);
  }
  BagPipe(BagPipe&& other) noexcept { Swap(other); }
  BagPipe& operator=(BagPipe other) noexcept {
    Swap(other);
    return *this;
  }
  ~BagPipe() {
    if (state_ == nullptr) return;
    if (diff_ != 0) FlushDiff();
    // acq_rel: every handle's operations happen-before the cleanup.
    if (state_->handles.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      State::Destroy(state_);
    }
  }

  // Tries to push along this handle's schedule. On false the caller still
  // owns `item`.
  bool TryPushMut(value_type&& item) {
    internal::EbrGuard guard;  // one lease for every probe
    if (PushAlong(item, push_failures_ + 1, false) == kPushed) {
      push_failures_ >>= 1;
      AddDiff(1);
      return true;
    }
    offset_ += stride_;
    ++push_failures_;
    return false;
  }
  bool TryPushMut(const value_type& item) {
    value_type copy(item);
    return TryPushMut(std::move(copy));
  }

  // Pushes `item`; ends with a blocking Push on the last pipe of a schedule.
  // Returns false only if every pipe is out of memory; `item` is then still
  // the caller's and nothing changed.
  bool PushMut(value_type item) {
    internal::EbrGuard guard;
    if (TryPushMut(std::move(item))) return true;
    switch (PushAlong(item, push_failures_ + 1, true)) {
      case kPushed:
        push_failures_ >>= 1;
        break;
      case kPushedBlocking:
        offset_ += stride_;
        ++push_failures_;
        break;
      case kFailed:
        // Only out of memory makes a blocking schedule fail.
        return false;
    }
    AddDiff(1);
    return true;
  }

  // Tries to pop along this handle's schedule (see the file comment).
  PopStatus TryPopMut(value_type* out) {
    internal::EbrGuard guard;
    const size_t len = state_->len;
    size_t ix = offset_;
    size_t budget = 2 * pop_failures_ + 1;
    size_t empties = 0;
    for (;;) {
      switch (state_->pipes[ix & (len - 1)].TryPop(out)) {
        case PopStatus::kOk:
          pop_failures_ >>= 1;
          AddDiff(-1);
          return PopStatus::kOk;
        case PopStatus::kEmpty:
          ++empties;
          break;
        case PopStatus::kTransientFailure:
          empties = 0;
          break;
      }
      ix += stride_;
      if (empties == len) {
        pop_failures_ >>= 1;
        return PopStatus::kEmpty;
      }
      if (--budget == 0) {
        offset_ += stride_;
        ++pop_failures_;
        return PopStatus::kTransientFailure;
      }
    }
  }

  // Pops an item (true) or returns false once TryPopMut reports kEmpty.
  bool PopMut(value_type* out) {
    internal::EbrGuard guard;
    for (;;) {
      switch (TryPopMut(out)) {
        case PopStatus::kOk:
          return true;
        case PopStatus::kEmpty:
          return false;
        case PopStatus::kTransientFailure:
          break;
      }
    }
  }

  // Pushes every item of [first, last), walking the schedule and retrying
  // each item on the next pipe until it lands. Does not change the
  // adaptive counters. Returns the number of items pushed, from `first` on:
  // all of them unless every pipe ran out of memory in a row for one item,
  // which stops the walk (the rest stay the caller's).
  template <typename It>
  size_t BulkAdd(It first, It last) {
    internal::EbrGuard guard;
    const size_t len = state_->len;
    const size_t mask = len - 1;
    size_t ix = offset_;
    int64_t n = 0;
    for (; first != last; ++first) {
      value_type item(*first);
      size_t out_of_memory = 0;
      for (;;) {
        Q& pipe = state_->pipes[ix & mask];
        ix += stride_;
        const PushStatus st = TryPushOne(pipe, item);
        if (st == PushStatus::kOk) break;
        if (st != PushStatus::kOutOfMemory) {
          out_of_memory = 0;
        } else if (++out_of_memory == len) {
          AddDiff(n);
          return static_cast<size_t>(n);
        }
      }
      ++n;
    }
    AddDiff(n);
    return static_cast<size_t>(n);
  }

  // A guess of the number of items in the bag (see the file comment).
  int64_t SizeGuess() const {
    int64_t total = 0;
    for (const auto& c : state_->counters) {
      total += c.value.load(std::memory_order_acquire);
    }
    return total < 0 ? 0 : total;
  }

  // Removes `item` from whichever pipe holds it (Q must be revocable).
  // See RevocableFAAQueue::Revoke for the contract.
  template <typename Q2 = Q, typename = std::enable_if_t<kIsRevocableBag<Q2>>>
  static bool Revoke(value_type item) {
    return Q2::Revoke(item);
  }

  // Checks the shared state and every pipe that has a CheckInvariants().
  // REQUIRES: quiescent (no concurrent operations). Fatal on violation.
  void CheckInvariants() const {
    ALLOC_CHECK(state_ != nullptr, "bagpipe: use of a moved-from BagPipe");
    const size_t len = state_->len;
    ALLOC_CHECK(len != 0 && (len & (len - 1)) == 0,
                "bagpipe: pipe count %zu is not a power of two", len);
    ALLOC_CHECK(state_->handles.load(std::memory_order_relaxed) >= 1,
                "bagpipe: live handle but no handle count");
    ALLOC_CHECK(stride_ % 2 == 1, "bagpipe: even stride %zu", stride_);
    if constexpr (internal::HasCheckInvariants<Q>::value) {
      for (size_t i = 0; i < len; ++i) state_->pipes[i].CheckInvariants();
    }
  }

  size_t pipe_count() const { return state_->len; }
  // The i-th pipe (for tests and diagnostics). REQUIRES: i < pipe_count().
  Q& pipe(size_t i) const { return state_->pipes[i]; }
  // This handle's schedule (for tests).
  size_t stride() const { return stride_; }
  size_t offset() const { return offset_; }
  size_t push_failures() const { return push_failures_; }
  size_t pop_failures() const { return pop_failures_; }

 private:
  static constexpr int64_t kThresholdDiff = 4;
  static constexpr size_t kCounters = 4;

  struct alignas(ABSL_CACHELINE_SIZE) PaddedCounter {
    std::atomic<int64_t> value{0};
  };

  struct State {
    State(size_t n, Cleanup c) : len(n), cleanup(std::move(c)) {}

    static size_t PipesOffset() {
      return (sizeof(State) + alignof(Q) - 1) / alignof(Q) * alignof(Q);
    }
    static size_t Bytes(size_t n) { return PipesOffset() + n * sizeof(Q); }
    static constexpr size_t Align() {
      return alignof(State) > alignof(Q) ? alignof(State) : alignof(Q);
    }

    // Fatal on out of memory unless `nothrow`, which returns nullptr
    // instead (with nothing left allocated).
    static State* Create(size_t n, Cleanup c, bool nothrow) {
      void* mem = bsalloc::Alloc(Bytes(n), Align());
      if (mem == nullptr && nothrow) return nullptr;
      ALLOC_CHECK(mem != nullptr, "bagpipe: out of memory (BagPipe state)");
      State* s = new (mem) State(n, std::move(c));
      s->pipes = reinterpret_cast<Q*>(static_cast<char*>(mem) + PipesOffset());
      for (size_t i = 0; i < n; ++i) {
        if constexpr (std::is_constructible_v<Q, std::nothrow_t>) {
          if (nothrow) {
            Q* q = new (&s->pipes[i]) Q(std::nothrow);
            if (!q->ok()) {
              for (size_t j = 0; j <= i; ++j) s->pipes[j].~Q();
              s->~State();
              bsalloc::Free(mem, Bytes(n));
              return nullptr;
            }
            continue;
          }
        }
        new (&s->pipes[i]) Q();
      }
      return s;
    }

    static void Destroy(State* s) {
      if constexpr (!std::is_same_v<Cleanup, NoCleanup>) {
        static_assert(std::is_default_constructible_v<value_type>,
                      "a cleanup policy drains into a default-constructed "
                      "value_type");
        for (size_t i = 0; i < s->len; ++i) {
          value_type item{};
          while (s->pipes[i].Pop(&item)) s->cleanup(std::move(item));
        }
      }
      for (size_t i = 0; i < s->len; ++i) s->pipes[i].~Q();
      const size_t bytes = Bytes(s->len);
      s->~State();
      bsalloc::Free(s, bytes);
    }

    std::atomic<size_t> handles{1};
    std::atomic<size_t> seeds{1};
    PaddedCounter counters[kCounters];
    const size_t len;
    Cleanup cleanup;
    Q* pipes = nullptr;
  };

  enum PushResult { kPushed, kPushedBlocking, kFailed };

  void InitSchedule(size_t seed) {
    stride_ = Schedule::Stride(seed);
    offset_ = stride_ & (state_->len - 1);
  }

  void Swap(BagPipe& other) noexcept {
    std::swap(state_, other.state_);
    std::swap(offset_, other.offset_);
    std::swap(stride_, other.stride_);
    std::swap(push_failures_, other.push_failures_);
    std::swap(pop_failures_, other.pop_failures_);
    std::swap(diff_, other.diff_);
  }

  // One TryPush on `pipe`, as a PushStatus (queues without TryPushStatus
  // never run out of memory).
  static PushStatus TryPushOne(Q& pipe, value_type& item) {
    if constexpr (internal::HasTryPushStatus<Q>::value) {
      return pipe.TryPushStatus(std::move(item));
    } else {
      return pipe.TryPush(std::move(item)) ? PushStatus::kOk
                                           : PushStatus::kTransientFailure;
    }
  }

  // A blocking Push on `pipe`: false only if it ran out of memory.
  static bool PushOne(Q& pipe, value_type& item) {
    if constexpr (std::is_same_v<decltype(pipe.Push(std::move(item))), bool>) {
      return pipe.Push(std::move(item));
    } else {
      pipe.Push(std::move(item));
      return true;
    }
  }

  // Tries up to `budget` pipes from offset_; with `block_last`, the last
  // step is a blocking Push. A blocking Push that runs out of memory goes
  // on blocking on the following pipes, and gives up (kFailed) when all
  // `len` of them did. On kFailed `item` is still the caller's.
  PushResult PushAlong(value_type& item, size_t budget, bool block_last) {
    const size_t len = state_->len;
    const size_t mask = len - 1;
    size_t ix = offset_;
    for (size_t remaining = budget; remaining > 0; --remaining, ix += stride_) {
      Q& pipe = state_->pipes[ix & mask];
      if (block_last && remaining == 1) {
        for (size_t tries = 0; tries < len; ++tries, ix += stride_) {
          if (PushOne(state_->pipes[ix & mask], item)) return kPushedBlocking;
        }
        return kFailed;
      }
      if (TryPushOne(pipe, item) == PushStatus::kOk) return kPushed;
    }
    return kFailed;
  }

  void AddDiff(int64_t d) {
    diff_ += d;
    if (diff_ >= kThresholdDiff || diff_ <= -kThresholdDiff) FlushDiff();
  }
  void FlushDiff() {
    state_->counters[offset_ % kCounters].value.fetch_add(
        diff_, std::memory_order_release);
    diff_ = 0;
  }

  State* state_ = nullptr;
  size_t offset_ = 0;
  size_t stride_ = 1;
  size_t push_failures_ = 0;
  size_t pop_failures_ = 0;
  int64_t diff_ = 0;
};

}  // namespace bagpipe
}  // namespace allocators

#endif  // BAGPIPE_BAGPIPE_H_
