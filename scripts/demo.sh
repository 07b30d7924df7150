#!/usr/bin/env bash
# Installs git-quickscale from this checkout, then plans and applies a demo
# project in ./demo (a Django project with the showcase_html theme).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "error: cargo is required (https://rustup.rs)" >&2; exit 1; }
cargo install --locked --path .
bin_dir="$(dirname "$(command -v git-quickscale || echo "$HOME/.cargo/bin/git-quickscale")")"
export PATH="$bin_dir:$PATH"
git quickscale man --install
if [ -e demo ]; then
    echo "./demo exists; remove it to run the demo again" >&2
    exit 1
fi
git quickscale plan demo --theme showcase_html --yes
cd demo
git config user.name >/dev/null || export GIT_AUTHOR_NAME="QuickScale Demo" GIT_COMMITTER_NAME="QuickScale Demo"
git config user.email >/dev/null || export GIT_AUTHOR_EMAIL="demo@example.com" GIT_COMMITTER_EMAIL="demo@example.com"
git quickscale apply --yes
git log --oneline
echo
echo "Demo project ready in ./demo. Try: cd demo && python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt && .venv/bin/python manage.py runserver"
