#!/usr/bin/env bash
# Module updates as pull requests (run by .github/workflows/quickscale-updates.yml;
# opt in with `updates: {pull_requests: true}` in quickscale.yml).
#
# `git quickscale update --check` lists what upstream offers. Each group gets
# one branch and one pull request, opened or refreshed:
#   quickscale/update/compatible    every compatible update together
#   quickscale/update/<module>-major  each breaking (major) update on its own
# Pinned modules (a commit, a non-version tag) are never moved. The branch is
# rebuilt from the base branch each run (`git quickscale update --yes`) and
# force-pushed; its body is `update --dry-run --format markdown`. Open update
# pull requests whose group has nothing left (it landed, or went away) are
# closed with their branch. Needs git-quickscale, git, python3 and the GitHub
# CLI (`gh`, authenticated by GH_TOKEN).
#
#   BASE_BRANCH   the branch updates start from and target (default: the current one)
#   REMOTE        where branches go (default: origin)
set -euo pipefail

remote="${REMOTE:-origin}"
base="${BASE_BRANCH:-$(git rev-parse --abbrev-ref HEAD)}"
prefix="quickscale/update/"
start="$(git rev-parse HEAD)"

set +e
check="$(git quickscale update --check --json)"
status=$?
set -e
# 0: nothing new; 2: updates available; anything else is an error.
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
    echo "error: git quickscale update --check failed (exit $status)" >&2
    exit "$status"
fi

# One line per group: <branch suffix> TAB <title> TAB <update arguments>.
groups="$(printf '%s' "$check" | python3 -c '
import json, sys
data = json.load(sys.stdin)
if not data.get("updates", {}).get("pull_requests"):
    sys.exit(3)
compatible, majors = [], []
for m in data["modules"]:
    name = m["module"]
    if m.get("compatible") or m.get("branch_tip"):
        compatible.append((name, m.get("compatible") or m.get("tip_version") or "the branch tip"))
    if m.get("breaking"):
        majors.append((name, m["breaking"]))
if compatible:
    names = " ".join(n for n, _ in compatible)
    title = "Update " + ", ".join(f"{n} to {v}" for n, v in compatible)
    print(f"compatible\t{title}\t{names}")
for name, version in majors:
    print(f"{name}-major\tUpdate {name} to {version} (breaking)\t{name} --to {version}")
')" || {
    rc=$?
    if [ "$rc" -eq 3 ]; then
        echo "Update pull requests are off: set \`updates: {pull_requests: true}\` in quickscale.yml to turn them on."
        exit 0
    fi
    exit "$rc"
}

wanted=()
while IFS=$'\t' read -r suffix title args; do
    [ -n "$suffix" ] || continue
    branch="$prefix$suffix"
    wanted+=("$branch")
    echo "== $branch: $title"
    git checkout -q -B "$branch" "$start"
    # shellcheck disable=SC2086 # module names and --to REF: words on purpose
    body="$(git quickscale update --dry-run --format markdown $args)"
    # shellcheck disable=SC2086
    git quickscale update --yes $args
    git push -q --force "$remote" "$branch"
    body_file="$(mktemp)"
    printf '%s\n' "$body" >"$body_file"
    number="$(gh pr list --head "$branch" --state open --json number --jq '.[].number' | head -n 1)"
    if [ -n "$number" ]; then
        gh pr edit "$number" --title "$title" --body-file "$body_file"
        echo "refreshed pull request #$number"
    else
        gh pr create --base "$base" --head "$branch" --title "$title" --body-file "$body_file"
    fi
    rm -f "$body_file"
done <<<"$groups"
git checkout -q "$start" 2>/dev/null || true

# Close update pull requests whose group has nothing left to do.
gh pr list --state open --json number,headRefName --jq '.[] | "\(.number) \(.headRefName)"' |
    while read -r number branch; do
        case "$branch" in "$prefix"*) ;; *) continue ;; esac
        for w in "${wanted[@]+"${wanted[@]}"}"; do
            [ "$w" = "$branch" ] && continue 2
        done
        gh pr close "$number" --delete-branch --comment "Closed by git-quickscale: nothing left to update in this group (it landed, or upstream moved on)."
        echo "closed stale pull request #$number ($branch)"
    done
