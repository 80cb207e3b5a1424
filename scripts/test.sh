#!/usr/bin/env bash
# Runs every test of the workspace. What the tests need they start themselves and stop.
# Usage: scripts/test.sh [--dry-run] [cargo test args...]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,3s/^# //p' "$0"; }
parse_common_flags "$@"

cd "$REPO_ROOT"
run cargo test --workspace --locked "${REST_ARGS[@]}"
