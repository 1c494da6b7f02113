// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// elfmalloc's C extension API, for C and C++ programs that run with
// libelfmalloc.so (LD_PRELOAD or -lelfmalloc) or link libelfmalloc.a.
// malloc, free and the rest of the malloc family keep their standard
// declarations (<stdlib.h>, <malloc.h>); this header adds what only
// elfmalloc has. It is installed as <prefix>/include/elfmalloc.h, and in
// this repository it is //elfmalloc:c_api, included as <elfmalloc.h>.
//
//   #include <elfmalloc.h>
//   printf("elfmalloc %s\n", elfmalloc_version());
//   elfmalloc_option_set("decay_ms", 0);  // return freed memory at once
//   elfmalloc_release();                  // and everything cached, now
//
// Every function is thread-safe and never allocates.

#ifndef ELFMALLOC_INCLUDE_ELFMALLOC_H_
#define ELFMALLOC_INCLUDE_ELFMALLOC_H_

#include <stddef.h>

#define ELFMALLOC_VERSION_MAJOR 0
#define ELFMALLOC_VERSION_MINOR 1
#define ELFMALLOC_VERSION_PATCH 0
// "MAJOR.MINOR.PATCH", the same string elfmalloc_version() returns from the
// library actually in use (compare them to detect a header/library skew).
#define ELFMALLOC_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define ELFMALLOC_API __attribute__((visibility("default")))
#else
#define ELFMALLOC_API
#endif

#if defined(__cplusplus)
#define ELFMALLOC_NOEXCEPT noexcept
extern "C" {
#else
#define ELFMALLOC_NOEXCEPT
#endif

// Returns the calling thread's cached objects to the shared pools and gives
// the memory of every free page back to the OS now, instead of after the
// decay period.
ELFMALLOC_API void elfmalloc_release(void) ELFMALLOC_NOEXCEPT;

// The number of usable bytes of the block at `p` (at least the size it was
// allocated with); 0 for NULL. `p` must come from this allocator (the same
// as malloc_usable_size).
ELFMALLOC_API size_t elfmalloc_usable_size(const void* p) ELFMALLOC_NOEXCEPT;

// The library's version, "MAJOR.MINOR.PATCH" (a static string).
ELFMALLOC_API const char* elfmalloc_version(void) ELFMALLOC_NOEXCEPT;

// Run-time options, by name. Both return 0 on success and EINVAL for an
// unknown name, a NULL argument or (set) a value out of range; on error
// nothing is changed.
//
//   "decay_ms"  free pages unused this many milliseconds give their memory
//               back to the OS; -1 never (until elfmalloc_release), 0 as
//               soon as freed; at most 3600000. Starts as
//               ELFMALLOC_DECAY_MS, else 100.
ELFMALLOC_API int elfmalloc_option_get(const char* name,
                                       long long* value) ELFMALLOC_NOEXCEPT;
ELFMALLOC_API int elfmalloc_option_set(const char* name,
                                       long long value) ELFMALLOC_NOEXCEPT;

// Statistics (info/stats.md describes every counter). The report is
// written line by line to `write(opaque, line)`; a NULL `write` prints to
// stderr. It never allocates and is safe while other threads allocate.
// ELFMALLOC_SHOW_STATS=1 prints the same report at exit. The glibc
// functions malloc_stats(), mallinfo(), mallinfo2() and malloc_info() are
// provided too and describe elfmalloc's heap; glibc's malloc_trim() is
// elfmalloc_release().
typedef void (*elfmalloc_write_fn)(void* opaque, const char* line);
ELFMALLOC_API void elfmalloc_stats_print(elfmalloc_write_fn write,
                                         void* opaque) ELFMALLOC_NOEXCEPT;

#if defined(__cplusplus)
}  // extern "C"
#endif

#endif  // ELFMALLOC_INCLUDE_ELFMALLOC_H_
