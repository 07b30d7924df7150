//! All-or-nothing: failures and kills leave HEAD, index, worktree and refs
//! exactly as they were, and the next apply completes.

use std::path::{Path, PathBuf};

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::fixtures::{commit_to, module_repo};
use crate::common::{BIN, TestEnv, describe, stderr};

/// A generated project with a module repo `a`, and `b` to be added next.
fn project_with_pending(env: &TestEnv, b_source: &str) -> PathBuf {
    let a = module_repo(env, "a");
    let dir = env.new_project(&[]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "a",
            "--add",
            "b",
            "--source",
            &format!("a={}", a.display()),
            "--source",
            &format!("b={b_source}"),
            "--yes",
        ],
    );
    dir
}

fn assert_failed_cleanly(env: &TestEnv, dir: &Path, expect: &str) {
    let snap = env.repo_snapshot(dir);
    let out = env.qs(dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains(expect), "expected `{expect}` in:\n{err}");
    assert!(err.contains("hint: "), "{err}");
    crate::common::assert_same_repo(
        &snap,
        &env.repo_snapshot(dir),
        "the failed apply changed the repository",
    );
    assert!(!dir.join(".git/quickscale/journal.json").exists());
}

#[test]
fn unreachable_second_source_changes_nothing_and_the_next_apply_completes() {
    let env = TestEnv::new();
    let missing = env.root().join("no-such-repo");
    let dir = project_with_pending(&env, missing.to_str().expect("utf8"));
    assert_failed_cleanly(&env, &dir, "module b: cannot reach");
    // Fix the source; the next apply completes.
    let b = module_repo(&env, "b");
    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    std::fs::write(
        dir.join("quickscale.yml"),
        yml.replace(missing.to_str().expect("utf8"), b.to_str().expect("utf8")),
    )
    .expect("write");
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        dir.join("modules/a/module.yml").is_file() && dir.join("modules/b/module.yml").is_file()
    );
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
}

#[test]
fn invalid_manifest_of_second_module_changes_nothing() {
    let env = TestEnv::new();
    let b = module_repo(&env, "b");
    let broken = std::fs::read_to_string(b.join("module.yml"))
        .expect("manifest")
        .replace("django_setting: B_GREETING", "django_setting: b_greeting");
    commit_to(
        &env,
        &b,
        &[("module.yml".into(), broken)],
        "break the manifest",
    );
    let dir = project_with_pending(&env, b.to_str().expect("utf8"));
    assert_failed_cleanly(
        &env,
        &dir,
        "module b: option greeting: django_setting `b_greeting`",
    );
}

#[test]
fn missing_ref_lists_the_existing_ones() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "a@v9.9.9",
            "--source",
            &format!("a={}", a.display()),
            "--yes",
        ],
    );
    assert_failed_cleanly(
        &env,
        &dir,
        "has no branch, tag or commit `v9.9.9`; the module has: main, v1.0.0, v1.1.0, v2.0.0",
    );
}

#[test]
fn invalid_option_value_is_refused_after_the_fetch() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    std::fs::write(
        dir.join("quickscale.yml"),
        yml.replace("  a: {}", "  a: {page_size: 0}"),
    )
    .expect("write");
    assert_failed_cleanly(
        &env,
        &dir,
        "module a: option page_size: 0 is below the minimum 1",
    );
}

#[test]
fn new_project_failure_removes_everything_it_created() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let missing = env.root().join("missing");
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "shop",
            "--theme",
            "showcase_html",
            "--module",
            "a",
            "--module",
            "b",
            "--source",
            &format!("a={}", a.display()),
            "--source",
            &format!("b={}", missing.display()),
            "--yes",
        ],
    );
    let dir = env.root().join("shop");
    let before = crate::common::snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        crate::common::snapshot(&dir),
        before,
        "only quickscale.yml may remain"
    );
    assert!(!dir.join(".git").exists());
}

#[test]
fn missing_identity_is_an_error_before_anything_is_written() {
    let env = TestEnv::new();
    env.qs_ok(
        env.root(),
        &["plan", "shop", "--theme", "showcase_html", "--yes"],
    );
    std::fs::write(
        env.home().join(".gitconfig"),
        "[init]\n\tdefaultBranch = main\n",
    )
    .expect("gitconfig");
    let dir = env.root().join("shop");
    let before = crate::common::snapshot(&dir);
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    let out = cmd
        .current_dir(&dir)
        .env("EMAIL", "")
        .args(["apply", "--yes"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no git identity"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("git config --global user.name"),
        "{}",
        describe(&out)
    );
    assert_eq!(crate::common::snapshot(&dir), before);
}

#[test]
fn a_second_writer_is_locked_out() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    let snap = env.repo_snapshot(&dir);
    // A first apply holds the lock while it waits (test pause point).
    let mut first = Command::new(BIN);
    env.env(&mut first);
    let mut child = first
        .current_dir(&dir)
        .env("QUICKSCALE_TEST_PAUSE_AT", "fetched")
        .args(["apply", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let marker = dir.join(".git/quickscale/paused-at-fetched");
    let started = Instant::now();
    while !marker.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "never paused");
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("another git quickscale (pid {})", child.id())),
        "{}",
        describe(&out)
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&marker);
    // The killed holder left a scratch ref only; the next command cleans it and applies.
    env.qs_ok(&dir, &["recover"]);
    crate::common::assert_same_repo(&snap, &env.repo_snapshot(&dir), "after");
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(dir.join("modules/a/module.yml").is_file());
}
