#!/usr/bin/env bash
# Regenerates benches/hot-symbols.txt: the functions of git-quickscale that
# the everyday short commands run (--version, status, status --json, the
# pre-commit hook with a user file and with a module file staged, check,
# plan), in the order callgrind first lists them. build.rs hands the file to
# the linker (lld's --symbol-ordering-file), which places these functions
# together at the start of .text: a short run then touches about 25 64 KiB
# windows of code instead of about 85, and each page fault it saves is ~3 µs
# on a VM (benches/README.md, "Hot code together").
#
# Symbol names carry hashes that change with the compiler version and with
# dependency versions; names the linker does not find are skipped without a
# warning, so a stale file costs speed, never correctness. Rerun after a
# toolchain or Cargo.lock change, or when benches/startup.sh shows more
# faults than benches/README.md records.
#
# Usage: benches/hot-symbols.sh [--no-build]   (needs valgrind and python3)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
keep=0
build=1
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done
command -v valgrind >/dev/null || { echo "hot-symbols: valgrind is required" >&2; exit 1; }
if [ "$build" = 1 ]; then
    # Without the current list, so that no earlier order shapes the profile.
    (cd "$repo" && QUICKSCALE_SYMBOL_ORDER=0 cargo build --release --quiet --bin git-quickscale)
    build=0
fi
source "$here/common.sh"

# The small project of bench.py, run once (its modules, apply, hooks).
BENCH_PARTS=small BENCH_SMALL_RUNS=1 BENCH_STATUS_WARMUP=0 \
    python3 "$here/bench.py" --work "$tmp" --subtree "" >"$tmp/bench.log" 2>&1 \
    || { cat "$tmp/bench.log" >&2; exit 1; }
project="$tmp/small/shop"
[ -f "$project/quickscale.yml" ] || { echo "hot-symbols: no project in $project" >&2; exit 1; }

# profile NAME [VAR=value...] -- COMMAND...
profile() {
    local name="$1"; shift
    local vars=()
    while [ "$1" != "--" ]; do vars+=("$1"); shift; done
    shift
    (cd "$project" && env "${vars[@]}" valgrind --tool=callgrind --demangle=no \
        --callgrind-out-file="$tmp/cg.$name" "$@" >/dev/null 2>"$tmp/cg.$name.err") || true
    [ -s "$tmp/cg.$name" ] || { cat "$tmp/cg.$name.err" >&2; exit 1; }
}
qs="$tmp/bin/git-quickscale"
profile version -- "$qs" --version
profile status-miss QUICKSCALE_STATUS_CACHE=0 -- "$qs" status
profile status -- "$qs" status
profile status-hit -- "$qs" status
profile status-json -- "$qs" status --json
profile hook-user -- "$qs" hooks run pre-commit
module_file="$(cd "$project" && git ls-files modules | grep '\.py$' | head -n 1)"
echo "# a local edit" >>"$project/$module_file"
git -C "$project" add "$module_file"
profile hook-module -- "$qs" hooks run pre-commit
profile check -- "$qs" check
profile plan -- "$qs" plan

python3 - "$tmp" "$qs" "$repo/benches/hot-symbols.txt" <<'EOF'
import re, subprocess, sys
tmp, binary, out = sys.argv[1:]
names = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
ours = {p[2] for p in (l.split() for l in names.splitlines()) if len(p) == 3 and p[1] in "tTwW"}
order, seen = [], set()
for name in ("version", "status-miss", "status", "status-hit", "status-json",
             "hook-user", "hook-module", "check", "plan"):
    for line in open(f"{tmp}/cg.{name}", encoding="utf-8", errors="replace"):
        m = re.match(r"c?fn=\(\d+\) (\S+)", line)
        if m and m.group(1) in ours and m.group(1) not in seen:
            seen.add(m.group(1))
            order.append(m.group(1))
with open(out, "w") as f:
    f.write("\n".join(order) + "\n")
print(f"hot-symbols: {len(order)} functions written to {out}")
EOF
