// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The platform contract: every operating-system service the allocators use,
// and the only code that calls the OS for them. Memory mapping, the clock,
// random bytes, threads, signal masks, a fault hook, fork handlers, the
// environment, small file reads (/proc), output to a file descriptor, the
// CPU count and yielding. Each OS has one implementation file (internal/linux.cc, chosen
// by select() in BUILD); this header has no OS headers and no #if chains.
// tools/check_platform_isolation.sh fails the build's repository test if
// code outside this package makes one of these calls itself.
//
// Error policy: a call that can fail returns 0 or the errno value the OS
// gave, and leaves errno as it was. Deciding which failures are fatal and
// which are survivable is the caller's job (mmap_alloc's for memory), so
// this package needs nothing above it, not even alloc_fmt.
//
// Every function is thread-safe, never allocates and never calls malloc, so
// all of them may run inside a malloc implementation, before main and after
// exit.

#ifndef PLATFORM_PLATFORM_H_
#define PLATFORM_PLATFORM_H_

#include <cstddef>
#include <cstdint>

namespace allocators {
namespace platform {

// --- Memory --------------------------------------------------------------
// REQUIRES for every call below: addresses page-aligned, lengths non-zero
// multiples of PageSize(). Arguments are not checked here; mmap_alloc
// checks them with better messages first.

// Permission bits for Map and Protect.
inline constexpr unsigned kPermRead = 1;
inline constexpr unsigned kPermWrite = 2;
inline constexpr unsigned kPermExec = 4;
inline constexpr unsigned kPermAll = kPermRead | kPermWrite | kPermExec;

// The OS page size as the OS reports it (0 if it gave no answer). Not
// cached; mmap_alloc::PageSize() caches and checks it.
size_t PageSize();

// Maps `len` bytes of fresh, zero-filled, private anonymous memory with
// `perms`; `populate` asks the OS to prefault it (best effort). On success
// stores the address (never null) in *out and returns 0.
int Map(size_t len, unsigned perms, bool populate, void** out);

// Unmaps [p, p + len); unmapped pages inside the range are fine.
int Unmap(void* p, size_t len);

// Resizes the mapping [p, p + old_len) to new_len bytes, moving it if
// `may_move`. On success stores the (possibly new) address in *out.
int Remap(void* p, size_t old_len, size_t new_len, bool may_move, void** out);

// Changes the permissions of [p, p + len).
int Protect(void* p, size_t len, unsigned perms);

enum class Advice {
  kWillNeed,       // read ahead: the range will be used soon
  kDontNeed,       // drop the pages; private memory reads as zero after
  kHugePage,       // back the range with transparent huge pages if possible
  kPopulateRead,   // prefault for reading (EINVAL where unsupported)
  kPopulateWrite,  // prefault for writing (EINVAL where unsupported)
};

// Gives the OS advice about [p, p + len).
int Advise(void* p, size_t len, Advice advice);

// --- Time ----------------------------------------------------------------

// Milliseconds on a coarse monotonic clock (a few ms resolution; a vDSO
// read on Linux, no system call). For decay periods.
int64_t CoarseMonotonicMs();

// Nanoseconds on the precise monotonic clock.
int64_t MonotonicNs();

// Sleeps for `ms` milliseconds (less if a signal arrives).
void SleepMs(int64_t ms);

// --- Randomness ----------------------------------------------------------

// Fills buf[0, n) with random bytes from the OS without blocking. False if
// the OS could not supply them now (early boot, old kernel); the caller
// picks its fallback.
bool RandomBytes(void* buf, size_t n);

// --- Threads and processes -----------------------------------------------

// The calling process's id.
int ProcessId();

// The number of CPUs this process may run on (at least 1). Computed once.
size_t CpuCount();

// Gives the CPU to another runnable thread.
void Yield();

// Starts a detached thread running fn(arg) with every signal blocked, so
// the program's signal handlers never run on it. Returns 0 or the error
// (EAGAIN: no threads left). The thread library may allocate while it
// starts the thread: do not call this under an allocator lock.
int StartDetachedThread(void* (*fn)(void* arg), void* arg);

// Thread-exit callbacks: a key whose destructor runs at the exit of every
// thread that set a non-null value for it (pthread keys). Not deleted.
using ThreadKey = unsigned int;

// Creates a key whose `destructor` gets each exiting thread's value.
// Returns 0 or the error (EAGAIN: the process has no keys left).
int CreateThreadKey(void (*destructor)(void* value), ThreadKey* key);

// Sets the calling thread's value of `key`. Returns 0 or the error; may
// allocate for keys beyond the first few.
int SetThreadValue(ThreadKey key, void* value);

// Registers fork handlers (pthread_atfork semantics): `prepare` runs in the
// parent before fork, `parent` and `child` after it on each side. Any may
// be null. Returns 0 or the error.
int AtFork(void (*prepare)(), void (*parent)(), void (*child)());

// --- Faults ----------------------------------------------------------------

// Installs `hook` to see every segmentation fault (SIGSEGV) of the process,
// once: hook(addr) runs on the faulting thread with the faulting address,
// and then the fault goes on to whatever handled SIGSEGV before (the
// previous handler, or the default action, which ends the process). So the
// hook may report a fault but never recovers from it. The hook must be
// async-signal-safe. Returns 0, EBUSY if a hook is installed already, or
// the error.
int InstallFaultHook(void (*hook)(void* addr));

// --- Stacks ----------------------------------------------------------------

// Writes the return addresses of the calling thread's stack to `pcs`,
// innermost first: the first lies in the caller (this call's return
// address), unless `skip` drops that many frames first. Writes at most `max` and returns how many. Reads
// the loaded objects' unwind tables where they lie: no allocation and no
// lock, so it may run inside malloc or a signal handler. About 100 ns a
// frame.
int CaptureStack(void** pcs, int max, int skip);

// Where a code address lies, for printing a stack without symbolising it.
struct CodeLocation {
  const char* object;        // path of the loaded object holding the address
  uintptr_t object_offset;   // the address less the object's load address
  const char* symbol;        // nearest exported symbol below it, or nullptr
  uintptr_t symbol_offset;   // the address less that symbol's
};

// Fills `out` for code address `pc`. False if no loaded object holds pc.
// Allocates nothing; takes the dynamic loader's lock, so do not call it
// while loading a library.
bool LocateCode(const void* pc, CodeLocation* out);

// --- Environment and files -----------------------------------------------

// The process environment, "NAME=value" strings ending with nullptr (as
// environ); nullptr if there is none.
char** Environment();

// Reads up to size - 1 bytes of the file at `path` (a /proc file, say) into
// buf and NUL-terminates it. Returns the bytes read, or -1 if the file
// could not be opened or read. REQUIRES: size >= 1.
int64_t ReadFile(const char* path, char* buf, size_t size);

// Writes all `len` bytes of buf to file descriptor `fd`, retrying short
// writes and interrupted calls. False if the OS reported an error or made
// no progress (the rest is dropped: there is nowhere to report it).
bool WriteAll(int fd, const char* buf, size_t len);

}  // namespace platform
}  // namespace allocators

#endif  // PLATFORM_PLATFORM_H_
