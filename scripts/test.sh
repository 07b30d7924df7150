#!/usr/bin/env bash
# The whole test suite, runnable on a fresh machine (and by CI via .ci/run).
# It installs what it needs: Rust crates (cargo), and — inside the tests —
# Python venvs with Django from the package index and the React theme's npm
# packages, because the generated projects are tested for real.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required ($2)" >&2; exit 1; }; }
need cargo "install Rust with https://rustup.rs"
need git "install git"
need python3 "install Python 3.11 or newer"
need npm "install Node.js 20 or newer"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: Python 3.11 or newer is required" >&2; exit 1; }
python3 -m venv --help >/dev/null || { echo "error: python3 -m venv is required (Debian: apt install python3-venv)" >&2; exit 1; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The generated-project tests (Django checks, pytest, npm build, Vitest) run
# only when these are set, and say so when they are skipped.
export QUICKSCALE_PYTHON_TESTS=1
export QUICKSCALE_NPM_TESTS=1

# The git-subtree oracle tests compare hashes with the real script (with
# CI=true they fail without it). Skipped tests are listed at the end.
if [ -z "${QUICKSCALE_GIT_SUBTREE:-}" ]; then
    for s in "$(git --exec-path)/git-subtree" "$(command -v git-subtree || true)" /usr/lib/git-core/git-subtree \
        /usr/libexec/git-core/git-subtree /usr/share/doc/git/contrib/subtree/git-subtree.sh; do
        if [ -n "$s" ] && [ -f "$s" ]; then export QUICKSCALE_GIT_SUBTREE="$s" && break; fi
    done
fi
# The wheel, pre-commit and zizmor tests need maturin, pre-commit and zizmor (from PyPI, in a
# venv of their own; tests/integration/common/release.rs makes the same one
# when it is missing). The wheel is built once per run and shares the README
# test's release build.
tools="target/test-cache/tools"
if [ ! -x "$tools/bin/maturin" ] || [ ! -x "$tools/bin/pre-commit" ] || [ ! -x "$tools/bin/zizmor" ]; then
    mkdir -p target/test-cache
    python3 -m venv "$tools"
    "$tools/bin/python" -m pip install -q "maturin>=1.7,<2" pre-commit zizmor
fi

mkdir -p target && export QUICKSCALE_SKIP_LOG="$PWD/target/test-skips.log" && : >"$QUICKSCALE_SKIP_LOG"

# The tests' repositories and projects go to a tmpfs when there is one
# with room (4 GiB). The suite creates and deletes a few hundred thousand
# files, which costs minutes on a disk: on ext4 without a journal every
# new file skips each inode freed in the last minutes (README,
# "Prerequisites"; 22.7 min on /tmp against 20.1-20.4 min here). It also
# leaves the disk without those freed inodes for a bench run after it.
# QUICKSCALE_TEST_TMPDIR names another parent; empty keeps TMPDIR as it is.
if [ -z "${QUICKSCALE_TEST_TMPDIR+set}" ]; then
    QUICKSCALE_TEST_TMPDIR=""
    if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
        [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -ge 4194304 ] 2>/dev/null; then
        QUICKSCALE_TEST_TMPDIR=/dev/shm
    fi
fi
test_tmp=""
if [ -n "$QUICKSCALE_TEST_TMPDIR" ]; then
    test_tmp="$(mktemp -d "$QUICKSCALE_TEST_TMPDIR/qs-test.XXXXXX")"
    export TMPDIR="$test_tmp"
fi
echo "temporary files of the tests: ${TMPDIR:-/tmp}"
finish() {
    [ -z "$test_tmp" ] || rm -rf "$test_tmp"
    [ ! -s "$QUICKSCALE_SKIP_LOG" ] || { echo; echo "Skipped tests ($(wc -l <"$QUICKSCALE_SKIP_LOG")):"; cat "$QUICKSCALE_SKIP_LOG"; }
}
trap finish EXIT

# One test thread per core: the integration tests are CPU-bound (Django
# migrations, npm builds, a release build, git). A third thread on two
# cores made them slower: 887-892 s in three fresh-clone runs against
# 720 s with two, and dj-stripe's migration from scratch took 263 s
# against 116 s. Set RUST_TEST_THREADS to override.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-$(nproc 2>/dev/null || echo 2)}"

# A CI run builds from scratch once: incremental compilation would only
# add work there.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --no-fail-fast
