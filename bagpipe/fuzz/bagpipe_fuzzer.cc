// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Fuzz target: op sequences on BagPipes, single-threaded, checked against a
// multiset model. Unlike queue_fuzzer.cc (which drives one handle of a 4-pipe
// BagPipe next to the queues), this target varies what the BagPipe adds on
// top of its pipes:
//
// * the pipe count (1, 2, 4, 8 or 16, from the first byte);
// * up to four handles, each with its own schedule and adaptive counters,
//   made by copying, move-assigned over each other and destroyed;
// * TryPushMut, PushMut, BulkAdd, TryPopMut (kEmpty only when the model is
//   empty; kTransientFailure allowed), PopMut (false exactly when empty);
// * SizeGuess within 3 per live handle of the model (each handle holds back
//   fewer than 4 unflushed changes) and never negative;
// * a revocable BagPipe<RevocableFAAQueue<Item*>>: Revoke succeeds exactly
//   for items in the bag, popped items have their handle cleared, revoked
//   items can be pushed again;
// * a cleanup policy that must see exactly the items left in the bag when
//   the last handle goes (or nothing, when the input ends with a drain).
//
// Input (a missing byte reads as 0): byte 0 picks the pipe count; then ops,
// one byte each (op % 12) plus one argument byte. At most 4096 ops.
// A mismatch traps (ALLOC_CHECK aborts with a "bagpipe fuzzer:" line).

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <memory>
#include <set>
#include <vector>

#include "alloc_fmt/check.h"
#include "bagpipe/bag.h"
#include "bagpipe/bagpipe.h"
#include "bagpipe/faa_queue.h"

namespace allocators {
namespace bagpipe {
namespace {

constexpr size_t kMaxHandles = 4;
constexpr size_t kMaxOps = 4096;
constexpr size_t kItems = 64;  // revocable items, reused

// What the cleanup policy saw.
struct CleanupLog {
  std::multiset<uint64_t> items;
};

struct LogCleanup {
  CleanupLog* log;
  void operator()(uint64_t&& v) const { log->items.insert(v); }
};

struct Item {
  std::atomic<uintptr_t>& revocation_handle() { return handle; }
  std::atomic<uintptr_t> handle{0};
  size_t id = 0;
};

using ValueBag = BagPipe<FAAQueueLowLevel<uint64_t>, LogCleanup>;
using ItemBag = BagPipe<RevocableFAAQueue<Item*>>;

class Harness {
 public:
  Harness(size_t pipes, CleanupLog* log)
      : items_(new Item[kItems]),
        item_bag_(pipes) {
    handles_.emplace_back(new ValueBag(pipes, LogCleanup{log}));
    for (size_t i = 0; i < kItems; ++i) items_[i].id = i;
  }

  // Item handles must outlive the bag's cells: destroy the bag first.
  ~Harness() {
    Item* out = nullptr;
    while (item_bag_.PopMut(&out)) {
      ALLOC_CHECK(in_item_bag_.erase(out->id) == 1,
                  "bagpipe fuzzer: drained an item not in the bag");
    }
    ALLOC_CHECK(in_item_bag_.empty(), "bagpipe fuzzer: item bag lost %zu",
                in_item_bag_.size());
  }

  const std::multiset<uint64_t>& model() const { return model_; }

