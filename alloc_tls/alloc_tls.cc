// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.

#include "alloc_tls/alloc_tls.h"

namespace allocators {
namespace alloc_tls {
namespace internal {

platform::ThreadKey CreateKey(void (*destructor)(void*)) {
  platform::ThreadKey key;
  const int err = platform::CreateThreadKey(destructor, &key);
  ALLOC_CHECK(err == 0, "alloc_tls: creating a thread key failed (error %d)",
              err);
  return key;
}

}  // namespace internal
}  // namespace alloc_tls
}  // namespace allocators
