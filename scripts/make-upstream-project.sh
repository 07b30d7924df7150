#!/usr/bin/env bash
# Makes a project with upstream QuickScale's own CLI at a release, for
# QUICKSCALE_UPSTREAM_PROJECT (tests/integration/test_adopt.rs,
# adopts_a_copy_of_a_real_upstream_project) and for trying adopt by hand.
#
# Usage: scripts/make-upstream-project.sh OUTPUT_DIR [RELEASE]
#   RELEASE  an upstream tag (0.73.0, 0.76.0, …); default: the commit
#            scripts/upstream-cli-fixture.sh runs (54e5816, 0.79.0)
#   QUICKSCALE_UPSTREAM_REPO     a local clone or mirror of upstream (with
#                                splits/<m>-module branches); required
#   QUICKSCALE_UPSTREAM_MODULES  default auth,crm,notifications (0.79) or
#                                auth,crm,blog (an older release; 0.71.0
#                                has no crm: auth,blog)
#   QUICKSCALE_UPSTREAM_THEME    default showcase_html
# Prints the project's path (OUTPUT_DIR/upproj) on its last line.
#
# Upstream's CLI embeds each module from the tip of its split branch on the
# day it runs. For a RELEASE, a bare copy of the repository is made whose
# splits/* branches are where they were on the release's date (the newest
# commit before the next day), so the project is what a user of that
# release got; the rest is scripts/upstream-cli-fixture.sh (which documents
# what it changes to run offline on Python 3.12/3.13).
set -euo pipefail

out=${1:?usage: $0 OUTPUT_DIR [RELEASE]}
release=${2:-}
repo=${QUICKSCALE_UPSTREAM_REPO:?set QUICKSCALE_UPSTREAM_REPO to a local clone of github.com/Experto-AI/quickscale}
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "$release" ]; then
    exec "$here/upstream-cli-fixture.sh" "$out"
fi

git -C "$repo" rev-parse --verify --quiet "refs/tags/$release^{commit}" >/dev/null \
    || { echo "error: $repo has no tag $release" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
past="$out/upstream-$release.git"
rm -rf "$past"
git init --quiet --bare "$past"
git -C "$past" fetch --quiet "$repo" 'refs/tags/*:refs/tags/*'
# The day after the release, in the tag's own time zone.
day=$(git -C "$repo" log -1 --format=%cs "$release^{commit}")
before=$(date -u -d "$day + 1 day" +%Y-%m-%d)
branches=$(git -C "$repo" for-each-ref --format='%(refname)' \
    refs/heads/splits/ refs/remotes/origin/splits/)
[ -n "$branches" ] || { echo "error: $repo has no splits/<m>-module branch" >&2; exit 1; }
for ref in $branches; do
    name=${ref#refs/heads/}
    name=${name#refs/remotes/origin/}
    commit=$(git -C "$repo" rev-list -1 --before="$before" "$ref")
    [ -n "$commit" ] || continue
    git -C "$past" fetch --quiet "$repo" "$commit"
    git -C "$past" update-ref "refs/heads/$name" "$commit"
done
QUICKSCALE_UPSTREAM_REPO="$past" \
    QUICKSCALE_UPSTREAM_COMMIT=$(git -C "$repo" rev-parse "$release^{commit}") \
    QUICKSCALE_UPSTREAM_MODULES=${QUICKSCALE_UPSTREAM_MODULES:-auth,crm,blog} \
    "$here/upstream-cli-fixture.sh" "$out"