  void Step(uint8_t op, uint8_t arg) {
    ValueBag& h = *handles_[arg % handles_.size()];
    switch (op % 12) {
      case 0:
        h.PushMut(next_);
        model_.insert(next_++);
        break;
      case 1:
        // Single-threaded: no cell is ever poisoned under a pusher.
        ALLOC_CHECK(h.TryPushMut(next_), "bagpipe fuzzer: TryPushMut failed");
        model_.insert(next_++);
        break;
      case 2: {
        std::vector<uint64_t> batch;
        for (size_t k = 0; k < arg % 19u; ++k) {
          batch.push_back(next_);
          model_.insert(next_++);
        }
        h.BulkAdd(batch.begin(), batch.end());
        break;
      }
      case 3: {
        uint64_t v = 0;
        switch (h.TryPopMut(&v)) {
          case PopStatus::kOk:
            Take(v);
            break;
          case PopStatus::kEmpty:
            ALLOC_CHECK(model_.empty(),
                        "bagpipe fuzzer: kEmpty with %zu items in the bag",
                        model_.size());
            break;
          case PopStatus::kTransientFailure:
            break;
        }
        break;
      }
      case 4:
      case 5: {
        uint64_t v = 0;
        const bool got = h.PopMut(&v);
        ALLOC_CHECK(got == !model_.empty(),
                    "bagpipe fuzzer: PopMut %d with %zu items", got,
                    model_.size());
        if (got) Take(v);
        break;
      }
      case 6:  // a new handle (or replace one by a copy of another)
        if (handles_.size() < kMaxHandles) {
          handles_.emplace_back(new ValueBag(h));
        } else {
          *handles_[(arg / 4) % handles_.size()] = ValueBag(h);
        }
        break;
      case 7:  // drop a handle (never the last)
        if (handles_.size() > 1) {
          handles_.erase(handles_.begin() + arg % handles_.size());
        }
        break;
      case 8: {
        const int64_t guess = h.SizeGuess();
        const int64_t size = static_cast<int64_t>(model_.size());
        const int64_t slack = 3 * static_cast<int64_t>(handles_.size());
        ALLOC_CHECK(guess >= 0 && guess <= size + slack && guess >= size - slack,
                    "bagpipe fuzzer: SizeGuess %lld for %lld items, %zu handles",
                    static_cast<long long>(guess), static_cast<long long>(size),
                    handles_.size());
        h.CheckInvariants();
        item_bag_.CheckInvariants();
        break;
      }
      case 9: {  // push a revocable item that is not in the bag
        Item* item = &items_[arg % kItems];
        if (in_item_bag_.count(item->id) != 0) break;
        if (arg & 1) {
          item_bag_.PushMut(item);
        } else {
          ALLOC_CHECK(item_bag_.TryPushMut(item),
                      "bagpipe fuzzer: revocable TryPushMut failed");
        }
        in_item_bag_.insert(item->id);
        break;
      }
      case 10: {
        Item* item = &items_[arg % kItems];
        const bool revoked = ItemBag::Revoke(item);
        const bool present = in_item_bag_.erase(item->id) == 1;
        ALLOC_CHECK(revoked == present,
                    "bagpipe fuzzer: Revoke(%zu) = %d, in the bag: %d",
                    item->id, revoked, present);
        ALLOC_CHECK(item->handle.load() == 0,
                    "bagpipe fuzzer: revoked item keeps its handle");
        break;
      }
      case 11: {
        Item* out = nullptr;
        const bool got = item_bag_.PopMut(&out);
        ALLOC_CHECK(got == !in_item_bag_.empty(),
                    "bagpipe fuzzer: revocable PopMut %d with %zu items", got,
                    in_item_bag_.size());
        if (got) {
          ALLOC_CHECK(in_item_bag_.erase(out->id) == 1,
                      "bagpipe fuzzer: popped item %zu not in the bag",
                      out->id);
          ALLOC_CHECK(out->handle.load() == 0,
                      "bagpipe fuzzer: popped item keeps its handle");
        }
        break;
      }
    }
  }

  // Pops everything through one handle; the model must empty exactly.
  void Drain() {
    ValueBag& h = *handles_[0];
    uint64_t v = 0;
    while (h.PopMut(&v)) Take(v);
    ALLOC_CHECK(model_.empty(), "bagpipe fuzzer: %zu items lost",
                model_.size());
  }

  // Destroys every handle: the last one runs the cleanup policy.
  void DropHandles() { handles_.clear(); }

 private:
  void Take(uint64_t v) {
    auto it = model_.find(v);
    ALLOC_CHECK(it != model_.end(),
                "bagpipe fuzzer: popped %llu, which is not in the bag",
                static_cast<unsigned long long>(v));
    model_.erase(it);
  }

  std::unique_ptr<Item[]> items_;
  std::vector<std::unique_ptr<ValueBag>> handles_;
  ItemBag item_bag_;
  std::multiset<uint64_t> model_;
  std::set<size_t> in_item_bag_;
  uint64_t next_ = 0;
};

}  // namespace
}  // namespace bagpipe
}  // namespace allocators

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using allocators::bagpipe::CleanupLog;
  using allocators::bagpipe::Harness;
  size_t pos = 0;
  auto byte = [&]() -> uint8_t { return pos < size ? data[pos++] : 0; };
  const size_t pipes = size_t{1} << (byte() % 5);
  CleanupLog log;
  std::multiset<uint64_t> left;
  bool drained = false;
  {
    Harness h(pipes, &log);
    uint8_t last_op = 0;
    for (size_t n = 0; n < allocators::bagpipe::kMaxOps && pos < size; ++n) {
      last_op = byte();
      h.Step(last_op, byte());
    }
    // Inputs whose last op is odd end with a drain, the others leave items
    // to the cleanup policy.
    if (last_op & 1) {
      h.Drain();
      drained = true;
    }
    left = h.model();
    h.DropHandles();
  }
  ALLOC_CHECK(log.items == left,
              "bagpipe fuzzer: cleanup saw %zu items, %zu were left%s",
              log.items.size(), left.size(), drained ? " (drained)" : "");
  return 0;
}
