# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
"""opt_files: the files of some targets, always built with -c opt.

What //:install copies into a prefix must be the optimized build whatever
the command line's compilation mode, so `./bazelw run //:install -- PREFIX`
cannot install an -O0 allocator by accident.
"""

def _opt_transition_impl(settings, attr):
    return {"//command_line_option:compilation_mode": "opt"}

_opt_transition = transition(
    implementation = _opt_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:compilation_mode"],
)

def _opt_files_impl(ctx):
    files = depset(transitive = [src[DefaultInfo].files for src in ctx.attr.srcs])
    return [DefaultInfo(files = files, runfiles = ctx.runfiles(transitive_files = files))]

opt_files = rule(
    implementation = _opt_files_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = True, cfg = _opt_transition),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
