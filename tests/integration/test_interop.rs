//! Interoperability with the real git-subtree script (skipped, visibly,
//! where the script is not installed).

use crate::common::fixtures::module_repo;
use crate::common::{TestEnv, git_subtree_path, stdout};

#[test]
fn embed_is_hash_identical_to_git_subtree_add_squash() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let ours = env.new_project(&[]);
    let theirs = env.root().join("theirs");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            ours.to_str().expect("utf8"),
            theirs.to_str().expect("utf8"),
        ],
    );
    // Both start from the same commit; both run with the same fixed dates.
    env.git_with_path(
        &theirs,
        &path,
        &[
            "subtree",
            "add",
            "--squash",
            "--prefix=modules/a",
            a.to_str().expect("utf8"),
            "v1.0.0",
        ],
    );
    env.qs_ok(
        &ours,
        &[
            "plan",
            "--add",
            "a@v1.0.0",
            "--source",
            &format!("a={}", a.display()),
            "--yes",
        ],
    );
    env.qs_ok(&ours, &["apply", "--yes"]);
    // Our merge commit is the first parent of the wiring commit.
    assert_eq!(
        env.rev(&ours, "HEAD^"),
        env.rev(&theirs, "HEAD"),
        "merge commits differ"
    );
    assert_eq!(
        env.rev(&ours, "HEAD^^2"),
        env.rev(&theirs, "HEAD^2"),
        "squash commits differ"
    );
}

#[test]
fn a_prefix_added_by_git_subtree_is_adopted_not_re_embedded() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    env.git_with_path(
        &dir,
        &path,
        &[
            "subtree",
            "add",
            "--squash",
            "--prefix=modules/a",
            a.to_str().expect("utf8"),
            "v1.1.0",
        ],
    );
    let subtree_head = env.rev(&dir, "HEAD");
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "a@v1.1.0",
            "--source",
            &format!("a={}", a.display()),
            "--yes",
        ],
    );
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(stdout(&out).contains("+ adopt a"), "{}", stdout(&out));
    // Nothing re-embedded: one wiring commit on top, the prefix unchanged.
    assert_eq!(env.rev(&dir, "HEAD^"), subtree_head);
    assert_eq!(
        env.rev(&dir, "HEAD:modules/a"),
        env.rev(&a, "v1.1.0^{tree}")
    );
    let note: serde_json::Value =
        serde_json::from_str(&env.git(&dir, &["notes", "--ref", "quickscale", "show", "HEAD"]))
            .expect("note");
    assert_eq!(note["modules"]["a"]["commit"], env.rev(&a, "v1.1.0"));
    assert_eq!(note["modules"]["a"]["version"], "1.1.0");
    assert_eq!(
        env.rev(&dir, "refs/quickscale/modules/a"),
        env.rev(&a, "v1.1.0")
    );
    let status: serde_json::Value =
        serde_json::from_slice(&env.qs_ok(&dir, &["status", "--json"]).stdout).expect("json");
    assert_eq!(status["in_sync"], true, "{status:#}");
}

#[test]
fn git_subtree_pull_works_on_a_prefix_the_tool_created() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[
        "--module",
        "a@v1.0.0",
        "--source",
        &format!("a={}", a.display()),
    ]);
    env.git_with_path(
        &dir,
        &path,
        &[
            "subtree",
            "pull",
            "--squash",
            "--prefix=modules/a",
            a.to_str().expect("utf8"),
            "v1.1.0",
        ],
    );
    assert_eq!(
        env.rev(&dir, "HEAD:modules/a"),
        env.rev(&a, "v1.1.0^{tree}")
    );
    let squash = env.git(&dir, &["log", "-1", "--format=%B", "HEAD^2"]);
    assert!(
        squash.starts_with("Squashed 'modules/a/' changes from "),
        "{squash}"
    );
}
