// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Asks whether a range of memory can be read, without touching it and so
// without risking a fault. The conformance suite uses it after an allocator
// has been destroyed: objects whose memory went back to the kernel cannot be
// inspected, everything else must have been dropped.

#ifndef OBJECT_ALLOC_TEST_MAPPED_H_
#define OBJECT_ALLOC_TEST_MAPPED_H_

#include <cstddef>

namespace allocators {
namespace object_alloc_test {

// Returns true if every byte of [p, p + len) may be read by this program:
// the kernel has it mapped readable and, in AddressSanitizer builds, ASan has
// not poisoned it (freed heap blocks and redzones count as unreadable, since
// reading them would be reported and they belong to the sanitizer's heap, not
// to the allocator under test). A zero-length range is readable.
//
// How: the range is write(2)n into a pipe owned by this module and read back
// out. The kernel copies from the buffer, so an unmapped or unreadable byte
// makes write fail with EFAULT (or stop short) instead of raising SIGSEGV.
// The original wrote to /dev/random for the same effect; a private pipe does
// not depend on device files being present or writable in a sandbox, and
// unlike /dev/null (which never looks at the buffer) it really reads every
// byte. process_vm_readv on ourselves would also work, but seccomp profiles
// of container runtimes may forbid it.
//
// Makes no page-level system calls (those live in mmap_alloc/ only) and
// needs no page size. Thread-safe (calls are serialised on an internal
// lock). Fails (aborts) only if the pipe cannot be created or behaves
// unexpectedly.
bool IsMappedRange(const void* p, size_t len);

}  // namespace object_alloc_test
}  // namespace allocators

#endif  // OBJECT_ALLOC_TEST_MAPPED_H_
