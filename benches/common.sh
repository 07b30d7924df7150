# Shared set-up of the bench scripts (sourced by bench.sh, startup.sh,
# scale.sh, split.sh is separate): builds the release binary unless
# build=0, makes a temp dir $tmp with a hermetic git config, puts the
# binary (and git-subtree, when found: $subtree) on PATH, prints the machine.
# Expects: here, repo, keep, build. BENCH_BIN: the binary to time.
command -v python3 >/dev/null || { echo "bench: python3 is required" >&2; exit 1; }
command -v git >/dev/null || { echo "bench: git is required" >&2; exit 1; }

if [ "$build" = 1 ]; then
    echo "== cargo build --release"
    (cd "$repo" && cargo build --release --quiet --bin git-quickscale)
fi
# BENCH_BIN: another binary (e.g. a copy, so a long run is not disturbed by rebuilds).
bin="${BENCH_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/git-quickscale}"
[ -x "$bin" ] || { echo "bench: $bin not built" >&2; exit 1; }

tmp="$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/qs-bench.XXXXXX")"
cleanup() {
    if [ "$keep" = 1 ]; then echo "bench: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# Hermetic git: a private global config, no system config, fixed identity and dates,
# no automatic gc (a detached gc would run during the timings and the copies).
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
[gc]
	auto = 0
EOF
export HOME="$tmp/home"
export GIT_CONFIG_GLOBAL="$tmp/home/.gitconfig"
export GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Bench User" GIT_AUTHOR_EMAIL="bench@example.com"
export GIT_COMMITTER_NAME="Bench User" GIT_COMMITTER_EMAIL="bench@example.com"
export GIT_AUTHOR_DATE="2026-01-02T03:04:05Z" GIT_COMMITTER_DATE="2026-01-02T03:04:05Z"
export TZ=UTC LC_ALL=C NO_COLOR=1 QUICKSCALE_INDEX=
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_EXEC_PATH

# Peak memory is measured through a small C launcher (see peak_rss.c).
if command -v cc >/dev/null && cc -O2 -o "$tmp/bin/peak_rss" "$here/peak_rss.c" 2>/dev/null; then
    export BENCH_PEAK_RSS="$tmp/bin/peak_rss"
else
    echo "bench: no C compiler: peak memory is not measured" >&2
    unset BENCH_PEAK_RSS
fi

# `git quickscale` must resolve to the binary just built: a copy, as
# `cargo install` makes. The linker's own output file sits in the page cache
# as the linker wrote it (small pages), and every run of it took about 10%
# more page faults than a copy of the same bytes (219 against 200 for the
# small project's hook), which the installed binary does not pay.
cp "$bin" "$tmp/bin/git-quickscale"

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
# A stale hot-symbols.txt costs page faults, never correctness (the
# linker skips unknown names): say how much of it the binary still has.
if command -v nm >/dev/null && [ -s "$here/hot-symbols.txt" ]; then
    hot_total="$(wc -l <"$here/hot-symbols.txt")"
    hot_found="$(nm --defined-only "$bin" 2>/dev/null | awk '{print $3}' | sort -u \
        | comm -12 - <(sort -u "$here/hot-symbols.txt") | wc -l)"
    hot_note=""
    [ "$hot_found" -lt $((hot_total * 9 / 10)) ] && hot_note="  STALE: run benches/hot-symbols.sh"
    echo "hot symbols:  $hot_found of $hot_total found in the binary$hot_note"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "temp dir:     $tmp"

