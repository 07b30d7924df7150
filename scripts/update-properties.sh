#!/usr/bin/env bash
# Runs the property test "updates never touch user code"
# (tests/integration/e2e_3_update_properties.rs) with many cases.
#
# Usage: scripts/update-properties.sh [CASES]   (default 2000)
# Each case builds a project copy, random user edits, random local patches
# and a random upstream version, then runs `git quickscale update`; about
# half a second per case on a small machine. A failure prints the case.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cases="${1:-2000}"
echo "== updates_never_touch_user_code: $cases cases"
QUICKSCALE_UPDATE_CASES="$cases" cargo test --test integration -- \
    e2e_3_update_properties --nocapture
