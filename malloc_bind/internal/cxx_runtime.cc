// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// Built with exceptions (the catch below); see cxx_runtime.h for why every
// reference to the C++ runtime here is weak.

#include "malloc_bind/internal/cxx_runtime.h"

#include <cstddef>
#include <new>

#include "alloc_fmt/format.h"

// The exception-handling entry points the compiler calls for the catch
// below: weak, so that linking this file does not require the C++ runtime.
// (An assembler directive, because the compiler declares them itself.)
__asm__(
    ".weak __gxx_personality_v0\n"
    ".weak __cxa_begin_catch\n"
    ".weak __cxa_end_catch\n"
    ".weak _Unwind_Resume\n");

// std::get_new_handler() and std::__throw_bad_alloc(), by their assembler
// names, declared weak so that their absence reads as a null address.
extern "C" std::new_handler AllocatorsGetNewHandler() noexcept
    __asm__("_ZSt15get_new_handlerv") __attribute__((weak));
extern "C" void AllocatorsThrowBadAlloc() __asm__("_ZSt17__throw_bad_allocv")
    __attribute__((weak, noreturn));

namespace allocators {
namespace malloc_bind {
namespace internal {

bool CallNewHandler() {
  if (AllocatorsGetNewHandler == nullptr) return false;
  const std::new_handler handler = AllocatorsGetNewHandler();
  if (handler == nullptr) return false;
  handler();
  return true;
}

bool CallNewHandlerNothrow() noexcept {
  try {
    return CallNewHandler();
  } catch (...) {
    return false;
  }
}

void ThrowBadAlloc(size_t size) {
  if (AllocatorsThrowBadAlloc != nullptr) AllocatorsThrowBadAlloc();
  alloc_fmt::Fatal(
      "operator new(%zu): out of memory, and no C++ runtime is loaded to "
      "throw std::bad_alloc",
      size);
}

}  // namespace internal
}  // namespace malloc_bind
}  // namespace allocators
