#!/usr/bin/env bash
# Makes a project with upstream QuickScale's own CLI, from a local clone, as
# a user of upstream would: `quickscale plan` (theme showcase_html; modules
# auth, crm, notifications; no Docker), `quickscale apply --no-docker`, then
# a commit of whatever apply left uncommitted. The adopt tests compare
# Django before and after `git quickscale adopt` on this project
# (tests/integration/test_adopt.rs, gated on QUICKSCALE_UPSTREAM_REPO).
#
# Usage: scripts/upstream-cli-fixture.sh OUTPUT_DIR
#   QUICKSCALE_UPSTREAM_REPO  a local clone (or mirror) of
#                             github.com/Experto-AI/quickscale (its
#                             splits/<m>-module branches local or origin/*)
#   QUICKSCALE_UPSTREAM_COMMIT the upstream commit whose CLI runs (default
#                             54e5816, main of 2026-04-02, version 0.79.0)
#   QUICKSCALE_UPSTREAM_PYTHON the Python (>= 3.12) to run it on (default:
#                             the newest pyenv 3.13.x/3.12.x, else python3.13/3.12)
#   QUICKSCALE_UPSTREAM_CACHE  where the CLI's venv is kept between runs
#                             (default: $TMPDIR/qs-upstream-cli-cache)
#   QUICKSCALE_UPSTREAM_MODULES the modules answered to `plan` (default
#                             auth,crm,notifications)
#   QUICKSCALE_UPSTREAM_THEME  the theme answered to `plan` (default
#                             showcase_html)
# Older CLIs work too: 0.73.0 (c0ce2e9, no `plan --package`) was run with
# a copy of the repository whose splits/* branches were reset to where they
# were on its release date, as a project made then would have them.
# Prints the project's path (OUTPUT_DIR/upproj) on its last line.
#
# What differs from a user's run, and why (each one is needed to run the
# CLI offline below Python 3.14; none changes the files upstream writes
# into the project, except the poetry entry noted below):
#  1. PEP 758 syntax: upstream writes `except A, B:` (unparenthesized
#     exception lists, new in Python 3.14) in 9 files of quickscale_cli
#     and quickscale_core. They are rewritten to `except (A, B):`, the same
#     meaning on every Python 3 (a syntax error below 3.14 otherwise). The
#     modules' own code (auth, crm, notifications) needs no fix.
#  2. The CLI is not pip-installed (its packages declare Python >=3.14):
#     it runs from the clone's sources on PYTHONPATH, in a venv with only
#     its three dependencies (click, Jinja2, PyYAML).
#  3. The network: upstream embeds from https://github.com/Experto-AI/
#     quickscale.git; a private git config redirects that URL to the local
#     clone (url.<clone>.insteadOf), so `git ls-remote`/`git subtree add`
#     read the clone's splits/<m>-module branches.
#  4. git-subtree: when `git subtree` is missing (git built without
#     contrib), the distribution's script is put on PATH.
#  5. poetry: upstream runs `poetry add ./modules/<m>`, `poetry install`,
#     `poetry lock` and `poetry run python manage.py migrate`. Poetry refuses
#     a project declaring python ^3.14 on an older Python, and resolving
#     needs the network, so a shim stands in: `add` writes the path
#     dependency line poetry writes (`<name> = {path = "modules/<m>"}` under
#     [tool.poetry.dependencies]); everything else succeeds doing nothing
#     (no poetry.lock, no migrations: neither is committed by upstream).
set -euo pipefail

out=${1:?usage: $0 OUTPUT_DIR}
repo=${QUICKSCALE_UPSTREAM_REPO:?set QUICKSCALE_UPSTREAM_REPO to a local clone of github.com/Experto-AI/quickscale}
commit=${QUICKSCALE_UPSTREAM_COMMIT:-54e581618981ab3da5a4fa1052b3a1a6b819e8e1}
cache=${QUICKSCALE_UPSTREAM_CACHE:-${TMPDIR:-/tmp}/qs-upstream-cli-cache}
remote=https://github.com/Experto-AI/quickscale.git

find_python() {
    if [ -n "${QUICKSCALE_UPSTREAM_PYTHON:-}" ]; then
        echo "$QUICKSCALE_UPSTREAM_PYTHON"
        return
    fi
    local root
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for minor in 13 12; do
        local found
        found=$(ls -d "$root"/versions/3."$minor".[0-9]* 2>/dev/null | sort -V | tail -1 || true)
        if [ -n "$found" ] && [ -x "$found/bin/python3" ]; then
            echo "$found/bin/python3"
            return
        fi
        if command -v python3."$minor" >/dev/null; then
            command -v python3."$minor"
            return
        fi
    done
    echo "error: no Python >= 3.12 found" >&2
    echo "hint: pyenv install 3.13, or set QUICKSCALE_UPSTREAM_PYTHON" >&2
    exit 1
}

python=$(find_python)
"$python" -c 'import sys; assert sys.version_info >= (3, 12), sys.version' \
    || { echo "error: $python is older than 3.12" >&2; exit 1; }
