// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// alloc_tls: thread-local storage that is safe to use inside malloc.
//
// A plain C++ `thread_local` with a non-trivial destructor is unusable in an
// allocator: registering its destructor (__cxa_thread_atexit) may call
// malloc, and a malloc that touches the variable while it is being built
// recurses forever. TlsSlot<T> solves both, as the original's alloc-tls did:
//
//   ABSL_CONST_INIT thread_local TlsSlot<Cache> tls_cache;
//   ...
//   if (Cache* c = tls_cache.Get()) { fast path using *c }
//   else { fallback that needs no thread-local state }
//
// * The slot itself is trivially destructible and constant-initialised, so
//   declaring it registers nothing. It uses the initial-exec TLS model: no
//   lazy TLS allocation by the dynamic linker, even inside an LD_PRELOADed
//   library.
// * Get() is one load and compare once the value exists. The first Get() on
//   a thread builds T in place, then registers the thread-exit destructor
//   through a pthread key. Either step may call malloc; any Get() made while
//   the slot is being initialised returns nullptr, so the caller takes its
//   fallback path instead of recursing.
// * At thread exit the slot is marked Dropped *before* ~T runs, so T's
//   destructor (and anything it calls, such as free) sees Get() == nullptr
//   and cannot resurrect the value.
//
// States: kUninitialized -> kInitializing -> kInitialized -> kDropped.
//
// Thread-safety: each thread has its own slot; a slot is only touched by its
// own thread (the destructor runs on the exiting thread). T needs no
// synchronisation for that.

#ifndef ALLOC_TLS_ALLOC_TLS_H_
#define ALLOC_TLS_ALLOC_TLS_H_

#include <new>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "alloc_fmt/check.h"
#include "alloc_fmt/once.h"
#include "platform/platform.h"

// Every TlsSlot variable must be declared with this attribute (and
// ABSL_CONST_INIT), e.g.
//   ABSL_CONST_INIT ALLOC_TLS_INITIAL_EXEC thread_local TlsSlot<T> slot;
// Initial-exec TLS is resolved at load time, so accessing it never calls
// into the dynamic linker (which may allocate).
#define ALLOC_TLS_INITIAL_EXEC __attribute__((tls_model("initial-exec")))

namespace allocators {
namespace alloc_tls {

enum class SlotState : unsigned char {
  kUninitialized = 0,  // must be 0: thread_local storage starts zeroed
  kInitializing,
  kInitialized,
  kDropped,
};

namespace internal {

// Creates the thread key whose destructor ends every slot of one TlsSlot<T>
// type. Fatal if the process has run out of keys (there is no fallback: the
// thread-exit cleanup would silently never run).
platform::ThreadKey CreateKey(void (*destructor)(void*));

}  // namespace internal

// A thread-local T built on first use and destroyed at thread exit, safe to
// use from inside malloc (see the file comment). T must be
// default-constructible.
template <typename T>
class TlsSlot {
 public:
  constexpr TlsSlot() = default;
  TlsSlot(const TlsSlot&) = delete;
  TlsSlot& operator=(const TlsSlot&) = delete;

  // Returns this thread's T, building it on first use. Returns nullptr while
  // the slot is being initialised (a re-entrant call) or after it has been
  // destroyed at thread exit; the caller must then use a path that needs no
  // thread-local state.
  ABSL_ATTRIBUTE_ALWAYS_INLINE T* Get() {
    if (ABSL_PREDICT_TRUE(value_ != nullptr)) return value_;
    return GetSlow();
  }

  // Returns this thread's T if it exists, without building it.
  T* GetIfInitialized() { return value_; }

  SlotState state() const { return state_; }

 private:
  ABSL_ATTRIBUTE_NOINLINE T* GetSlow() {
    if (state_ != SlotState::kUninitialized) return nullptr;
    state_ = SlotState::kInitializing;
    T* value = new (&storage_) T();
    // Registering the destructor may allocate (it does for keys beyond the
    // first 32); the slot still reads as kInitializing, so a nested Get()
    // returns nullptr.
    const int err = platform::SetThreadValue(Key(), this);
    ALLOC_CHECK(err == 0, "alloc_tls: setting the thread key failed (error %d)",
                err);
    value_ = value;
    state_ = SlotState::kInitialized;
    return value;
  }

  // The key of this slot type, created on first use (creating a key does
  // not allocate).
  static platform::ThreadKey Key() {
    key_once_.Run([] { key_ = internal::CreateKey(&Destroy); });
    return key_;
  }

  // Runs at thread exit with the pointer given to SetThreadValue.
  static void Destroy(void* arg) {
    auto* slot = static_cast<TlsSlot*>(arg);
    T* value = slot->value_;
    // Mark the slot dead first: ~T may free memory, and free must not find
    // (or rebuild) this thread's value.
    slot->value_ = nullptr;
    slot->state_ = SlotState::kDropped;
    value->~T();
  }

  static_assert(std::is_default_constructible_v<T>,
                "TlsSlot<T> builds T with its default constructor");

  ABSL_CONST_INIT static inline Once key_once_;
  static inline platform::ThreadKey key_ = 0;

  T* value_ = nullptr;
  SlotState state_ = SlotState::kUninitialized;
  alignas(T) unsigned char storage_[sizeof(T)] = {};
};

}  // namespace alloc_tls
}  // namespace allocators

#endif  // ALLOC_TLS_ALLOC_TLS_H_
