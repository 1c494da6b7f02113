// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// The C extension API (include/elfmalloc.h), compiled as C and called in a
// program whose malloc is elfmalloc (cc_test malloc = //elfmalloc:malloc).
//
// Usage: c_ext_test INITIAL_DECAY_MS
//   INITIAL_DECAY_MS is what elfmalloc_option_get("decay_ms") must report
//   before the program changes it (1000, or ELFMALLOC_DECAY_MS).

#include <elfmalloc.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                           \
  do {                                                         \
    if (!(cond)) {                                             \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                              \
    }                                                          \
  } while (0)

// Resident memory in KiB (VmRSS), or -1.
static long RssKib(void) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
  }
  fclose(f);
  return kib;
}

static void TestVersion(void) {
  char want[32];
  snprintf(want, sizeof(want), "%d.%d.%d", ELFMALLOC_VERSION_MAJOR,
           ELFMALLOC_VERSION_MINOR, ELFMALLOC_VERSION_PATCH);
  EXPECT(strcmp(want, ELFMALLOC_VERSION_STRING) == 0);
  EXPECT(elfmalloc_version() != NULL);
  EXPECT(strcmp(elfmalloc_version(), ELFMALLOC_VERSION_STRING) == 0);
  printf("elfmalloc %s\n", elfmalloc_version());
}

static void TestUsableSize(void) {
  EXPECT(elfmalloc_usable_size(NULL) == 0);
  static const size_t kSizes[] = {1, 8, 17, 100, 4096, 70000, 3 << 20};
  for (size_t i = 0; i < sizeof(kSizes) / sizeof(kSizes[0]); ++i) {
    char* p = malloc(kSizes[i]);
    EXPECT(p != NULL);
    const size_t usable = elfmalloc_usable_size(p);
    EXPECT(usable >= kSizes[i]);
    EXPECT(usable == malloc_usable_size(p));
    memset(p, 0xab, usable);  // all of it is ours
    free(p);
  }
}

static void TestOptions(long long initial) {
  long long v = 12345;
  EXPECT(elfmalloc_option_get("decay_ms", &v) == 0);
  EXPECT(v == initial);
  if (v != initial) fprintf(stderr, "decay_ms is %lld, want %lld\n", v, initial);

  EXPECT(elfmalloc_option_set("decay_ms", 0) == 0);
  EXPECT(elfmalloc_option_get("decay_ms", &v) == 0 && v == 0);
  EXPECT(elfmalloc_option_set("decay_ms", 3600000) == 0);
  EXPECT(elfmalloc_option_get("decay_ms", &v) == 0 && v == 3600000);
  EXPECT(elfmalloc_option_set("decay_ms", -1) == 0);
  EXPECT(elfmalloc_option_get("decay_ms", &v) == 0 && v == -1);

  // Errors change nothing.
  EXPECT(elfmalloc_option_set("decay_ms", -2) == EINVAL);
  EXPECT(elfmalloc_option_set("decay_ms", 3600001) == EINVAL);
  EXPECT(elfmalloc_option_set("decay_ms", -9223372036854775807LL - 1) == EINVAL);
  EXPECT(elfmalloc_option_set("no_such_option", 1) == EINVAL);
  EXPECT(elfmalloc_option_set("DECAY_MS", 5) == EINVAL);
  EXPECT(elfmalloc_option_set(NULL, 5) == EINVAL);
  v = 777;
  EXPECT(elfmalloc_option_get("no_such_option", &v) == EINVAL && v == 777);
  EXPECT(elfmalloc_option_get(NULL, &v) == EINVAL && v == 777);
  EXPECT(elfmalloc_option_get("decay_ms", NULL) == EINVAL);
  EXPECT(elfmalloc_option_get("decay_ms", &v) == 0 && v == -1);
}

// With decay off (-1, set by TestOptions), freed memory stays resident
// until elfmalloc_release() returns it. (Small objects: slags of 64 KiB
// objects and up are decommitted as soon as they are empty.)
static void TestRelease(void) {
  enum { kCount = 32768, kSize = 2048 };  // 64 MiB
  static char* blocks[kCount];
  const long before = RssKib();
  for (int i = 0; i < kCount; ++i) {
    blocks[i] = malloc(kSize);
    EXPECT(blocks[i] != NULL);
    memset(blocks[i], i, kSize);
  }
  for (int i = 0; i < kCount; ++i) free(blocks[i]);
  const long freed = RssKib();
  elfmalloc_release();
  const long released = RssKib();
  printf("RSS KiB: before %ld, after free %ld, after release %ld\n", before,
         freed, released);
  EXPECT(before > 0 && freed > 0 && released > 0);
  EXPECT(freed - before > 48 * 1024);     // decay -1: still resident
  EXPECT(freed - released > 48 * 1024);   // release gave it back
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s INITIAL_DECAY_MS\n", argv[0]);
    return 2;
  }
  TestVersion();
  TestUsableSize();
  TestOptions(strtoll(argv[1], NULL, 10));
  TestRelease();
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("PASS\n");
  return 0;
}
