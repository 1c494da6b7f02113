// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Threads, fork and remote frees (rows 31-33 of info/reliability.md):
// fork while other threads allocate, thousands of short-lived threads, and
// objects freed by threads other than their allocator's. Each completes
// with one result line; resident-memory growth is bounded by the table's
// limits.

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "elfmalloc/scenarios/scenario.h"

namespace allocators {
namespace elfmalloc {
namespace scenarios {
namespace {

void ShortThreads() {
  constexpr int kThreads = 2000;
  constexpr int kConcurrent = 16;
  constexpr int kSlots = 1024;
  // Blocks handed from thread to thread: each thread frees what earlier
  // threads left in its slots and leaves its own there.
  std::vector<std::atomic<void*>> slots(kSlots);
  for (auto& s : slots) s.store(nullptr);
  const long rss0 = StatusKiB("VmRSS");
  const double t0 = NowSeconds();
  std::atomic<int> failures{0};
  long rss_half = 0;
  for (int batch = 0; batch < kThreads / kConcurrent; ++batch) {
    if (batch == kThreads / kConcurrent / 2) rss_half = StatusKiB("VmRSS");
    std::vector<std::thread> threads;
    for (int t = 0; t < kConcurrent; ++t) {
      const int id = batch * kConcurrent + t;
      threads.emplace_back([id, &slots, &failures] {
        std::vector<void*> own;
        for (int i = 0; i < 500; ++i) {
          const size_t n = static_cast<size_t>((id * 131 + i * 17) % 2000 + 8);
          void* p = malloc(n);
          if (p == nullptr) {
            failures.fetch_add(1);
            continue;
          }
          memset(p, 3, n < 64 ? n : 64);
          if (i % 4 == 0) {
            void* old = slots[(id * 7 + i) % kSlots].exchange(p);
            free(old);  // usually another thread's block
          } else {
            own.push_back(p);
          }
        }
        for (void* p : own) free(p);
      });
    }
    for (auto& th : threads) th.join();
  }
  const double secs = NowSeconds() - t0;
  for (auto& s : slots) free(s.exchange(nullptr));
  const long rss_end = StatusKiB("VmRSS");
  // Bounded independently of the thread count: the second thousand threads
  // must not add what the first did.
  char buf[200];
  snprintf(buf, sizeof(buf),
           "threads=%d failures=%d seconds=%.2f rss_growth_mib=%.1f "
           "second_half_growth_mib=%.1f",
           kThreads, failures.load(), secs,
           static_cast<double>(rss_end - rss0) / 1024.0,
           static_cast<double>(rss_end - rss_half) / 1024.0);
  Result(buf);
}

void ForkWhileThreadsAllocate() {
  constexpr int kForks = 100;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([t, &stop] {
      std::vector<void*> held(64, nullptr);
      unsigned i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        // Small objects mostly; every 64th a large one (the global paths).
        const size_t n = i % 64 == 0 ? (size_t{1} << 20) + (i % 7) * 4096
                                     : (i * 37 + t) % 3000 + 1;
        void*& slot = held[i % held.size()];
        free(slot);
        slot = malloc(n);
        if (slot != nullptr) static_cast<char*>(slot)[0] = 1;
        ++i;
      }
      for (void* p : held) free(p);
    });
  }
  int ok = 0;
  int hung = 0;
  int failed = 0;
  for (int f = 0; f < kForks; ++f) {
    const pid_t pid = fork();
    if (pid < 0) SetupFailure("fork");
    if (pid == 0) {
      alarm(10);  // a deadlock becomes SIGALRM
      const bool good = AllocWorks();
      bool thread_ok = false;
      std::thread th([&thread_ok] { thread_ok = AllocWorks(); });
      th.join();
      _exit(good && thread_ok ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) SetupFailure("waitpid");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ++ok;
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
      ++hung;
    } else {
      ++failed;
    }
  }
  stop.store(true);
  for (auto& w : workers) w.join();
  Result("forks=" + std::to_string(kForks) + " ok=" + std::to_string(ok) +
         " deadlocks=" + std::to_string(hung) +
         " failed=" + std::to_string(failed));
}

// A bounded ring of pointers from one producer thread to one consumer
// thread: Push from the one, Pop from the other, concurrently; no other
// use is thread-safe.
class Ring {
 public:
  bool Push(void* p) {
    const size_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_.load(std::memory_order_acquire) == kSlots) return false;
    slots_[h % kSlots] = p;
    head_.store(h + 1, std::memory_order_release);
    return true;
  }
  void* Pop() {
    const size_t t = tail_.load(std::memory_order_relaxed);
    if (t == head_.load(std::memory_order_acquire)) return nullptr;
    void* p = slots_[t % kSlots];
    tail_.store(t + 1, std::memory_order_release);
    return p;
  }

