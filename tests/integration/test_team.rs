//! Team workflows and crash recovery under real git use (issue 20): the
//! defects seen with two clones, `git status` between commands, linked
//! worktrees and kills, each as a scenario that failed before its fix.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::fixtures::{app_package, module_repo};
use crate::common::{BIN, TestEnv, describe, kill_at, stderr, stdout};
use crate::test_update::{project_with, versions_repo};

fn views(name: &str) -> String {
    format!("modules/{name}/{}/views.py", app_package(name))
}

/// A committed local change that conflicts with every later version.
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

/// Starts `git quickscale ARGS` and waits until it is paused (alive, lock
/// held) at the test pause point `point`.
pub fn start_paused(env: &TestEnv, dir: &Path, args: &[&str], point: &str) -> Child {
    let marker = git_dir(env, dir).join(format!("quickscale/paused-at-{point}"));
    let _ = std::fs::remove_file(&marker);
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    let mut child = cmd
        .current_dir(dir)
        .env("QUICKSCALE_TEST_PAUSE_AT", point)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while !marker.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{args:?} exited ({status}) before reaching {point}");
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} never reached {point}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// SIGKILLs a child started by [`start_paused`].
pub fn kill(mut child: Child) {
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    child.wait().expect("reap");
}

fn git_dir(env: &TestEnv, dir: &Path) -> PathBuf {
    let out = env.git(dir, &["rev-parse", "--absolute-git-dir"]);
    PathBuf::from(out.trim())
}

/// Every `*.lock` file under `dir` (recursively).
fn lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(lock_files(&p));
        } else if p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
    out
}

#[test]
fn abort_refuses_like_git_merge_abort_when_a_merged_file_was_edited_and_keeps_the_edit() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    conflicting_patch(&env, &dir, "crm");
    let out = env.qs(&dir, &["update", "crm", "--conflicts=merge", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    // module.yml merged cleanly (staged M); the user edits it (MM).
    let manifest = dir.join("modules/crm/module.yml");
    let mut text = std::fs::read_to_string(&manifest).expect("read");
    assert!(text.contains("1.1.0") || text.contains("1.2.0"), "{text}");
    text.push_str("# my own note\n");
    std::fs::write(&manifest, &text).expect("write");
    let out = env.qs(&dir, &["update", "--abort"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("modules/crm/module.yml"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&manifest).expect("read"),
        text,
        "the user's edit was lost"
    );
    // Still paused: the edit reverted, abort goes through.
    assert!(dir.join(".git/MERGE_HEAD").exists());
    env.git(&dir, &["checkout", "--", "modules/crm/module.yml"]);
    env.qs_ok(&dir, &["update", "--abort"]);
    assert!(!dir.join(".git/MERGE_HEAD").exists());
}

/// Project `shop` with module a; `plan --add b` waits to be applied.
fn apply_scenario(env: &TestEnv) -> PathBuf {
    let a = module_repo(env, "a");
    let b = module_repo(env, "b");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.plan_add(&dir, &[("b", &b)]);
    dir
}

/// `git status` after touching a tracked file: git rewrites the index with
/// new stat data (and nothing else).
fn refresh_index(env: &TestEnv, dir: &Path) {
    let before = std::fs::read(dir.join(".git/index")).expect("index");
    // Move README.md's mtime by whole seconds: git compares seconds only
    // (unless built with USE_NSEC), so a rewrite within the same second
    // would not make `git status` refresh anything.
    let readme = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("README.md"))
        .expect("README");
    let mtime = readme.metadata().and_then(|m| m.modified()).expect("mtime");
    readme
        .set_modified(mtime + Duration::from_secs(2))
        .expect("set mtime");
    drop(readme);
    env.git(dir, &["status", "--porcelain"]);
    let after = std::fs::read(dir.join(".git/index")).expect("index");
    assert_ne!(before, after, "git status did not refresh the index");
}

#[test]
fn recovery_is_not_defeated_by_git_status_refreshing_the_index() {
    for point in ["journal-written", "files-written", "index-written"] {
        let env = TestEnv::new();
        let dir = apply_scenario(&env);
        let before = env.repo_snapshot(&dir);
        let status = env.git(&dir, &["status", "--porcelain"]);
        kill_at(&env, &dir, &["apply", "--yes"], point);
        refresh_index(&env, &dir);
        let out = env.qs(&dir, &["recover"]);
        assert!(out.status.success(), "{point}: {}", describe(&out));
        assert!(
            stderr(&out).contains("rolled back"),
            "{point}: {}",
            describe(&out)
        );
        let after = env.repo_snapshot(&dir);
        assert_eq!(before.refs, after.refs, "{point}");
        assert_eq!(before.files, after.files, "{point}: worktree");
        assert_eq!(
            env.git(&dir, &["status", "--porcelain"]),
            status,
            "{point}: the index is not as before"
        );
    }
}

#[test]
fn a_killed_recover_then_git_status_then_recover_finishes_the_rollback() {
    let env = TestEnv::new();
    let dir = apply_scenario(&env);
    let before = env.repo_snapshot(&dir);
    let status = env.git(&dir, &["status", "--porcelain"]);
    kill_at(&env, &dir, &["apply", "--yes"], "index-written");
    kill_at(&env, &dir, &["recover"], "recovering");
    env.git(&dir, &["status", "--porcelain"]);
    refresh_index(&env, &dir);
    let out = env.qs(&dir, &["recover"]);
    assert!(out.status.success(), "{}", describe(&out));
    let after = env.repo_snapshot(&dir);
    assert_eq!(before.refs, after.refs);
    assert_eq!(before.files, after.files, "worktree");
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), status);
}

