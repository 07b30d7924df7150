#!/usr/bin/env bash
# Publishes every module folder of this repository — each committed
# modules/<name>/ with a module.yml — as the branch splits/<name>-module:
# its history alone, made by `git quickscale split` (the same commits as
# `git subtree split`), so the bundled catalog and users can embed it with
# `<name>@splits/<name>-module`. See docs/user-guide.md, "Publishing modules".
#
# Usage: scripts/publish-modules.sh [--push REMOTE] [NAME...]
#   NAME...        only these modules (default: every module folder)
#   --push REMOTE  also push each branch to REMOTE (a remote name or URL);
#                  never forced, so a branch that moved there is refused
# Environment: QUICKSCALE, the command to run (default: "git quickscale";
#              CI sets it to the binary it built).
#
# The branches only move forward: a split of a later commit builds on the
# previous split, and `split --branch` refuses to move a branch backwards.
set -euo pipefail

remote=""
names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --push) remote="${2:?--push needs a remote}"; shift 2 ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "publish-modules: unknown option $1" >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done

read -r -a qs <<<"${QUICKSCALE:-git quickscale}"
cd "$(git rev-parse --show-toplevel)"

if [ ${#names[@]} -eq 0 ]; then
    # Committed folders only: the split reads HEAD, not the worktree.
    while IFS= read -r dir; do
        name="${dir#modules/}"
        if git cat-file -e "HEAD:modules/$name/module.yml" 2>/dev/null; then
            names+=("$name")
        else
            echo "publish-modules: skipping modules/$name (no module.yml)" >&2
        fi
    done < <(git ls-tree -d --name-only HEAD modules/ 2>/dev/null)
fi
if [ ${#names[@]} -eq 0 ]; then
    echo "publish-modules: no module folders (modules/<name>/module.yml) at HEAD" >&2
    exit 1
fi

for name in "${names[@]}"; do
    branch="splits/$name-module"
    commit="$("${qs[@]}" split "$name" --branch "$branch")"
    echo "$branch $commit"
    if [ -n "$remote" ]; then
        git push --quiet --no-verify "$remote" "refs/heads/$branch:refs/heads/$branch"
    fi
done
