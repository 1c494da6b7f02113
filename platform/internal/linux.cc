// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Linux implementation of platform/platform.h. Each function is one system
// call (or a vDSO read) plus the errno bookkeeping the contract asks for.

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "platform/platform.h"

// The populate advice values are part of the kernel ABI (Linux 5.14). Older C
// libraries do not name them; a kernel that does not know them answers
// EINVAL, which callers treat as "unsupported".
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

extern char** environ;

namespace allocators {
namespace platform {
namespace {

// Restores errno when it goes out of scope: the contract returns errors
// instead of leaving them in errno.
class ErrnoGuard {
 public:
  ErrnoGuard() : saved_(errno) {}
  ~ErrnoGuard() { errno = saved_; }
  ErrnoGuard(const ErrnoGuard&) = delete;
  ErrnoGuard& operator=(const ErrnoGuard&) = delete;

 private:
  int saved_;
};

int ToProt(unsigned perms) {
  int prot = PROT_NONE;
  if (perms & kPermRead) prot |= PROT_READ;
  if (perms & kPermWrite) prot |= PROT_WRITE;
  if (perms & kPermExec) prot |= PROT_EXEC;
  return prot;
}

int ToAdvice(Advice advice) {
  switch (advice) {
    case Advice::kWillNeed:
      return MADV_WILLNEED;
    case Advice::kDontNeed:
      return MADV_DONTNEED;
    case Advice::kHugePage:
      return MADV_HUGEPAGE;
    case Advice::kPopulateRead:
      return MADV_POPULATE_READ;
    case Advice::kPopulateWrite:
      return MADV_POPULATE_WRITE;
  }
  return -1;  // not reached: every enumerator is handled
}

int64_t ClockMs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

size_t PageSize() {
  // glibc answers from the auxiliary vector: no allocation, no system call.
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<size_t>(page) : 0;
}

int Map(size_t len, unsigned perms, bool populate, void** out) {
  ErrnoGuard guard;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (populate) flags |= MAP_POPULATE;
  void* p = mmap(nullptr, len, ToProt(perms), flags, -1, 0);
  if (p == MAP_FAILED) return errno;
  *out = p;
  return 0;
}

int Unmap(void* p, size_t len) {
  ErrnoGuard guard;
  return munmap(p, len) == 0 ? 0 : errno;
}

int Remap(void* p, size_t old_len, size_t new_len, bool may_move, void** out) {
  ErrnoGuard guard;
  void* q = mremap(p, old_len, new_len, may_move ? MREMAP_MAYMOVE : 0);
  if (q == MAP_FAILED) return errno;
  *out = q;
  return 0;
}

int Protect(void* p, size_t len, unsigned perms) {
  ErrnoGuard guard;
  return mprotect(p, len, ToProt(perms)) == 0 ? 0 : errno;
}

int Advise(void* p, size_t len, Advice advice) {
  ErrnoGuard guard;
  return madvise(p, len, ToAdvice(advice)) == 0 ? 0 : errno;
}

int64_t CoarseMonotonicMs() { return ClockMs(CLOCK_MONOTONIC_COARSE); }

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void SleepMs(int64_t ms) {
  ErrnoGuard guard;
  if (ms <= 0) return;
  timespec ts{static_cast<time_t>(ms / 1000),
              static_cast<long>(ms % 1000) * 1000000};
  nanosleep(&ts, nullptr);
}

bool RandomBytes(void* buf, size_t n) {
  ErrnoGuard guard;
  char* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t got = getrandom(p, n, GRND_NONBLOCK);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

int ProcessId() { return static_cast<int>(getpid()); }

size_t CpuCount() {
  static std::atomic<size_t> cached{0};
  size_t n = cached.load(std::memory_order_relaxed);
  if (n != 0) return n;
  // sched_getaffinity is a plain system call on a stack buffer; unlike some
  // libc sysconf implementations it cannot allocate.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
    n = static_cast<size_t>(CPU_COUNT(&set));
  } else {
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    n = online > 0 ? static_cast<size_t>(online) : 1;
  }
  // Racing first calls compute the same value; any of them may store it.
  cached.store(n, std::memory_order_relaxed);
  return n;
}

void Yield() { sched_yield(); }

int StartDetachedThread(void* (*fn)(void* arg), void* arg) {
  ErrnoGuard guard;
  // The new thread inherits the creator's signal mask: block everything
  // around pthread_create, then restore the caller's mask.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  int err = pthread_attr_init(&attr);
  if (err == 0) {
    err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (err == 0) err = pthread_create(&thread, &attr, fn, arg);
    pthread_attr_destroy(&attr);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return err;
}

static_assert(sizeof(ThreadKey) == sizeof(pthread_key_t),
              "ThreadKey holds a pthread_key_t");

int CreateThreadKey(void (*destructor)(void* value), ThreadKey* key) {
  pthread_key_t k;
  const int err = pthread_key_create(&k, destructor);
  if (err == 0) *key = static_cast<ThreadKey>(k);
  return err;
}

int SetThreadValue(ThreadKey key, void* value) {
  return pthread_setspecific(static_cast<pthread_key_t>(key), value);
}

int AtFork(void (*prepare)(), void (*parent)(), void (*child)()) {
  // glibc keeps its first handlers in static storage: no allocation.
  return pthread_atfork(prepare, parent, child);
}

namespace {

std::atomic<void (*)(void*)> g_fault_hook{nullptr};
struct sigaction g_previous_segv;

// Runs the hook, then hands the fault on: to the previous handler if there
// was one, else (default or ignored: an ignored fault would only repeat)
// back to the default action, which takes the fault again on return.
void OnSegv(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (void (*hook)(void*) = g_fault_hook.load(std::memory_order_acquire)) {
    hook(info->si_addr);
  }
  errno = saved_errno;
  const struct sigaction& prev = g_previous_segv;
  if ((prev.sa_flags & SA_SIGINFO) != 0) {
    if (prev.sa_sigaction != nullptr) {
      prev.sa_sigaction(sig, info, context);
      return;
    }
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
    return;
  }
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGSEGV, &dfl, nullptr);
}

}  // namespace

int InstallFaultHook(void (*hook)(void* addr)) {
  ErrnoGuard guard;
  void (*expected)(void*) = nullptr;
  if (!g_fault_hook.compare_exchange_strong(expected, hook,
                                            std::memory_order_acq_rel)) {
    return EBUSY;
  }
  struct sigaction sa = {};
  sa.sa_sigaction = OnSegv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &g_previous_segv) != 0) {
    const int err = errno;
    g_fault_hook.store(nullptr, std::memory_order_release);
    return err;
  }
  return 0;
}

namespace {

struct StackWalk {
  void** pcs;
  int max;
  int skip;
  int n;
};

_Unwind_Reason_Code OnFrame(struct _Unwind_Context* context, void* arg) {
  StackWalk& w = *static_cast<StackWalk*>(arg);
  const uintptr_t pc = _Unwind_GetIP(context);
  if (pc == 0) return _URC_END_OF_STACK;
  if (w.skip > 0) {
    --w.skip;
    return _URC_NO_REASON;
  }
  if (w.n >= w.max) return _URC_END_OF_STACK;
  w.pcs[w.n++] = reinterpret_cast<void*>(pc);
  return _URC_NO_REASON;
}

}  // namespace

// libgcc's unwinder finds each frame's unwind table with _dl_find_object
// (glibc 2.35 and later), which neither allocates nor locks. Not inlined,
// so this function's own frame, the first reported, is always there.
__attribute__((noinline)) int CaptureStack(void** pcs, int max, int skip) {
  if (max <= 0) return 0;
  ErrnoGuard guard;
  StackWalk w{pcs, max, skip + 1, 0};
  _Unwind_Backtrace(&OnFrame, &w);
  return w.n;
}

bool LocateCode(const void* pc, CodeLocation* out) {
  ErrnoGuard guard;
  Dl_info info;
  if (dladdr(pc, &info) == 0 || info.dli_fname == nullptr) return false;
  const uintptr_t a = reinterpret_cast<uintptr_t>(pc);
  out->object = info.dli_fname;
  out->object_offset = a - reinterpret_cast<uintptr_t>(info.dli_fbase);
  out->symbol = info.dli_sname;
  out->symbol_offset =
      info.dli_sname != nullptr ? a - reinterpret_cast<uintptr_t>(info.dli_saddr)
                                : 0;
  return true;
}

char** Environment() { return environ; }

int64_t ReadFile(const char* path, char* buf, size_t size) {
  ErrnoGuard guard;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  bool failed = false;
  while (len + 1 < size) {
    const ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failed = true;
    if (n <= 0) break;
    len += static_cast<size_t>(n);
  }
  close(fd);
  buf[len] = '\0';
  return failed ? -1 : static_cast<int64_t>(len);
}

bool WriteAll(int fd, const char* buf, size_t len) {
  ErrnoGuard guard;
  while (len > 0) {
    const ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace platform
}  // namespace allocators