#[test]
fn one_lock_is_shared_by_linked_worktrees() {
    let env = TestEnv::new();
    let dir = apply_scenario(&env);
    env.git(&dir, &["commit", "-qam", "plan b"]);
    let other = env.root().join("other");
    env.git(
        &dir,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "other",
            other.to_str().expect("utf8"),
        ],
    );
    let child = start_paused(&env, &dir, &["apply", "--yes"], "journal-written");
    let out = env.qs(&other, &["remove", "a", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("another git quickscale"),
        "{}",
        describe(&out)
    );
    // The lock lives in the common git dir, in one place.
    let common = PathBuf::from(
        env.git(
            &other,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        )
        .trim(),
    );
    assert!(common.join("quickscale/lock").exists());
    kill(child);
    env.qs_ok(&dir, &["recover"]);
    env.qs_ok(&other, &["remove", "a", "--yes"]);
}

#[test]
fn a_stale_ref_lock_the_tool_left_does_not_wedge_the_next_command() {
    let env = TestEnv::new();
    let dir = apply_scenario(&env);
    let refs = dir.join(".git/refs/quickscale");
    std::fs::create_dir_all(refs.join("tmp/b")).expect("mkdir");
    std::fs::write(refs.join("tmp/b/target.lock"), "").expect("lock");
    std::fs::write(refs.join("modules/b.lock"), "").expect("lock");
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(lock_files(&refs), Vec::<PathBuf>::new());
    assert!(
        !env.git(&dir, &["for-each-ref", "refs/quickscale/modules/b"])
            .is_empty(),
        "b was not applied"
    );
    std::fs::create_dir_all(refs.join("tmp/b")).expect("mkdir");
    std::fs::write(refs.join("tmp/b/target.lock"), "").expect("lock");
    env.qs_ok(&dir, &["recover"]);
    assert_eq!(lock_files(&refs), Vec::<PathBuf>::new());
}

