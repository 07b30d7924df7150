#!/usr/bin/env bash
# The five comparisons of issue 23 in one run, each with its goal
# (MEETS/MISSES), plus the load average: fixed start-up costs and the
# lead over git-subtree.
#   git-quickscale --version              vs  git --version                        <= 1.2x
#   git quickscale status (5 modules)     vs  git status                           <= 1.2x
#   the installed pre-commit hook         vs  git diff --cached --name-only        <= 1.2x
#     (small project, and the 50,000-file project)
#   git quickscale update --all (5)       vs  5 x git subtree pull --squash        <= 0.2x
#   git quickscale apply (5 modules)      vs  5 x git subtree add --squash         <= 0.15x
# Usage: benches/startup.sh [--keep] [--no-build]   (the knobs of bench.sh apply)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export BENCH_PARTS="${BENCH_PARTS:-version,small,hook,update,embed}"
export BENCH_UPDATE_MODULES="${BENCH_UPDATE_MODULES:-5}"
export BENCH_GOAL_VERSION=1.2 BENCH_GOAL_SMALL=1.2 BENCH_GOAL_HOOK=1.2
export BENCH_GOAL_UPDATE=0.2 BENCH_GOAL_EMBED=0.15
exec "$here/bench.sh" "$@"
