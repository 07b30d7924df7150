//! `git quickscale sync` and the pre-push hook: two clones of one bare
//! remote share the applied state without losing notes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::fixtures::module_repo;
use crate::common::{BIN, TestEnv, describe, stderr, stdout};

fn path_with_bin() -> String {
    let dir = Path::new(BIN).parent().expect("bin dir");
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// git with git-quickscale on PATH (so the installed hooks run it).
fn git_ok(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("git");
    env.env(&mut cmd);
    cmd.env("PATH", path_with_bin()).current_dir(dir).args(args);
    let out = cmd.output().expect("git");
    assert!(out.status.success(), "git {args:?}:\n{}", describe(&out));
    out
}

fn qs_ok(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    cmd.env("PATH", path_with_bin()).current_dir(dir).args(args);
    let out = cmd.output().expect("git-quickscale");
    crate::common::assert_no_scratch(dir, args, &out);
    assert!(out.status.success(), "{args:?}:\n{}", describe(&out));
    out
}

/// Annotated commits in a notes listing (`git notes list`).
fn noted(env: &TestEnv, dir: &Path, git_dir: Option<&Path>) -> Vec<String> {
    let mut args = Vec::new();
    let gd;
    if let Some(g) = git_dir {
        gd = format!("--git-dir={}", g.display());
        args.push(gd.as_str());
    }
    args.extend(["notes", "--ref", "quickscale", "list"]);
    env.git(dir, &args)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

/// A bare remote, and clone A holding a project with modules a and b
/// (hooks installed by its first apply), pushed there with `git push`.
fn setup(env: &TestEnv) -> (PathBuf, PathBuf) {
    let a = module_repo(env, "a");
    let b = module_repo(env, "b");
    let remote = env.root().join("remote.git");
    env.git(
        env.root(),
        &["init", "-q", "--bare", remote.to_str().expect("utf8")],
    );
    qs_ok(
        env,
        env.root(),
        &[
            "plan",
            "shop",
            "--theme",
            "showcase_html",
            "--module",
            "a@v1.0.0",
            "--module",
            "b@v1.0.0",
            "--source",
            &format!("a={}", a.display()),
            "--source",
            &format!("b={}", b.display()),
            "--yes",
        ],
    );
    let clone_a = env.root().join("shop");
    qs_ok(env, &clone_a, &["apply", "--yes"]);
    env.git(
        &clone_a,
        &["remote", "add", "origin", remote.to_str().expect("utf8")],
    );
    (remote, clone_a)
}

#[test]
fn two_clones_share_the_state_and_no_note_is_lost() {
    let env = TestEnv::new();
    let (remote, clone_a) = setup(&env);
    // An ordinary push: the pre-push hook pushes the state along.
    let out = git_ok(&env, &clone_a, &["push", "-q", "-u", "origin", "main"]);
    assert!(
        stderr(&out).contains("git-quickscale: pushed the state to origin"),
        "{}",
        describe(&out)
    );
    let remote_refs = env.git(&remote, &["for-each-ref", "--format=%(refname)"]);
    for r in [
        "refs/notes/quickscale",
        "refs/quickscale/modules/a",
        "refs/quickscale/modules/b",
    ] {
        assert!(
            remote_refs.contains(r),
            "{r} missing on the remote:\n{remote_refs}"
        );
    }

    // B clones: no notes yet; status says to sync instead of silently deriving.
    let clone_b = env.root().join("b");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            remote.to_str().expect("utf8"),
            clone_b.to_str().expect("utf8"),
        ],
    );
    // status never asks the remote (nothing was fetched yet); --remote does.
    let text = stdout(&qs_ok(&env, &clone_b, &["status"]));
    assert!(text.contains("State: derived from the tree"), "{text}");
    assert!(
        text.contains("the state notes of `origin` were never fetched: run `git quickscale sync` if it holds them"),
        "{text}"
    );
    let text = stdout(&qs_ok(&env, &clone_b, &["status", "--remote"]));
    assert!(
        text.contains("the remote `origin` has state notes this clone has not fetched: run `git quickscale sync`"),
        "{text}"
    );
    let out = qs_ok(&env, &clone_b, &["sync"]);
    assert!(
        stderr(&out).contains("Synced the state with origin: notes: took the remote's"),
        "{}",
        describe(&out)
    );
    let status: serde_json::Value =
        serde_json::from_slice(&qs_ok(&env, &clone_b, &["status", "--json"]).stdout).expect("json");
    assert_eq!(status["state"]["origin"], "note", "{status:#}");
    assert_eq!(
        env.rev(&clone_b, "refs/quickscale/modules/a"),
        env.rev(&clone_a, "refs/quickscale/modules/a")
    );
    // The live notes ref was never fetched into by force: it is a local ref
    // that sync moved; the remote's stays in its tracking ref.
    assert_eq!(
        env.rev(&clone_b, "refs/notes/quickscale"),
        env.rev(&clone_b, "refs/notes/remotes/origin/quickscale")
    );

    // Each applies a different change on its own branch.
    qs_ok(
        &env,
        &clone_a,
        &["plan", "--reconfigure", "--set", "a.greeting=hola", "--yes"],
    );
    qs_ok(&env, &clone_a, &["apply", "--yes"]);
    env.git(&clone_b, &["checkout", "-q", "-b", "feature"]);
    qs_ok(
        &env,
        &clone_b,
        &["plan", "--reconfigure", "--set", "b.page_size=20", "--yes"],
    );
    qs_ok(&env, &clone_b, &["apply", "--yes"]);
    let head_a = env.rev(&clone_a, "HEAD");
    let head_b = env.rev(&clone_b, "HEAD");

    let out = qs_ok(&env, &clone_a, &["sync", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["notes"]["result"], "up_to_date", "{report:#}");
    assert_eq!(
        report["pushed"],
        serde_json::json!(["refs/notes/quickscale"])
    );
    let out = qs_ok(&env, &clone_b, &["sync", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["notes"]["result"], "merged", "{report:#}");
    assert_eq!(report["notes"]["added"], 1, "{report:#}");
    assert_eq!(report["conflicts"], serde_json::json!([]));
    let out = qs_ok(&env, &clone_a, &["sync", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["notes"]["result"], "fast_forward", "{report:#}");

    // No note is lost: both new commits are annotated everywhere.
    for (who, list) in [
        ("A", noted(&env, &clone_a, None)),
        ("B", noted(&env, &clone_b, None)),
        ("remote", noted(&env, env.root(), Some(&remote))),
    ] {
        assert!(list.contains(&head_a), "{who} lost A's note: {list:?}");
        assert!(list.contains(&head_b), "{who} lost B's note: {list:?}");
    }
    assert_eq!(
        env.rev(&clone_a, "refs/notes/quickscale"),
        env.rev(&clone_b, "refs/notes/quickscale")
    );
    // B's own branch still reads its own state from its note.
    let status: serde_json::Value =
        serde_json::from_slice(&qs_ok(&env, &clone_b, &["status", "--json"]).stdout).expect("json");
    assert_eq!(status["state"]["origin"], "note");
    assert_eq!(status["state"]["note_commit"], head_b.as_str());
}

#[test]
fn the_same_commit_annotated_differently_keeps_the_local_note() {
    let env = TestEnv::new();
    let (remote, clone_a) = setup(&env);
    env.git(
        &clone_a,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            "empty",
        ],
    );
    git_ok(&env, &clone_a, &["push", "-q", "-u", "origin", "main"]);
    let clone_b = env.root().join("b");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            remote.to_str().expect("utf8"),
            clone_b.to_str().expect("utf8"),
        ],
    );
    qs_ok(&env, &clone_b, &["sync"]);
    let commit = env.rev(&clone_a, "HEAD");
    env.git(
        &clone_a,
        &[
            "notes",
            "--ref",
            "quickscale",
            "add",
            "-m",
            "from A",
            &commit,
        ],
    );
    env.git(
        &clone_b,
        &[
            "notes",
            "--ref",
            "quickscale",
            "add",
            "-m",
            "from B",
            &commit,
        ],
    );
    qs_ok(&env, &clone_a, &["sync"]);
    let out = qs_ok(&env, &clone_b, &["sync"]);
    assert!(
        stderr(&out).contains(&format!(
            "commit {commit} has a different state note on origin; kept the local one"
        )),
        "{}",
        describe(&out)
    );
    assert_eq!(
        env.git(&clone_b, &["notes", "--ref", "quickscale", "show", &commit])
            .trim(),
        "from B"
    );
    // The remote's version is still readable from the tracking ref.
    assert_eq!(
        env.git(
            &clone_b,
            &[
                "notes",
                "--ref",
                "refs/notes/remotes/origin/quickscale",
                "show",
                &commit
            ]
        )
        .trim(),
        "from A"
    );
}