#[test]
fn plan_and_sync_wait_for_the_lock_of_a_running_apply() {
    let env = TestEnv::new();
    let dir = apply_scenario(&env);
    let remote = env.root().join("remote.git");
    env.git(
        env.root(),
        &["init", "-q", "--bare", remote.to_str().expect("utf8")],
    );
    env.git(
        &dir,
        &["remote", "add", "origin", remote.to_str().expect("utf8")],
    );
    let child = start_paused(&env, &dir, &["apply", "--yes"], "journal-written");
    let config = std::fs::read(dir.join("quickscale.yml")).expect("read");
    let out = env.qs(&dir, &["plan", "--remove", "a", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "plan: {}", describe(&out));
    assert!(
        stderr(&out).contains("another git quickscale"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        std::fs::read(dir.join("quickscale.yml")).expect("read"),
        config
    );
    let out = env.qs(&dir, &["sync", "origin"]);
    assert_eq!(out.status.code(), Some(1), "sync: {}", describe(&out));
    assert!(
        stderr(&out).contains("another git quickscale"),
        "{}",
        describe(&out)
    );
    kill(child);
}

#[test]
fn read_commands_leave_no_lock_no_scratch_refs_and_no_objects() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    let clone = env.root().join("clone");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            dir.to_str().expect("utf8"),
            clone.to_str().expect("utf8"),
        ],
    );
    let objects = |d: &Path| {
        let mut names: Vec<String> = walk(&d.join(".git/objects"))
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        names.sort();
        names
    };
    for args in [
        &["check"][..],
        &["status"][..],
        &["apply", "--dry-run"][..],
        &["update", "--check"][..],
        &["update", "crm", "--dry-run"][..],
        &["update", "crm", "--to", "v1.2.0", "--dry-run"][..],
        &["update", "crm", "--to", "v2.0.0", "--dry-run"][..],
    ] {
        let before = objects(&clone);
        let out = env.qs(&clone, args);
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{args:?}: {}",
            describe(&out)
        );
        assert!(
            !clone.join(".git/quickscale/lock").exists(),
            "{args:?} left the lock file behind"
        );
        assert_eq!(
            env.git(&clone, &["for-each-ref", "refs/quickscale/tmp"]),
            "",
            "{args:?} left scratch refs"
        );
        assert_eq!(
            lock_files(&clone.join(".git")),
            Vec::<PathBuf>::new(),
            "{args:?}"
        );
        // Not even `update`, which fetches versions this clone never saw:
        // into a temporary object store, gone when it returns.
        assert!(objects(&clone) == before, "{args:?} wrote objects");
    }
    // The versions it fetched are not in the clone afterwards.
    for tag in ["v1.1.0", "v1.2.0", "v2.0.0"] {
        let commit = env.rev(&crm, &format!("{tag}^{{commit}}"));
        let out = std::process::Command::new("git")
            .current_dir(&clone)
            .args(["cat-file", "-e", &commit])
            .output()
            .expect("git");
        assert!(!out.status.success(), "{tag} ({commit}) is in the clone");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn check_compares_the_source_ref_exactly_as_apply_does() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    for new_ref in ["v1.1.0", "no-such-ref"] {
        let config = std::fs::read_to_string(dir.join("quickscale.yml")).expect("read");
        let edited = config.replace("ref: v1.0.0", &format!("ref: {new_ref}"));
        assert_ne!(edited, config, "{config}");
        std::fs::write(dir.join("quickscale.yml"), &edited).expect("write");
        let apply = env.qs(&dir, &["apply", "--dry-run", "--detailed-exitcode"]);
        let check = env.qs(&dir, &["check"]);
        assert_ne!(apply.status.code(), Some(0), "{}", describe(&apply));
        assert_eq!(
            check.status.code(),
            Some(2),
            "{new_ref}: check says no drift while apply has work:\n{}\n{}",
            describe(&check),
            describe(&apply)
        );
        assert!(stdout(&check).contains(new_ref) || stderr(&check).contains(new_ref));
        // The module has no local changes: the plan does not claim any.
        assert!(
            !stdout(&apply).contains("merged with its local changes"),
            "{}",
            describe(&apply)
        );
        std::fs::write(dir.join("quickscale.yml"), &config).expect("write");
    }
    let out = env.qs(&dir, &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

/// Two clones of one project sharing a bare remote.
fn two_clones(env: &TestEnv) -> (PathBuf, PathBuf, PathBuf) {
    let a = module_repo(env, "a");
    let crm = versions_repo(env, "crm");
    let dir = project_with(env, "crm", &crm, "v1.0.0");
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    let remote = env.root().join("remote.git");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "--bare",
            dir.to_str().expect("utf8"),
            remote.to_str().expect("utf8"),
        ],
    );
    env.git(
        &dir,
        &["remote", "add", "origin", remote.to_str().expect("utf8")],
    );
    env.git(&dir, &["fetch", "-q", "origin"]);
    env.git(&dir, &["branch", "-q", "-u", "origin/main"]);
    env.qs_ok(&dir, &["sync", "origin"]);
    let other = env.root().join("other");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            remote.to_str().expect("utf8"),
            other.to_str().expect("utf8"),
        ],
    );
    env.qs_ok(&other, &["sync", "origin"]);
    (dir, other, remote)
}

