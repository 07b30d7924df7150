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
        for (path, text) in files.iter_mut() {
            if path == "module.yml" {
                text.push_str(
                    "requires:\n  quickscale: \">=0.1\"\n  django: \">=5.2\"\nupgrade_notes:\n  \"1.1.0\": Views return the version.\n  \"1.2.0\": Lists can show cards; set page_style to choose.\n",
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
    let Some(path) = git_subtree_path() else {
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
    let Some(path) = git_subtree_path() else {
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
    // No version in a branch's name: the manifest at its tip says it.
    assert!(
        stdout(&out).contains(", version 1.1.0)"),
        "{}",
        describe(&out)
    );
    let out = env.qs_ok(&dir, &["status"]);
    assert!(
        stdout(&out).contains("new commits on main (version 1.1.0)"),
        "{}",
        describe(&out)
    );
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
    // status and list-modules show what the last check saw, without the network.
    let out = env.qs_ok(&dir, &["status"]);
    assert!(
        stdout(&out).contains(
            "newer upstream (last checked by `update`): v1.2.0 (compatible), v2.0.0 (breaking)"
        ),
        "{}",
        describe(&out)
    );
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&env.qs_ok(&dir, &["status", "--json"]))).expect("json");
    assert_eq!(
        status["modules"][0]["available"]["compatible"], "v1.2.0",
        "{status}"
    );
    let out = env.qs_ok(&dir, &["list-modules"]);
    assert!(
        stdout(&out)
            .contains("crm v1.0.0: newer upstream (last checked by `update`): v1.2.0 (compatible)"),
        "{}",
        describe(&out)
    );
    env.qs_ok(&dir, &["update", "--major", "--yes"]);
    let out = env.qs(&dir, &["update", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

/// A committed local change on the line upstream changes in every version.
fn conflicting_patch(env: &TestEnv, dir: &Path, name: &str) {
    let path = dir.join(views(name));
    let text = std::fs::read_to_string(&path).expect("views");
    let patched = text.replace(
        &format!("\"module\": \"{name}\""),
        &format!("\"module\": \"{name} (ours)\""),
    );
    assert_ne!(patched, text);
    std::fs::write(&path, patched).expect("write");
    env.git(dir, &["commit", "-qam", "Local change on the version line"]);
}

const RESOLVED: &str = "# resolved by hand\n";

#[test]
fn a_conflict_refuses_the_whole_update_and_leaves_the_repository_byte_identical() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    conflicting_patch(&env, &dir, "crm");
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["update", "crm", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("conflict") && err.contains(&views("crm")),
        "{err}"
    );
    assert!(err.contains("--conflicts=merge"), "{err}");
    assert_same_repo(&before, &env.repo_snapshot(&dir), "refused update");
}

#[test]
fn conflicts_merge_pauses_like_git_and_continue_commits_what_git_would() {
    let Some(path) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    conflicting_patch(&env, &dir, "crm");
    let head = env.rev(&dir, "HEAD");
    let theirs = env.root().join("theirs");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            dir.to_str().expect("utf8"),
            theirs.to_str().expect("utf8"),
        ],
    );

    let out = env.qs(&dir, &["update", "crm", "--conflicts=merge", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("paused"), "{}", describe(&out));
    let text = read(&dir, &views("crm"));
    assert!(
        text.contains("<<<<<<< HEAD\n") && text.contains(">>>>>>> "),
        "{text}"
    );
    assert_eq!(
        env.rev(&dir, "HEAD"),
        head,
        "nothing is committed while paused"
    );
    let porcelain = env.git(&dir, &["status", "--porcelain"]);
    assert!(
        porcelain.contains(&format!("UU {}", views("crm"))),
        "{porcelain}"
    );

    // git-subtree on the same history: the same markers and index stages.
    let mut pull = std::process::Command::new("git");
    env.env(&mut pull);
    let pulled = pull
        .env("PATH", &path)
        .current_dir(&theirs)
        .args(["subtree", "pull", "-q", "--squash", "--prefix=modules/crm"])
        .arg(&crm)
        .arg("v1.2.0")
        .output()
        .expect("git subtree");
    assert!(!pulled.status.success(), "git-subtree should conflict too");
    assert_eq!(read(&dir, &views("crm")), read(&theirs, &views("crm")));
    assert_eq!(
        env.git(&dir, &["ls-files", "-u"]),
        env.git(&theirs, &["ls-files", "-u"])
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".git/MERGE_HEAD")).expect("MERGE_HEAD"),
        std::fs::read_to_string(theirs.join(".git/MERGE_HEAD")).expect("MERGE_HEAD")
    );

    // Every other writing command refuses; reads say so.
    for args in [
        vec!["apply", "--yes"],
        vec!["update", "--yes"],
        vec!["undo"],
    ] {
        let out = env.qs(&dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        assert!(
            stderr(&out).contains("update --continue"),
            "{args:?}: {}",
            describe(&out)
        );
    }
    let out = env.qs_ok(&dir, &["status"]);
    assert!(stderr(&out).contains("paused"), "{}", describe(&out));

    // --continue refuses while markers remain.
    let out = env.qs(&dir, &["update", "--continue"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("conflict markers"),
        "{}",
        describe(&out)
    );

    // Resolved the same way on both sides; git commits, we continue.
    let resolution = format!(
        "{RESOLVED}{}",
        text.lines()
            .filter(|l| !l.starts_with("<<<<<<<")
                && !l.starts_with("=======")
                && !l.starts_with(">>>>>>>"))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    std::fs::write(dir.join(views("crm")), &resolution).expect("write");
    std::fs::write(theirs.join(views("crm")), &resolution).expect("write");
    env.git(&theirs, &["add", "-A"]);
    // As `git commit` with an editor leaves it (the `# Conflicts:` comments stripped).
    env.git(&theirs, &["commit", "-q", "--no-edit", "--cleanup=strip"]);
    let out = env.qs_ok(&dir, &["update", "--continue"]);
    assert!(
        stderr(&out).contains("Updated 1 module"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        env.rev(&dir, "HEAD^"),
        env.rev(&theirs, "HEAD"),
        "the merge commit is the one `git commit` makes"
    );
    assert_eq!(read(&dir, &views("crm")), resolution);
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
    assert!(!dir.join(".git/MERGE_HEAD").exists());
    assert!(read(&dir, "shop/settings/modules.py").contains("CRM_PAGE_STYLE"));
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&env.qs_ok(&dir, &["status", "--json"]))).expect("json");
    assert_eq!(status["modules"][0]["ref"], "v1.2.0", "{status}");
    assert_eq!(status["in_sync"], true, "{status}");
    // The final commit names the module's ref and upstream commit, as
    // after an update that did not pause (a note-less clone reads it).
    let upstream = env.rev(&crm, "v1.2.0^{commit}");
    let message = env.git(&dir, &["log", "-1", "--format=%B"]);
    assert!(
        message.contains(&format!("Quickscale-Module: crm@v1.2.0 {upstream}")),
        "{message}"
    );
    // Writing commands work again.
    env.qs_ok(&dir, &["apply", "--yes"]);
}

#[test]
fn abort_restores_head_index_worktree_and_refs_exactly() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    conflicting_patch(&env, &dir, "crm");
    std::fs::write(dir.join("notes.txt"), "untracked\n").expect("write");
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["update", "crm", "--conflicts=merge", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    // Half a resolution, then the user gives up.
    std::fs::write(dir.join(views("crm")), "half done\n").expect("write");
    env.qs_ok(&dir, &["update", "--abort"]);
    assert_same_repo(&before, &env.repo_snapshot(&dir), "aborted update");
    assert!(!dir.join(".git/MERGE_HEAD").exists());
    let out = env.qs(&dir, &["update", "--abort"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no update is paused"),
        "{}",
        describe(&out)
    );
}

#[test]
fn sigkill_while_pausing_or_continuing_never_loses_the_resolution() {
    use crate::common::kill_at;
    // Killed while pausing: recovery rolls back to before the update.
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    conflicting_patch(&env, &dir, "crm");
    let before = env.repo_snapshot(&dir);
    for point in ["journal-written", "files-written", "index-written"] {
        kill_at(
            &env,
            &dir,
            &["update", "crm", "--conflicts=merge", "--yes"],
            point,
        );
        let out = env.qs_ok(&dir, &["recover"]);
        assert!(
            stderr(&out).contains("rolled back"),
            "{point}: {}",
            describe(&out)
        );
        assert_same_repo(&before, &env.repo_snapshot(&dir), point);
    }
    // Killed after the record is written: it is paused.
    kill_at(
        &env,
        &dir,
        &["update", "crm", "--conflicts=merge", "--yes"],
        "paused",
    );
    env.qs_ok(&dir, &["recover"]);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert!(stderr(&out).contains("paused"), "{}", describe(&out));

    // The user resolves; `--continue` is killed at every step.
    std::fs::write(dir.join(views("crm")), RESOLVED).expect("write");
    let paused_head = env.rev(&dir, "HEAD");
    for point in ["journal-written", "files-written", "index-written"] {
        kill_at(&env, &dir, &["update", "--continue"], point);
        let out = env.qs_ok(&dir, &["recover"]);
        assert!(
            stderr(&out).contains("rolled back"),
            "{point}: {}",
            describe(&out)
        );
        assert_eq!(
            read(&dir, &views("crm")),
            RESOLVED,
            "{point}: the resolution was lost"
        );
        assert_eq!(env.rev(&dir, "HEAD"), paused_head, "{point}");
        let out = env.qs(&dir, &["apply", "--yes"]);
        assert!(
            stderr(&out).contains("paused"),
            "{point}: still paused: {}",
            describe(&out)
        );
    }
    for point in ["refs-moved", "resumed"] {
        let copy = env.root().join(format!("copy-{point}"));
        let status = std::process::Command::new("cp")
            .args([
                "-a",
                dir.to_str().expect("utf8"),
                copy.to_str().expect("utf8"),
            ])
            .status()
            .expect("cp");
        assert!(status.success());
        kill_at(&env, &copy, &["update", "--continue"], point);
        let out = env.qs_ok(&copy, &["recover"]);
        assert!(
            stderr(&out).contains("completed"),
            "{point}: {}",
            describe(&out)
        );
        assert_eq!(read(&copy, &views("crm")), RESOLVED, "{point}");
        assert_ne!(env.rev(&copy, "HEAD"), paused_head, "{point}");
        assert_eq!(env.git(&copy, &["status", "--porcelain"]), "", "{point}");
        assert!(!copy.join(".git/MERGE_HEAD").exists(), "{point}");
        env.qs_ok(&copy, &["apply", "--yes"]);
    }
    env.qs_ok(&dir, &["update", "--continue"]);
    assert_eq!(read(&dir, &views("crm")), RESOLVED);
    env.git(&dir, &["fsck", "--no-dangling"]);
}

#[test]
fn apply_moves_a_pinned_ref_with_the_same_merge() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    patch_views(&env, &dir, "crm");
    env.qs_ok(&dir, &["plan", "--pin", "crm@v1.1.0", "--yes"]);
    assert!(read(&dir, "quickscale.yml").contains("ref: v1.1.0"));
    let out = env.qs(&dir, &["apply", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stdout(&out).contains("~ crm v1.0.0 → v1.1.0"),
        "{}",
        describe(&out)
    );
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        stdout(&out).contains("~ crm v1.0.0 → v1.1.0"),
        "{}",
        describe(&out)
    );
    let views_now = read(&dir, &views("crm"));
    assert!(views_now.starts_with("# local patch: audit\n") && views_now.contains("1.1.0"));
    // The merge is git-subtree's: a squash commit with the trailers.
    let squash = env.rev(&dir, "HEAD^^2");
    let message = env.git(&dir, &["log", "-1", "--format=%B", &squash]);
    assert!(
        message.starts_with("Squashed 'modules/crm/' changes from"),
        "{message}"
    );
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
    let out = env.qs_ok(&dir, &["apply", "--dry-run"]);
    assert!(stderr(&out).contains("Nothing to do"), "{}", describe(&out));

    // Another name for the same commit: no merge, only the ref is recorded.
    env.git(&crm, &["tag", "stable", "v1.1.0"]);
    env.qs_ok(&dir, &["plan", "--pin", "crm@stable", "--yes"]);
    let before = env.rev(&dir, "HEAD");
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        stdout(&out).contains("~ crm v1.1.0 → stable"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        env.rev(&dir, "HEAD^"),
        before,
        "one commit (quickscale.yml), no merge"
    );
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&dir, &format!("{before}:modules/crm"))
    );
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&env.qs_ok(&dir, &["status", "--json"]))).expect("json");
    assert_eq!(status["modules"][0]["ref"], "stable", "{status}");
    assert_eq!(status["in_sync"], true, "{status}");

    // By hand, to a version whose upstream change conflicts with nothing.
    let text = read(&dir, "quickscale.yml").replace("ref: stable", "ref: v1.2.0");
    std::fs::write(dir.join("quickscale.yml"), text).expect("write");
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        stdout(&out).contains("~ crm stable → v1.2.0"),
        "{}",
        describe(&out)
    );
    assert!(read(&dir, "shop/settings/modules.py").contains("CRM_PAGE_STYLE"));
    // A conflict refuses apply as it refuses update.
    conflicting_patch(&env, &dir, "crm");
    env.qs_ok(&dir, &["plan", "--pin", "crm@v2.0.0", "--yes"]);
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("conflict"), "{}", describe(&out));
    assert_same_repo(&before, &env.repo_snapshot(&dir), "refused apply");
}

