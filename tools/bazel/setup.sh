#!/bin/bash
# tools/bazel/setup.sh - offline Bazel 7 for the kxds monorepo on a Debian bookworm host that
# can only reach the Go module proxy + Debian's archive (+ npm). Adapted from the verified
# recipe in shared/bazel-offline (RECIPE.md explains every step and every error it avoids).
#
#   Bazel 7.7.1      : Debian sid "bazel-bootstrap", installed in a debootstrap'ed sid chroot
#   rules_go/gazelle : Go modules from the Go module proxy, used via --override_module
#   other bazel_deps : Debian-packaged modules (/usr/share/bazel/...) or tiny local stubs
#   Go SDK           : the host's /usr/local/go, bind-mounted into the chroot
#   protoc           : Debian's protobuf-compiler (+ WKT .proto files from libprotobuf-dev)
#
# All offline-only settings go to the chroot's /etc/bazel-offline.bazelrc, never to the
# checked-in .bazelrc (which online users with a normal Bazel/bazelisk read).
#
# Idempotent: re-running only re-does cheap steps (and re-mounts after a reboot/teardown).
# Needs root + mount(2). Normally run for you by tools/bazel/bazel.
#
# Env:
#   KXDS_CACHE   default $HOME/.cache/kxds; everything lives in $KXDS_CACHE/bazel-offline
#   BASE         default $KXDS_CACHE/bazel-offline (must be OUTSIDE the checkout)
#   WORKSPACES   host dirs bind-mounted at the same path in the chroot (default: this checkout)
#   MIRROR       Debian mirror (default http://deb.debian.org/debian)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KXDS_CACHE=${KXDS_CACHE:-$HOME/.cache/kxds}
BASE=${BASE:-$KXDS_CACHE/bazel-offline}
R=$BASE/sid                                  # the chroot
OFF=/opt/bazel-offline                       # path *inside* the chroot for rules_go/gazelle/stubs
CACHE=$BASE/cache                            # host dir, mounted at /cache in the chroot (CI-cacheable)
GOROOT_HOST=${GOROOT_HOST:-/usr/local/go}
WORKSPACES=${WORKSPACES:-$REPO}              # host dirs bind-mounted at the same path in the chroot
MIRROR=${MIRROR:-http://deb.debian.org/debian}
case "$BASE/" in "$REPO"/*) echo "setup.sh: BASE=$BASE must be outside the checkout $REPO" >&2; exit 2;; esac
mkdir -p "$BASE"
# One setup at a time (tools/bazel/bazel may call us from parallel shells).
exec 9>"$BASE/.setup.lock"; flock 9

RULES_GO=github.com/bazelbuild/rules_go@v0.65.0
GAZELLE=github.com/bazelbuild/bazel-gazelle@v0.53.0           # v0.54.0: no matching v2 module on the proxy
GAZELLE_V2=github.com/bazel-contrib/bazel-gazelle/v2@v2.0.0-3  # nested module ./v2 of gazelle v0.53.0
BUILDOZER=github.com/bazelbuild/buildtools/buildozer@v0.0.0-20250930140053-2eb4fccefb52  # as pinned by gazelle

# git: for tools/bazel/workspace_status.sh (--stamp) inside the chroot
DEBS="bazel-bootstrap bazel-rules-pkg bazel-rules-shell bazel-lib protobuf-compiler libprotobuf-dev git"

t0=$(date +%s)
step() { echo "=== [$(( $(date +%s) - t0 ))s] $*"; }
export GOMODCACHE=$CACHE/gomod GOFLAGS=-mod=mod GOTOOLCHAIN=local
export PATH=$GOROOT_HOST/bin:$PATH
mkdir -p "$CACHE"/{gomod,gocache,gopath,bazel-disk,bazel-repo,debs}

# ---------------------------------------------------------------- 1. sid chroot + Bazel
if [ ! -x "$R/usr/bin/bazel" ]; then
  step "debootstrap sid"
  command -v debootstrap >/dev/null || { apt-get update -q; apt-get install -y -q debootstrap; }
  # --cache-dir keeps the .debs so a CI cache can make this step offline-ish
  debootstrap --variant=minbase --cache-dir="$CACHE/debs" sid "$R" "$MIRROR"
fi
# The archive's Release files can be "expired" relative to this machine's clock.
echo 'Acquire::Check-Valid-Until "false";' > "$R/etc/apt/apt.conf.d/99no-check-valid-until"

step "mounts"
mnt() { mountpoint -q "$2" || mount "${@:3}" "$1" "$2"; }
mkdir -p "$R/usr/local/go" "$R/cache" "$R/var/cache/apt/archives"
mnt proc "$R/proc" -t proc
mnt /sys "$R/sys" --rbind
mnt /dev "$R/dev" --rbind
mnt "$GOROOT_HOST" "$R/usr/local/go" --bind -o ro
mnt "$CACHE" "$R/cache" --bind
mnt "$CACHE/debs" "$R/var/cache/apt/archives" --bind
for ws in $WORKSPACES; do mkdir -p "$ws" "$R$ws"; mnt "$ws" "$R$ws" --bind; done
# Bazel's output_user_root (see the bazelrc below), at the same path inside and outside the
# chroot, so the bazel-bin/... convenience symlinks resolve on the host too (docker load etc.).
mkdir -p "$BASE/out" "$R$BASE/out"; mnt "$BASE/out" "$R$BASE/out" --bind
# Credentials for `bazel run //k8s:apply` / `//k8s:push` (they run inside the chroot):
# the host's kubeconfig and docker config dirs, read-only, at the same path.
for d in "$HOME/.kube" "$HOME/.docker"; do
  [ -d "$d" ] || continue; mkdir -p "$R$d"; mnt "$d" "$R$d" --bind -o ro
done
cp /etc/resolv.conf "$R/etc/resolv.conf"

if [ ! -x "$R/usr/bin/protoc" ] || ! chroot "$R" dpkg -s $DEBS >/dev/null 2>&1; then
  step "apt-get install $DEBS (in chroot)"
  chroot "$R" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
    "apt-get update -q && apt-get install -y -q --no-install-recommends $DEBS"
fi
# Host CA bundle (it may contain a site-local CA needed to reach the Go module proxy).
# Copied *after* apt, because ca-certificates' postinst regenerates the file.
cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt"
chroot "$R" bazel --version

# ---------------------------------------------------------------- 2. rules_go + gazelle from the Go module proxy
step "go mod download rules_go / gazelle"
dl() { go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }
fresh_copy() { rm -rf "$2"; cp -r "$1" "$2"; chmod -R u+w "$2"
  # module zips drop the executable bit: restore it on every script with a shebang
  find "$2" -type f -exec sh -c 'for f; do [ "$(head -c2 "$f")" = "#!" ] && chmod +x "$f"; done; true' sh {} +; }
mkdir -p "$R$OFF/stubs"
fresh_copy "$(dl $RULES_GO)" "$R$OFF/rules_go"
fresh_copy "$(dl $GAZELLE)"  "$R$OFF/gazelle"
# gazelle's go.work uses ./v2, a nested module that the module zip of the root module omits
fresh_copy "$(dl $GAZELLE_V2)" "$R$OFF/gazelle/v2"
[ -f "$R$OFF/gazelle/v2/go.sum" ] || touch "$R$OFF/gazelle/v2/go.sum"
# go_repository_tools re-checks this generated file list against the tree; make sure it matches
(cd "$R$OFF/gazelle" && GOFLAGS= go run internal/list_repository_tools_srcs.go -dir . \
   -check internal/go_repository_tools_srcs.bzl 2>/dev/null || GOFLAGS= go run internal/list_repository_tools_srcs.go \
   -dir . -generate internal/go_repository_tools_srcs.bzl)

# Go SDK: MODULE.bazel pins go_sdk.download() for linux/amd64 to the Go module proxy's
# golang.org/toolchain zip (sha256 in MODULE.bazel). Pre-seed Bazel's repository cache with the
# very same zip so that Bazel (which never downloads here) finds it by its checksum.
for ws in $WORKSPACES; do
  [ -f "$ws/MODULE.bazel" ] || continue
  sed -n 's/.*"v0\.0\.1-go\([0-9.]*\)\.linux-amd64\.zip", *"\([0-9a-f]\{64\}\)".*/\1 \2/p' "$ws/MODULE.bazel"
done | sort -u | while read -r gover sha; do
  f=$CACHE/bazel-repo/content_addressable/sha256/$sha/file
  [ -f "$f" ] && continue
  step "Go SDK $gover (golang.org/toolchain zip) into the repository cache"
  zip=$(go mod download -json "golang.org/toolchain@v0.0.1-go$gover.linux-amd64" | sed -n 's/^\t"Zip": "\(.*\)",$/\1/p')
  [ "$(sha256sum "$zip" | cut -d' ' -f1)" = "$sha" ] || { echo "sha256 of $zip does not match MODULE.bazel" >&2; exit 1; }
  mkdir -p "${f%/file}"; cp "$zip" "$f.tmp"; mv "$f.tmp" "$f"
done

# ---------------------------------------------------------------- 3. bazel_features: Debian copy + 1 flag
step "stubs"
rm -rf "$R$OFF/bazel_features"; cp -r "$R/usr/share/bazel/tools/features" "$R$OFF/bazel_features"
sed -i 's/^_rules = struct($/_rules = struct(\n    # added for rules_go >= 0.60; Debian ships an older bazel_features\n    instrumented_files_info_has_baseline_coverage_files = ge("9.0.0"),/' \
  "$R$OFF/bazel_features/features.bzl"
grep -q instrumented_files_info_has_baseline_coverage_files "$R$OFF/bazel_features/features.bzl"
# Debian's Bazel reports native.bazel_version == "" ("development version"), which bazel_features
# treats as "newer than everything" => rules_go would use Bazel-9-only APIs (breaks `bazel coverage`).
# Fall back to the package's build label (7.7.1).
sed -i 's|rctx.file("version.bzl", "version = '"'"'" + native.bazel_version + "'"'"'")|rctx.file("version.bzl", "version = '"'"'" + (native.bazel_version or rctx.read("/usr/share/bazel/build-label.txt").strip()) + "'"'"'")|' \
  "$R$OFF/bazel_features/private/version_repo.bzl"
grep -q build-label.txt "$R$OFF/bazel_features/private/version_repo.bzl"

# ---------------------------------------------------------------- 4. stub modules
S=$R$OFF/stubs
mkdir -p "$S/apple_support"; : > "$S/apple_support/BUILD.bazel"
echo 'module(name = "apple_support", version = "0.0.0-stub")' > "$S/apple_support/MODULE.bazel"

# buildozer: bazel_tools uses @buildozer_binary//:buildozer.exe for `bazel mod tidy` (and every
# `bazel mod` command loads the extension). Build the real tool from the Go module proxy.
B=$S/buildozer; mkdir -p "$B"
[ -x "$B/buildozer" ] || GOBIN="$B" CGO_ENABLED=0 go install "$BUILDOZER"
echo 'module(name = "buildozer", version = "0.0.0-stub")' > "$B/MODULE.bazel"
echo 'exports_files(["buildozer"])' > "$B/BUILD.bazel"
cat > "$B/buildozer_binary.bzl" <<'EOF2'
def _repo_impl(rctx):
    rctx.symlink(rctx.attr.binary, "buildozer.exe")
    rctx.file("BUILD.bazel", 'exports_files(["buildozer.exe"])\n')

_buildozer_repo = repository_rule(
    implementation = _repo_impl,
    attrs = {"binary": attr.label(allow_single_file = True)},
)

def _ext_impl(module_ctx):
    _buildozer_repo(name = "buildozer_binary", binary = Label("//:buildozer"))

buildozer_binary = module_extension(
    implementation = _ext_impl,
    tag_classes = {"buildozer": tag_class(attrs = {"sha256": attr.string_dict(), "version": attr.string()})},
)
EOF2
mkdir -p "$S/zlib"; echo 'module(name = "zlib", version = "0.0.0-stub")' > "$S/zlib/MODULE.bazel"
echo 'cc_library(name = "zlib", linkopts = ["-lz"], visibility = ["//visibility:public"])' > "$S/zlib/BUILD.bazel"

# package_metadata (bazel-contrib/supply-chain): provider + rule used by rules_go / gazelle's go_repository
P=$S/package_metadata; mkdir -p "$P/providers" "$P/rules"
echo 'module(name = "package_metadata", version = "0.0.0-stub")' > "$P/MODULE.bazel"
: > "$P/BUILD.bazel"; : > "$P/providers/BUILD.bazel"; : > "$P/rules/BUILD.bazel"
cat > "$P/providers/package_metadata_info.bzl" <<'EOF'
PackageMetadataInfo = provider(
    doc = "Stub of @package_metadata PackageMetadataInfo.",
    fields = {"metadata": "File: JSON metadata", "files": "depset of File"},
)
EOF
cat > "$P/rules/package_metadata.bzl" <<'EOF'
"""Minimal stand-in for @package_metadata//rules:package_metadata.bzl."""

load("//providers:package_metadata_info.bzl", "PackageMetadataInfo")

def _impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".package-metadata.json")
    ctx.actions.write(out, json.encode({"purl": ctx.attr.purl, "label": str(ctx.label)}))
    return [
        DefaultInfo(files = depset([out])),
        PackageMetadataInfo(metadata = out, files = depset([out])),
    ]