repo=$(cd "$repo" && pwd)
mkdir -p "$out" "$cache"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/qs-upstream-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A private git configuration: nothing of the user's is read or written.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$work/gitconfig"
# Upstream's CLI looks for the split branches among the remote's branches:
# a plain clone has them as origin/splits/*, so a bare copy with them as
# branches stands in for it.
source_repo=$repo
if ! git -C "$repo" show-ref --verify --quiet refs/heads/splits/auth-module; then
    source_repo="$work/source.git"
    git init --quiet --bare "$source_repo"
    git -C "$source_repo" fetch --quiet "$repo" \
        'refs/remotes/origin/splits/*:refs/heads/splits/*' 'refs/tags/*:refs/tags/*' \
        "$commit"
fi
git config --global url."$source_repo".insteadOf "$remote"
git config --global user.name "Upstream Fixture"
git config --global user.email "fixture@example.com"
git config --global init.defaultBranch main
git config --global commit.gpgsign false
# Fixed dates: the same commit ids on every run.
export GIT_AUTHOR_DATE="2026-04-03T10:00:00+00:00" GIT_COMMITTER_DATE="2026-04-03T10:00:00+00:00"

# 1. The CLI's sources at the fixed commit, with the PEP 758 fix.
git clone --quiet --no-checkout "$repo" "$work/upstream"
git -C "$work/upstream" -c advice.detachedHead=false checkout --quiet "$commit"
src="$work/upstream"
# (`|| true`: CLIs before 3.14 have none, and grep then fails.)
{ grep -rlE '^\s*except [A-Za-z_.]+(, [A-Za-z_.]+)+:' \
    "$src/quickscale_cli/src" "$src/quickscale_core/src" --include='*.py' || true; } \
    | xargs -r sed -i -E 's/^(\s*)except ([A-Za-z_.]+(, [A-Za-z_.]+)+):/\1except (\2):/'

# 2. The CLI's venv (its dependencies only), kept between runs.
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv="$cache/cli-venv-$version"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import click, jinja2, yaml' 2>/dev/null; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet \
        "click>=8.3.1,<9" "Jinja2>=3.1.6,<4" "PyYAML>=6.0.3,<7"
fi
"$venv/bin/python" -m compileall -q "$src/quickscale_cli/src" "$src/quickscale_core/src" >/dev/null \
    || { echo "error: upstream's CLI does not compile on Python $version after the fixes" >&2; exit 1; }

# 3. Shims: git-subtree when git lacks it, and poetry.
mkdir -p "$work/bin"
if ! git subtree -h 2>&1 | grep -q 'git subtree'; then
    for s in "$(git --exec-path)/git-subtree" /usr/lib/git-core/git-subtree \
        /usr/libexec/git-core/git-subtree /usr/share/doc/git/contrib/subtree/git-subtree.sh; do
        if [ -f "$s" ]; then
            ln -s "$s" "$work/bin/git-subtree"
            break
        fi
    done
fi
cat >"$work/bin/poetry" <<EOF
#!$venv/bin/python
"""Stands in for poetry (see scripts/upstream-cli-fixture.sh, item 5)."""
import re, sys, tomllib
from pathlib import Path

args = sys.argv[1:]
if args[:1] == ["--version"]:
    print("Poetry (version 2.2.1, fixture shim)")
elif args[:1] == ["add"] and len(args) == 2:
    target = args[1].removeprefix("./").rstrip("/")
    meta = tomllib.loads(Path(target, "pyproject.toml").read_text())
    name = meta.get("tool", {}).get("poetry", {}).get("name") or meta["project"]["name"]
    path = Path("pyproject.toml")
    text = path.read_text()
    start = text.index("[tool.poetry.dependencies]\n")
    nxt = re.search(r"^\[", text[start + 1 :], re.M)
    end = start + 1 + nxt.start() if nxt else len(text)
    section = text[start:end].rstrip("\n") + f'\n{name} = {{path = "{target}"}}\n\n'
    path.write_text(text[:start] + section + text[end:].lstrip("\n"))
EOF
chmod +x "$work/bin/poetry"
export PATH="$work/bin:$PATH"
export PYTHONPATH="$src/quickscale_cli/src:$src/quickscale_core/src"
quickscale() { "$venv/bin/python" -c 'from quickscale_cli.main import cli; cli()' "$@"; }

# 4. plan and apply, answering the prompts as a user would.
rm -rf "$out/upproj"
cd "$out"
# theme, modules, "Start Docker services after apply?", "Save configuration?"
modules=${QUICKSCALE_UPSTREAM_MODULES:-auth,crm,notifications}
theme=${QUICKSCALE_UPSTREAM_THEME:-showcase_html}
package=()
if quickscale plan --help | grep -q -- '--package'; then
    package=(--package upproj)
fi
printf '%s\n%s\nn\ny\n' "$theme" "$modules" | quickscale plan upproj "${package[@]}"
cd "$out/upproj"
# "Proceed with apply?" (and any later confirmation)
printf 'y\ny\ny\n' | quickscale apply --no-docker
if [ -n "$(git status --porcelain)" ]; then
    git add -A
    git commit --quiet -m "Project made by upstream QuickScale's CLI (quickscale apply)"
fi
echo "$out/upproj"
