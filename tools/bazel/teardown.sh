#!/bin/bash
# tools/bazel/teardown.sh - stop the Bazel servers of the offline chroot and undo setup.sh's
# mounts. Keeps the chroot and all caches (the next tools/bazel/bazel sets up again, ~10 s).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KXDS_CACHE=${KXDS_CACHE:-$HOME/.cache/kxds}
BASE=${BASE:-$KXDS_CACHE/bazel-offline}
R=$BASE/sid
[ -d "$R" ] || exit 0
if mountpoint -q "$R$REPO" && mountpoint -q "$R/proc"; then
  chroot "$R" /usr/bin/env -i HOME=/root PATH=/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh -c 'cd "$0" && bazel shutdown' "$REPO" 2>/dev/null || true
fi
# Servers of other checkouts or output bases using this chroot: stop them by their pid file.
for f in "$BASE"/out/*/server/server.pid.txt "$BASE"/out/*/*/server/server.pid.txt; do
  [ -f "$f" ] || continue
  ob=${f%/server/server.pid.txt}; pid=$(cat "$f" 2>/dev/null || true)
  # only if that pid really is the Bazel server of this output base
  [ -n "$pid" ] && tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qx -- "--output_base=$ob" || continue
  kill "$pid" && echo "teardown: stopped Bazel server $pid ($ob)"
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
done
# deepest mount points first
grep " $R[/ ]" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
left=$(grep -c " $R[/ ]" /proc/mounts || true)
echo "teardown: $left mounts left under $R"