 private:
  static constexpr size_t kSlots = 4096;
  void* slots_[kSlots] = {};
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
};

// Each object carries its size and a cookie in its first 16 bytes.
void* NewCookied(size_t n, uint64_t cookie) {
  uint64_t* p = static_cast<uint64_t*>(malloc(n));
  if (p != nullptr) {
    p[0] = n;
    p[1] = cookie ^ n;
  }
  return p;
}
bool FreeCookied(void* v, uint64_t cookie) {
  const uint64_t* p = static_cast<const uint64_t*>(v);
  const bool ok = p[1] == (cookie ^ p[0]);
  free(v);
  return ok;
}

// Two producer/consumer pairs (xmalloc-test's shape: every object is freed
// by another thread), then remote-free storms (each of 4 threads allocates
// 50 000 objects that one other thread frees, 10 rounds). Peak and final
// resident growth, and every cookie intact.
void ProducerConsumer() {
  constexpr int kPairs = 2;
  constexpr int kPerProducer = 1000000;
  constexpr uint64_t kCookie = 0x5ca1ab1e0ddba11;
  void* const kEnd = reinterpret_cast<void*>(uintptr_t{1});  // the last push
  const long rss0 = StatusKiB("VmRSS");
  std::atomic<int> bad{0};
  std::atomic<int> failures{0};
  const double t0 = NowSeconds();
  {
    std::vector<Ring> rings(kPairs);
    std::vector<std::thread> threads;
    for (int i = 0; i < kPairs; ++i) {
      Ring* ring = &rings[i];
      threads.emplace_back([ring, i, kEnd, &failures] {
        for (int k = 0; k < kPerProducer; ++k) {
          const size_t n = 16 + static_cast<size_t>((k * 37 + i) % 1000);
          void* p = NewCookied(n, kCookie);
          if (p == nullptr) {
            failures.fetch_add(1);
            continue;
          }
          while (!ring->Push(p)) std::this_thread::yield();
        }
        while (!ring->Push(kEnd)) std::this_thread::yield();
      });
      threads.emplace_back([ring, kEnd, &bad] {
        for (;;) {
          void* p = ring->Pop();
          if (p == nullptr) {  // empty
            std::this_thread::yield();
            continue;
          }
          if (p == kEnd) break;
          if (!FreeCookied(p, kCookie)) bad.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  const double pc_seconds = NowSeconds() - t0;
  const long pc_peak = StatusKiB("VmHWM") - rss0;
  const long pc_end = StatusKiB("VmRSS") - rss0;

  constexpr int kStormThreads = 4;
  constexpr int kStormObjects = 50000;
  constexpr int kRounds = 10;
  long after_first = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::vector<void*>> made(kStormThreads);
    std::vector<std::thread> makers;
    for (int t = 0; t < kStormThreads; ++t) {
      makers.emplace_back([&made, t, &failures] {
        made[t].reserve(kStormObjects);
        for (int k = 0; k < kStormObjects; ++k) {
          void* p = NewCookied(16 + static_cast<size_t>(k % 200), kCookie);
          if (p == nullptr) {
            failures.fetch_add(1);
            continue;
          }
          made[t].push_back(p);
        }
      });
    }
    for (auto& t : makers) t.join();
    std::vector<std::thread> freers;
    for (int t = 0; t < kStormThreads; ++t) {
      // Thread t frees what maker (t + 1) % kStormThreads made.
      freers.emplace_back([&made, t, &bad] {
        for (void* p : made[(t + 1) % kStormThreads]) {
          if (!FreeCookied(p, kCookie)) bad.fetch_add(1);
        }
      });
    }
    for (auto& t : freers) t.join();
    if (round == 0) after_first = StatusKiB("VmRSS");
  }
  const long storm_growth = StatusKiB("VmRSS") - after_first;
  char buf[300];
  snprintf(buf, sizeof(buf),
           "objects=%d failures=%d bad_cookies=%d seconds=%.2f "
           "peak_growth_mib=%.1f end_growth_mib=%.1f storm_rounds=%d "
           "storm_growth_mib=%.1f",
           kPairs * kPerProducer, failures.load(), bad.load(), pc_seconds,
           static_cast<double>(pc_peak) / 1024.0,
           static_cast<double>(pc_end) / 1024.0, kRounds,
           static_cast<double>(storm_growth) / 1024.0);
  Result(buf);
}

const Scenario kScenarios[] = {
    {"fork_while_threads_allocate", 31, ForkWhileThreadsAllocate,
     Exits0("^forks=100 ok=100 deadlocks=0 failed=0\n$", 300)},
    {"short_threads_2000", 32, ShortThreads,
     Exits0("^threads=2000 failures=0 ", 300,
            "rss_growth_mib<=32;second_half_growth_mib<=8")},
    {"producer_consumer", 33, ProducerConsumer,
     Exits0("^objects=2000000 failures=0 bad_cookies=0 ", 300,
            "peak_growth_mib<=48;storm_growth_mib<=16")},
};

}  // namespace

Table<Scenario> ConcurrencyScenarios() { return TableOf(kScenarios); }

}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators
