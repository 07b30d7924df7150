//! A project planned inside another repository's directory (an agency's
//! monorepo checkout, this repository's own `./demo`) gets a repository of
//! its own, as `git init` in a subdirectory would — unless the outer
//! repository already tracks files there.

use std::path::{Path, PathBuf};

use crate::common::{TestEnv, describe, stderr, stdout};

/// An outer repository `agency` with one commit holding `.gitignore`
/// (`ignore` as its text; empty for none).
fn outer_repo(env: &TestEnv, ignore: &str) -> PathBuf {
    let outer = env.root().join("agency");
    std::fs::create_dir_all(&outer).expect("mkdir");
    env.git(&outer, &["init", "-q"]);
    std::fs::write(outer.join("README"), "agency monorepo\n").expect("write");
    std::fs::write(outer.join(".gitignore"), ignore).expect("write");
    env.git(&outer, &["add", "-A"]);
    env.git(&outer, &["commit", "-q", "-m", "agency"]);
    outer
}

fn plan_shop(env: &TestEnv, parent: &Path) -> PathBuf {
    std::fs::create_dir_all(parent).expect("mkdir");
    env.qs_ok(
        parent,
        &["plan", "shop", "--theme", "showcase_html", "--yes"],
    );
    parent.join("shop")
}

fn toplevel(env: &TestEnv, dir: &Path) -> PathBuf {
    PathBuf::from(env.git(dir, &["rev-parse", "--show-toplevel"]).trim())
}

#[test]
fn a_project_in_an_ignored_directory_of_another_repository_gets_its_own_repository() {
    let env = TestEnv::new();
    // The whole `clients/` directory is ignored, not the project itself.
    let outer = outer_repo(&env, "/clients/\n");
    let outer_before = env.repo_snapshot(&outer);
    let shop = plan_shop(&env, &outer.join("clients"));

    // Before apply, reads treat it as a project not generated yet.
    let out = env.qs_ok(&shop, &["status"]);
    assert!(stdout(&out).contains("none yet"), "{}", describe(&out));
    let out = env.qs(&shop, &["apply", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stdout(&out).contains("+ generate project shop"),
        "{}",
        describe(&out)
    );
    assert!(!shop.join(".git").exists(), "a dry run wrote .git");

    let out = env.qs_ok(&shop, &["apply", "--yes"]);
    assert!(
        !stderr(&out).contains("untracked"),
        "an ignored directory needs no warning:\n{}",
        describe(&out)
    );
    assert!(shop.join(".git").is_dir(), "no repository at the project");
    assert_eq!(
        toplevel(&env, &shop).canonicalize().expect("canon"),
        shop.canonicalize().expect("canon")
    );
    assert!(env.git(&shop, &["status", "--porcelain"]).is_empty());
    assert!(
        stdout(&env.qs_ok(&shop, &["status"])).contains("In sync with quickscale.yml."),
        "status after apply"
    );
    // The outer repository did not change: same HEAD, refs, index; its
    // worktree only gained the ignored directory.
    assert!(env.git(&outer, &["status", "--porcelain"]).is_empty());
    let mut after = env.repo_snapshot(&outer);
    after.files.retain(|p, _| !p.starts_with("clients"));
    let mut before = outer_before;
    before.files.retain(|p, _| !p.starts_with("clients"));
    crate::common::assert_same_repo(&before, &after, "the outer repository");
}

#[test]
fn a_project_in_an_unignored_directory_is_created_with_a_warning() {
    let env = TestEnv::new();
    let outer = outer_repo(&env, "");
    let head = env.rev(&outer, "HEAD");
    let shop = plan_shop(&env, &outer);

    let out = env.qs_ok(&shop, &["apply", "--yes"]);
    let err = stderr(&out);
    assert!(
        err.contains("untracked directory") && err.contains("/shop/"),
        "no warning about the outer repository:\n{}",
        describe(&out)
    );
    assert!(err.contains(".gitignore"), "{err}");
    assert_eq!(
        toplevel(&env, &shop).canonicalize().expect("canon"),
        shop.canonicalize().expect("canon")
    );
    assert!(env.git(&shop, &["status", "--porcelain"]).is_empty());
    // The outer repository sees exactly one untracked directory; nothing else moved.
    assert_eq!(env.git(&outer, &["status", "--porcelain"]), "?? shop/\n");
    assert_eq!(env.rev(&outer, "HEAD"), head);
    // Every later command finds the inner repository.
    let out = env.qs_ok(&shop, &["status"]);
    assert!(stdout(&out).contains("In sync"), "{}", describe(&out));
}

#[test]
fn a_directory_the_outer_repository_tracks_is_refused() {
    let env = TestEnv::new();
    let outer = outer_repo(&env, "");
    let shop = plan_shop(&env, &outer);
    env.git(&outer, &["add", "shop/quickscale.yml"]);
    env.git(&outer, &["commit", "-q", "-m", "track the plan"]);
    let before = env.repo_snapshot(&outer);

    for args in [&["apply", "--yes"][..], &["status"][..]] {
        let out = env.qs(&shop, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        let err = stderr(&out);
        assert!(
            err.contains("tracks 1 file") && err.contains("shop/"),
            "{args:?}: {err}"
        );
        assert!(err.contains("hint:"), "{args:?}: no hint: {err}");
    }
    assert!(!shop.join(".git").exists(), "a repository was created");
    crate::common::assert_same_repo(&before, &env.repo_snapshot(&outer), "refused apply");
}

#[test]
fn a_sibling_with_a_longer_name_does_not_count_as_tracked() {
    let env = TestEnv::new();
    let outer = outer_repo(&env, "/shop/\n");
    // `shop2/` is tracked; `shop/` is not.
    std::fs::create_dir_all(outer.join("shop2")).expect("mkdir");
    std::fs::write(outer.join("shop2/file"), "x\n").expect("write");
    std::fs::write(outer.join("shop.txt"), "x\n").expect("write");
    env.git(&outer, &["add", "-A"]);
    env.git(&outer, &["commit", "-q", "-m", "siblings"]);
    let shop = plan_shop(&env, &outer);
    env.qs_ok(&shop, &["apply", "--yes"]);
    assert!(shop.join(".git").is_dir());
}
