#!/bin/sh
# Bazel --workspace_status_command (see .bazelrc). Keys starting with STABLE_ go to
# stable-status.txt; a change re-runs stamped actions. Used only by --stamp builds.
# Works without git (e.g. in a source tarball): then the keys are simply missing.
if commit=$(git rev-parse HEAD 2>/dev/null); then
  echo "STABLE_GIT_COMMIT $commit"
  # e.g. v0.3.0, v0.3.0-4-gabc1234, or abc1234; "-dirty" if the tree has local changes
  echo "STABLE_KXDS_VERSION $(git describe --tags --always --dirty 2>/dev/null)"
fi
