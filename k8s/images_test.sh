#!/usr/bin/env bash
# Smoke test of the kxds images: unpack each one and run its entrypoint with --help, chrooted
# into the image as its non-root user when running as root (tools/oci/ocirun). This proves
# the binary is static, runs on the empty base image, and is the right program.
# Args: OCIRUN then triples of LAYOUT_DIR EXPECTED_TEXT NAME.
set -uo pipefail
ocirun=$1; shift
fail=0
while [ $# -ge 3 ]; do
  layout=$1 want=$2 name=$3; shift 3
  out=$("$ocirun" --layout="$layout" -- --help 2>&1); code=$?
  # Go's flag package exits 0 (or 2 with ContinueOnError + custom handling) for --help.
  if { [ "$code" = 0 ] || [ "$code" = 2 ]; } && grep -q -- "$want" <<<"$out"; then
    echo "ok   $name: --help exits $code and mentions $want"
  else
    echo "FAIL $name: --help exited $code, output:"; echo "$out" | head -20; fail=1
  fi
done
exit $fail