#[test]
fn a_clean_merge_of_two_clones_states_is_in_sync() {
    let env = TestEnv::new();
    let (one, two, _remote) = two_clones(&env);
    // One reconfigures a and pushes (state too).
    env.qs_ok(
        &one,
        &["plan", "--reconfigure", "--set", "a.page_size=31", "--yes"],
    );
    env.qs_ok(&one, &["apply", "--yes"]);
    env.git(&one, &["push", "-q", "origin", "main"]);
    env.qs_ok(&one, &["sync", "origin"]);
    // Two updates crm, then pulls (a clean merge) and syncs.
    env.qs_ok(&two, &["update", "crm", "--to", "v1.1.0", "--yes"]);
    env.git(
        &two,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );
    env.qs_ok(&two, &["sync", "origin"]);
    assert_eq!(
        env.git(&two, &["rev-list", "--parents", "-1", "HEAD"])
            .split(' ')
            .count(),
        3
    );
    let check = env.qs(&two, &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", describe(&check));
    let apply = env.qs(&two, &["apply", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    // The same commit in a note-less clone agrees.
    let bare = env.root().join("noteless");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            two.to_str().expect("utf8"),
            bare.to_str().expect("utf8"),
        ],
    );
    let check = env.qs(&bare, &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", describe(&check));
}

/// `git pull --rebase` with `notes.rewrite.rebase` copies the note of the
/// rebased tool commit onto its new copy, whose tree now also holds the
/// teammate's update: the note sits on HEAD but no longer describes its
/// modules. It must be read as stale (the tree is consistent), not as
/// "crm is at v1.0.0" (the fuzzer's finding, seed 6000004385).
#[test]
fn a_note_a_rebase_copied_onto_a_tree_with_a_teammates_update_is_not_drift() {
    let env = TestEnv::new();
    let (one, two, _remote) = two_clones(&env);
    env.qs_ok(&one, &["update", "crm", "--to", "v1.1.0", "--yes"]);
    env.git(&one, &["push", "-q", "origin", "main"]);
    env.qs_ok(&one, &["sync", "origin"]);
    env.qs_ok(
        &two,
        &["plan", "--reconfigure", "--set", "a.page_size=31", "--yes"],
    );
    env.qs_ok(&two, &["apply", "--yes"]);
    pull_rebase_copying_notes(&env, &two);
    let (code, report, shown) = check_json(&env, &two);
    assert_eq!(code, Some(0), "false drift after pull --rebase:\n{shown}");
    assert_eq!(report["state"], "derived", "{shown}");
    assert_eq!(noteless_check(&env, &two, "noteless"), Some(0));
    let apply = env.qs(&two, &["apply", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(
        apply.status.code(),
        Some(2),
        "apply records the state:\n{}",
        describe(&apply)
    );
    // A hand edit of a module file on top is still not drift, but a
    // managed file edited by hand is.
    let settings = two.join("shop/settings/modules.py");
    let text = std::fs::read_to_string(&settings).expect("settings");
    std::fs::write(&settings, format!("{text}\nHAND = 1\n")).expect("write");
    env.git(&two, &["commit", "-qam", "hand edit"]);
    let (code, _, shown) = check_json(&env, &two);
    assert_eq!(code, Some(2), "{shown}");
}

/// The fuzzer's finding, seed 4000004983: a teammate removes module `a`;
/// this clone pulls that, embeds `a` again (with an option) and applies,
/// while the teammate updates crm and pushes. `git pull --rebase` (with
/// notes.rewrite) drops the subtree merge that brought `modules/a` back (a
/// rebase drops merges, and skips the squash commit, whose patch the
/// remote already has) and replays the tool's wiring commit onto the
/// teammate's tree. The note, copied onto the new HEAD, still says `a` is
/// embedded and crm is at v1.0.0; the tree has no `modules/a` and crm
/// v1.1.0. `check` read the note ("module-missing", crm "at v1.0.0") while
/// `apply --dry-run` refused ("module a has no module.yml"): they
/// disagreed. The tree's own record wins over a copied note that
/// contradicts it: `a` is asked for and not embedded, which `check` and
/// `apply` both say, and apply embeds it again.
#[test]
fn a_note_a_rebase_copied_onto_a_tree_without_its_module_gives_way_to_the_tree() {
    let env = TestEnv::new();
    let (one, two, _remote) = two_clones(&env);
    env.qs_ok(&one, &["remove", "a", "--yes"]);
    env.git(&one, &["push", "-q", "origin", "main"]);
    env.qs_ok(&one, &["sync", "origin"]);
    env.git(&two, &["pull", "-q", "--no-rebase", "origin", "main"]);
    env.qs_ok(&two, &["sync", "origin"]);
    let a = env.root().join("upstream/a");
    env.plan_add(&two, &[("a", &a)]);
    env.qs_ok(
        &two,
        &["plan", "--reconfigure", "--set", "a.page_size=12", "--yes"],
    );
    env.qs_ok(&two, &["apply", "--yes"]);
    env.qs_ok(&one, &["update", "crm", "--to", "v1.1.0", "--yes"]);
    env.git(&one, &["push", "-q", "origin", "main"]);
    env.qs_ok(&one, &["sync", "origin"]);
    pull_rebase_copying_notes(&env, &two);
    assert!(
        !two.join("modules/a").exists(),
        "the rebase dropped the subtree merge"
    );
    let (code, report, shown) = check_json(&env, &two);
    assert_eq!(code, Some(2), "{shown}");
    assert_eq!(report["state"], "derived", "{shown}");
    let ids = managed_ids(&report);
    assert!(ids.iter().any(|id| id == "not-applied"), "{shown}");
    assert!(!ids.iter().any(|id| id == "module-missing"), "{shown}");
    assert!(!shown.contains("at v1.0.0"), "{shown}");
    assert_eq!(noteless_check(&env, &two, "noteless"), Some(2));
    let apply = env.qs(&two, &["apply", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(apply.status.code(), Some(2), "{}", describe(&apply));
    // apply embeds `a` again with the options asked for; then all agree.
    env.qs_ok(&two, &["apply", "--yes"]);
    assert!(two.join("modules/a/module.yml").exists());
    let (code, _, shown) = check_json(&env, &two);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(noteless_check(&env, &two, "noteless-after"), Some(0));
}

#[test]
fn messages_a_new_user_sees_name_the_next_step() {
    let env = TestEnv::new();
    let crm = versions_repo(&env, "crm");
    let dir = project_with(&env, "crm", &crm, "v1.0.0");
    conflicting_patch(&env, &dir, "crm");
    // A module that is not embedded: no advice about options.
    let out = env.qs(&dir, &["update", "nosuchmod"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(!err.contains("options"), "{err}");
    assert!(err.contains("plan --add nosuchmod"), "{err}");
    // A dry run lists a conflicted file once, as a conflict.
    let out = env.qs(&dir, &["update", "crm", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let text = stdout(&out);
    assert_eq!(text.matches(&views("crm")).count(), 1, "{text}");
    // Dirty files refuse an update with advice for that command.
    let readme = dir.join("modules/crm/README.md");
    std::fs::write(&readme, "edited\n").expect("write");
    let out = env.qs(&dir, &["update", "crm", "--conflicts=merge", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("modules/crm/README.md"), "{err}");
    assert!(
        !err.contains("apply again") && err.contains("run the command again"),
        "{err}"
    );
    env.git(&dir, &["checkout", "--", "modules/crm/README.md"]);
    // remove: the advice about the tables comes after the removal.
    let out = env.qs_ok(&dir, &["remove", "crm", "--yes"]);
    let err = stderr(&out);
    let removed = err.find("Removed crm").expect("removed");
    let advice = err
        .find("migrate quickscale_modules_crm zero")
        .expect("advice");
    assert!(advice > removed, "{err}");
    assert!(err.contains("git quickscale undo"), "{err}");
}

#[test]
fn a_git_process_holding_index_lock_stops_apply_with_that_error_and_a_rollback() {
    let env = TestEnv::new();
    let dir = apply_scenario(&env);
    let before = env.repo_snapshot(&dir);
    std::fs::write(dir.join(".git/index.lock"), "").expect("lock");
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("index.lock"), "{err}");
    assert!(!err.contains("cannot be rolled back"), "{err}");
    // git's lock is git's: left alone.
    assert!(dir.join(".git/index.lock").exists());
    std::fs::remove_file(dir.join(".git/index.lock")).expect("unlock");
    let after = env.repo_snapshot(&dir);
    assert_eq!(before.refs, after.refs);
    assert_eq!(before.files, after.files, "worktree");
    assert!(!dir.join(".git/quickscale/journal.json").exists());
    env.qs_ok(&dir, &["apply", "--yes"]);
}

/// `check` exit code and its JSON report in `dir`.
/// `git pull --rebase` with notes.rewrite, which copies the note of a
/// rebased tool commit onto its new copy (asserted).
fn pull_rebase_copying_notes(env: &TestEnv, dir: &Path) {
    env.git(
        dir,
        &[
            "-c",
            "notes.rewrite.rebase=true",
            "-c",
            "notes.rewriteRef=refs/notes/quickscale",
            "pull",
            "-q",
            "--rebase",
            "origin",
            "main",
        ],
    );
    let head = env.rev(dir, "HEAD");
    assert!(
        env.git(dir, &["notes", "--ref=quickscale", "list"])
            .contains(&head),
        "the rebase copied the note onto the new HEAD"
    );
}

fn check_json(env: &TestEnv, dir: &Path) -> (Option<i32>, serde_json::Value, String) {
    let out = env.qs(dir, &["check", "--format", "json"]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out.status.code(), report, describe(&out))
}

/// `check` in a clone of `dir` at HEAD that has no notes (as CI has it).
fn noteless_check(env: &TestEnv, dir: &Path, name: &str) -> Option<i32> {
    let clone = env.root().join(name);
    let s = |p: &Path| p.to_str().expect("utf8").to_owned();
    env.git(
        env.root(),
        &["clone", "-q", "--no-checkout", &s(dir), &s(&clone)],
    );
    let head = env.rev(dir, "HEAD");
    env.git(&clone, &["checkout", "-q", "--detach", &head]);
    let code = env.qs(&clone, &["check"]).status.code();
    std::fs::remove_dir_all(&clone).expect("rm clone");
    code
}

fn managed_ids(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Only the last commit of an update — the one that changes quickscale.yml's
/// ref — taken to another branch by `git cherry-pick`: the module's files
/// are still the old version's, so quickscale.yml asks for a version the
/// project does not have. That is drift with the note and in a note-less
/// clone alike (the fuzzer's finding, seed 2000002371: the note-less clone
/// took the ref from quickscale.yml and found none).
#[test]
fn a_cherry_picked_ref_change_without_the_update_it_belongs_to_is_drift_everywhere() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.git(&dir, &["branch", "-q", "side"]);
    env.qs_ok(&dir, &["update", "a", "--to", "v1.1.0", "--yes"]);
    let last = env.rev(&dir, "HEAD");
    assert_eq!(
        env.git(&dir, &["show", "--name-only", "--format=", &last])
            .trim(),
        "quickscale.yml",
        "the update's last commit changes quickscale.yml only"
    );
    // Before: in sync, with the note and without.
    let (code, _, shown) = check_json(&env, &dir);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(noteless_check(&env, &dir, "noteless-0"), Some(0));

    env.git(&dir, &["switch", "-q", "side"]);
    env.git(&dir, &["cherry-pick", &last]);
    let (code, report, shown) = check_json(&env, &dir);
    assert_eq!(code, Some(2), "quickscale.yml asks for v1.1.0:\n{shown}");
    assert!(
        managed_ids(&report).contains(&"not-applied".to_owned()),
        "{shown}"
    );
    assert_eq!(
        noteless_check(&env, &dir, "noteless-1"),
        Some(2),
        "a note-less clone misses the drift the note shows"
    );
    // apply brings the module to v1.1.0: in sync everywhere again.
    env.qs_ok(&dir, &["apply", "--yes"]);
    let (code, _, shown) = check_json(&env, &dir);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(noteless_check(&env, &dir, "noteless-2"), Some(0));
}

/// A commit the tool made, taken to another branch by `git cherry-pick`,
/// carries no note: the nearest note predates it. The tree is consistent
/// with quickscale.yml, so `check` finds no drift, as a note-less clone
/// of the same commit does (the fuzzer's finding, seed 4098629398); a real
/// hand edit on top is still drift.
#[test]
fn a_cherry_picked_tool_commit_without_its_note_is_not_drift_but_real_drift_is() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.git(&dir, &["branch", "-q", "side"]);
    env.qs_ok(
        &dir,
        &["plan", "--reconfigure", "--set", "a.page_size=24", "--yes"],
    );
    env.qs_ok(&dir, &["apply", "--yes"]);
    let settings = "shop/settings/modules.py";
    let tool_commit = env.rev(&dir, "HEAD");
    assert!(
        env.git(&dir, &["show", "--stat", "--format=", "HEAD"])
            .contains(settings),
        "the reconfigure commit changes the managed settings"
    );

    // Cherry-pick (onto other work, so it is a new commit): no note is copied.
    env.git(&dir, &["switch", "-q", "side"]);
    std::fs::write(dir.join("README.md"), "side work\n").expect("write");
    env.git(&dir, &["commit", "-qam", "Work on side"]);
    env.git(&dir, &["cherry-pick", &tool_commit]);
    assert!(
        !env.git(&dir, &["notes", "--ref=quickscale", "list"])
            .contains(&env.rev(&dir, "HEAD")),
        "cherry-pick copied the note"
    );
    let (code, report, shown) = check_json(&env, &dir);
    assert_eq!(code, Some(0), "false drift after a cherry-pick:\n{shown}");
    assert_eq!(noteless_check(&env, &dir, "noteless-1"), Some(0));

    // Real drift on top of it is still found: a hand edit of the managed file …
    let path = dir.join(settings);
    let text = std::fs::read_to_string(&path).expect("settings");
    std::fs::write(&path, format!("{text}\nHAND_EDIT = True\n")).expect("write");
    env.git(&dir, &["commit", "-qam", "Hand edit of managed settings"]);
    let (code, report2, shown) = check_json(&env, &dir);
    assert_eq!(code, Some(2), "a hand edit must be drift:\n{shown}");
    assert!(
        managed_ids(&report2).contains(&"managed-drift".to_owned()),
        "{shown}"
    );
    assert_eq!(noteless_check(&env, &dir, "noteless-2"), Some(2));
    env.git(&dir, &["reset", "-q", "--hard", "HEAD~1"]);
    // … and quickscale.yml changed without apply.
    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    let edited = yml.replace("page_size: 24", "page_size: 33");
    assert_ne!(edited, yml, "{yml}");
    std::fs::write(dir.join("quickscale.yml"), edited).expect("write");
    env.git(&dir, &["commit", "-qam", "Edit quickscale.yml by hand"]);
    let (code, report3, shown) = check_json(&env, &dir);
    assert_eq!(
        code,
        Some(2),
        "quickscale.yml changed without apply is drift:\n{shown}"
    );
    assert!(
        managed_ids(&report3).contains(&"not-applied".to_owned()),
        "{shown}"
    );
    assert_eq!(noteless_check(&env, &dir, "noteless-3"), Some(2));
    env.git(&dir, &["reset", "-q", "--hard", "HEAD~1"]);
    assert_eq!(
        report["state"], "derived",
        "the stale note is not the state"
    );
    // `apply` records the state: a note again, still in sync, tree unchanged.
    let tree = env.rev(&dir, "HEAD^{tree}");
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert_eq!(env.rev(&dir, "HEAD^{tree}"), tree);
    let (code, report, shown) = check_json(&env, &dir);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(report["state"], "note", "{shown}");
}

/// Amend and rebase copy no note without `notes.rewriteRef` (a clone where
/// the tool never wrote): the same shape as a cherry-pick.
#[test]
fn an_amended_or_rebased_tool_commit_without_its_note_is_not_drift() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.git(&dir, &["branch", "-q", "side"]);
    env.git(&dir, &["config", "--unset-all", "notes.rewriteRef"]);
    env.qs_ok(
        &dir,
        &["plan", "--reconfigure", "--set", "a.page_size=31", "--yes"],
    );
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.git(&dir, &["config", "--unset-all", "notes.rewriteRef"]);
    env.git(
        &dir,
        &["commit", "-q", "--amend", "-m", "Reconfigure a (amended)"],
    );
    let (code, _, shown) = check_json(&env, &dir);
    assert_eq!(code, Some(0), "false drift after an amend:\n{shown}");
    env.git(&dir, &["switch", "-q", "-c", "base", "side"]);
    std::fs::write(dir.join("README.md"), "base work\n").expect("write");
    env.git(&dir, &["commit", "-qam", "Work on the base"]);
    env.git(&dir, &["switch", "-q", "main"]);
    env.git(&dir, &["rebase", "-q", "base"]);
    let (code, _, shown) = check_json(&env, &dir);
    assert_eq!(code, Some(0), "false drift after a rebase:\n{shown}");
    assert_eq!(noteless_check(&env, &dir, "noteless-4"), Some(0));
}

/// Fuzzer finding (seed 3398547941): the user amends their own file into the
/// tool's commit (the note is copied by notes.rewriteRef), then runs undo.
/// Undo must not take the user's file out of the worktree.
#[test]
fn undo_of_an_amended_tool_commit_keeps_the_users_amended_files() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.qs_ok(
        &dir,
        &["plan", "--reconfigure", "--set", "a.page_size=31", "--yes"],
    );
    env.qs_ok(&dir, &["apply", "--yes"]);
    std::fs::create_dir_all(dir.join("user")).expect("mkdir");
    std::fs::write(dir.join("user/wip.txt"), "my work in progress\n").expect("write");
    env.git(&dir, &["add", "user/wip.txt"]);
    env.git(&dir, &["commit", "-q", "--amend", "--no-edit"]);
    let head_before = env.git(&dir, &["rev-parse", "HEAD"]);
    let out = env.qs(&dir, &["undo"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("user/wip.txt"))
            .ok()
            .as_deref(),
        Some("my work in progress\n"),
        "undo took the user's amended file out of the worktree:\n{}",
        stderr(&out)
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "undo should refuse:\n{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("user/wip.txt") && stderr(&out).contains("hint:"),
        "the refusal names the file and the next step:\n{}",
        stderr(&out)
    );
    assert_eq!(env.git(&dir, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
}
