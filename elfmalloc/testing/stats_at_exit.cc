// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Exits while two threads are still allocating: with ELFMALLOC_SHOW_STATS=1
// the statistics report runs from an atexit handler, concurrently with
// them (reliability spec E.39: the dump must not deadlock or crash).

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main() {
  std::atomic<long> rounds{0};
  for (int t = 0; t < 2; ++t) {
    std::thread([&rounds, t] {
      std::vector<void*> live(256, nullptr);
      for (unsigned i = 0;; ++i) {
        void*& slot = live[(i * 7 + t) % live.size()];
        std::free(slot);
        slot = std::malloc(16 + (i % 4000));
        rounds.fetch_add(1, std::memory_order_relaxed);
      }
    }).detach();
  }
  std::vector<void*> mine;
  for (int i = 0; i < 5000; ++i) mine.push_back(std::malloc(176));
  while (rounds.load(std::memory_order_relaxed) < 100000) {
    std::this_thread::yield();
  }
  std::printf("main done\n");
  std::fflush(stdout);
  return 0;  // exit() with the threads still running
}
