"""Container images from Go binaries without rules_oci or a container engine.

    load("//tools/oci:defs.bzl", "oci_image", "oci_push")

    oci_image(
        name = "echo_image",
        binary = "//echo/cmd/echo",
        repo_tags = ["kxds/echo:latest"],
        exposed_ports = ["50051/tcp"],
    )

    oci_push(
        name = "push",
        images = {":echo_image": "echo"},
    )

oci_image builds the binary statically (pure Go, linux/amd64, whatever the target platform of
the build) and puts it at /app/<name> into a one-layer image on an empty base, running as the
non-root user 65532. Outputs, each also a target of its own:

    :echo_image          everything below
    :echo_image_tar      echo_image.tar, for `docker load -i` (tags from repo_tags)
    :echo_image_layout   echo_image_oci/, an OCI image layout directory (skopeo, crane, push)
    :echo_image_digest   echo_image.digest, the manifest digest "sha256:..." (what a registry
                         reports after a push; used to pin Kubernetes manifests by digest)

Labels org.opencontainers.image.{source,revision,version}: source from the `source`
attribute; revision and version from --//tools/oci:revision and --//tools/oci:version, or,
when building with --stamp, from the workspace status keys STABLE_GIT_COMMIT and
STABLE_KXDS_VERSION (tools/bazel/workspace_status.sh). Without --stamp the image digest
depends only on the sources: two clean builds give the same digest.

oci_push makes an executable that pushes the images to a registry chosen when it runs:

    bazel run //k8s:push -- --registry=registry.example.com/kxds [--tag=v1.2.3] [--insecure]

The default registry is --//tools/oci:registry (default localhost:5000/kxds).
"""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")

OciImageInfo = provider(
    doc = "An image built by oci_image.",
    fields = {
        "digest": "File: the manifest digest, sha256:...",
        "layout": "File (directory): OCI image layout holding the image",
        "tar": "File: docker-archive tarball",
    },
)

StampInfo = provider(
    doc = "Whether --stamp is on (see //tools/oci:stamp).",
    fields = {"enabled": "bool"},
)

def _stamp_setting_impl(ctx):
    return [StampInfo(enabled = ctx.attr.enabled)]

stamp_setting = rule(
    implementation = _stamp_setting_impl,
    attrs = {"enabled": attr.bool()},
    doc = "Internal: exposes --stamp to rules (use with a select on a config_setting).",
)

def _static_linux_transition_impl(settings, attr):
    return {
        "//command_line_option:platforms": str(attr.platform),
        "@io_bazel_rules_go//go/config:pure": True,
    }

# The image's binary: pure Go (static, no libc), for the image's platform.
_static_linux_transition = transition(
    implementation = _static_linux_transition_impl,
    inputs = [],
    outputs = [
        "//command_line_option:platforms",
        "@io_bazel_rules_go//go/config:pure",
    ],
)

def _oci_image_impl(ctx):
    name = ctx.label.name
    docker_tar = ctx.actions.declare_file(name + ".tar")
    layout = ctx.actions.declare_directory(name + "_oci")
    digest = ctx.actions.declare_file(name + ".digest")
    binary = ctx.executable.binary

    args = ctx.actions.args()
    args.add("--binary", binary)
    if ctx.attr.binary_dest:
        args.add("--binary_dest", ctx.attr.binary_dest)
    inputs = [binary]
    for target, dest in ctx.attr.files.items():
        for f in target.files.to_list():
            args.add("--file", "%s=%s" % (f.path, dest))
            inputs.append(f)
    args.add_all(ctx.attr.entrypoint, before_each = "--entrypoint")
    args.add_all(ctx.attr.cmd, before_each = "--cmd")
    args.add_all(["%s=%s" % kv for kv in ctx.attr.env.items()], before_each = "--env")
    args.add_all(["%s=%s" % kv for kv in ctx.attr.labels.items()], before_each = "--label")
    args.add_all(ctx.attr.exposed_ports, before_each = "--expose")
    args.add_all(ctx.attr.repo_tags, before_each = "--tag")
    args.add("--user", ctx.attr.user)
    args.add("--os", ctx.attr.os)
    args.add("--arch", ctx.attr.arch)
    args.add("--source", ctx.attr.source)
    args.add("--version", ctx.attr._version[BuildSettingInfo].value)
    args.add("--revision", ctx.attr._revision[BuildSettingInfo].value)
    if ctx.attr._stamp[StampInfo].enabled:
        # stable-status.txt only: a new commit re-builds the image, a new build time does not.
        args.add("--status_file", ctx.info_file)
        inputs.append(ctx.info_file)
    args.add("--docker_tar", docker_tar)
    args.add("--oci_layout", layout.path)
    args.add("--digest", digest)
    ctx.actions.run(
        executable = ctx.executable._ocibuild,
        arguments = [args],
        inputs = inputs,
        outputs = [docker_tar, layout, digest],
        mnemonic = "OciImage",
        progress_message = "Assembling image %{label}",
    )
    return [
        DefaultInfo(files = depset([docker_tar, layout, digest])),
        OutputGroupInfo(
            docker_tar = depset([docker_tar]),
            oci_layout = depset([layout]),
            digest = depset([digest]),
        ),
        OciImageInfo(digest = digest, layout = layout, tar = docker_tar),
    ]

