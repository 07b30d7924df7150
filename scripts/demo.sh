#!/usr/bin/env bash
# Installs git-quickscale from this checkout (binary and man pages), then
# plans and applies a demo project: a Django project with the showcase_html
# theme, in a git repository of its own.
#
#   ./scripts/demo.sh [DIR]    DIR: where the project goes (default: ./demo in
#                              this checkout, which .gitignore ignores)
#
# The binary goes where `cargo install` puts it: $CARGO_INSTALL_ROOT/bin, or
# ~/.cargo/bin. Without a git identity (user.name, user.email) the demo's own
# commits use "QuickScale Demo <demo@example.com>"; your git config is not
# changed, so set an identity before you commit in the project yourself.
set -euo pipefail

case "${1:-}" in
-h | --help)
    sed -n '2,12s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
esac
[ $# -le 1 ] || { echo "usage: $0 [DIR]" >&2; exit 2; }

checkout="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:-$checkout/demo}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
if [ -e "$target" ]; then
    echo "error: $target exists; remove it, or give another directory: $0 DIR" >&2
    exit 1
fi
command -v cargo >/dev/null || { echo "error: cargo is required (https://rustup.rs)" >&2; exit 1; }
command -v git >/dev/null || { echo "error: git is required" >&2; exit 1; }

cd "$checkout"
cargo install --locked --path .
# Use the binary just installed, whatever else is on PATH.
bin_dir="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
user_path="$PATH"
export PATH="$bin_dir:$PATH"
git quickscale man --install

git quickscale plan demo --theme showcase_html --yes --output "$target/quickscale.yml"
cd "$target"
git config user.name >/dev/null || export GIT_AUTHOR_NAME="QuickScale Demo" GIT_COMMITTER_NAME="QuickScale Demo"
git config user.email >/dev/null || export GIT_AUTHOR_EMAIL="demo@example.com" GIT_COMMITTER_EMAIL="demo@example.com"
git quickscale apply --yes
git log --oneline

echo
echo "Demo project ready in $target. Run it:"
echo "  cd '$target'"
echo "  python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt"
echo "  .venv/bin/python manage.py migrate"
echo "  .venv/bin/python manage.py runserver"
case ":$user_path:" in
*":$bin_dir:"*) ;;
*) echo "Add $bin_dir to your PATH to run \`git quickscale\` yourself." ;;
esac
