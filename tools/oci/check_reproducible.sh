#!/usr/bin/env bash
# tools/oci/check_reproducible.sh [TARGETS...] - build the images twice from scratch, in two
# fresh Bazel output bases without the disk cache, and check that every image digest is the
# same both times (unstamped builds must be bit-for-bit reproducible).
#
#   tools/oci/check_reproducible.sh                      # //k8s:images and the test images
#   BAZEL=bazel tools/oci/check_reproducible.sh //k8s:echo_image
#
# Takes two cold builds (~3-4 min each on 2 cores). Output bases go below $REPRO_BASE
# (default: the offline setup's output root, which the chroot sees at the same path).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BAZEL=${BAZEL:-tools/bazel/bazel}
base=${REPRO_BASE:-${KXDS_CACHE:-$HOME/.cache/kxds}/bazel-offline/out/repro}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(//k8s:images //tools/oci/testdata:hello_image)
rm -rf "$base"; mkdir -p "$base"
for i in 1 2; do
  ob=$base/$i
  echo "=== build $i (output base $ob)" >&2
  "$BAZEL" --output_base="$ob" build --disk_cache= --noremote_accept_cached "${targets[@]}" >&2
  bin=$("$BAZEL" --output_base="$ob" info bazel-bin 2>/dev/null)
  (cd "$bin" && find . -name '*.digest' -print0 | sort -z | xargs -0 grep -H .) > "$base/digests.$i"
  "$BAZEL" --output_base="$ob" shutdown >&2 || true
done
cat "$base/digests.1"
if [ ! -s "$base/digests.1" ]; then echo "no .digest files found" >&2; exit 1; fi
if diff "$base/digests.1" "$base/digests.2"; then
  echo "reproducible: $(wc -l < "$base/digests.1") image digests identical in two clean builds"
  rm -rf "$base"
else
  echo "NOT reproducible (outputs kept in $base)" >&2; exit 1
fi
