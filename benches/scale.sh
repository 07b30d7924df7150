#!/usr/bin/env bash
# Scaling curves: status, check, the pre-commit hook, apply and update --all
# at several module counts and project sizes, and split at several history
# lengths, each beside git's own command; writes benches/scaling/*.svg and
# scaling.json (see benches/README.md). The full default set takes hours
# on a 2-core machine: run it in the background.
#
# Usage: benches/scale.sh [--keep] [--no-build] [--out DIR]
# Environment: BENCH_SCALE_MODULES (10,50,100), BENCH_SCALE_FILES
#   (10000,50000,200000), BENCH_SCALE_COMMITS (2000,20000,100000),
#   BENCH_SCALE_SWEEPS (modules,files,commits), BENCH_SCALE_RUNS (7),
#   BENCH_SCALE_HEAVY_RUNS (2), BENCH_SCALE_SUBTREE_SPLIT_MAX (20000),
#   BENCH_SCALE_SUBTREE_SPLIT_TIMEOUT (seconds: above the max, run git subtree
#   split anyway, stopped at this limit and recorded as a lower bound),
#   BENCH_SCALE_SUBTREE_SPLIT_NICE (0: its extra niceness),
#   BENCH_SCALE_FILES_HEAVY_MAX (apply/update in the files sweep only up to
#   this size), BENCH_SCALE_MERGE=1 (keep the points, of an earlier
#   scaling.json, that this run does not measure), BENCH_TMPDIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
keep=0
build=1
out="$here/scaling"
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1 ;;
        --no-build) build=0 ;;
        --out) out="$2"; shift ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"

source "$here/common.sh"

merge=()
[ "${BENCH_SCALE_MERGE:-0}" = 1 ] && merge=(--merge)
python3 "$here/scale.py" --work "$tmp" --subtree "${subtree:+yes}" --out "$out" "${merge[@]}"
