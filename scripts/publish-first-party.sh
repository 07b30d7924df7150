#!/usr/bin/env bash
# Publishes this repository's first-party modules — each committed
# modules/<name>/ that has a module.yml — as the branch splits/<name>-module:
# the module's history alone, with the module at the root, which the bundled
# catalog points at (`billing` → splits/billing-module of this repository).
# See docs/user-guide.md, "First-party modules".
#
# Usage: scripts/publish-first-party.sh [--push REMOTE] [NAME...]
#   NAME...        only these modules (default: every module folder)
#   --push REMOTE  also push each branch to REMOTE (a remote name, URL or
#                  path); never forced, so a branch that moved there is refused
# Environment:
#   QUICKSCALE_SPLIT        auto (default): `git quickscale split` when this
#                           git-quickscale has it, else `git subtree split`;
#                           or force one: quickscale | subtree
#   QUICKSCALE              the git-quickscale command (default: "git quickscale")
#   QUICKSCALE_GIT_SUBTREE  the git-subtree script, when `git subtree` is not
#                           installed as a git command (Debian: /usr/lib/git-core/git-subtree)
#
# Both splitters make the same commits (`git quickscale split` reproduces
# `git subtree split`), so switching between them never rewrites a published
# branch. The branches only move forward: a split of a later commit builds on
# the previous split.
set -euo pipefail

remote=""
names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --push) remote="${2:?--push needs a remote}"; shift 2 ;;
        -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "publish-first-party: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done

read -r -a qs <<<"${QUICKSCALE:-git quickscale}"
cd "$(git rev-parse --show-toplevel)"

splitter="${QUICKSCALE_SPLIT:-auto}"
if [ "$splitter" = auto ]; then
    if "${qs[@]}" split --help >/dev/null 2>&1; then splitter=quickscale; else splitter=subtree; fi
fi
case "$splitter" in
    quickscale) ;;
    subtree)
        if ! git subtree -h 2>&1 | grep -q "git subtree"; then
            script="${QUICKSCALE_GIT_SUBTREE:-}"
            if [ -z "$script" ] || [ ! -f "$script" ]; then
                echo "publish-first-party: git subtree is not installed; set QUICKSCALE_GIT_SUBTREE to the git-subtree script (it ships with git: Debian /usr/lib/git-core/git-subtree)" >&2
                exit 1
            fi
            # git runs git-<command> from PATH.
            bin="$(mktemp -d)"
            trap 'rm -rf "$bin"' EXIT
            ln -s "$script" "$bin/git-subtree"
            export PATH="$bin:$PATH"
        fi
        ;;
    *) echo "publish-first-party: QUICKSCALE_SPLIT must be auto, quickscale or subtree, not $splitter" >&2; exit 2 ;;
esac

if [ ${#names[@]} -eq 0 ]; then
    # Committed folders only: the split reads HEAD, not the worktree.
    while IFS= read -r dir; do
        name="${dir#modules/}"
        if git cat-file -e "HEAD:modules/$name/module.yml" 2>/dev/null; then
            names+=("$name")
        fi
    done < <(git ls-tree -d --name-only HEAD modules/ 2>/dev/null)
fi
if [ ${#names[@]} -eq 0 ]; then
    echo "publish-first-party: no module folders (modules/<name>/module.yml) at HEAD" >&2
    exit 1
fi

for name in "${names[@]}"; do
    if ! git cat-file -e "HEAD:modules/$name/module.yml" 2>/dev/null; then
        echo "publish-first-party: modules/$name/module.yml is not committed at HEAD" >&2
        exit 1
    fi
    if [ -n "$(git status --porcelain -- "modules/$name")" ]; then
        echo "publish-first-party: note: modules/$name has uncommitted changes; they are not published" >&2
    fi
    branch="splits/$name-module"
    if [ "$splitter" = quickscale ]; then
        commit="$("${qs[@]}" split "$name" --branch "$branch")"
    else
        commit="$(git subtree split -q --prefix="modules/$name" --branch "$branch")"
    fi
    echo "$branch $commit"
    if [ -n "$remote" ]; then
        git push --quiet --no-verify "$remote" "refs/heads/$branch:refs/heads/$branch"
    fi
done