#[test]
fn a_batch_is_all_or_nothing_and_says_which_module_failed() {
    let env = TestEnv::new();
    let names = ["ma", "mb", "mc", "md", "me"];
    let repos: Vec<PathBuf> = names.iter().map(|n| versions_repo(&env, n)).collect();
    let dir = env.new_project(&[]);
    for (name, repo) in names.iter().zip(&repos) {
        env.qs_ok(
            &dir,
            &[
                "plan",
                "--add",
                &format!("{name}@v1.0.0"),
                "--source",
                &format!("{name}={}", repo.display()),
                "--yes",
            ],
        );
    }
    env.qs_ok(&dir, &["apply", "--yes"]);
    let hidden = env.root().join("md-away");
    std::fs::rename(&repos[3], &hidden).expect("hide md");
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["update", "--all", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("module md:") && err.contains("no module was updated"),
        "{err}"
    );
    assert!(!err.contains("module ma:"), "{err}");
    assert_same_repo(&before, &env.repo_snapshot(&dir), "failed batch");

    std::fs::rename(&hidden, &repos[3]).expect("restore md");
    let start = env.rev(&dir, "HEAD");
    let out = env.qs_ok(&dir, &["update", "--all", "--yes"]);
    assert!(
        stderr(&out).contains("Updated 5 module(s)"),
        "{}",
        describe(&out)
    );
    for name in names {
        assert!(
            read(&dir, &views(name)).contains("\"version\": \"1.2.0\""),
            "{name}"
        );
    }
    // One operation: `undo` goes back to before the whole batch.
    assert_eq!(env.rev(&dir, "refs/quickscale/undo"), start);
    let merges = env.git(&dir, &["rev-list", "--merges", &format!("{start}..HEAD")]);
    assert_eq!(merges.lines().count(), 5, "{merges}");
    env.qs_ok(&dir, &["undo"]);
    assert_eq!(env.rev(&dir, "HEAD"), start);
}

