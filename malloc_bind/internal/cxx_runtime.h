// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// What operator new needs from the C++ runtime (the new_handler and
// std::bad_alloc), reached without a link-time dependency on it.
//
// A malloc replacement preloaded into a C program should not load the C++
// runtime: libstdc++ alone costs such a process over 1 MiB of resident
// memory. So the runtime's functions are referenced weakly here, and this
// file is the only code of a malloc library built with exceptions. A C++
// program has the runtime loaded, so the references resolve and operator
// new behaves as the standard says; a C program never calls operator new.
// (If one did, through a C++ library it loaded privately, a failing
// operator new would end the process with a one-line message instead of
// throwing.)
//
// Thread-safe.

#ifndef MALLOC_BIND_INTERNAL_CXX_RUNTIME_H_
#define MALLOC_BIND_INTERNAL_CXX_RUNTIME_H_

#include <cstddef>

namespace allocators {
namespace malloc_bind {
namespace internal {

// Calls the installed new_handler and returns true; false if there is none
// (or no C++ runtime). Exceptions the handler throws propagate.
bool CallNewHandler();

// CallNewHandler for the nothrow operator new forms: false also if the
// handler threw (the exception is caught).
bool CallNewHandlerNothrow() noexcept;

// Throws std::bad_alloc for a failed operator new of `size` bytes. Without a
// C++ runtime (see the file comment), prints one line and aborts.
[[noreturn]] void ThrowBadAlloc(size_t size);

}  // namespace internal
}  // namespace malloc_bind
}  // namespace allocators

#endif  // MALLOC_BIND_INTERNAL_CXX_RUNTIME_H_
