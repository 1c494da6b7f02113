// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_tls/alloc_tls.h"

namespace allocators {
namespace alloc_tls {
namespace internal {

pthread_key_t CreateKey(void (*destructor)(void*)) {
  pthread_key_t key;
  const int err = pthread_key_create(&key, destructor);
  ALLOC_CHECK(err == 0, "alloc_tls: pthread_key_create failed (error %d)",
              err);
  return key;
}

}  // namespace internal
}  // namespace alloc_tls
}  // namespace allocators
