// SPDX-License-Identifier: Apache-2.0 OR MIT
// Copyright 2026 the allocators authors.
//
// assert_demo <case>: runs one of 26 named cases of alloc_fmt's checks and
// unwrapping, for a person or `demo_test.sh` to see the messages. A case
// that passes prints "ok: <case>" and exits 0; one that fails prints its
// one-line message and aborts. `assert_demo` alone lists the cases, and
// `assert_demo --dchecks` says whether ALLOC_DCHECK is on in this build.
//
// The ALLOC_DCHECK cases fail only in builds without NDEBUG (-c dbg and
// the default fastbuild); in -c opt they pass without evaluating.

#include <cstring>
#include <optional>

#include "alloc_fmt/check.h"
#include "alloc_fmt/format.h"
#include "alloc_fmt/unwrap.h"

namespace {

std::optional<int> Some() { return 42; }
std::optional<int> None() { return std::nullopt; }

int g_value = 7;
int* Pointer() { return &g_value; }
int* Null() { return nullptr; }

void Check() { ALLOC_CHECK(1 + 1 == 3); }
void CheckFmt() { ALLOC_CHECK(1 + 1 == 3, "arithmetic is broken"); }
void CheckFmtArgs() {
  const int two = 2;
  ALLOC_CHECK(two == 3, "two is %d, %s", two, "not three");
}
void DCheck() { ALLOC_DCHECK(1 + 1 == 3); }
void DCheckFmt() { ALLOC_DCHECK(1 + 1 == 3, "arithmetic is broken"); }
void DCheckFmtArgs() {
  const int two = 2;
  ALLOC_DCHECK(two == 3, "two is %d, %s", two, "not three");
}
void CheckEq() { ALLOC_CHECK_EQ(1 + 1, 3); }
void CheckNe() { ALLOC_CHECK_NE(2, 1 + 1); }
void CheckLt() { ALLOC_CHECK_LT(3, 2); }
void CheckLe() { ALLOC_CHECK_LE(3, 2); }
void CheckGt() { ALLOC_CHECK_GT(2, 3); }
void CheckGe() { ALLOC_CHECK_GE(2, 3); }
void DCheckEq() { ALLOC_DCHECK_EQ(1 + 1, 3); }
void DCheckNe() { ALLOC_DCHECK_NE(2, 1 + 1); }
void CheckPointers() {
  int a = 0;
  ALLOC_CHECK_EQ(&a, static_cast<int*>(nullptr));
}
void CheckSigned() { ALLOC_CHECK_EQ(-1, 1); }
void UnwrapSome() { ALLOC_CHECK_EQ(ALLOC_UNWRAP(Some()), 42); }
void UnwrapNone() { static_cast<void>(ALLOC_UNWRAP(None())); }
void ExpectSome() { ALLOC_CHECK_EQ(ALLOC_EXPECT(Some(), "no answer"), 42); }
void ExpectNone() {
  static_cast<void>(ALLOC_EXPECT(None(), "no answer to %s", "the question"));
}
void UnwrapPointer() { ALLOC_CHECK_EQ(*ALLOC_UNWRAP(Pointer()), 7); }
void UnwrapNull() { static_cast<void>(ALLOC_UNWRAP(Null())); }
void ExpectPointer() { ALLOC_CHECK_EQ(*ALLOC_EXPECT(Pointer(), "no int"), 7); }
void ExpectNull() {
  static_cast<void>(ALLOC_EXPECT(Null(), "no int at %p", &g_value));
}
void UnwrapLvalue() {
  std::optional<int> v = 5;
  ALLOC_UNWRAP(v) = 6;  // a reference into v
  ALLOC_CHECK_EQ(*v, 6);
}
void Fatal() { allocators::alloc_fmt::Fatal("fatal: %s %d", "code", 3); }

struct Case {
  const char* name;
  void (*run)();
};

constexpr Case kCases[] = {
    {"check", Check},
    {"check_fmt", CheckFmt},
    {"check_fmt_args", CheckFmtArgs},
    {"dcheck", DCheck},
    {"dcheck_fmt", DCheckFmt},
    {"dcheck_fmt_args", DCheckFmtArgs},
    {"check_eq", CheckEq},
    {"check_ne", CheckNe},
    {"check_lt", CheckLt},
    {"check_le", CheckLe},
    {"check_gt", CheckGt},
    {"check_ge", CheckGe},
    {"dcheck_eq", DCheckEq},
    {"dcheck_ne", DCheckNe},
    {"check_pointers", CheckPointers},
    {"check_signed", CheckSigned},
    {"unwrap_some", UnwrapSome},
    {"unwrap_none", UnwrapNone},
    {"expect_some", ExpectSome},
    {"expect_none", ExpectNone},
    {"unwrap_pointer", UnwrapPointer},
    {"unwrap_null", UnwrapNull},
    {"expect_pointer", ExpectPointer},
    {"expect_null", ExpectNull},
    {"unwrap_lvalue", UnwrapLvalue},
    {"fatal", Fatal},
};
static_assert(sizeof(kCases) / sizeof(kCases[0]) == 26);

}  // namespace

int main(int argc, char** argv) {
  using allocators::alloc_fmt::Print;
  if (argc == 2 && std::strcmp(argv[1], "--dchecks") == 0) {
    Print(1, "%s\n", ALLOC_DCHECK_IS_ON ? "on" : "off");
    return 0;
  }
  if (argc != 2) {
    Print(2, "usage: assert_demo <case>; the cases:\n");
    for (const Case& c : kCases) Print(2, "  %s\n", c.name);
    return 2;
  }
  for (const Case& c : kCases) {
    if (std::strcmp(argv[1], c.name) == 0) {
      c.run();
      Print(1, "ok: %s\n", c.name);
      return 0;
    }
  }
  Print(2, "assert_demo: no case named %s\n", argv[1]);
  return 2;
}
