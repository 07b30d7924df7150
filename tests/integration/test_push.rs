//! `git quickscale push`: module fixes go to a bare repository as
//! fast-forward commits on top of the upstream commit, nothing else leaves,
//! a moved branch is refused, and the push is recorded.

use std::path::{Path, PathBuf};

use crate::common::fixtures::module_repo;
use crate::common::{BIN, TestEnv, describe, git_subtree_path, stderr, stdout};
use crate::test_split::{append_commit, commit_files};

const MODELS: &str = "modules/a/quickscale_modules_a/models.py";
const BRANCH: &str = "quickscale/shop/a";
const SECRET: &str = "sk_live_DO_NOT_SHIP_4242";

/// A bare "upstream" for module `a` (tags v1.0.0, v1.1.0, v2.0.0) and a
/// project embedding it at v1.0.0 from there.
fn project_with_bare_upstream(env: &TestEnv) -> (PathBuf, PathBuf) {
    let work = module_repo(env, "a");
    let bare = env.root().join("a.git");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().expect("utf8"),
            bare.to_str().expect("utf8"),
        ],
    );
    let dir = env.new_project(&[
        "--module",
        "a@v1.0.0",
        "--source",
        &format!("a={}", bare.display()),
    ]);
    (dir, bare)
}

fn git_status(env: &TestEnv, dir: &Path, args: &[&str]) -> bool {
    let mut cmd = std::process::Command::new("git");
    env.env(&mut cmd);
    cmd.current_dir(dir)
        .args(args)
        .output()
        .expect("git")
        .status
        .success()
}

/// Runs git-quickscale with its own directory on PATH, so the project's
/// installed git hooks (which call `git-quickscale`) really run.
fn qs_hooks_live(env: &TestEnv, dir: &Path, args: &[&str]) -> std::process::Output {
    let bin_dir = Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = std::process::Command::new(BIN);
    env.env(&mut cmd);
    let out = cmd
        .env("PATH", path)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run git-quickscale");
    assert!(out.status.success(), "{args:?}: {}", describe(&out));
    out
}

fn split_of_head(env: &TestEnv, dir: &Path) -> String {
    stdout(&env.qs_ok(dir, &["split", "a"])).trim().to_owned()
}

#[test]
fn push_sends_only_the_module_fixes_as_a_fast_forward_branch() {
    let env = TestEnv::new();
    let (dir, bare) = project_with_bare_upstream(&env);
    append_commit(&env, &dir, MODELS, "# fix 1", "Fix a: model repr");
    commit_files(&env, &dir, &[("notes/mine.txt", "user\n")], "User work");
    append_commit(&env, &dir, MODELS, "# fix 2", "Fix a: second");

    let status = |env: &TestEnv| -> serde_json::Value {
        let out = env.qs_ok(&dir, &["status", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["modules"][0]
            .clone()
    };
    assert_eq!(status(&env)["unpushed_commits"], 2, "{:#}", status(&env));
    assert_eq!(status(&env)["pushed"], serde_json::json!([]));
    let objects = env.git(&dir, &["count-objects"]);
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/split/"])
            .is_empty(),
        "status reads: it writes no split cache"
    );
    assert_eq!(env.git(&dir, &["count-objects"]), objects, "nor objects");
    let dry = env.qs_ok(&dir, &["push", "a", "--dry-run"]);
    let text = stdout(&dry);
    assert!(text.contains("Fix a: model repr"), "{}", describe(&dry));
    assert!(text.contains("Fix a: second"), "{text}");
    assert!(!text.contains("User work"), "{text}");
    assert!(
        text.contains("2 commit(s) on top of upstream commit"),
        "{text}"
    );
    assert!(
        text.contains("quickscale_modules_a/models.py | 2 ++"),
        "diffstat against upstream: {text}"
    );
    assert!(
        stderr(&dry).contains("Dry run: nothing was pushed") && stderr(&dry).contains("git push"),
        "{}",
        describe(&dry)
    );
    assert!(!git_status(
        &env,
        &bare,
        &["rev-parse", "--verify", "-q", BRANCH]
    ));
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/pushed/"])
            .is_empty()
    );

    assert!(
        dir.join(".git/hooks/pre-push").is_file(),
        "the project has the pre-push hook that syncs its state"
    );
    let out = qs_hooks_live(&env, &dir, &["push", "a", "--yes"]);
    let split = split_of_head(&env, &dir);
    assert_eq!(env.rev(&bare, BRANCH), split, "{}", describe(&out));
    // Fast-forward from the upstream commit, exactly the two fixes.
    assert!(git_status(
        &env,
        &bare,
        &["merge-base", "--is-ancestor", "v1.0.0", BRANCH]
    ));
    let pushed = env.git(&bare, &["log", "--format=%s", &format!("v1.0.0..{BRANCH}")]);
    assert_eq!(pushed, "Fix a: second\nFix a: model repr\n");
    assert_eq!(
        env.rev(&bare, &format!("{BRANCH}^{{tree}}")),
        env.rev(&dir, "HEAD:modules/a")
    );
    // Recorded through a ref, and a second push has nothing to do.
    assert_eq!(
        env.rev(&dir, &format!("refs/quickscale/pushed/a/{BRANCH}")),
        split
    );
    // status says where it went, and what is not pushed yet.
    assert_eq!(status(&env)["unpushed_commits"], 0);
    assert_eq!(
        status(&env)["pushed"],
        serde_json::json!([{"branch": BRANCH, "commit": split}])
    );
    let text = stdout(&env.qs_ok(&dir, &["status"]));
    assert!(
        text.contains(&format!("    pushed: {BRANCH} ({})", &split[..12])),
        "{text}"
    );
    let again = env.qs_ok(&dir, &["push", "a", "--yes"]);
    assert!(
        stderr(&again).contains("Nothing to push: it was already pushed to quickscale/shop/a"),
        "{}",
        describe(&again)
    );
    // The project's own state never goes to the module's repository (the
    // project's pre-push hook stands aside for this push).
    append_commit(&env, &dir, MODELS, "# fix 3", "Fix a: third");
    assert_eq!(status(&env)["unpushed_commits"], 1);
    let text = stdout(&env.qs_ok(&dir, &["status"]));
    assert!(
        text.contains("    not pushed: 1 module commit(s) (`git quickscale push a` sends them)"),
        "{text}"
    );
    let refs = env.git(&bare, &["for-each-ref", "--format=%(refname)"]);
    assert!(!refs.contains("refs/notes"), "{refs}");
    assert!(!refs.contains("refs/quickscale"), "{refs}");
}

