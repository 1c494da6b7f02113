/* SPDX-License-Identifier: Apache-2.0 OR MIT
 * Copyright 2026 the allocators authors.
 *
 * The part of platform/testing/proc.h that C tests need, with C linkage. */

#ifndef PLATFORM_TESTING_PROC_C_H_
#define PLATFORM_TESTING_PROC_C_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A "Name:  <n> kB" field of /proc/self/status ("VmRSS", "VmHWM", ...) in
 * KiB; -1 if missing or unreadable. */
int64_t platform_testing_status_kib(const char* field);

#ifdef __cplusplus
}
#endif

#endif /* PLATFORM_TESTING_PROC_C_H_ */