#[test]
fn sync_without_a_remote_says_how_to_add_one() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let _ = a;
    qs_ok(
        &env,
        env.root(),
        &["plan", "shop", "--theme", "showcase_html", "--yes"],
    );
    let dir = env.root().join("shop");
    qs_ok(&env, &dir, &["apply", "--yes", "--no-hooks"]);
    let out = env.qs(&dir, &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no remote to sync with"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("git remote add origin URL"),
        "{}",
        describe(&out)
    );
}

/// sync moves refs through the same journaled transaction as every writer:
/// a killed operation's journal is what `recover` needs, so sync leaves it
/// (and the refs) alone and says to recover first.
#[test]
fn sync_leaves_a_killed_operations_journal_to_recover() {
    let env = TestEnv::new();
    let (remote, clone_a) = setup(&env);
    git_ok(&env, &clone_a, &["push", "-q", "-u", "origin", "main"]);
    let clone_b = env.root().join("b");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            remote.to_str().expect("utf8"),
            clone_b.to_str().expect("utf8"),
        ],
    );
    crate::common::kill_at(
        &env,
        &clone_b,
        &["status", "--repair-state"],
        "journal-written",
    );
    let journal = clone_b.join(".git/quickscale/journal.json");
    let text = std::fs::read_to_string(&journal).expect("a journal after the kill");
    let out = env.qs(&clone_b, &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("run `git quickscale recover` first"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&journal).expect("journal kept"),
        text,
        "sync must not touch the journal"
    );
    assert!(noted(&env, &clone_b, None).is_empty(), "no notes taken");
    qs_ok(&env, &clone_b, &["recover"]);
    assert!(!journal.exists());
    qs_ok(&env, &clone_b, &["sync"]);
    assert_eq!(
        noted(&env, &clone_b, None),
        noted(&env, &clone_a, None),
        "after recover, sync takes the remote's notes"
    );
}
