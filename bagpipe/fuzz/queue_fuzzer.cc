// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Fuzz target: interprets the input as a sequence of operations and applies
// each to five bags, checking them against models.
//
//   bag                                    model
//   RevocableFAAQueue<Item*>               deque (FIFO, revoke removes)
//   YangCrummeyQueue<uint64_t, 2>          deque (4-cell segments)
//   FAAQueueLowLevel<uint64_t>             deque
//   GeneralYC<std::string, 2>              deque of strings
//   BagPipe<FAAQueueLowLevel<uint64_t>>    multiset (no order)
//
// Each op is one byte (op = byte % 8), some followed by an argument byte:
//   0-2  push the next id                  3-4  pop once everywhere
//   5    revoke item #(arg % ids)          6    push (arg % 16) ids (BulkAdd
//                                               on the BagPipe)
//   7    pop (arg % 16) times
// Single-threaded, so every try must succeed, queues must be FIFO, and a
// pop must report empty exactly when the model is empty. A mismatch is
// fatal ("bagpipe fuzz: ..."), which a fuzzer reports as a crash.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "alloc_fmt/check.h"
#include "bagpipe/bagpipe.h"
#include "bagpipe/boxed_queue.h"
#include "bagpipe/faa_queue.h"
#include "bagpipe/yc_queue.h"

namespace allocators {
namespace bagpipe {
namespace {

struct Item {
  std::atomic<uintptr_t>& revocation_handle() { return handle; }
  uint64_t id = 0;
  std::atomic<uintptr_t> handle{0};
};

class Harness {
 public:
  explicit Harness(size_t max_ids) : items_(max_ids) {
    for (size_t i = 0; i < items_.size(); ++i) items_[i].id = i;
  }

  ~Harness() {
    // Drain what is left; everything must match the models.
    while (!fifo_.empty() || !revocable_.empty() || !bag_.empty()) PopOnce();
    CheckEmpty();
  }

  void PushNext(bool bulk_for_bagpipe, size_t n) {
    std::vector<uint64_t> batch;
    for (size_t k = 0; k < n && next_id_ < items_.size(); ++k) {
      const uint64_t id = next_id_++;
      ALLOC_CHECK(rq_.TryPush(&items_[id]), "bagpipe fuzz: revocable push");
      revocable_.push_back(id);
      ALLOC_CHECK(yq_.TryPush(id), "bagpipe fuzz: YC push");
      ALLOC_CHECK(fq_.TryPush(id), "bagpipe fuzz: FAA push");
      ALLOC_CHECK(gq_.TryPush(std::to_string(id)), "bagpipe fuzz: boxed push");
      fifo_.push_back(id);
      if (bulk_for_bagpipe) {
        batch.push_back(id);
      } else {
        bp_.PushMut(id);
      }
      bag_.insert(id);
    }
    if (!batch.empty()) bp_.BulkAdd(batch.begin(), batch.end());
  }

  void PopOnce() {
    Item* item = nullptr;
    const bool got_r = rq_.Pop(&item);
    ALLOC_CHECK(got_r == !revocable_.empty(), "bagpipe fuzz: revocable empty");
    if (got_r) {
      ALLOC_CHECK(item->id == revocable_.front(),
                  "bagpipe fuzz: revocable FIFO");
      ALLOC_CHECK(item->handle.load() == 0, "bagpipe fuzz: handle not cleared");
      revocable_.pop_front();
    }

    uint64_t y = 0, f = 0;
    std::string g;
    const bool got_y = yq_.TryPop(&y) == PopStatus::kOk;
    const bool got_f = fq_.TryPop(&f) == PopStatus::kOk;
    const bool got_g = gq_.TryPop(&g) == PopStatus::kOk;
    ALLOC_CHECK(got_y == !fifo_.empty() && got_f == got_y && got_g == got_y,
                "bagpipe fuzz: FIFO emptiness");
    if (got_y) {
      const uint64_t want = fifo_.front();
      fifo_.pop_front();
      ALLOC_CHECK(y == want && f == want && g == std::to_string(want),
                  "bagpipe fuzz: FIFO order");
    }

    uint64_t b = 0;
    const bool got_b = bp_.PopMut(&b);
    ALLOC_CHECK(got_b == !bag_.empty(), "bagpipe fuzz: BagPipe emptiness");
    if (got_b) {
      auto it = bag_.find(b);
      ALLOC_CHECK(it != bag_.end(), "bagpipe fuzz: BagPipe invented an item");
      bag_.erase(it);
    }
  }

  void Revoke(size_t arg) {
    if (next_id_ == 0) return;
    const uint64_t id = arg % next_id_;
    auto it = std::find(revocable_.begin(), revocable_.end(), id);
    const bool in_queue = it != revocable_.end();
    const bool revoked = RevocableFAAQueue<Item*>::Revoke(&items_[id]);
    ALLOC_CHECK(revoked == in_queue, "bagpipe fuzz: revoke result");
    if (in_queue) revocable_.erase(it);
  }

  void CheckEmpty() {
    Item* item = nullptr;
    uint64_t v = 0;
    std::string s;
    ALLOC_CHECK(rq_.TryPop(&item) == PopStatus::kEmpty, "bagpipe fuzz: rq");
    ALLOC_CHECK(yq_.TryPop(&v) == PopStatus::kEmpty, "bagpipe fuzz: yq");
    ALLOC_CHECK(fq_.TryPop(&v) == PopStatus::kEmpty, "bagpipe fuzz: fq");
    ALLOC_CHECK(gq_.TryPop(&s) == PopStatus::kEmpty, "bagpipe fuzz: gq");
    ALLOC_CHECK(!bp_.PopMut(&v), "bagpipe fuzz: BagPipe not empty");
    ALLOC_CHECK(bp_.SizeGuess() >= 0, "bagpipe fuzz: size guess");
    rq_.CheckInvariants();
    yq_.CheckInvariants();
    fq_.CheckInvariants();
  }

 private:
  std::vector<Item> items_;
  uint64_t next_id_ = 0;
  RevocableFAAQueue<Item*> rq_;
  YangCrummeyQueue<uint64_t, 2> yq_;
  FAAQueueLowLevel<uint64_t> fq_;
  GeneralYC<std::string, 2> gq_;
  BagPipe<FAAQueueLowLevel<uint64_t>> bp_{4};
  std::deque<uint64_t> revocable_;
  std::deque<uint64_t> fifo_;
  std::multiset<uint64_t> bag_;
};

}  // namespace
}  // namespace bagpipe
}  // namespace allocators

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using allocators::bagpipe::Harness;
  // At most 16 ids per byte.
  Harness h(16 * size + 1);
  for (size_t i = 0; i < size; ++i) {
    const uint8_t op = data[i] % 8;
    const uint8_t arg = i + 1 < size ? data[i + 1] : 0;
    switch (op) {
      case 0:
      case 1:
      case 2:
        h.PushNext(false, 1);
        break;
      case 3:
      case 4:
        h.PopOnce();
        break;
      case 5:
        h.Revoke(arg);
        ++i;
        break;
      case 6:
        h.PushNext(true, arg % 16);
        ++i;
        break;
      case 7:
        for (int k = 0; k < arg % 16; ++k) h.PopOnce();
        ++i;
        break;
    }
  }
  return 0;
}
