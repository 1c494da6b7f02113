"""Minimal stand-in for @rules_cc//cc:defs.bzl on Bazel 4.2.3.

Debian's bazel-rules-cc (0.0.4) needs Bazel >= 5, so it cannot load on
Debian's Bazel 4.2.3. The C++ rules are built into Bazel 4; this file only
re-exports them, so BUILD files keep the standard load() line and stay
portable to newer Bazel.
"""

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_import(**attrs):
    native.cc_import(**attrs)

def cc_proto_library(**attrs):
    native.cc_proto_library(**attrs)

def fdo_prefetch_hints(**attrs):
    native.fdo_prefetch_hints(**attrs)

def fdo_profile(**attrs):
    native.fdo_profile(**attrs)

def objc_library(**attrs):
    native.objc_library(**attrs)

def objc_import(**attrs):
    native.objc_import(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)
