#!/usr/bin/env bash
# Runs the property test of the in-place quickscale.yml editor
# (tests/yaml_edit_props.rs) for many cases: random documents (non-ASCII,
# CRLF, BOM, comments with tabs, flow and block styles, `---`/`...`) and
# random edits, checking data, untouched lines and comments after each.
#
#   scripts/fuzz-yaml.sh              # 100,000 cases
#   scripts/fuzz-yaml.sh 1000000      # or give the count
#   YAML_FUZZ_CASES=5000 scripts/fuzz-yaml.sh
#   CARGO_FLAGS=--release scripts/fuzz-yaml.sh   # faster per case, slower build
#
# The normal test suite runs the same test with 2,000 cases. A failure is
# shrunk to a minimal document and edit, printed, and saved next to the test
# (tests/yaml_edit_props.regressions) so every later run tries it first.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-${YAML_FUZZ_CASES:-100000}}"
echo "yaml editor property test: $cases cases"
start=$(date +%s)
# shellcheck disable=SC2086
YAML_FUZZ_CASES="$cases" cargo test ${CARGO_FLAGS:-} --locked --test yaml_edit_props -- --nocapture
echo "yaml editor property test: $cases cases passed in $(($(date +%s) - start)) s"
