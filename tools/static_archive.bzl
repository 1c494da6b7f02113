# SPDX-License-Identifier: Apache-2.0 OR MIT
# Copyright 2026 the allocators authors.
"""cc_static_archive: one installable .a of C++ libraries and all their deps.

Bazel builds one archive per cc_library; a user outside Bazel wants one
`libfoo.a` to link with `-lfoo`. This rule collects the static archives of
`deps` and of everything they depend on (the PIC flavour when there is one,
so the result links into executables and shared libraries alike) and merges
their members into `out` with `ar -M`. Archives built with alwayslink keep
their members, but in a plain archive the linker only takes the members a
program needs, as for any .a.

It also writes `<out>.linkopts`: the link flags the dependencies declare
(e.g. -pthread), for a pkg-config Libs.private line.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

def _cc_static_archive_impl(ctx):
    cc_toolchain = find_cpp_toolchain(ctx)
    archives = []
    seen = {}
    linkopts = []
    for dep in ctx.attr.deps:
        for linker_input in dep[CcInfo].linking_context.linker_inputs.to_list():
            for flag in linker_input.user_link_flags:
                if flag not in linkopts:
                    linkopts.append(flag)
            for lib in linker_input.libraries:
                archive = lib.pic_static_library or lib.static_library
                if archive == None or archive.path in seen:
                    continue
                seen[archive.path] = True
                archives.append(archive)
    if not archives:
        fail("%s: no static archives in deps" % ctx.label)

    out = ctx.outputs.out
    mri = ctx.actions.declare_file(ctx.label.name + ".mri")
    ctx.actions.write(
        mri,
        "CREATE %s\n" % out.path +
        "".join(["ADDLIB %s\n" % a.path for a in archives]) +
        "SAVE\nEND\n",
    )
    ctx.actions.run_shell(
        inputs = archives + [mri],
        outputs = [out],
        tools = cc_toolchain.all_files,
        command = '"$1" -M < "$2"',
        arguments = [cc_toolchain.ar_executable, mri.path],
        mnemonic = "CcStaticArchive",
        progress_message = "Merging %d archives into %s" % (len(archives), out.short_path),
    )

    linkopts_file = ctx.actions.declare_file(out.basename + ".linkopts")
    ctx.actions.write(linkopts_file, " ".join(linkopts) + "\n")
    return [DefaultInfo(files = depset([out, linkopts_file]))]

cc_static_archive = rule(
    implementation = _cc_static_archive_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "out": attr.output(mandatory = True),
        "_cc_toolchain": attr.label(
            default = Label("@bazel_tools//tools/cpp:current_cc_toolchain"),
        ),
    },
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    incompatible_use_toolchain_transition = True,
)
