#!/usr/bin/env bash
# build.sh: build kube-apiserver + kube-controller-manager (from tools/k8s-local/k8s)
# and etcd (from tools/k8s-local/etcd) from the Go module proxy into a cache dir
# outside the checkout, so integration tests can run a real control plane.
#
#   ${KXDS_CACHE:-$HOME/.cache/kxds}/k8s-bins/<key>/{kube-apiserver,kube-controller-manager,etcd,.done}
#   ${KXDS_CACHE:-$HOME/.cache/kxds}/k8s-bins/current -> <key>
#
# <key> = k8s version, etcd version, go version, GOOS/GOARCH and a hash of the
# build flags and of the tools modules' go.mod/go.sum/sources, so a change to any
# of them builds into a fresh dir. A dir with a .done marker is reused as is
# (0 s); a cold build takes about 11-13 min on 2 cores and ~2.6 GB RAM.
#
# The `current` symlink is how the Go test harness
# (tools/kubetest, module github.com/kxds/kxds/tools/kubetest) finds the binaries without repeating
# the key computation; KXDS_K8S_BIN=<dir> overrides it there.
#
# Logs go to stderr; the last stdout line is the bin dir.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KXDS_CACHE:-${HOME}/.cache/kxds}/k8s-bins

# The tools modules are deliberately not in /work/main/go.work: build them on their own.
export GOWORK=off CGO_ENABLED=0

# Versions come from the tools modules' go.mod, the single source of truth.
k8s_version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$here/k8s/go.mod")
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2} $1 == "require" && $2 == "go.etcd.io/etcd/server/v3" {print $3}' "$here/etcd/go.mod" | head -n1)
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "build.sh: cannot read k8s.io/kubernetes or go.etcd.io/etcd/server/v3 version from $here/{k8s,etcd}/go.mod" >&2
  exit 1
fi
k8s_minor=$(echo "$k8s_version" | cut -d. -f2)
# Asked from inside the tools module: that is the toolchain that will build it.
go_version=$(cd "$here/k8s" && go env GOVERSION)
goos_arch=$(cd "$here/k8s" && go env GOOS)-$(cd "$here/k8s" && go env GOARCH)
goflags=$(cd "$here/k8s" && go env GOFLAGS)

# Same flags as upstream hack/lib/golang.sh: static, trimmed, stripped; the -X
# version stamps make `kube-apiserver --version` and /version report the real version.
k8s_tags=selinux,notest,grpcnotrace
k8s_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
etcd_ldflags="-s -w"

flags_hash=$(
  {
    echo "CGO_ENABLED=$CGO_ENABLED GOFLAGS=$goflags tags=$k8s_tags k8s_ldflags=$k8s_ldflags etcd_ldflags=$etcd_ldflags"
    cat "$here/k8s/go.mod" "$here/k8s/go.sum" "$here/k8s/tools.go" \
        "$here/etcd/go.mod" "$here/etcd/go.sum" "$here/etcd/cmd/etcd/main.go"
  } | sha256sum | cut -c1-12
)
key="k8s-${k8s_version}_etcd-${etcd_version}_${go_version}_${goos_arch}_${flags_hash}"
bin="$cache/$key"

# Point `current` at $bin atomically (readers never see a missing link).
publish() {
  ln -sfn "$key" "$cache/.current.$$"
  mv -T "$cache/.current.$$" "$cache/current"
  echo "$bin"
}

mkdir -p "$cache"
if [[ -f "$bin/.done" ]]; then
  echo "build.sh: cached: $bin" >&2
  publish
  exit 0
fi

# Serialise concurrent builds of the same key (two test runs, or a CI retry):
# the second waits and then finds .done.
exec 9>"$cache/.$key.lock"
flock 9
if [[ -f "$bin/.done" ]]; then
  echo "build.sh: built meanwhile by another process: $bin" >&2
  publish
  exit 0
fi

# Build into a temp dir and rename, so a killed build never leaves a half dir behind a key.
tmp=$(mktemp -d "$cache/.$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "build.sh: building k8s $k8s_version + etcd $etcd_version with $go_version into $bin (cold: ~13 min)" >&2
start=$(date +%s)
(cd "$here/k8s" && go build -trimpath -tags="$k8s_tags" -ldflags="$k8s_ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager) >&2
echo "build.sh: kube-apiserver + kube-controller-manager: $(( $(date +%s) - start ))s" >&2
t=$(date +%s)
(cd "$here/etcd" && go build -trimpath -ldflags="$etcd_ldflags" -o "$tmp/etcd" ./cmd/etcd) >&2
echo "build.sh: etcd: $(( $(date +%s) - t ))s" >&2

"$tmp/kube-apiserver" --version >&2
"$tmp/etcd" --version >&2
printf 'k8s=%s etcd=%s go=%s built=%s seconds=%s\n' "$k8s_version" "$etcd_version" "$go_version" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(( $(date +%s) - start ))" > "$tmp/.done"

rm -rf "$bin"
mv -T "$tmp" "$bin"
trap - EXIT
chmod 755 "$bin"
echo "build.sh: done in $(( $(date +%s) - start ))s" >&2
publish
