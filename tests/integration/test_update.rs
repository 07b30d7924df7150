//! `git quickscale update`: versions, the three-way merge (hash-identical
//! to `git subtree pull --squash`), conflicts like git, batches all or
//! nothing, and `apply` moving a ref.

use std::path::{Path, PathBuf};

use crate::common::fixtures::{app_package, commit_to, module_files};
use crate::common::{TestEnv, assert_same_repo, describe, git_subtree_path, stderr, stdout};

/// The files of update-fixture module `name` at `version`: from 1.2.0 it
/// has a new option `page_style` (a Django setting) and a second migration.
pub fn update_files(name: &str, version: &str) -> Vec<(String, String)> {
    let mut files = module_files(name, version);
    let v = ver(version);
    if v >= (1, 2, 0) {
        let up = name.to_uppercase();
        for (path, text) in files.iter_mut() {
            if path == "module.yml" {
                *text = text.replace(
                    "  immutable:\n",
                    &format!(
                        "    page_style:\n      type: string\n      default: cards\n      django_setting: {up}_PAGE_STYLE\n      description: How lists are shown\n  immutable:\n"
                    ),
                );
            }
        }
        let pkg = app_package(name);
        files.push((
            format!("{pkg}/migrations/0002_item_slug.py"),
            "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    dependencies = [(\"quickscale_modules_NAME\", \"0001_initial\")]\n    operations = [\n        migrations.AddField(model_name=\"item\", name=\"slug\", field=models.SlugField(default=\"\")),\n    ]\n"
                .replace("NAME", name),
        ));
    }
    files
}