#[test]
fn modules_sharing_a_source_are_listed_and_fetched_once() {
    let env = TestEnv::new();
    let mono = crate::common::fixtures::monorepo(&env, &["sa", "sb"]);
    let dir = env.new_project(&[]);
    for name in ["sa", "sb"] {
        env.qs_ok(
            &dir,
            &[
                "plan",
                "--add",
                &format!("{name}@splits/{name}-module"),
                "--source",
                &format!("{name}={}", mono.display()),
                "--yes",
            ],
        );
    }
    env.qs_ok(&dir, &["apply", "--yes"]);
    for name in ["sa", "sb"] {
        env.git(&mono, &["checkout", "-q", &format!("splits/{name}-module")]);
        commit_to(
            &env,
            &mono,
            &update_files(name, "1.1.0"),
            &format!("{name} 1.1.0"),
        );
    }
    env.git(&mono, &["checkout", "-q", "main"]);
    let out = env.qs_ok(&dir, &["update", "--yes"]);
    let err = stderr(&out);
    assert_eq!(err.matches("Fetched ").count(), 1, "{err}");
    assert!(err.contains("Fetched sa, sb"), "{err}");
    for name in ["sa", "sb"] {
        assert!(
            read(&dir, &views(name)).contains("\"version\": \"1.1.0\""),
            "{name}"
        );
    }
}

