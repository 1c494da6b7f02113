// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_fmt/format.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "alloc_fmt/spin_lock.h"
#include "platform/platform.h"

namespace allocators {
namespace alloc_fmt {
namespace {

// One lock for stdout and one for everything else (stderr and any other fd).
// Constant-initialised, so Print() works before any constructor has run.
ABSL_CONST_INIT SpinLock g_stdout_lock;
ABSL_CONST_INIT SpinLock g_stderr_lock;

// Set by the first fatal error; see Fatal().
ABSL_CONST_INIT std::atomic<bool> g_fatal_in_progress{false};
// SetFatalBacktrace.
ABSL_CONST_INIT std::atomic<bool> g_fatal_backtrace{false};

// Appends to a fixed buffer, remembering whether anything was cut.
class Sink {
 public:
  Sink(char* out, size_t cap) : out_(out), cap_(cap) {}

  void Put(char c) {
    // Keep one byte for the terminating NUL.
    if (len_ + 1 < cap_) {
      out_[len_++] = c;
    } else {
      truncated_ = true;
    }
  }
  void Put(const char* s) {
    while (*s != '\0') Put(*s++);
  }
  void PutUnsigned(unsigned long long v, unsigned base, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];  // 2^64 has 20 decimal digits, 16 hex digits.
    int n = 0;
    do {
      tmp[n++] = digits[v % base];
      v /= base;
    } while (v != 0);
    while (n > 0) Put(tmp[--n]);
  }
  void PutSigned(long long v) {
    if (v < 0) {
      Put('-');
      // Negate in unsigned arithmetic so LLONG_MIN does not overflow.
      PutUnsigned(0ULL - static_cast<unsigned long long>(v), 10, false);
    } else {
      PutUnsigned(static_cast<unsigned long long>(v), 10, false);
    }
  }

  // Terminates the text; marks truncation with a trailing "...".
  size_t Finish() {
    if (cap_ == 0) return 0;
    if (truncated_ && cap_ >= 4) {
      size_t at = len_ < cap_ - 4 ? len_ : cap_ - 4;
      out_[at++] = '.';
      out_[at++] = '.';
      out_[at++] = '.';
      len_ = at;
    }
    out_[len_] = '\0';
    return len_;
  }

 private:
  char* out_;
  size_t cap_;
  size_t len_ = 0;
  bool truncated_ = false;
};

}  // namespace

size_t FormatV(char* out, size_t cap, const char* fmt, va_list args) {
  Sink sink(out, cap);
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      sink.Put(*p);
      continue;
    }
    ++p;
    // Length modifier: 0 = int, 1 = long, 2 = long long, 3 = size_t.
    int length = 0;
    if (*p == 'l') {
      length = 1;
      ++p;
      if (*p == 'l') {
        length = 2;
        ++p;
      }
    } else if (*p == 'z') {
      length = 3;
      ++p;
    }
    switch (*p) {
      case '\0':
        sink.Put('%');
        return sink.Finish();
      case '%':
        sink.Put('%');
        break;
      case 'c':
        sink.Put(static_cast<char>(va_arg(args, int)));
        break;
      case 's': {
        const char* s = va_arg(args, const char*);
        sink.Put(s != nullptr ? s : "(null)");
        break;
      }
      case 'p': {
        void* ptr = va_arg(args, void*);
        sink.Put("0x");
        sink.PutUnsigned(reinterpret_cast<uintptr_t>(ptr), 16, false);
        break;
      }
      case 'd':
      case 'i': {
        long long v;
        switch (length) {
          case 1: v = va_arg(args, long); break;
          case 2: v = va_arg(args, long long); break;
          case 3: v = va_arg(args, ssize_t); break;
          default: v = va_arg(args, int); break;
        }
        sink.PutSigned(v);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        unsigned long long v;
        switch (length) {
          case 1: v = va_arg(args, unsigned long); break;
          case 2: v = va_arg(args, unsigned long long); break;
          case 3: v = va_arg(args, size_t); break;
          default: v = va_arg(args, unsigned); break;
        }
        sink.PutUnsigned(v, *p == 'u' ? 10 : 16, *p == 'X');
        break;
      }
      default:
        // Unknown conversion: print it verbatim rather than guess at the
        // argument's type.
        sink.Put('%');
        sink.Put(*p);
        break;
    }
  }
  return sink.Finish();
}

size_t Format(char* out, size_t cap, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  size_t n = FormatV(out, cap, fmt, args);
  va_end(args);
  return n;
}

void PrintV(int fd, const char* fmt, va_list args) {
  char buf[kMaxMessage];
  size_t n = FormatV(buf, sizeof(buf), fmt, args);
  SpinLockHolder holder(fd == STDOUT_FILENO ? &g_stdout_lock : &g_stderr_lock);
  platform::WriteAll(fd, buf, n);
}

void Print(int fd, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  PrintV(fd, fmt, args);
  va_end(args);
}

void PrintStack(int fd, void* const* pcs, int n) {
  for (int i = 0; i < n; ++i) {
    platform::CodeLocation at;
    if (!platform::LocateCode(pcs[i], &at)) {
      Print(fd, "    #%d %p\n", i, pcs[i]);
    } else if (at.symbol != nullptr) {
      Print(fd, "    #%d %p in %s+0x%zx (%s+0x%zx)\n", i, pcs[i], at.symbol,
            static_cast<size_t>(at.symbol_offset), at.object,
            static_cast<size_t>(at.object_offset));
    } else {
      Print(fd, "    #%d %p (%s+0x%zx)\n", i, pcs[i], at.object,
            static_cast<size_t>(at.object_offset));
    }
  }
}

void SetFatalBacktrace(bool on) {
  g_fatal_backtrace.store(on, std::memory_order_relaxed);
}

namespace internal {

// Not inlined, and the callers below are not either (GCC keeps calls to
// noreturn functions as calls), so its frame and `callers` more are exactly
// the reporting frames to leave out of the backtrace.
__attribute__((noinline)) void FatalSkippingV(int callers, const char* fmt,
                                              va_list args) {
  if (g_fatal_in_progress.exchange(true, std::memory_order_acq_rel)) {
    // Either this thread failed again while reporting, or another thread is
    // already reporting. Don't take the lock (we may hold it): write and die.
    static const char kMsg[] = "fatal error while reporting a fatal error\n";
    platform::WriteAll(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    abort();
  }
  char buf[kMaxMessage];
  size_t n = FormatV(buf, sizeof(buf) - 1, fmt, args);
  buf[n++] = '\n';
  {
    SpinLockHolder holder(&g_stderr_lock);
    platform::WriteAll(STDERR_FILENO, buf, n);
  }
  if (g_fatal_backtrace.load(std::memory_order_relaxed)) {
    void* pcs[kMaxBacktraceFrames];
    PrintStack(STDERR_FILENO, pcs,
               platform::CaptureStack(pcs, kMaxBacktraceFrames, 1 + callers));
  }
  abort();
}

void FatalSkipping(int callers, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  FatalSkippingV(callers + 1, fmt, args);
}

}  // namespace internal

void FatalV(const char* fmt, va_list args) {
  internal::FatalSkippingV(1, fmt, args);
}

void Fatal(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  internal::FatalSkippingV(1, fmt, args);
}

}  // namespace alloc_fmt
}  // namespace allocators
