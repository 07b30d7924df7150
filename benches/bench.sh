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
# Environment: BENCH_EMBED_RUNS (7), BENCH_STATUS_RUNS (20), BENCH_STATUS_WARMUP (3),
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
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

tmp="$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/qs-bench.XXXXXX")"
cleanup() {
    if [ "$keep" = 1 ]; then echo "bench: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# Hermetic git: a private global config, no system config, fixed identity and dates.
mkdir -p "$tmp/home" "$tmp/bin"
cat >"$tmp/home/.gitconfig" <<'EOF'
[user]
	name = Bench User
	email = bench@example.com
[init]
	defaultBranch = main
[protocol "file"]
	allow = always
[advice]
	detachedHead = false
EOF
export HOME="$tmp/home"
export GIT_CONFIG_GLOBAL="$tmp/home/.gitconfig"
export GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Bench User" GIT_AUTHOR_EMAIL="bench@example.com"
export GIT_COMMITTER_NAME="Bench User" GIT_COMMITTER_EMAIL="bench@example.com"
export GIT_AUTHOR_DATE="2026-01-02T03:04:05Z" GIT_COMMITTER_DATE="2026-01-02T03:04:05Z"
export TZ=UTC LC_ALL=C NO_COLOR=1 QUICKSCALE_INDEX=
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_EXEC_PATH

# `git quickscale` must resolve to the binary just built.
ln -s "$bin_dir/git-quickscale" "$tmp/bin/git-quickscale"

# git-subtree: on git's exec path, or a known location linked into $tmp/bin.
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
echo "kernel:       $(uname -sr)"
echo "git:          $(git --version)"
subtree_from=""
if [ -n "$subtree" ] && [ -f "$subtree" ] && command -v dpkg >/dev/null; then
    pkg="$(dpkg -S "$subtree" 2>/dev/null | cut -d: -f1 || true)"
    [ -n "$pkg" ] && subtree_from=" (package $pkg $(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true))"
fi
echo "git-subtree:  ${subtree:-NOT FOUND}$subtree_from"
echo "quickscale:   $(git quickscale --version)"
echo "python:       $(python3 --version 2>&1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "temp dir:     $tmp"

exec_args=(--work "$tmp" --subtree "${subtree:+yes}")
python3 "$here/bench.py" "${exec_args[@]}"
