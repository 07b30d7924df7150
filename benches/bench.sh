#!/usr/bin/env bash
# End-to-end wall-time benchmark of the release binary against plain git:
#   1. `git quickscale apply` embedding 5 modules  vs  5 x `git subtree add --squash`
#   2. `git quickscale status` in a 50k-file project with 10 modules  vs  `git status`
#   3. the installed pre-commit hook on a commit in that project  vs  `git diff --cached --name-only`
#   4. `git quickscale update --all` of 10 modules 3 commits behind  vs  10 x `git subtree pull --squash`
#   5. `git quickscale check` in that project  vs  `git status`
# Everything runs in a temp dir with a hermetic git config; prints a summary
# table with medians, minimums and ratios. See benches/README.md.
#
# Usage: benches/bench.sh [--keep] [--no-build]
#   --keep      keep the temp dir (its path is printed)
#   --no-build  use the existing target/release/git-quickscale
# Environment: BENCH_BIN, BENCH_SMALL_RUNS (30), BENCH_UPDATE_MODULES (10), BENCH_GOAL_*,
#              BENCH_EMBED_RUNS (7), BENCH_STATUS_RUNS (20), BENCH_STATUS_WARMUP (3),
#              BENCH_HOOK_RUNS (20), BENCH_UPDATE_RUNS (5), BENCH_CHECK_RUNS (20), BENCH_USER_FILES (49600),
#              BENCH_PARTS (embed,status,hook,check,update), BENCH_TMPDIR (parent of the temp dir).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
keep=0
build=1
for arg in "$@"; do
    case "$arg" in
        --keep) keep=1 ;;
        --no-build) build=0 ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

source "$here/common.sh"

exec_args=(--work "$tmp" --subtree "${subtree:+yes}")
python3 "$here/bench.py" "${exec_args[@]}"