_oci_image = rule(
    implementation = _oci_image_impl,
    attrs = {
        "binary": attr.label(
            mandatory = True,
            executable = True,
            cfg = _static_linux_transition,
            doc = "The go_binary to run; built pure (static) for `platform`.",
        ),
        "binary_dest": attr.string(doc = "Path of the binary in the image; default /app/<binary name>."),
        "files": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "Extra files: {label: absolute path in the image}.",
        ),
        "entrypoint": attr.string_list(doc = "Default: [path of the binary]."),
        "cmd": attr.string_list(doc = "Default arguments."),
        "env": attr.string_dict(),
        "labels": attr.string_dict(doc = "Extra image labels."),
        "exposed_ports": attr.string_list(doc = 'e.g. ["50051/tcp"]'),
        "repo_tags": attr.string_list(doc = "repo:tag names in the docker tarball."),
        "user": attr.string(default = "65532:65532"),
        "os": attr.string(default = "linux"),
        "arch": attr.string(default = "amd64"),
        "platform": attr.label(default = "@io_bazel_rules_go//go/toolchain:linux_amd64"),
        "source": attr.string(
            default = "https://github.com/kxds/kxds",
            doc = "org.opencontainers.image.source",
        ),
        "_version": attr.label(default = "//tools/oci:version"),
        "_revision": attr.label(default = "//tools/oci:revision"),
        "_stamp": attr.label(default = "//tools/oci:stamp"),
        "_ocibuild": attr.label(
            default = "//tools/oci/ocibuild",
            executable = True,
            cfg = "exec",
        ),
    },
)

def oci_image(name, visibility = None, tags = None, testonly = None, **kwargs):
    """An image with one static Go binary; see the file's doc for outputs and attributes."""
    _oci_image(name = name, visibility = visibility, tags = tags, testonly = testonly, **kwargs)
    for suffix, group in [("_tar", "docker_tar"), ("_layout", "oci_layout"), ("_digest", "digest")]:
        native.filegroup(
            name = name + suffix,
            srcs = [":" + name],
            output_group = group,
            visibility = visibility,
            tags = tags,
            testonly = testonly,
        )

def runfiles_path(ctx, f):
    """Path of f below the runfiles directory (works for external repositories too)."""
    if f.short_path.startswith("../"):
        return f.short_path[3:]
    return ctx.workspace_name + "/" + f.short_path

def _oci_push_impl(ctx):
    tool = ctx.executable._ocipush
    lines = [
        "#!/bin/sh",
        "# Generated by oci_push %s: push images to the registry given by --registry." % ctx.label,
        'r="${RUNFILES_DIR:-$0.runfiles}"',
        'exec "$r/%s" --registry=%s \\' % (runfiles_path(ctx, tool), _sh_quote(ctx.attr._registry[BuildSettingInfo].value)),
    ]
    files = [tool]
    for target, image_name in ctx.attr.images.items():
        layout = target[OciImageInfo].layout
        files.append(layout)
        lines.append('  --image=%s="$r/%s" \\' % (image_name, runfiles_path(ctx, layout)))
    lines.append('  "$@"')
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    runfiles = ctx.runfiles(files = files).merge(ctx.attr._ocipush[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

def _sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

oci_push = rule(
    implementation = _oci_push_impl,
    executable = True,
    attrs = {
        "images": attr.label_keyed_string_dict(
            mandatory = True,
            providers = [OciImageInfo],
            doc = "{oci_image target: name}: each image goes to <registry>/<name>.",
        ),
        "_registry": attr.label(default = "//tools/oci:registry"),
        "_ocipush": attr.label(
            default = "//tools/oci/ocipush",
            executable = True,
            cfg = "target",
        ),
    },
    doc = "`bazel run` pushes the images: -- --registry=HOST/PATH [--tag=T] [--insecure].",
)
