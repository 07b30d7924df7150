#!/usr/bin/env bash
# Wall-time benchmark of `git quickscale split` against `git subtree split`
# on a 2,000-commit project history with 300 commits touching the module
# (see benches/README.md): a full split without the cache, a split with
# nothing new, and a split after one new commit; checks that both tools
# give the same split head.
#
# Usage: benches/split.sh [--keep] [--no-build]
#   --keep      keep the temp dir (its path is printed)
#   --no-build  use the existing target/release/git-quickscale
# Environment: BENCH_SPLIT_COMMITS (2000), BENCH_SPLIT_PREFIX_COMMITS (300),
#              BENCH_SPLIT_RUNS (10), BENCH_SPLIT_SUBTREE_RUNS (3),
#              BENCH_SPLIT_INCREMENTAL_RUNS (10), BENCH_TMPDIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
keep=0
build=1
for arg in "$@"; do
    case "$arg" in
        --keep) keep=1 ;;
        --no-build) build=0 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

command -v python3 >/dev/null || { echo "bench: python3 is required" >&2; exit 1; }
command -v git >/dev/null || { echo "bench: git is required" >&2; exit 1; }

if [ "$build" = 1 ]; then
    echo "== cargo build --release"
    (cd "$repo" && cargo build --release --quiet --bin git-quickscale)
fi
bin_dir="${CARGO_TARGET_DIR:-$repo/target}/release"
[ -x "$bin_dir/git-quickscale" ] || { echo "bench: $bin_dir/git-quickscale not built" >&2; exit 1; }

tmp="$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/qs-split-bench.XXXXXX")"
cleanup() {
    if [ "$keep" = 1 ]; then echo "bench: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

mkdir -p "$tmp/home" "$tmp/bin"
cat >"$tmp/home/.gitconfig" <<'CFG'
[user]
	name = Bench User
	email = bench@example.com
[init]
	defaultBranch = main
CFG
export HOME="$tmp/home"
export GIT_CONFIG_GLOBAL="$tmp/home/.gitconfig"
export GIT_CONFIG_NOSYSTEM=1
export TZ=UTC LC_ALL=C NO_COLOR=1 QUICKSCALE_INDEX=
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_EXEC_PATH GIT_AUTHOR_DATE GIT_COMMITTER_DATE

ln -s "$bin_dir/git-quickscale" "$tmp/bin/git-quickscale"
subtree=""
if git subtree -h 2>&1 | grep -q "git subtree add"; then
    subtree="git exec path"
else
    for c in /usr/lib/git-core/git-subtree /usr/libexec/git-core/git-subtree \
             /usr/share/doc/git/contrib/subtree/git-subtree.sh; do
        if [ -f "$c" ]; then
            ln -s "$c" "$tmp/bin/git-subtree"
            subtree="$c"
            break
        fi
    done
fi
export PATH="$tmp/bin:$PATH"

echo "== machine"
echo "nproc:        $(nproc)"
echo "cpu:          $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
echo "git:          $(git --version)"
echo "git-subtree:  ${subtree:-NOT FOUND}"
echo "quickscale:   $(git quickscale --version)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

python3 "$here/split.py" --work "$tmp" --subtree "${subtree:+yes}"
