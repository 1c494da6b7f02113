// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The bad-input and fault scenarios of info/reliability.md. Each category
// file defines its scenario functions and one table of
// {name, row, function, expectation}:
//
//   api_scenarios.cc          API edge cases (rows 1-16)
//   invalid_free_scenarios.cc invalid frees, double frees, size mismatches
//                             (rows 15, 17-22)
//   exhaustion_scenarios.cc   exhaustion and limits (rows 26-30)
//   concurrency_scenarios.cc  threads, fork, remote frees (rows 31-33)
//   lifecycle_scenarios.cc    before main, at exit, dlopen, memory return,
//                             statistics at exit (rows 34-39)
//
// scenario_probe runs one entry's function; scenarios_test runs the probe
// and checks the entry's expectation. Both link the same tables, so a
// scenario and what it must do are written once.
//
// The helpers below are the probe's. They use only the C and C++
// allocation API of whatever malloc the process has (the probe does not
// link elfmalloc): results go to stdout as one line of key=value fields,
// setup failures to stderr with exit status 2.

#ifndef ELFMALLOC_SCENARIOS_SCENARIO_H_
#define ELFMALLOC_SCENARIOS_SCENARIO_H_

#include <stdint.h>
#include <stdlib.h>

#include <cstddef>
#include <string>
#include <thread>