#[test]
fn dry_run_previews_everything_and_writes_nothing() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    patch_views(&env, &dir, "crm");
    let before = env.repo_snapshot(&dir);
    let out = env.qs(
        &dir,
        &["update", "--dry-run", "--detailed-exitcode", "--diff"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let text = stdout(&out);
    let short = |r: &str| env.rev(&crm, &format!("{r}^{{commit}}"))[..12].to_owned();
    for expected in [
        format!(
            "~ crm v1.0.0 → v1.2.0 (version 1.0.0 → 1.2.0; {} → {})",
            short("v1.0.0"),
            short("v1.2.0")
        ),
        "upstream commits:".into(),
        " crm 1.2.0".into(),
        " crm 1.1.0".into(),
        "M module.yml".into(),
        format!("A {}/migrations/0002_item_slug.py", app_package("crm")),
        "local changes kept:".into(),
        format!("  {}", views("crm")),
        "conflicts: none".into(),
        "+ page_style = cards (new option: How lists are shown)".into(),
        "new database migrations:".into(),
        "python manage.py migrate".into(),
        "upgrade notes:".into(),
        "- 1.1.0: Views return the version.".into(),
        "- 1.2.0: Lists can show cards; set page_style to choose.".into(),
        "wiring changes:".into(),
        "+    \"CRM_PAGE_STYLE\": \"cards\",".into(),
        "module files:".into(),
        format!("{}: @@", views("crm")),
    ] {
        assert!(text.contains(&expected), "missing `{expected}` in:\n{text}");
    }
    assert!(
        stderr(&out).contains("Dry run: nothing was written"),
        "{}",
        describe(&out)
    );
    assert_same_repo(&before, &env.repo_snapshot(&dir), "update --dry-run");

    let out = env.qs_ok(&dir, &["update", "crm", "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let m = &v["modules"][0];
    assert_eq!(m["module"], "crm", "{v}");
    assert_eq!(m["from"]["ref"], "v1.0.0");
    assert_eq!(m["to"]["ref"], "v1.2.0");
    assert_eq!(m["to"]["version"], "1.2.0");
    assert_eq!(m["commits"].as_array().map(Vec::len), Some(2), "{m}");
    assert_eq!(m["local_changes"][0], views("crm"));
    assert_eq!(m["options"][0]["option"], "page_style");
    assert_eq!(m["options"][0]["change"], "added");
    assert_eq!(m["migrations"].as_array().map(Vec::len), Some(1), "{m}");
    assert_eq!(m["notes"].as_array().map(Vec::len), Some(2), "{m}");
    assert!(m["conflicts"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(v["wiring"][0]["path"], "shop/settings/modules.py", "{v}");
    assert_same_repo(&before, &env.repo_snapshot(&dir), "update --dry-run --json");

    // Conflicts are part of the preview, computed without writing.
    conflicting_patch(&env, &dir, "crm");
    let before = env.repo_snapshot(&dir);
    let out = env.qs_ok(&dir, &["update", "--dry-run"]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("! {}: both changed the same lines", views("crm"))),
        "{text}"
    );
    assert_same_repo(
        &before,
        &env.repo_snapshot(&dir),
        "update --dry-run with conflicts",
    );
    // Nothing to update: exit 0 even with --detailed-exitcode.
    env.qs_ok(&dir, &["update", "crm", "--to", "v1.0.0", "--dry-run"]);
}

#[test]
fn requirements_the_project_cannot_meet_refuse_the_update() {
    let env = TestEnv::new();
    let crm = versions_repo_with(&env, "crm", &["1.0.0"]);
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    let mut files = update_files("crm", "1.1.0");
    for (path, text) in files.iter_mut() {
        if path == "module.yml" {
            text.push_str("requires:\n  quickscale: \">=99\"\n  modules:\n    auth: \"^1.0\"\n");
        }
    }
    commit_to(&env, &crm, &files, "crm 1.1.0 needs a newer tool");
    env.git(&crm, &["tag", "v1.1.0"]);
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["update", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("needs git-quickscale >=99"), "{err}");
    assert!(
        err.contains("needs module auth ^1.0") && err.contains("plan --add auth"),
        "{err}"
    );
    assert_same_repo(&before, &env.repo_snapshot(&dir), "refused requirements");
}

#[test]
fn a_paused_update_committed_with_git_commit_is_finished_by_continue() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    conflicting_patch(&env, &dir, "crm");
    let out = env.qs(&dir, &["update", "crm", "--conflicts=merge", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    std::fs::write(dir.join(views("crm")), RESOLVED).expect("write");
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "-q", "--no-edit"]);
    let merge = env.rev(&dir, "HEAD");
    // --abort would drop the user's commit: refused.
    let out = env.qs(&dir, &["update", "--abort"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("git commit"), "{}", describe(&out));
    let out = env.qs_ok(&dir, &["update", "--continue"]);
    assert!(
        stderr(&out).contains("Updated 1 module"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        env.rev(&dir, "HEAD^"),
        merge,
        "the wiring commit follows the user's merge"
    );
    assert_eq!(read(&dir, &views("crm")), RESOLVED);
    assert!(read(&dir, "shop/settings/modules.py").contains("CRM_PAGE_STYLE"));
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&env.qs_ok(&dir, &["status", "--json"]))).expect("json");
    assert_eq!(status["modules"][0]["ref"], "v1.2.0", "{status}");
    assert_eq!(status["in_sync"], true, "{status}");
    let upstream = env.rev(&crm, "v1.2.0^{commit}");
    let message = env.git(&dir, &["log", "-1", "--format=%B"]);
    assert!(
        message.contains(&format!("Quickscale-Module: crm@v1.2.0 {upstream}")),
        "{message}"
    );
}

#[test]
fn sigkill_during_abort_goes_back_to_the_paused_state() {
    use crate::common::kill_at;
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    conflicting_patch(&env, &dir, "crm");
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["update", "crm", "--conflicts=merge", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    std::fs::write(dir.join(views("crm")), RESOLVED).expect("write");
    for point in ["journal-written", "files-written", "index-written"] {
        kill_at(&env, &dir, &["update", "--abort"], point);
        let out = env.qs_ok(&dir, &["recover"]);
        assert!(
            stderr(&out).contains("rolled back"),
            "{point}: {}",
            describe(&out)
        );
        assert_eq!(read(&dir, &views("crm")), RESOLVED, "{point}");
        assert!(dir.join(".git/MERGE_HEAD").exists(), "{point}");
        let out = env.qs(&dir, &["apply", "--yes"]);
        assert!(
            stderr(&out).contains("paused"),
            "{point}: {}",
            describe(&out)
        );
    }
    kill_at(&env, &dir, &["update", "--abort"], "resumed");
    let out = env.qs_ok(&dir, &["recover"]);
    assert!(stderr(&out).contains("completed"), "{}", describe(&out));
    assert_same_repo(
        &before,
        &env.repo_snapshot(&dir),
        "abort completed by recover",
    );
}
