// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// A program that uses every replaceable operator new/delete form and prints
// a deterministic transcript; preload_test.sh runs it with and without
// libelfmalloc.so and compares the output.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

struct alignas(128) Wide {
  int v;
};

int g_handler_calls = 0;

int Aligned(const void* p, size_t a) {
  return reinterpret_cast<uintptr_t>(p) % a == 0 ? 1 : 0;
}

}  // namespace

int main() {
  long sum = 0;
  for (int round = 0; round < 200; ++round) {
    auto* a = new int(round);
    auto* b = new int[64]();
    auto* c = new (std::nothrow) long(round);
    auto* d = new (std::nothrow) long[16]();
    auto* w = new Wide{round};
    auto* ws = new Wide[4];
    auto* wn = new (std::nothrow) Wide{round};
    auto* wsn = new (std::nothrow) Wide[2];
    sum += *a + b[0] + *c + d[1] + w->v + wn->v;
    sum += Aligned(w, 128) + Aligned(ws, 128) + Aligned(wn, 128) +
           Aligned(wsn, 128);
    void* s = operator new(40);
    operator delete(s, 40);
    void* sa = operator new[](400);
    operator delete[](sa, 400);
    void* al = operator new(72, std::align_val_t{64});
    sum += Aligned(al, 64);
    operator delete(al, 72, std::align_val_t{64});
    void* ala = operator new[](72, std::align_val_t{4096});
    sum += Aligned(ala, 4096);
    operator delete[](ala, 72, std::align_val_t{4096});
    delete a;
    delete[] b;
    operator delete(c, std::nothrow);
    operator delete[](d, std::nothrow);
    delete w;
    delete[] ws;
    operator delete(wn, std::align_val_t{128}, std::nothrow);
    operator delete[](wsn, std::align_val_t{128}, std::nothrow);
  }
  std::map<std::string, std::vector<int>> m;
  for (int i = 0; i < 20000; ++i) m[std::to_string(i % 997)].push_back(i);
  for (const auto& [k, v] : m) sum += static_cast<long>(k.size() + v.size());
  auto shared = std::make_shared<std::vector<std::string>>(1000, "elf");
  sum += static_cast<long>(shared->size());
  try {
    static_cast<void>(operator new(SIZE_MAX / 2));
    std::printf("no bad_alloc\n");
  } catch (const std::bad_alloc&) {
    std::printf("bad_alloc\n");
  }
  // The new_handler runs until it removes itself, then bad_alloc is thrown;
  // the nothrow forms return nullptr when the handler throws.
  std::set_new_handler([] {
    if (++g_handler_calls == 3) std::set_new_handler(nullptr);
  });
  try {
    static_cast<void>(operator new(SIZE_MAX / 2));
  } catch (const std::bad_alloc&) {
    std::printf("bad_alloc after %d new_handler calls\n", g_handler_calls);
  }
  std::set_new_handler([] { throw std::bad_alloc(); });
  std::printf("nothrow: %s, aligned nothrow: %s\n",
              operator new(SIZE_MAX / 2, std::nothrow) ? "ptr" : "null",
              operator new(SIZE_MAX / 2, std::align_val_t{64}, std::nothrow)
                  ? "ptr"
                  : "null");
  std::set_new_handler(nullptr);
  try {
    static_cast<void>(operator new(SIZE_MAX / 2, std::align_val_t{64}));
  } catch (const std::bad_alloc&) {
    std::printf("aligned bad_alloc\n");
  }
  std::printf("sum %ld\n", sum);
  return 0;
}
