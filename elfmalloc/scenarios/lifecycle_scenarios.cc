// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The process's lifecycle (rows 34-39 of info/reliability.md): allocation
// before main, in atexit handlers and in thread destructors; a dlopened
// library and an interposer that allocates from the dynamic loader; memory
// returned to the OS after a burst; the statistics report at exit. Several
// run a child (RunSelf: this program again, with one more environment
// variable) and report on it.

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "elfmalloc/scenarios/scenario.h"

namespace allocators {
namespace elfmalloc {
namespace scenarios {
namespace {

void AllocBeforeMain() {
  const bool ok = g_before_main.small != nullptr &&
                  g_before_main.large != nullptr &&
                  CheckFill(g_before_main.small, 100, 0x11) &&
                  CheckFill(g_before_main.large, 3 << 20, 0x22) &&
                  *g_before_main.object == std::string(200, 'x');
  free(g_before_main.small);
  free(g_before_main.large);
  delete g_before_main.object;
  g_before_main.small = g_before_main.large = nullptr;
  g_before_main.object = nullptr;
  Result(std::string("ok=") + (ok ? "1" : "0"));
}

void AtexitHandler() {
  printf("atexit_ok=%d\n", AllocWorks() ? 1 : 0);
  fflush(stdout);
}

void AllocInAtexit() {
  atexit(AtexitHandler);
  Result("registered=1");
}

std::atomic<int> g_dtor_ok{0};
std::atomic<int> g_dtor_runs{0};

// A thread_local whose destructor allocates and frees, and frees what the
// thread allocated first. Each thread has its own; only the counters are
// shared (atomics).
struct TlsUser {
  TlsUser() : early(static_cast<char*>(malloc(200))) {}
  ~TlsUser() {
    const bool ok = early != nullptr && AllocWorks();
    free(early);
    if (ok) g_dtor_ok.fetch_add(1);
    g_dtor_runs.fetch_add(1);
  }
  char* early;
};

thread_local TlsUser* g_tls_user_touch = nullptr;

void TouchTlsUser() {
  thread_local TlsUser user;
  g_tls_user_touch = &user;
}

// pthread key destructors run after the C++ thread_local destructors and,
// with elfmalloc's own cache teardown, possibly after it: allocate there too.
pthread_key_t g_key;

void KeyDestructor(void* v) {
  const bool ok = AllocWorks();
  free(v);
  if (ok) g_dtor_ok.fetch_add(1);
  g_dtor_runs.fetch_add(1);
}

void MainTlsReport() {
  // Runs at exit, after main returned.
  printf("dtor_runs_at_exit=%d dtor_ok_at_exit=%d\n", g_dtor_runs.load(),
         g_dtor_ok.load());
  fflush(stdout);
}

void AllocInTlsDtor() {
  if (pthread_key_create(&g_key, KeyDestructor) != 0) SetupFailure("key");
  for (int i = 0; i < 8; ++i) {
    OnThread([] {
      TouchTlsUser();
      pthread_setspecific(g_key, malloc(64));
      for (int j = 0; j < 1000; ++j) free(malloc(j % 300 + 1));
    });
  }
  const int runs = g_dtor_runs.load();
  const int ok = g_dtor_ok.load();
  // A free as a thread's very first allocator call, of a block another
  // thread allocated.
  void* p = malloc(500);
  bool first_free_ok = false;
  OnThread([p, &first_free_ok] {
    free(p);
    first_free_ok = AllocWorks();
  });
  Result("thread_dtors=" + std::to_string(runs) +
         " thread_dtors_ok=" + std::to_string(ok) +
         " first_op_free_ok=" + (first_free_ok ? "1" : "0"));
  // The main thread's own thread_local is destroyed at exit.
  TouchTlsUser();
  atexit(MainTlsReport);
}

// SCENARIO_PLUGIN names a library (scenario_plugin.cc) whose static
// constructor and destructor allocate and free; it is loaded and unloaded
// 50 times, and blocks cross the library boundary both ways each time.
void DlopenPlugin() {
  const char* path = getenv("SCENARIO_PLUGIN");
  if (path == nullptr) SetupFailure("SCENARIO_PLUGIN is not set");
  constexpr int kCycles = 50;
  int ok = 0;
  for (int i = 0; i < kCycles; ++i) {
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) SetupFailure(dlerror());
    using AllocFn = void* (*)(size_t);
    using FreeFn = void (*)(void*);
    using CheckFn = int (*)();
    auto alloc = reinterpret_cast<AllocFn>(dlsym(h, "scenario_plugin_alloc"));
    auto release = reinterpret_cast<FreeFn>(dlsym(h, "scenario_plugin_free"));
    auto check = reinterpret_cast<CheckFn>(dlsym(h, "scenario_plugin_check"));
    if (alloc == nullptr || release == nullptr || check == nullptr) {
      SetupFailure("plugin symbols");
    }
    char* p = static_cast<char*>(alloc(1000 + static_cast<size_t>(i)));
    void* q = malloc(3000);
    if (p != nullptr && q != nullptr && check() == 1) {
      memset(p, 7, 1000);
      free(p);     // the plugin's block, freed here
      release(q);  // this block, freed by the plugin
      ++ok;
    }
    if (dlclose(h) != 0) SetupFailure("dlclose");
  }
  Result("cycles=" + std::to_string(kCycles) + " ok=" + std::to_string(ok) +
         " after=" + (AllocWorks() ? "1" : "0"));
}

// SCENARIO_INTERPOSER names a library (scenario_interposer.c) that
// interposes malloc and free and resolves the real ones with dlsym from
// its constructor, which allocates through the allocator under test before
// that has initialised (jemalloc #443's deadlock). The child runs with
// LD_PRELOAD=interposer:<the allocator>.
void InterposerDlsym() {
  const char* path = getenv("SCENARIO_INTERPOSER");
  const char* preload = getenv("LD_PRELOAD");
  if (path == nullptr || preload == nullptr) {
    SetupFailure("SCENARIO_INTERPOSER or LD_PRELOAD is not set");
  }
  std::string out, err;
  const int status = RunSelf("interposed_child", "LD_PRELOAD",
                             std::string(path) + ":" + preload, &out, &err);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  Result("child=" + StatusName(status) + " " + out +
         " child_stderr_bytes=" + std::to_string(err.size()));
}

// The child: every allocation path works, and went through the interposer.
void InterposedChild() {
  using CallsFn = long (*)();
  auto calls = reinterpret_cast<CallsFn>(
      dlsym(RTLD_DEFAULT, "scenario_interposer_calls"));
  bool ok = AllocWorks();
  OnThread([&ok] { ok = ok && AllocWorks(); });
  void* p = calloc(100, 10);
  p = realloc(p, 5000);
  ok = ok && p != nullptr;
  free(p);
  auto* s = new std::string(300, 'y');
  ok = ok && (*s)[299] == 'y';
  delete s;
  Result(std::string("interposed=") +
         (calls != nullptr && calls() > 0 ? "1" : "0") +
         " ok=" + (ok ? "1" : "0"));
}

// 256 MiB of live objects, free all, sleep, small activity, sleep and
// activity again, then the purge API (malloc_trim, as glibc's); resident
// memory above the start, in MiB, at each step. Each sleep is 2 s, twice
// elfmalloc's default decay period, or SCENARIO_IDLE_MS.
void MemoryReturn() {
  const char* idle_env = getenv("SCENARIO_IDLE_MS");
  const long idle_ms = idle_env != nullptr ? atol(idle_env) : 2000;
  const timespec idle = {idle_ms / 1000, (idle_ms % 1000) * 1000000};
  using TrimFn = int (*)(size_t);
  auto trim = reinterpret_cast<TrimFn>(dlsym(RTLD_DEFAULT, "malloc_trim"));
  const auto activity = [] {
    for (int i = 0; i < 20000; ++i) {
      void* p = malloc(static_cast<size_t>(16 + i % 100));
      free(Launder(p));
    }
  };
  const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
  std::string line =
      std::string("purge_api=") + (trim != nullptr ? "malloc_trim" : "none");
  for (const size_t size : {size_t{64}, size_t{1} << 20}) {
    const size_t count = (size_t{256} << 20) / size;
    const long base = StatusKiB("VmRSS");
    // The objects are chained through their first word: no side table.
    void* head = nullptr;
    for (size_t i = 0; i < count; ++i) {
      void** p = static_cast<void**>(malloc(size));
      if (p == nullptr) SetupFailure("malloc");
      memset(p, 1, size);
      *p = head;
      head = p;
    }
    const long live = StatusKiB("VmRSS") - base;
    while (head != nullptr) {
      void* next = *static_cast<void**>(head);
      free(head);
      head = next;
    }
    const long freed = StatusKiB("VmRSS") - base;
    nanosleep(&idle, nullptr);
    activity();
    nanosleep(&idle, nullptr);
    activity();
    const long idle = StatusKiB("VmRSS") - base;
    if (trim != nullptr) trim(0);
    const long purged = StatusKiB("VmRSS") - base;
    char buf[200];
    const char* kind = size == 64 ? "small" : "large";
    snprintf(buf, sizeof(buf),
             " %s_live_mib=%.0f %s_freed_mib=%.0f %s_idle_mib=%.0f "
             "%s_purged_mib=%.0f",
             kind, mib(live), kind, mib(freed), kind, mib(idle), kind,
             mib(purged));
    line += buf;
  }
  Result(line);
}

// memory_return again in a child with ELFMALLOC_BACKGROUND_THREAD=1: the
// decay then runs without allocator calls, so the idle steps return memory
// too. A 250 ms decay period and 1 s sleeps keep it short. Prints the
// child's line.
void MemoryReturnBackground() {
  std::string out, err;
  setenv("ELFMALLOC_DECAY_MS", "250", 1);  // inherited by the child
  setenv("SCENARIO_IDLE_MS", "1000", 1);
  const int status =
      RunSelf("memory_return", "ELFMALLOC_BACKGROUND_THREAD", "1", &out, &err);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  Result("child=" + StatusName(status) + " " + out +
         " child_stderr_bytes=" + std::to_string(err.size()));
}

// The child prints ELFMALLOC_SHOW_STATS's report at exit while two threads
// still allocate; it must exit 0 (no deadlock) and the report must hold no
// negative count.
void StatsAtExitWithThreads() {
  std::string out, err;
  const int status =
      RunSelf("stats_child", "ELFMALLOC_SHOW_STATS", "1", &out, &err);
  const bool report = err.find("elfmalloc statistics") != std::string::npos;
  const bool negative = std::regex_search(err, std::regex("(^|[ \\t])-[0-9]"));
  Result("child=" + StatusName(status) + " report=" + (report ? "1" : "0") +
         " negative=" + (negative ? "1" : "0"));
}

void StatsChild() {
  for (int t = 0; t < 2; ++t) {
    std::thread([t] {
      std::vector<void*> held(256, nullptr);
      for (unsigned i = 0;; ++i) {
        void*& slot = held[i % held.size()];
        free(slot);
        slot = malloc((i * 53 + static_cast<unsigned>(t)) % 5000 + 1);
      }
    }).detach();
  }
  usleep(100 * 1000);  // both threads are allocating
  Result("main_done=1");
}

const Scenario kScenarios[] = {
    {"alloc_before_main", 34, AllocBeforeMain, Exits0("^ok=1\n$", 30)},
    {"alloc_in_atexit", 34, AllocInAtexit,
     Exits0("^registered=1\natexit_ok=1\n$", 30)},
    {"alloc_in_thread_dtors", 34, AllocInTlsDtor,
     Exits0("^thread_dtors=16 thread_dtors_ok=16 first_op_free_ok=1\n"
            "dtor_runs_at_exit=17 dtor_ok_at_exit=17\n$",
            60)},
    {"dlopen_plugin", 35, DlopenPlugin,
     Exits0("^cycles=50 ok=50 after=1\n$", 60)},
    {"interposer_dlsym", 35, InterposerDlsym,
     Exits0("^child=exit0 interposed=1 ok=1 child_stderr_bytes=0\n$", 60)},
    {"memory_return", 38, MemoryReturn,
     Exits0("^purge_api=malloc_trim ", 120,
            "small_purged_mib<=8;large_purged_mib<=8")},
    // With ELFMALLOC_BACKGROUND_THREAD=1 the idle steps return it too.
    {"memory_return_background_thread", 38, MemoryReturnBackground,
     Exits0("^child=exit0 purge_api=malloc_trim .* child_stderr_bytes=0\n$",
            120,
            "small_idle_mib<=8;large_idle_mib<=8;small_purged_mib<=8;"
            "large_purged_mib<=8")},
    {"stats_at_exit_with_threads", 39, StatsAtExitWithThreads,
     Exits0("^child=exit0 report=1 negative=0\n$", 60)},
};

// The processes RunSelf starts for the scenarios above.
const ProbeChild kChildren[] = {
    {"interposed_child", InterposedChild},
    {"stats_child", StatsChild},
};

}  // namespace

Table<Scenario> LifecycleScenarios() { return TableOf(kScenarios); }

Table<ProbeChild> LifecycleChildren() { return TableOf(kChildren); }

}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators
