#!/usr/bin/env bash
# The model-based workflow fuzzer (tests/integration/test_workflow_fuzz.rs):
# two clones of one project and a linked worktree sharing a bare remote,
# driven through random sequences of git quickscale commands, ordinary git
# use (commits, pulls with merge and rebase, stash, amend, gc, `git status`)
# and SIGKILLs, checking after every step that nothing of the user's is
# lost, that `check` agrees with `apply --dry-run` and with a note-less
# clone, that a kill is recovered, and that no scratch ref or lock remains.
#
#   scripts/fuzz-workflows.sh 100              # 100 sequences from a random seed
#   QUICKSCALE_FUZZ_SEED=1234 scripts/fuzz-workflows.sh 1   # replay one
#   QUICKSCALE_FUZZ_STEPS=30 scripts/fuzz-workflows.sh 10   # longer sequences
#   QUICKSCALE_FUZZ_RELEASE=1 scripts/fuzz-workflows.sh 5000  # long runs: the
#       steps run an optimized build of the tool (cargo profile `fuzz`:
#       release with debug assertions, so the kill points exist; the world
#       is built with the test build); same invariants, fewer seconds a step
#   QUICKSCALE_FUZZ_PROFILE=1 scripts/fuzz-workflows.sh 5    # where the time goes
#
# The normal test suite runs one sequence of 10 steps from a fixed seed.
# Each sequence prints its seed; a failure prints the seed and the steps.
set -euo pipefail
cd "$(dirname "$0")/.."
sequences="${1:-100}"
seed="${QUICKSCALE_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "workflow fuzzer: $sequences sequence(s), first seed $seed"
start=$(date +%s)
if [ "${QUICKSCALE_FUZZ_RELEASE:-}" = 1 ]; then
    cargo build --profile fuzz --locked --bin git-quickscale
    export QUICKSCALE_FUZZ_BIN="$PWD/target/fuzz/git-quickscale"
fi
QUICKSCALE_FUZZ_SEQUENCES="$sequences" QUICKSCALE_FUZZ_SEED="$seed" \
    cargo test ${CARGO_FLAGS:-} --locked --test integration workflow_fuzzer_bounded_run -- --nocapture
echo "workflow fuzzer: $sequences sequence(s) passed in $(($(date +%s) - start)) s (first seed $seed)"
