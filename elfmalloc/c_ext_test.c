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

#include "platform/testing/proc_c.h"

static int failures = 0;

#define EXPECT(cond)                                                     \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                        \
    }                                                                    \
  } while (0)

// Resident memory in KiB (VmRSS), or -1.
static long RssKib(void) { return (long)platform_testing_status_kib("VmRSS"); }

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
  if (v != initial)
    fprintf(stderr, "decay_ms is %lld, want %lld\n", v, initial);

  EXPECT(elfmalloc_option_set("decay_ms", 0) == 0);
  EXPECT(elfmalloc_option_get("decay_ms", &v) == 0 && v == 0);
  EXPECT(elfmalloc_option_set("decay_ms", 3600000) == 0);
  EXPECT(elfmalloc_option_get("decay_ms", &v) == 0 && v == 3600000);
  EXPECT(elfmalloc_option_set("decay_ms", -1) == 0);
  EXPECT(elfmalloc_option_get("decay_ms", &v) == 0 && v == -1);

  // Errors change nothing.
  EXPECT(elfmalloc_option_set("decay_ms", -2) == EINVAL);
  EXPECT(elfmalloc_option_set("decay_ms", 3600001) == EINVAL);
  EXPECT(elfmalloc_option_set("decay_ms", -9223372036854775807LL - 1) ==
         EINVAL);
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
  EXPECT(freed - before > 48 * 1024);    // decay -1: still resident
  EXPECT(freed - released > 48 * 1024);  // release gave it back
}

// elfmalloc_stats_print hands every line to the callback.
struct Collected {
  char text[16384];
  size_t len;
  int lines;
};

static void Collect(void* opaque, const char* line) {
  struct Collected* c = (struct Collected*)opaque;
  const size_t n = strlen(line);
  if (c->len + n < sizeof(c->text)) {
    memcpy(c->text + c->len, line, n + 1);
    c->len += n;
  }
  ++c->lines;
}

// The size class of a malloc(size): the class size that holds the usable
// bytes (the hardened build keeps 8 of a class's bytes for its canary).
static size_t ClassOf(size_t size) {
  void* p = malloc(size);
  const size_t usable = malloc_usable_size(p);
  free(p);
  return (usable + 15) / 16 * 16;
}

static void TestStats(void) {
  enum { kCount = 1000 };
  void* blocks[kCount];
  for (int i = 0; i < kCount; ++i) blocks[i] = malloc(176);
  void* big = malloc(5 << 20);
  EXPECT(big != NULL);
  const size_t class_size = ClassOf(176);
  char row[32], xml_bytes[32];
  snprintf(row, sizeof(row), "%9zu ", class_size);  // the class's row
  snprintf(xml_bytes, sizeof(xml_bytes), "bytes=\"%zu\"", class_size);

  static struct Collected c;
  elfmalloc_stats_print(Collect, &c);
  EXPECT(c.lines > 8);
  EXPECT(strstr(c.text, "elfmalloc statistics") != NULL);
  EXPECT(strstr(c.text, row) != NULL);
  EXPECT(strstr(c.text, "resident: ") != NULL);
  EXPECT(strstr(c.text, "large objects: ") != NULL);

  const struct mallinfo2 m = mallinfo2();
  EXPECT(m.arena > 0);
  EXPECT(m.uordblks >= kCount * 176);
  EXPECT(m.hblks >= 1);
  EXPECT(m.hblkhd >= (5u << 20));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const struct mallinfo old = mallinfo();  // deprecated, still exported
#pragma GCC diagnostic pop
  EXPECT(old.hblks == (int)m.hblks);

  FILE* f = tmpfile();
  EXPECT(f != NULL);
  if (f != NULL) {
    EXPECT(malloc_info(0, f) == 0);
    rewind(f);
    static char xml[16384];
    const size_t n = fread(xml, 1, sizeof(xml) - 1, f);
    xml[n] = '\0';
    EXPECT(strncmp(xml, "<malloc version=\"elfmalloc-", 26) == 0);
    EXPECT(strstr(xml, xml_bytes) != NULL);
    EXPECT(strstr(xml, "</malloc>\n") != NULL);
    errno = 0;
    EXPECT(malloc_info(1, f) == -1 && errno == EINVAL);
    fclose(f);
  }
  for (int i = 0; i < kCount; ++i) free(blocks[i]);
  free(big);
  // The freed blocks and pages are free memory to give back; then none is.
  EXPECT(malloc_trim(0) == 1);
  EXPECT(malloc_trim(0) == 0);
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
  TestStats();
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("PASS\n");
  return 0;
}
