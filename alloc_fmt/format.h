// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Allocation-free text output for code that runs inside an allocator.
//
// Nothing in this file calls malloc, stdio or iostream: a message is formatted
// into a caller-provided (usually stack) buffer and written with write(2).
// That makes it safe to use from malloc itself, from a fork child, and while
// the heap is corrupt. It is the C++ counterpart of the original's alloc-fmt.

#ifndef ALLOC_FMT_FORMAT_H_
#define ALLOC_FMT_FORMAT_H_

#include <cstdarg>
#include <cstddef>

namespace allocators {
namespace alloc_fmt {

// Largest message Print() and the CHECK macros emit; longer text is cut and
// ends in "...". A fixed bound keeps everything on the stack.
inline constexpr size_t kMaxMessage = 1024;

// A small printf subset into `out[0, cap)`, always NUL-terminated when
// cap > 0. Returns the length written, excluding the NUL. Output that does not
// fit is truncated and ends in "...".
//
// Conversions: %s %c %d %i %u %x %X %p %%, with the length modifiers l, ll
// and z. A "%s" of nullptr prints "(null)". Flags, width and precision are
// not supported (the characters are printed as-is) so that the formatter stays
// tiny and obviously allocation-free.
size_t FormatV(char* out, size_t cap, const char* fmt, va_list args);
size_t Format(char* out, size_t cap, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Formats and writes one message to `fd` (1 or 2 in practice). Concurrent
// Print() calls to the same fd never interleave within a message: each fd
// class (stdout / everything else) has a global spin lock held for the write.
void Print(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void PrintV(int fd, const char* fmt, va_list args);

// Writes a stack, one frame a line, to `fd`:
//
//     #0 0x7f52c1a3b2c0 in free+0x40 (/usr/lib/libelfmalloc.so+0x2b2c0)
//     #1 0x55d0c1e0a1c4 (/usr/bin/prog+0x11c4)
//
// `pcs` are return addresses (platform::CaptureStack), printed as they
// are: each names the instruction after the call. Symbols are the nearest
// exported ones; `addr2line -e <object> <offset - 1>` names the line.
// Allocation-free like Print. Takes the dynamic loader's lock.
void PrintStack(int fd, void* const* pcs, int n);

// Most frames Fatal prints with its backtrace.
inline constexpr int kMaxBacktraceFrames = 32;

// Turns on (or off) the backtrace Fatal prints after its message; off by
// default, so that a fatal error is one line. Any thread, any time.
void SetFatalBacktrace(bool on);

// Writes "<message>\n" to stderr and aborts; with SetFatalBacktrace(true),
// the caller's stack follows the message (PrintStack). No unwinding, no
// atexit handlers, no stdio flush. If a second fatal error starts while one
// is being reported (for example a CHECK that fails inside the reporting
// path), the second one prints
// "fatal error while reporting a fatal error" and aborts at once.
[[noreturn]] void Fatal(const char* fmt, ...)
    __attribute__((format(printf, 1, 2)));
[[noreturn]] void FatalV(const char* fmt, va_list args);

namespace internal {
// Fatal for reporters built on it (the CHECK macros): `callers` more frames,
// the reporter's own, are left out of the backtrace.
[[noreturn]] void FatalSkipping(int callers, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
[[noreturn]] void FatalSkippingV(int callers, const char* fmt, va_list args);
}  // namespace internal

}  // namespace alloc_fmt
}  // namespace allocators

#endif  // ALLOC_FMT_FORMAT_H_
