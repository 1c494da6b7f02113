// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A minimal malloc interposer, as profilers and leak checkers write them,
// for scenario_probe's interposer_dlsym scenario (row 35 of
// info/reliability.md): preloaded before the allocator under test, it wraps
// malloc and free and resolves the real ones with dlsym(RTLD_NEXT) from its
// constructor. dlsym itself allocates (glibc's error state, forced here by
// a failing lookup), and calloc is not wrapped, so the allocator under test
// is called before its own constructor has run, from inside the dynamic
// loader (jemalloc #443 deadlocked there). Allocations made while resolving
// come from a static buffer, as in such tools.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static void* (*real_malloc)(size_t);
static void (*real_free)(void*);
static atomic_long calls;
static _Thread_local int resolving;

static _Alignas(16) char early[1 << 16];
static atomic_size_t early_used;

static void* EarlyAlloc(size_t n) {
  const size_t rounded = (n + 15) & ~(size_t)15;
  const size_t at = atomic_fetch_add(&early_used, rounded);
  return at + rounded <= sizeof(early) ? early + at : NULL;
}

static int IsEarly(const void* p) {
  const char* c = (const char*)p;
  return c >= early && c < early + sizeof(early);
}

static void Resolve(void) {
  if (resolving) return;
  resolving = 1;
  void* m = dlsym(RTLD_NEXT, "malloc");
  void* f = dlsym(RTLD_NEXT, "free");
  (void)dlsym(RTLD_NEXT, "scenario_interposer_no_such_symbol");
  real_free = (void (*)(void*))(uintptr_t)f;
  real_malloc = (void* (*)(size_t))(uintptr_t)m;
  resolving = 0;
}

__attribute__((constructor)) static void Init(void) {
  Resolve();
  void* p = calloc(16, 16);  // the allocator under test, not wrapped
  free(p);
}

__attribute__((visibility("default"))) void* malloc(size_t n) {
  if (real_malloc == NULL) {
    Resolve();
    if (real_malloc == NULL) return EarlyAlloc(n);
  }
  atomic_fetch_add(&calls, 1);
  return real_malloc(n);
}

__attribute__((visibility("default"))) void free(void* p) {
  if (p == NULL || IsEarly(p)) return;
  if (real_free == NULL) Resolve();
  if (real_free != NULL) real_free(p);
}

// How many malloc calls went through the interposer.
__attribute__((visibility("default"))) long scenario_interposer_calls(void) {
  return atomic_load(&calls);
}