_package_metadata = rule(
    implementation = _impl,
    attrs = {"purl": attr.string(), "attributes": attr.label_list()},
)

def package_metadata(name, purl = "", attributes = [], visibility = None, **kwargs):
    # Must not get the package's default metadata applied to itself (self-edge cycle).
    _package_metadata(name = name, purl = purl, attributes = attributes,
                      visibility = visibility, applicable_licenses = [], **kwargs)
EOF

# protobuf: Bazel 7's builtin proto rules + Debian's protoc + WKT protos; no C++/Java runtime
P=$S/protobuf; rm -rf "$P"; mkdir -p "$P/bazel/common" "$P/bazel/private" "$P/google/protobuf"
echo 'module(name = "protobuf", version = "0.0.0-stub")' > "$P/MODULE.bazel"
: > "$P/bazel/BUILD.bazel"; : > "$P/bazel/common/BUILD.bazel"; : > "$P/bazel/private/BUILD.bazel"
cp "$R"/usr/include/google/protobuf/*.proto "$P/google/protobuf/"
printf 'NativeProtoInfo = ProtoInfo\nnative_proto_common = proto_common_do_not_use\n' > "$P/bazel/private/native.bzl"
printf 'def proto_library(**kwargs):\n    native.proto_library(**kwargs)\n' > "$P/bazel/proto_library.bzl"
printf 'load("//bazel/private:native.bzl", "NativeProtoInfo")\nProtoInfo = NativeProtoInfo\n' > "$P/bazel/common/proto_info.bzl"
printf 'load("//bazel/private:native.bzl", "native_proto_common")\nproto_common = native_proto_common\n' > "$P/bazel/common/proto_common.bzl"
printf 'load("//bazel/private:native.bzl", "native_proto_common")\nProtoLangToolchainInfo = native_proto_common.ProtoLangToolchainInfo\n' > "$P/bazel/common/proto_lang_toolchain_info.bzl"
printf '#!/bin/sh\nexec /usr/bin/protoc "$@"\n' > "$P/protoc.sh"; chmod +x "$P/protoc.sh"
cat > "$P/BUILD.bazel" <<'EOF'
# Stub "protobuf" module: Debian's protoc + well-known-type protos from libprotobuf-dev.
load("//bazel:proto_library.bzl", "proto_library")

package(default_visibility = ["//visibility:public"])

sh_binary(
    name = "protoc",
    srcs = ["protoc.sh"],
)

WKT_DEPS = {
    "any": [],
    "api": ["source_context", "type"],
    "descriptor": [],
    "duration": [],
    "empty": [],
    "field_mask": [],
    "source_context": [],
    "struct": [],
    "timestamp": [],
    "type": ["any", "source_context"],
    "wrappers": [],
}

[proto_library(
    name = name + "_proto",
    srcs = ["google/protobuf/%s.proto" % name],
    deps = [":%s_proto" % d for d in deps],
) for name, deps in WKT_DEPS.items()]

proto_library(
    name = "well_known_type_protos",
    deps = [":%s_proto" % name for name in WKT_DEPS],
)
EOF

# remote_coverage_tools (normally downloaded by bazel_tools for `bazel coverage`): shell stand-ins
C=$S/remote_coverage_tools; mkdir -p "$C"; : > "$C/REPO.bazel"
cat > "$C/lcov_merger.sh" <<'EOF'
#!/bin/bash
# Stand-in for Bazel's Java LcovMerger: concatenates the *.dat lcov files of one test
# (rules_go writes $COVERAGE_DIR/go_coverage.*.dat).
set -euo pipefail
dir= out=
for a in "$@"; do case "$a" in --coverage_dir=*) dir=${a#*=};; --output_file=*) out=${a#*=};; esac; done
: > "$out"
find "$dir" -name '*.dat' ! -path "$out" -print0 | sort -z | xargs -0 -r cat >> "$out"
EOF
cat > "$C/coverage_report_generator.sh" <<'EOF'
#!/bin/bash
# Stand-in for Bazel's CoverageOutputGenerator (--combined_report=lcov): concatenates reports.
set -euo pipefail
reports= out=
for a in "$@"; do case "$a" in --reports_file=*) reports=${a#*=};; --output_file=*) out=${a#*=};; esac; done
: > "$out"
while read -r f; do [ -s "$f" ] && cat "$f" >> "$out"; done < "$reports"
EOF
chmod +x "$C"/*.sh
cat > "$C/BUILD.bazel" <<'EOF'
package(default_visibility = ["//visibility:public"])

sh_binary(name = "lcov_merger", srcs = ["lcov_merger.sh"])

sh_binary(name = "coverage_report_generator", srcs = ["coverage_report_generator.sh"])
EOF

# ---------------------------------------------------------------- 5. system-wide bazelrc in the chroot
step "bazelrc"
cat > "$R/etc/bazel-offline.bazelrc" <<EOF
# Generated by setup.sh. Read after Debian's /etc/bazel/bazelrc (which already overrides
# platforms, rules_java, rules_cc, bazel_skylib, rules_license, rules_python, rules_proto).
startup --output_user_root=$BASE/out
common --noenable_workspace
common --repository_disable_download
build --nosandbox_debug

common --override_module=bazel_features=$OFF/bazel_features
common --override_module=rules_shell=/usr/share/bazel/rules/shell
common --override_module=protobuf=$OFF/stubs/protobuf
common --override_module=buildozer=$OFF/stubs/buildozer
common --override_module=zlib=$OFF/stubs/zlib
common --override_module=apple_support=$OFF/stubs/apple_support
common --override_module=package_metadata=$OFF/stubs/package_metadata
common --override_module=rules_go=$OFF/rules_go
common --override_module=gazelle=$OFF/gazelle
common --override_repository=bazel_tools~remote_coverage_tools_extension~remote_coverage_tools=$OFF/stubs/remote_coverage_tools

# Opt-in: Bazel rejects overrides of modules that are not in the graph.
common:rules_pkg --override_module=rules_pkg=/usr/share/bazel/rules/pkg
common:bazel_lib --override_module=bazel_lib=/usr/share/bazel/tools/bazel_lib

# Caches on the host-mounted /cache (persist across chroot rebuilds / CI runs)
# go_deps/gazelle tools: module cache + build cache of the go command
common --repo_env=GO_REPOSITORY_USE_HOST_CACHE=1
common --repo_env=GOMODCACHE=/cache/gomod
common --repo_env=GOCACHE=/cache/gocache
common --repo_env=GOPATH=/cache/gopath
common --repository_cache=/cache/bazel-repo
build --disk_cache=/cache/bazel-disk
# The offline module graph (overrides, stubs) differs from the online one: never write it
# to the checkout's MODULE.bazel.lock.
common --lockfile_mode=off
EOF
grep -q bazel-offline.bazelrc "$R/etc/bazel/bazelrc" || echo 'try-import /etc/bazel-offline.bazelrc' >> "$R/etc/bazel/bazelrc"

# ---------------------------------------------------------------- 6. done marker
# tools/bazel/bazel re-runs setup.sh when this marker does not match the current setup.sh.
sha256sum "$HERE/setup.sh" | cut -d' ' -f1 > "$BASE/.setup-done"
step "done"