fn ver(version: &str) -> (u64, u64, u64) {
    let mut parts = version
        .split('.')
        .map(|p| p.parse::<u64>().expect("number"));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// A module repository with tags v1.0.0, v1.1.0, v1.2.0 and v2.0.0 on `main`.
pub fn versions_repo(env: &TestEnv, name: &str) -> PathBuf {
    versions_repo_with(env, name, &["1.0.0", "1.1.0", "1.2.0", "2.0.0"])
}

pub fn versions_repo_with(env: &TestEnv, name: &str, versions: &[&str]) -> PathBuf {
    let dir = env.root().join("upstream").join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    for version in versions {
        commit_to(
            env,
            &dir,
            &update_files(name, version),
            &format!("{name} {version}"),
        );
        env.git(&dir, &["tag", &format!("v{version}")]);
    }
    dir
}

/// A project with `name` embedded at `at` from `repo`.
pub fn project_with(env: &TestEnv, name: &str, repo: &Path, at: &str) -> PathBuf {
    let dir = env.new_project(&[]);
    add_module(env, &dir, name, repo, at);
    dir
}

pub fn add_module(env: &TestEnv, dir: &Path, name: &str, repo: &Path, at: &str) {
    env.qs_ok(
        dir,
        &[
            "plan",
            "--add",
            &format!("{name}@{at}"),
            "--source",
            &format!("{name}={}", repo.display()),
            "--yes",
        ],
    );
    env.qs_ok(dir, &["apply", "--yes"]);
}

fn views(name: &str) -> String {
    format!("modules/{name}/{}/views.py", app_package(name))
}

/// A committed local patch at the top of the module's views.py.
fn patch_views(env: &TestEnv, dir: &Path, name: &str) {
    let path = dir.join(views(name));
    let text = std::fs::read_to_string(&path).expect("views");
    std::fs::write(&path, format!("# local patch: audit\n{text}")).expect("write");
    env.git(dir, &["commit", "-qam", "Local patch of the views"]);
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

#[test]
fn update_moves_to_the_newest_compatible_version_keeps_the_patch_and_matches_git_subtree() {
    let Some(path) = git_subtree_path("update_matches_git_subtree_pull") else {
        return;
    };
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let ours = project_with(&env, "crm", &crm, "v1.0.0");
    patch_views(&env, &ours, "crm");
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
    env.git_with_path(
        &theirs,
        &path,
        &[
            "subtree",
            "pull",
            "-q",
            "--squash",
            "--prefix=modules/crm",
            crm.to_str().expect("utf8"),
            "v1.2.0",
        ],
    );

    let out = env.qs_ok(&ours, &["update", "crm", "--yes"]);
    let err = stderr(&out);
    assert!(
        err.contains("v1.0.0") && err.contains("v1.2.0"),
        "{}",
        describe(&out)
    );

    // The squash and merge commits are git-subtree's, hash for hash; the
    // wiring commit follows.
    assert_eq!(
        env.rev(&ours, "HEAD^"),
        env.rev(&theirs, "HEAD"),
        "merge commits differ:\n{}\n---\n{}",
        env.git(&ours, &["log", "-3", "--format=%H %P%n%B"]),
        env.git(&theirs, &["log", "-3", "--format=%H %P%n%B"])
    );
    assert_eq!(env.rev(&ours, "HEAD^^2"), env.rev(&theirs, "HEAD^2"));
    assert_eq!(
        env.rev(&ours, "HEAD^:modules/crm"),
        env.rev(&theirs, "HEAD:modules/crm")
    );

    // v1.2.0, not v2.0.0; the local patch is kept.
    let views_now = read(&ours, &views("crm"));
    assert!(
        views_now.starts_with("# local patch: audit\n"),
        "{views_now}"
    );
    assert!(views_now.contains("\"version\": \"1.2.0\""), "{views_now}");
    // The new option is wired, and quickscale.yml records the new ref.
    assert!(read(&ours, "shop/settings/modules.py").contains("CRM_PAGE_STYLE"));
    assert!(
        read(&ours, "quickscale.yml").contains("ref: v1.2.0"),
        "{}",
        read(&ours, "quickscale.yml")
    );
    assert_eq!(env.git(&ours, &["status", "--porcelain"]), "");
    let status = stdout(&env.qs_ok(&ours, &["status", "--json"]));
    let status: serde_json::Value = serde_json::from_str(&status).expect("json");
    let crm_status = &status["modules"][0];
    assert_eq!(crm_status["ref"], "v1.2.0", "{status}");
    assert_eq!(crm_status["commit"], env.rev(&crm, "v1.2.0^{commit}"));
    assert_eq!(status["in_sync"], true, "{status}");
    assert_eq!(
        env.rev(&ours, "refs/quickscale/modules/crm"),
        env.rev(&crm, "v1.2.0^{commit}")
    );
    // Nothing else to do: apply agrees, and a second update is a no-op.
    let out = env.qs_ok(&ours, &["apply", "--dry-run"]);
    assert!(stderr(&out).contains("Nothing to do"), "{}", describe(&out));
    let head = env.rev(&ours, "HEAD");
    let out = env.qs_ok(&ours, &["update", "--yes"]);
    assert!(stderr(&out).contains("up to date"), "{}", describe(&out));
    assert_eq!(env.rev(&ours, "HEAD"), head);

    // The real git-subtree keeps working on the prefix.
    env.git_with_path(
        &ours,
        &path,
        &["subtree", "split", "-q", "--prefix=modules/crm"],
    );
    let out = env.git_with_path(
        &ours,
        &path,
        &[
            "subtree",
            "pull",
            "-q",
            "--squash",
            "--prefix=modules/crm",
            crm.to_str().expect("utf8"),
            "v2.0.0",
        ],
    );
    let _ = out;
    assert!(read(&ours, &views("crm")).contains("\"version\": \"2.0.0\""));
    assert!(read(&ours, &views("crm")).starts_with("# local patch: audit\n"));
}

#[test]
fn an_update_after_a_real_git_subtree_pull_merges_from_there() {
    let Some(path) = git_subtree_path("an_update_after_a_real_git_subtree_pull") else {
        return;
    };
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    patch_views(&env, &dir, "crm");
    env.git_with_path(
        &dir,
        &path,
        &[
            "subtree",
            "pull",
            "-q",
            "--squash",
            "--prefix=modules/crm",
            crm.to_str().expect("utf8"),
            "v1.1.0",
        ],
    );
    let pulled = env.rev(&dir, "HEAD");
    env.qs_ok(&dir, &["update", "crm", "--yes"]);
    // Its squash follows git-subtree's (the base was v1.1.0, not the note's v1.0.0).
    let squash = env.rev(&dir, "HEAD^^2");
    assert_eq!(
        env.rev(&dir, &format!("{squash}^")),
        env.rev(&dir, &format!("{pulled}^2"))
    );
    let message = env.git(&dir, &["log", "-1", "--format=%B", &squash]);
    assert!(
        message.contains(&format!(
            "git-subtree-split: {}",
            env.rev(&crm, "v1.2.0^{commit}")
        )),
        "{message}"
    );
    let views_now = read(&dir, &views("crm"));
    assert!(views_now.starts_with("# local patch: audit\n") && views_now.contains("1.2.0"));
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
}

#[test]
fn major_and_to_pick_other_versions() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    env.qs_ok(&dir, &["update", "crm", "--to", "v1.1.0", "--yes"]);
    assert!(read(&dir, &views("crm")).contains("\"version\": \"1.1.0\""));
    env.qs_ok(&dir, &["update", "crm", "--major", "--yes"]);
    assert!(read(&dir, &views("crm")).contains("\"version\": \"2.0.0\""));
    assert!(read(&dir, "quickscale.yml").contains("ref: v2.0.0"));
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
}

#[test]
fn a_module_following_a_branch_moves_to_its_tip() {
    let env = TestEnv::new();
    let crm = versions_repo_with(&env, "crm", &["1.0.0"]);
    let dir = project_with(&env, "crm", &crm, "main");
    commit_to(
        &env,
        &crm,
        &update_files("crm", "1.1.0"),
        "crm 1.1.0 on main",
    );
    let out = env.qs(&dir, &["update", "--check"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    env.qs_ok(&dir, &["update", "--yes"]);
    assert!(read(&dir, &views("crm")).contains("\"version\": \"1.1.0\""));
    assert!(
        !read(&dir, "quickscale.yml").contains("ref: v"),
        "the branch stays the ref"
    );
    let out = env.qs(&dir, &["update", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

#[test]
fn check_reports_compatible_and_breaking_versions_and_writes_nothing() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["update", "--check"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let text = stdout(&out);
    assert!(
        text.contains("v1.2.0 (compatible)") && text.contains("v2.0.0 (breaking"),
        "{text}"
    );
    assert_same_repo(&before, &env.repo_snapshot(&dir), "update --check");
    let out = env.qs(&dir, &["update", "--check", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["modules"][0]["compatible"], "v1.2.0", "{v}");
    assert_eq!(v["modules"][0]["breaking"], "v2.0.0", "{v}");
    env.qs_ok(&dir, &["update", "--major", "--yes"]);
    let out = env.qs(&dir, &["update", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}