namespace allocators {
namespace elfmalloc {
namespace scenarios {

// --- the tables --------------------------------------------------------------

enum class Outcome {
  kExit0,  // completes, exit status 0, nothing on stderr
  kAbort,  // SIGABRT after printing exactly one diagnostic line on stderr
};

// What a scenario's run must show. Constant data: safe to read from any
// thread.
struct Expectation {
  Outcome outcome;
  // kExit0: an ECMAScript regex searched for in stdout. kAbort: unused;
  // stdout must hold the announced "ptr=0x..." line and no "survived" line.
  const char* stdout_re;
  // kAbort: the whole of stderr must match "^<re>\n$", with {ptr} replaced
  // by the pointer the probe announced.
  const char* stderr_re;
  // Ceilings on numeric result fields, "key<=value;key<=value" (or "").
  const char* limits;
  // Host-dependent scenarios: if set and stdout does not match it, the
  // case is skipped (the host, not the allocator, decides the outcome).
  const char* host_re;
  // The run is killed and fails after this long.
  int timeout_s;
};

// Completes with exit status 0, an empty stderr and stdout matching
// `stdout_re`, within the `limits`.
constexpr Expectation Exits0(const char* stdout_re, int timeout_s,
                             const char* limits = "",
                             const char* host_re = nullptr) {
  return {Outcome::kExit0, stdout_re, nullptr, limits, host_re, timeout_s};
}

// Dies of SIGABRT after exactly one stderr line matching `stderr_re`.
constexpr Expectation Aborts(const char* stderr_re, int timeout_s = 30) {
  return {Outcome::kAbort, nullptr, stderr_re, "", nullptr, timeout_s};
}

// One scenario: `scenario_probe <name>` calls `run`. Constant data.
struct Scenario {
  const char* name;
  // Its row of info/reliability.md; 0 for the harness's own check.
  int row;
  void (*run)();
  Expectation expect;
};

// A process that a scenario starts with RunSelf: the probe runs it by
// name, but it is not a scenario (no expectation, not listed). Constant
// data.
struct ProbeChild {
  const char* name;
  void (*run)();
};

// A view of a constant table. Safe to read from any thread.
template <typename T>
struct Table {
  const T* first;
  size_t size;
  const T* begin() const { return first; }
  const T* end() const { return first + size; }
};

template <typename T, size_t N>
constexpr Table<T> TableOf(const T (&entries)[N]) {
  return {entries, N};
}

// The category tables (one per file above).
Table<Scenario> ApiScenarios();
Table<Scenario> InvalidFreeScenarios();
Table<Scenario> ExhaustionScenarios();
Table<Scenario> ConcurrencyScenarios();
Table<Scenario> LifecycleScenarios();
Table<ProbeChild> LifecycleChildren();
Table<ProbeChild> InvalidFreeChildren();

// Every category, in info/reliability.md's order.
inline constexpr Table<Scenario> (*const kCategories[])() = {
    ApiScenarios, InvalidFreeScenarios, ExhaustionScenarios,
    ConcurrencyScenarios, LifecycleScenarios};

// The scenario called `name`, or nullptr. Does not allocate.
const Scenario* FindScenario(const char* name);

// --- helpers for the scenario functions ------------------------------------

// Hides a pointer's provenance from the compiler, so that freeing a stack
// or global address or using a freed pointer compiles (-Wfree-nonheap-object,
// -Wuse-after-free) and is not optimised away.
template <typename T>
T* Launder(T* p) {
  asm volatile("" : "+r"(p));
  return p;
}

// Hides a size from the compiler, so that it neither folds nor diagnoses
// an absurd request.
inline size_t Opaque(size_t n) {
  asm volatile("" : "+r"(n));
  return n;
}

// The entry points of the misuse scenarios, called through volatile
// pointers so that the compiler neither diagnoses nor removes the misuse.
inline void (*volatile g_free)(void*) = free;
inline void* (*volatile g_realloc)(void*, size_t) = realloc;
inline void* (*volatile g_reallocarray)(void*, size_t, size_t) = reallocarray;

// "ENOMEM", "EINVAL", "EOVERFLOW", "0" or "other".
const char* ErrnoName(int e);

// "null" or "ptr". Inline, like IsAligned, so that the compiler sees that
// only the pointer is read (a pointer to a block realloc made of 0 bytes
// otherwise draws -Wmaybe-uninitialized at -O1).
inline const char* RetClass(const void* p) {
  return p == nullptr ? "null" : "ptr";
}

double NowSeconds();

// A field of /proc/self/status ("VmRSS", "VmSize", "VmHWM") in KiB; -1 if
// missing.
long StatusKiB(const char* field);

// A field of /proc/meminfo ("MemTotal") in KiB; -1 if missing.
long MeminfoKiB(const char* field);

// Reports a failure of the probe itself (exit 2, never an allocator
// outcome) on stderr.
[[noreturn]] void SetupFailure(const char* what);

// Prints the result line (flushed).
void Result(const std::string& line);

// Announces the pointer about to be passed to the allocator (the expected
// diagnostic names it); flushed so it survives an abort.
void Announce(void* p);

// Prints "survived=1 <extra>": an abort scenario that did not abort.
void Survived(const char* extra);

inline bool IsAligned(const void* p, size_t a) {
  return (reinterpret_cast<uintptr_t>(p) & (a - 1)) == 0;
}

// Whether the first n bytes at p are all `b`.
bool CheckFill(const void* p, size_t n, unsigned char b);

// free_sized/free_aligned_sized (C23) are looked up at run time: glibc
// 2.36 neither declares nor exports them, the preloaded allocator does.
using FreeSizedFn = void (*)(void*, size_t);
using FreeAlignedSizedFn = void (*)(void*, size_t, size_t);
FreeSizedFn GetFreeSized();
FreeAlignedSizedFn GetFreeAlignedSized();

// Runs this program again as `scenario_probe <scenario>`, with `name=value`
// added to its environment, and waits for it (at most 30 s). Its stdout
// and stderr are returned; the exit status is the result.
int RunSelf(const char* scenario, const char* name, const std::string& value,
            std::string* out, std::string* err);

// A wait status as "exit<N>" or "signal<N>".
std::string StatusName(int status);

// Runs fn on a new thread and waits for it.
template <typename Fn>
void OnThread(Fn fn) {
  std::thread t(fn);
  t.join();
}

// Whether malloc, realloc, free and new/delete work, from 16 B to 4 MiB.
bool AllocWorks();

// Installs a new_handler that counts its calls and uninstalls itself at
// the third, and resets the count.
void InstallCountingNewHandler();
int NewHandlerCalls();

// Blocks that scenario_probe.cc's global constructor allocates before main
// (alloc_before_main checks and frees them); null elsewhere. The
// constructor sits with the probe's main because scenarios_test links the
// tables too and must not run it. Written before main, then used by the
// main thread only.
struct BeforeMainBlocks {
  char* small;          // 100 bytes of 0x11
  char* large;          // 3 MiB of 0x22
  std::string* object;  // 200 'x'
};
extern BeforeMainBlocks g_before_main;

}  // namespace scenarios
}  // namespace elfmalloc
}  // namespace allocators

#endif  // ELFMALLOC_SCENARIOS_SCENARIO_H_