#[test]
fn a_secret_committed_with_a_module_fix_never_leaves() {
    let env = TestEnv::new();
    let (dir, bare) = project_with_bare_upstream(&env);
    let models = std::fs::read_to_string(dir.join(MODELS)).expect("models");
    commit_files(
        &env,
        &dir,
        &[
            (MODELS, &format!("{models}# fix\n")),
            (
                "shop/settings/secrets.py",
                &format!("STRIPE_KEY = \"{SECRET}\"\n"),
            ),
            (&format!("notes/{SECRET}.txt"), "named after the secret\n"),
        ],
        "Fix a and configure payments",
    );
    let out = env.qs_ok(&dir, &["push", "a", "--yes"]);
    assert!(
        stderr(&out).contains("also changed files outside modules/a"),
        "the mixed commit is named: {}",
        describe(&out)
    );
    assert!(stderr(&out).contains("Fix a and configure payments"));
    // Every commit, tree and blob reachable from the pushed branch.
    let objects = env.git(&bare, &["rev-list", "--objects", BRANCH]);
    let mut checked = 0;
    for line in objects.lines() {
        assert!(!line.contains(SECRET), "a path names the secret: {line}");
        let id = line.split(' ').next().expect("id");
        let kind = env.git(&bare, &["cat-file", "-t", id]);
        let body = env.git(&bare, &["cat-file", kind.trim(), id]);
        assert!(
            !body.contains(SECRET),
            "{} {id} contains the secret",
            kind.trim()
        );
        checked += 1;
    }
    assert!(checked > 10, "walked {checked} objects");
    // And nothing anywhere in the bare repository.
    let all = env.git(
        &bare,
        &["cat-file", "--batch-all-objects", "--batch", "--unordered"],
    );
    assert!(!all.contains(SECRET));
    assert!(
        env.git(&bare, &["ls-tree", "-r", "--name-only", BRANCH])
            .lines()
            .all(|p| !p.starts_with("shop/") && !p.starts_with("notes/"))
    );
}

