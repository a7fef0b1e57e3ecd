#!/usr/bin/env bash
# Regenerates the Go code for every .proto under protos/ with pinned generators.
#
# Usage: protos/generate.sh [OUTDIR]   (default: protos/ itself)
#
# The generators are built from the Go module proxy at the versions below and
# cached under ${KXDS_CACHE:-~/.cache/kxds}/protogen, so no system protoc is
# needed and every machine produces byte-identical files. generate_test.go runs
# this script into a temporary directory and fails when the committed code
# differs.
set -euo pipefail

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
bin=${KXDS_CACHE:-$HOME/.cache/kxds}/protogen/buf-$BUF_VERSION-go-$PROTOC_GEN_GO_VERSION-grpc-$PROTOC_GEN_GO_GRPC_VERSION
if [ ! -x "$bin/buf" ] || [ ! -x "$bin/protoc-gen-go" ] || [ ! -x "$bin/protoc-gen-go-grpc" ]; then
  mkdir -p "$bin"
  export GOBIN=$bin GOFLAGS=-mod=mod GOWORK=off
  go install "github.com/bufbuild/buf/cmd/buf@$BUF_VERSION"
  go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
fi
cd "$here"
PATH=$bin:$PATH BUF_CACHE_DIR=${BUF_CACHE_DIR:-$bin/cache} buf generate --output "$out"
