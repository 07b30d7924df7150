//! SIGKILL at every step of apply, remove and undo (and of the recovery
//! itself): the next `recover` leaves the repository exactly as before the
//! operation, or exactly as the completed operation would, when the kill came
//! after the point of no return. Work done after the kill is never lost.

use std::path::{Path, PathBuf};

use crate::common::fixtures::module_repo;
use crate::common::{RepoSnapshot, TestEnv, assert_same_repo, describe, kill_at, stderr};

/// What must match between a recovered repository and a completed copy
/// (index stat data differs between copies; entries must not).
fn logical(env: &TestEnv, dir: &Path) -> (String, String, String, RepoSnapshot) {
    let snap = env.repo_snapshot(dir);
    (
        snap.head.clone(),
        snap.refs.clone(),
        env.git(dir, &["ls-files", "-s"]),
        snap,
    )
}

fn assert_same_logical(
    a: &(String, String, String, RepoSnapshot),
    b: &(String, String, String, RepoSnapshot),
    what: &str,
) {
    assert_eq!(a.0, b.0, "{what}: HEAD differs");
    assert_eq!(a.1, b.1, "{what}: refs differ");
    assert_eq!(a.2, b.2, "{what}: index entries differ");
    let files_a: Vec<_> = a.3.files.iter().collect();
    let files_b: Vec<_> = b.3.files.iter().collect();
    assert!(files_a == files_b, "{what}: worktree differs");
}

fn copy_project(env: &TestEnv, dir: &Path, name: &str) -> PathBuf {
    let to = env.root().join(name);
    let status = std::process::Command::new("cp")
        .args([
            "-a",
            dir.to_str().expect("utf8"),
            to.to_str().expect("utf8"),
        ])
        .status()
        .expect("cp");
    assert!(status.success());
    to
}

/// Project `shop` with a embedded; `setup` prepares the operation.
fn scenario(env: &TestEnv, op: &str) -> (PathBuf, Vec<&'static str>) {
    let a = module_repo(env, "a");
    let b = module_repo(env, "b");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    // An untracked user file that must survive everything.
    std::fs::write(dir.join("notes-to-self.txt"), "untracked\n").expect("write");
    match op {
        "apply" => {
            env.plan_add(&dir, &[("b", &b)]);
            (dir, vec!["apply", "--yes"])
        }
        "remove" => (dir, vec!["remove", "a", "--yes"]),
        // a is at its catalog-less default ref; move it to v1.1.0 with a merge.
        "update" => (dir, vec!["update", "a", "--to", "v1.1.0", "--yes"]),
        "undo" => (dir, vec!["undo"]),
        _ => unreachable!(),
    }
}

/// Kill points before the point of no return: recovery rolls back.
const BEFORE: &[&str] = &[
    "journal-written",
    "files-written",
    "files-deleted",
    "index-locked",
    "index-written",
];
/// After the ref transaction: recovery completes the operation.
const AFTER: &[&str] = &["refs-moved"];

fn run_kill_matrix(op: &str) {
    let points: Vec<&str> = BEFORE.iter().chain(AFTER).copied().collect();
    for point in points {
        // `remove` and `undo` delete module files; `apply` (adding b) and
        // `update` (v1.0.0 → v1.1.0 only adds and changes) delete none.
        if point == "files-deleted" && (op == "apply" || op == "update") {
            continue;
        }
        let env = TestEnv::new();
        let (dir, args) = scenario(&env, op);
        let before = env.repo_snapshot(&dir);
        let completed = copy_project(&env, &dir, "completed");
        env.qs_ok(&completed, &args);
        kill_at(&env, &dir, &args, point);
        assert!(
            dir.join(".git/quickscale/journal.json").exists(),
            "{op}@{point}: the kill left no journal"
        );
        let out = env.qs_ok(&dir, &["recover"]);
        assert!(
            !dir.join(".git/quickscale/journal.json").exists(),
            "{op}@{point}"
        );
        // Git can take the index again: no lock of the killed command's
        // is left (its record of which lock was its own neither).
        assert!(
            !dir.join(".git/index.lock").exists(),
            "{op}@{point}: the killed command's index.lock is still there"
        );
        assert!(
            !dir.join(".git/quickscale/index-lock-owner").exists(),
            "{op}@{point}"
        );
        if AFTER.contains(&point) {
            assert!(
                stderr(&out).contains("completed"),
                "{op}@{point}: {}",
                describe(&out)
            );
            assert_same_logical(
                &logical(&env, &completed),
                &logical(&env, &dir),
                &format!("{op}@{point}: not completed exactly"),
            );
        } else {
            assert!(
                stderr(&out).contains("rolled back"),
                "{op}@{point}: {}",
                describe(&out)
            );
            assert_same_repo(
                &before,
                &env.repo_snapshot(&dir),
                &format!("{op}@{point}: not rolled back exactly"),
            );
        }
        env.git(&dir, &["fsck", "--no-dangling"]);
    }
}