#[test]
fn a_branch_that_moved_upstream_is_refused_with_the_recipe() {
    let env = TestEnv::new();
    let (dir, bare) = project_with_bare_upstream(&env);
    append_commit(&env, &dir, MODELS, "# fix 1", "Fix 1");
    env.qs_ok(&dir, &["push", "a", "--yes"]);
    // Someone adds a commit to the pushed branch upstream.
    let other = env.root().join("other");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "-b",
            BRANCH,
            bare.to_str().expect("utf8"),
            other.to_str().expect("utf8"),
        ],
    );
    append_commit(&env, &other, "README.md", "review", "Review tweak");
    env.git(&other, &["push", "-q", "origin", BRANCH]);
    let moved = env.rev(&bare, BRANCH);
    let recorded = env.rev(&dir, &format!("refs/quickscale/pushed/a/{BRANCH}"));

    append_commit(&env, &dir, MODELS, "# fix 2", "Fix 2");
    let out = env.qs(&dir, &["push", "a", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("has commits that this split does not contain; nothing was pushed"),
        "{err}"
    );
    assert!(err.contains("git quickscale update a"), "{err}");
    assert!(err.contains("never forces"), "{err}");
    assert_eq!(env.rev(&bare, BRANCH), moved, "nothing forced");
    assert_eq!(
        env.rev(&dir, &format!("refs/quickscale/pushed/a/{BRANCH}")),
        recorded,
        "nothing recorded"
    );
    // The upstream's own branch moved past the embedded commit: refused too.
    let out = env.qs(&dir, &["push", "a", "--yes", "--branch", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("`main`"), "{}", describe(&out));
    assert_eq!(env.rev(&bare, "main"), env.rev(&bare, "v2.0.0"));
}

#[test]
fn pushed_fixes_merged_upstream_come_back_without_conflict() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let (dir, bare) = project_with_bare_upstream(&env);
    append_commit(&env, &dir, MODELS, "# fix 1", "Fix 1");
    append_commit(&env, &dir, "notes/user.txt", "u", "User work");
    append_commit(&env, &dir, MODELS, "# fix 2", "Fix 2");
    env.qs_ok(&dir, &["push", "a", "--yes"]);
    // Upstream merges the branch into main (which moved on to v2.0.0).
    let maint = env.root().join("maintainer");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            bare.to_str().expect("utf8"),
            maint.to_str().expect("utf8"),
        ],
    );
    env.git(
        &maint,
        &[
            "merge",
            "-q",
            "--no-ff",
            &format!("origin/{BRANCH}"),
            "-m",
            "Merge the project's fixes",
        ],
    );
    env.git(&maint, &["push", "-q", "origin", "main"]);
    // The project takes upstream main: no conflict on the pushed changes.
    env.git_with_path(
        &dir,
        &path,
        &[
            "subtree",
            "pull",
            "-q",
            "--squash",
            "--prefix=modules/a",
            bare.to_str().expect("utf8"),
            "main",
            "-m",
            "Update a",
        ],
    );
    assert!(env.git(&dir, &["status", "--porcelain"]).is_empty());
    assert_eq!(
        env.rev(&dir, "HEAD:modules/a"),
        env.rev(&bare, "main^{tree}"),
        "the module is exactly upstream's, fixes included"
    );
    let out = env.qs_ok(&dir, &["push", "a", "--yes"]);
    assert!(
        stderr(&out).contains("Nothing to push: modules/a has no changes since upstream commit"),
        "{}",
        describe(&out)
    );
}

#[test]
fn push_refuses_without_an_answer_and_names_embedded_modules() {
    let env = TestEnv::new();
    let (dir, bare) = project_with_bare_upstream(&env);
    append_commit(&env, &dir, MODELS, "# fix", "Fix");
    // No terminal and no --yes: nothing leaves.
    let out = env.qs(&dir, &["push", "a"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("pass --yes"), "{}", describe(&out));
    assert!(!git_status(
        &env,
        &bare,
        &["rev-parse", "--verify", "-q", BRANCH]
    ));
    let out = env.qs(&dir, &["push", "crm", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("module crm is not embedded in this project"),
        "{}",
        describe(&out)
    );
    assert!(stderr(&out).contains("embedded modules: a"));
    // Nothing local: nothing to push, exit 0.
    let env2 = TestEnv::new();
    let (clean, _bare) = project_with_bare_upstream(&env2);
    let out = env2.qs_ok(&clean, &["push", "a", "--yes"]);
    assert!(
        stderr(&out).contains("Nothing to push"),
        "{}",
        describe(&out)
    );
}

#[test]
fn push_to_another_remote_and_branch_prints_no_review_link_for_paths() {
    let env = TestEnv::new();
    let (dir, _bare) = project_with_bare_upstream(&env);
    let fork = env.root().join("fork.git");
    env.git(
        env.root(),
        &["init", "-q", "--bare", fork.to_str().expect("utf8")],
    );
    append_commit(&env, &dir, MODELS, "# fix", "Fix");
    let out = env.qs_ok(
        &dir,
        &[
            "push",
            "a",
            "--yes",
            "--remote",
            fork.to_str().expect("utf8"),
            "--branch",
            "fix-a",
        ],
    );
    assert_eq!(env.rev(&fork, "fix-a"), split_of_head(&env, &dir));
    assert!(
        !stderr(&out).contains("pull/merge request"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        env.rev(&dir, "refs/quickscale/pushed/a/fix-a"),
        env.rev(&fork, "fix-a")
    );
    // A remote configured in the project, by name.
    env.git(
        &dir,
        &["remote", "add", "fork", fork.to_str().expect("utf8")],
    );
    append_commit(&env, &dir, MODELS, "# fix 2", "Fix 2");
    env.qs_ok(
        &dir,
        &[
            "push", "a", "--yes", "--remote", "fork", "--branch", "fix-a",
        ],
    );
    assert_eq!(env.rev(&fork, "fix-a"), split_of_head(&env, &dir));
    let out = env.qs(&dir, &["push", "a", "--yes", "--branch", "bad..name"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`bad..name` is not a valid branch name"),
        "{}",
        describe(&out)
    );
}