#[test]
fn sigkill_at_every_step_of_apply() {
    run_kill_matrix("apply");
}

#[test]
fn sigkill_at_every_step_of_remove() {
    run_kill_matrix("remove");
}

#[test]
fn sigkill_at_every_step_of_update() {
    run_kill_matrix("update");
}

#[test]
fn sigkill_at_every_step_of_undo() {
    run_kill_matrix("undo");
}

#[test]
fn sigkill_during_the_recovery_then_recover_again() {
    for op in ["apply", "remove"] {
        let env = TestEnv::new();
        let (dir, args) = scenario(&env, op);
        let before = env.repo_snapshot(&dir);
        kill_at(&env, &dir, &args, "index-written");
        kill_at(&env, &dir, &["recover"], "recovering");
        assert!(dir.join(".git/quickscale/journal.json").exists(), "{op}");
        env.qs_ok(&dir, &["recover"]);
        assert_same_repo(
            &before,
            &env.repo_snapshot(&dir),
            &format!("{op}: after two recoveries"),
        );
    }
}

#[test]
fn work_done_after_a_kill_survives_the_next_command() {
    let env = TestEnv::new();
    let (dir, args) = scenario(&env, "apply");
    kill_at(&env, &dir, &args, "index-written");
    // The user carries on: commits a change, edits another file.
    std::fs::write(dir.join("templates/base.html"), "my new layout\n").expect("write");
    env.git(&dir, &["add", "templates/base.html"]);
    env.git(&dir, &["commit", "-qm", "My layout"]);
    let mine = env.rev(&dir, "HEAD");
    std::fs::write(dir.join("static/css/style.css"), "body { color: red }\n").expect("write");
    for args in [vec!["apply", "--yes"], vec!["recover"]] {
        let out = env.qs(&dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        assert!(
            stderr(&out).contains("recover --forget"),
            "{args:?} must say what to run: {}",
            describe(&out)
        );
        assert_eq!(
            env.rev(&dir, "HEAD"),
            mine,
            "{args:?}: the user's commit was lost"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("static/css/style.css")).expect("read"),
            "body { color: red }\n",
            "{args:?}: the user's edit was lost"
        );
    }
    // The user decides to keep everything as it is now.
    env.qs_ok(&dir, &["recover", "--forget"]);
    assert!(!dir.join(".git/quickscale/journal.json").exists());
    assert_eq!(env.rev(&dir, "HEAD"), mine);
}

#[test]
fn a_new_project_killed_half_way_is_removed_but_never_a_repository_with_user_commits() {
    let env = TestEnv::new();
    env.qs_ok(
        env.root(),
        &["plan", "shop", "--theme", "showcase_html", "--yes"],
    );
    let dir = env.root().join("shop");
    let before = crate::common::snapshot(&dir);
    kill_at(&env, &dir, &["apply", "--yes"], "files-written");
    env.qs_ok(&dir, &["recover"]);
    assert_eq!(
        crate::common::snapshot(&dir),
        before,
        "only quickscale.yml may remain"
    );

    // Killed again, but this time the user commits in the new repository first.
    kill_at(&env, &dir, &["apply", "--yes"], "refs-moved");
    std::fs::write(dir.join("mine.txt"), "mine\n").expect("write");
    env.git(&dir, &["add", "mine.txt"]);
    env.git(&dir, &["commit", "-qm", "mine"]);
    let mine = env.rev(&dir, "HEAD");
    let _ = env.qs(&dir, &["recover"]);
    assert!(
        dir.join(".git").exists(),
        "a repository with the user's commit was deleted"
    );
    assert_eq!(env.rev(&dir, "HEAD"), mine);
}

#[test]
fn two_commands_cannot_both_recover() {
    let env = TestEnv::new();
    let (dir, args) = scenario(&env, "apply");
    kill_at(&env, &dir, &args, "index-written");
    // A recovery in progress holds the lock.
    let mut first = std::process::Command::new(crate::common::BIN);
    env.env(&mut first);
    let marker = dir.join(".git/quickscale/paused-at-recovering");
    let mut child = first
        .current_dir(&dir)
        .env("QUICKSCALE_TEST_PAUSE_AT", "recovering")
        .arg("recover")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while !marker.exists() {
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("another git quickscale"),
        "{}",
        describe(&out)
    );
    let _ = child.kill();
    let _ = child.wait();
    // The lock dies with its process: no stale lock to delete by hand.
    env.qs_ok(&dir, &["recover"]);
}
