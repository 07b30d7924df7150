//! The safety promises: provenance (a fresh clone never removes user code),
//! reads that never write, no writes in the middle of git's own work,
//! GIT_DIR honoured, undo that loses nothing, notes that cannot break the
//! tool, and status that honours ignore rules.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::fixtures::module_repo;
use crate::common::{BIN, TestEnv, describe, snapshot, stderr, stdout};

/// A project with modules a and b embedded and the user's own package in
/// `modules/mystuff/` (committed by the user, no subtree trailers).
fn project_with_user_package(env: &TestEnv) -> PathBuf {
    let a = module_repo(env, "a");
    let b = module_repo(env, "b");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a), ("b", &b)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    std::fs::create_dir_all(dir.join("modules/mystuff")).expect("mkdir");
    std::fs::write(dir.join("modules/mystuff/code.py"), "ANSWER = 42\n").expect("write");
    env.git(&dir, &["add", "modules/mystuff"]);
    env.git(&dir, &["commit", "-qm", "My own package"]);
    dir
}

/// Every ref but the recorded state (the note, and the module refs that
/// keep the embedded upstream commits alive where the clone has them).
fn refs_without_notes(env: &TestEnv, dir: &Path) -> String {
    env.git(dir, &["for-each-ref", "--format=%(refname) %(objectname)"])
        .lines()
        .filter(|l| {
            !l.starts_with("refs/notes/quickscale ") && !l.starts_with("refs/quickscale/modules/")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn fresh_clone_keeps_the_user_package(env: &TestEnv, clone: &Path) {
    let out = env.qs(clone, &["apply", "--dry-run", "--detailed-exitcode"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{}",
        describe(&out)
    );
    assert!(
        !text.contains("remove"),
        "a fresh clone proposes a removal:\n{text}"
    );
    let out = env.qs_ok(clone, &["status", "--class", "modules/mystuff/code.py"]);
    assert_eq!(
        stdout(&out).trim(),
        "modules/mystuff/code.py: user-owned",
        "{}",
        describe(&out)
    );
    let out = env.qs_ok(clone, &["status", "--class", "modules/a/module.yml"]);
    assert!(
        stdout(&out).contains("module-owned (a)"),
        "{}",
        describe(&out)
    );
    let before = env.repo_snapshot(clone);
    let refs_before = refs_without_notes(env, clone);
    env.qs_ok(clone, &["apply", "--yes"]);
    let after = env.repo_snapshot(clone);
    assert_eq!(before.head, after.head, "apply committed in a fresh clone");
    assert!(before.files == after.files, "apply changed the worktree");
    assert_eq!(refs_before, refs_without_notes(env, clone));
    assert_eq!(
        std::fs::read_to_string(clone.join("modules/mystuff/code.py")).expect("user file"),
        "ANSWER = 42\n"
    );
}

#[test]
fn a_fresh_clone_never_removes_a_user_package_under_modules() {
    let env = TestEnv::new();
    let dir = project_with_user_package(&env);
    let full = env.root().join("full");
    env.git(
        env.root(),
        &["clone", "-q", dir.to_str().expect("utf8"), "full"],
    );
    fresh_clone_keeps_the_user_package(&env, &full);
}

#[test]
fn a_shallow_clone_never_removes_a_user_package_under_modules() {
    let env = TestEnv::new();
    let dir = project_with_user_package(&env);
    let shallow = env.root().join("shallow");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", dir.display()),
            "shallow",
        ],
    );
    let out = env.qs_ok(&shallow, &["status"]);
    assert!(
        stdout(&out).contains("shallow"),
        "status must say the clone is shallow:\n{}",
        describe(&out)
    );
    fresh_clone_keeps_the_user_package(&env, &shallow);
}

#[test]
fn removing_an_unproven_module_in_a_shallow_clone_is_refused() {
    let env = TestEnv::new();
    let dir = project_with_user_package(&env);
    let shallow = env.root().join("shallow");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", dir.display()),
            "shallow",
        ],
    );
    env.qs_ok(&shallow, &["plan", "--remove", "a", "--yes"]);
    let before = env.repo_snapshot(&shallow);
    let out = env.qs(&shallow, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("git fetch --unshallow")
            || stdout(&out).contains("git fetch --unshallow"),
        "{}",
        describe(&out)
    );
    crate::common::assert_same_repo(&before, &env.repo_snapshot(&shallow), "refused removal");
}

#[test]
fn an_unproven_directory_named_like_a_wanted_module_is_not_adopted() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&[]);
    // The user's own code happens to live where module a would go.
    std::fs::create_dir_all(dir.join("modules/a")).expect("mkdir");
    std::fs::write(dir.join("modules/a/mine.py"), "MINE = True\n").expect("write");
    env.git(&dir, &["add", "modules/a"]);
    env.git(&dir, &["commit", "-qm", "Mine"]);
    env.plan_add(&dir, &[("a", &a)]);
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("modules/a"), "{text}");
    assert!(text.contains("git mv modules/a"), "{text}");
    crate::common::assert_same_repo(&before, &env.repo_snapshot(&dir), "refused adopt");
}

/// A project with module a embedded and b pending in quickscale.yml.
fn project_with_a(env: &TestEnv) -> PathBuf {
    let a = module_repo(env, "a");
    let dir = env.new_project(&[]);
    env.plan_add(&dir, &[("a", &a)]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    dir
}

/// Every byte under `dir`, `.git` included.
fn everything(dir: &Path) -> std::collections::BTreeMap<PathBuf, (Vec<u8>, u32)> {
    snapshot(dir)
}

#[test]
fn reads_never_write_even_after_an_interrupted_operation() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    let b = module_repo(&env, "b");
    env.plan_add(&dir, &[("b", &b)]);
    crate::common::kill_at(&env, &dir, &["apply", "--yes"], "files-written");
    let before = everything(&dir);
    for args in [
        vec!["status"],
        vec!["status", "--json"],
        vec!["list-modules"],
        vec!["apply", "--dry-run"],
        vec!["plan", "--add", "c", "--dry-run"],
    ] {
        let out = env.qs(&dir, &args);
        assert!(
            stderr(&out).contains("an interrupted `git quickscale apply` was found; what is shown may be half-done: run `git quickscale recover` to finish it"),
            "{args:?} must point at `git quickscale recover`:\n{}",
            describe(&out)
        );
        assert!(
            everything(&dir) == before,
            "{args:?} wrote to the repository"
        );
    }
    // The explicit command finishes it.
    let out = env.qs_ok(&dir, &["recover"]);
    assert!(stderr(&out).contains("rolled back"), "{}", describe(&out));
    assert!(!dir.join(".git/quickscale/journal.json").exists());
}

/// Reads write no state. The one file a read may write is `status`'s own
/// cache (docs/state-format.md), which nothing else reads.
#[test]
fn status_never_writes_on_a_clean_project() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    let cache = Path::new(".git/quickscale/status-cache.json");
    let before = everything(&dir);
    assert!(!dir.join(cache).exists());
    env.qs_ok(&dir, &["list-modules"]);
    env.qs(&dir, &["apply", "--dry-run"]);
    assert!(everything(&dir) == before, "a read wrote to the repository");
    env.qs_ok(&dir, &["status"]);
    env.qs_ok(&dir, &["status", "--json"]);
    let mut after = everything(&dir);
    assert!(after.remove(cache).is_some(), "status kept no report");
    assert!(after == before, "status wrote more than its cache");
}

fn add_b(env: &TestEnv, dir: &Path) {
    let b = module_repo(env, "b");
    env.qs_ok(
        dir,
        &[
            "plan",
            "--add",
            "b",
            "--source",
            &format!("b={}", b.display()),
            "--yes",
        ],
    );
}

#[test]
fn writing_commands_refuse_in_the_middle_of_a_merge_rebase_cherry_pick_or_bisect() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    add_b(&env, &dir);
    env.git(&dir, &["add", "quickscale.yml"]);
    env.git(&dir, &["commit", "-qm", "want b"]);
    // A merge that stops on a conflict in a user file.
    env.git(&dir, &["checkout", "-qb", "side", "HEAD~1"]);
    std::fs::write(dir.join("templates/base.html"), "side\n").expect("write");
    env.git(&dir, &["commit", "-qam", "side"]);
    env.git(&dir, &["checkout", "-q", "main"]);
    std::fs::write(dir.join("templates/base.html"), "main\n").expect("write");
    env.git(&dir, &["commit", "-qam", "main"]);
    let mut merge = Command::new("git");
    env.env(&mut merge);
    let _ = merge.current_dir(&dir).args(["merge", "side"]).output();
    assert!(dir.join(".git/MERGE_HEAD").exists());
    for args in [
        vec!["apply", "--yes"],
        vec!["remove", "a", "--yes"],
        vec!["undo"],
    ] {
        let before = env.repo_snapshot(&dir);
        let out = env.qs(&dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        assert!(
            stderr(&out).contains("a merge is in progress"),
            "{args:?}: {}",
            describe(&out)
        );
        assert!(
            stderr(&out).contains("git merge --abort"),
            "{args:?}: {}",
            describe(&out)
        );
        crate::common::assert_same_repo(&before, &env.repo_snapshot(&dir), "during a merge");
    }
    env.git(&dir, &["merge", "--abort"]);

    // A rebase stopped at a `break`.
    let mut rebase = Command::new("git");
    env.env(&mut rebase);
    let out = rebase
        .current_dir(&dir)
        .env("GIT_SEQUENCE_EDITOR", "sed -i '1i break'")
        .args(["rebase", "-i", "HEAD~1"])
        .output()
        .expect("rebase");
    assert!(out.status.success(), "{}", describe(&out));
    let out = env.qs(&dir, &["remove", "a", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("a rebase is in progress")
            && stderr(&out).contains("git rebase --abort"),
        "{}",
        describe(&out)
    );
    env.git(&dir, &["rebase", "--abort"]);

    // A cherry-pick that stops on a conflict.
    let mut pick = Command::new("git");
    env.env(&mut pick);
    let _ = pick
        .current_dir(&dir)
        .args(["cherry-pick", "side"])
        .output();
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert!(
        stderr(&out).contains("a cherry-pick is in progress"),
        "{}",
        describe(&out)
    );
    env.git(&dir, &["cherry-pick", "--abort"]);

    // A bisect.
    env.git(&dir, &["bisect", "start"]);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert!(
        stderr(&out).contains("a bisect is in progress"),
        "{}",
        describe(&out)
    );
    env.git(&dir, &["bisect", "reset"]);

    // Afterwards it works.
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(dir.join("modules/b/module.yml").is_file());
}

#[test]
fn a_detached_head_is_warned_about() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    add_b(&env, &dir);
    env.git(&dir, &["checkout", "-q", "--detach"]);
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        stderr(&out).contains("HEAD is detached"),
        "{}",
        describe(&out)
    );
}

#[test]
fn git_dir_and_git_work_tree_are_honoured() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    add_b(&env, &dir);
    // Another repository as the current directory.
    let other = env.root().join("other");
    std::fs::create_dir_all(&other).expect("mkdir");
    env.git(&other, &["init", "-q"]);
    let other_before = everything(&other);
    let mut cmd = Command::new(BIN);
    env.env(&mut cmd);
    let out = cmd
        .current_dir(&other)
        .env("GIT_DIR", dir.join(".git"))
        .env("GIT_WORK_TREE", &dir)
        .args(["apply", "--yes"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", describe(&out));
    assert!(dir.join("modules/b/module.yml").is_file());
    assert!(
        everything(&other) == other_before,
        "the wrong repository was changed"
    );

    // `git -C` works as git does it.
    let bin_dir = Path::new(BIN).parent().expect("bin dir").to_owned();
    let mut git = Command::new("git");
    env.env(&mut git);
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = git
        .env("PATH", path)
        .current_dir(env.root())
        .args([
            "-C",
            dir.to_str().expect("utf8"),
            "quickscale",
            "status",
            "--json",
        ])
        .output()
        .expect("git -C");
    assert!(out.status.success(), "{}", describe(&out));
}

fn yml(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml")
}

#[test]
fn undo_keeps_the_quickscale_yml_edit_and_steps_back_through_operations() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    let after_a = env.rev(&dir, "HEAD");
    // The user comments quickscale.yml and adds b; apply commits it.
    let b = module_repo(&env, "b");
    env.plan_add(&dir, &[("b", &b)]);
    std::fs::write(
        dir.join("quickscale.yml"),
        format!("# keep b for the shop\n{}", yml(&dir)),
    )
    .expect("write");
    let edited = yml(&dir);
    env.qs_ok(&dir, &["apply", "--yes"]);

    let out = env.qs_ok(&dir, &["undo"]);
    assert!(stderr(&out).contains("apply"), "{}", describe(&out));
    assert_eq!(env.rev(&dir, "HEAD"), after_a);
    assert!(!dir.join("modules/b").exists());
    assert_eq!(yml(&dir), edited, "undo threw away the quickscale.yml edit");
    assert_eq!(
        env.git(&dir, &["status", "--porcelain"]),
        " M quickscale.yml\n",
        "the edit comes back as an uncommitted change"
    );

    // A second undo steps back over the apply that embedded a.
    let out = env.qs_ok(&dir, &["undo"]);
    assert!(stderr(&out).contains("apply"), "{}", describe(&out));
    assert!(!dir.join("modules/a").exists());
    assert!(yml(&dir).contains("  a:"), "{}", yml(&dir));
    // The project's generation is not undone.
    let out = env.qs(&dir, &["undo"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("nothing to undo"),
        "{}",
        describe(&out)
    );
}

#[test]
fn undo_of_remove_brings_back_the_quickscale_yml_entry() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    let before = yml(&dir);
    env.qs_ok(&dir, &["remove", "a", "--yes"]);
    assert!(!yml(&dir).contains("  a:"));
    env.qs_ok(&dir, &["undo"]);
    assert_eq!(yml(&dir), before);
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
}

fn set_note(env: &TestEnv, dir: &Path, text: &str) {
    let file = env.root().join("note.txt");
    std::fs::write(&file, text).expect("note");
    env.git(
        dir,
        &[
            "notes",
            "--ref",
            "quickscale",
            "add",
            "-f",
            "-F",
            file.to_str().expect("utf8"),
            "HEAD",
        ],
    );
}

#[test]
fn notes_that_are_not_ours_never_break_a_command() {
    let huge = format!("{{\"schema\": 1, \"pad\": \"{}\"}}", "x".repeat(3 << 20));
    let cases: Vec<(&str, String)> = vec![
        ("not JSON", "this is not json\n".into()),
        ("no schema", "{\"hello\": 1}\n".into()),
        (
            "unknown schema",
            "{\"schema\": 99, \"modules\": {}}\n".into(),
        ),
        (
            "another program",
            "Reviewed-by: Bob <bob@example.com>\n".into(),
        ),
        ("huge", huge),
    ];
    for (what, text) in cases {
        let env = TestEnv::new();
        let dir = project_with_a(&env);
        set_note(&env, &dir, &text);
        let out = env.qs_ok(&dir, &["status"]);
        let err = stderr(&out);
        let warnings: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .collect::<Vec<_>>();
        assert_eq!(warnings.len(), 1, "{what}: {}", describe(&out));
        assert!(
            warnings[0].contains("ignored"),
            "{what}: {}",
            describe(&out)
        );
        let json: serde_json::Value =
            serde_json::from_slice(&env.qs_ok(&dir, &["status", "--json"]).stdout).expect("json");
        assert_eq!(json["state"]["origin"], "derived", "{what}");
        env.qs_ok(&dir, &["list-modules"]);
        env.qs_ok(&dir, &["apply", "--dry-run"]);
        env.qs_ok(&dir, &["status", "--repair-state"]);
        let json: serde_json::Value =
            serde_json::from_slice(&env.qs_ok(&dir, &["status", "--json"]).stdout).expect("json");
        assert_eq!(
            json["state"]["origin"], "note",
            "{what}: repair did not repair"
        );
        assert_eq!(json["in_sync"], true, "{what}");
    }
}

#[test]
fn with_a_corrupt_note_an_option_change_is_never_hidden() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    set_note(&env, &dir, "garbage\n");
    std::fs::write(
        dir.join("quickscale.yml"),
        yml(&dir).replace("  a: {}", "  a: {greeting: hi}"),
    )
    .expect("write");
    let before = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    if out.status.success() {
        // Allowed only if the plan showed the option change.
        assert!(text.contains("a.greeting"), "{text}");
    } else {
        assert!(text.contains("status --repair-state"), "{text}");
        crate::common::assert_same_repo(&before, &env.repo_snapshot(&dir), "refused");
    }
    let log = env.git(&dir, &["log", "-1", "--format=%s"]);
    assert!(!log.starts_with("Record quickscale.yml"), "{log}");
}

#[test]
fn status_honours_ignore_rules_inside_module_prefixes() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    let pkg = dir.join("modules/a/quickscale_modules_a");
    std::fs::create_dir_all(pkg.join("__pycache__")).expect("mkdir");
    std::fs::write(pkg.join("__pycache__/views.cpython-311.pyc"), "bytes").expect("pyc");
    // .git/info/exclude and core.excludesFile.
    std::fs::create_dir_all(dir.join(".git/info")).expect("info");
    std::fs::write(dir.join(".git/info/exclude"), "scratch/\n").expect("exclude");
    std::fs::create_dir_all(dir.join("modules/a/scratch")).expect("mkdir");
    std::fs::write(dir.join("modules/a/scratch/notes.txt"), "x").expect("write");
    let global = env.home().join("global-ignore");
    std::fs::write(&global, "*.swp\n").expect("global");
    env.git(
        &dir,
        &[
            "config",
            "core.excludesFile",
            global.to_str().expect("utf8"),
        ],
    );
    std::fs::write(dir.join("modules/a/README.md.swp"), "x").expect("swp");
    assert_eq!(
        env.git(&dir, &["status", "--porcelain"]),
        "",
        "git sees it clean"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&env.qs_ok(&dir, &["status", "--json"]).stdout).expect("json");
    assert_eq!(json["in_sync"], true, "{json:#}");
    assert_eq!(
        json["modules"][0]["uncommitted_changes"],
        serde_json::json!([]),
        "{json:#}"
    );
    // An untracked file that is not ignored still shows.
    std::fs::write(dir.join("modules/a/new.py"), "x").expect("write");
    let json: serde_json::Value =
        serde_json::from_slice(&env.qs_ok(&dir, &["status", "--json"]).stdout).expect("json");
    assert_eq!(
        json["modules"][0]["uncommitted_changes"],
        serde_json::json!(["modules/a/new.py"]),
        "{json:#}"
    );
}

/// The index against HEAD inside module prefixes, as `git diff --cached`
/// sees it: a staged edit deep down and a staged deletion both show, with
/// the edited file put back as HEAD has it (apply's index has no cache-tree, so
/// the comparison hashes the index's directories instead of reading HEAD's).
#[test]
fn status_shows_staged_edits_and_deletions_inside_module_prefixes() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    let uncommitted = |dir: &Path| {
        let json: serde_json::Value =
            serde_json::from_slice(&env.qs_ok(dir, &["status", "--json"]).stdout).expect("json");
        json["modules"][0]["uncommitted_changes"].clone()
    };
    assert_eq!(uncommitted(&dir), serde_json::json!([]));
    let tracked = env.git(&dir, &["ls-files", "modules/a"]);
    let mut files = tracked.lines().filter(|p| p.matches('/').count() >= 3);
    let deep = files
        .next()
        .expect("a file two levels inside the module")
        .to_owned();
    let gone = tracked
        .lines()
        .find(|p| *p != deep)
        .expect("another file")
        .to_owned();
    // Staged, then the worktree put back: only the index differs from HEAD.
    let original = std::fs::read(dir.join(&deep)).expect("read");
    std::fs::write(dir.join(&deep), "staged = 1\n").expect("write");
    env.git(&dir, &["add", &deep]);
    std::fs::write(dir.join(&deep), &original).expect("restore");
    env.git(&dir, &["rm", "-q", &gone]);
    let mut want = vec![deep.clone(), gone.clone()];
    want.sort();
    assert_eq!(uncommitted(&dir), serde_json::json!(want));
    assert_eq!(
        env.git(&dir, &["diff", "--cached", "--name-only"])
            .trim_end(),
        want.join("\n")
    );
}

#[test]
fn a_wiring_change_from_a_new_catalog_is_shown_before_it_is_committed() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    // A catalog override adds a middleware to module a's wiring.
    let index = env.root().join("index.toml");
    std::fs::write(
        &index,
        "schema = 1\n\n[modules.a]\ndescription = \"a\"\nsource = \"unused\"\nref = \"HEAD\"\nready = true\n\n[modules.a.wiring]\nmiddleware = [\"quickscale_modules_a.middleware.Audit\"]\n",
    )
    .expect("index");
    let index = index.to_str().expect("utf8");
    let out = env.qs(
        &dir,
        &[
            "--index",
            index,
            "apply",
            "--dry-run",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stdout(&out).contains("~ regenerate shop/settings/modules.py"),
        "the plan must show the wiring change:\n{}",
        describe(&out)
    );
    env.qs_ok(&dir, &["--index", index, "apply", "--yes"]);
    assert_eq!(
        env.git(&dir, &["log", "-1", "--format=%s"]).trim(),
        "Regenerate module wiring"
    );
    assert!(
        std::fs::read_to_string(dir.join("shop/settings/modules.py"))
            .expect("settings")
            .contains("quickscale_modules_a.middleware.Audit")
    );
}

/// The uncommitted changes `status --json` lists for the project's one
/// module.
fn uncommitted_by_status(env: &TestEnv, dir: &Path) -> std::collections::BTreeSet<String> {
    let json: serde_json::Value =
        serde_json::from_slice(&env.qs_ok(dir, &["status", "--json"]).stdout).expect("json");
    json["modules"][0]["uncommitted_changes"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p.as_str().expect("a path").to_owned())
        .collect()
}

/// What `git status --porcelain -uall` lists under `modules/a`.
fn uncommitted_by_git(env: &TestEnv, dir: &Path) -> std::collections::BTreeSet<String> {
    env.git(
        dir,
        &[
            "-c",
            "core.quotePath=false",
            "status",
            "--porcelain",
            "-uall",
            "--",
            "modules/a",
        ],
    )
    .lines()
    .map(|l| l[3..].trim_matches('"').to_owned())
    .collect()
}

/// Status's list of worktree changes inside a module is git's own
/// (`git status --porcelain -uall`), for every kind of change the one walk
/// of modules/ (src/git/scan.rs) must see: an edit of the same size, a
/// deletion, new files in an old and in a new directory, an ignored file
/// (left out), a file turned into a directory and one into a symlink, and
/// a file whose name is not UTF-8.
#[test]
fn status_lists_the_worktree_changes_git_status_lists_inside_a_module() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    let tracked = env.git(&dir, &["ls-files", "modules/a"]);
    // Files two levels down, those with text first (an edit of the same size needs some).
    let mut deep: Vec<&str> = tracked
        .lines()
        .filter(|p| p.matches('/').count() >= 3)
        .collect();
    deep.sort_by_key(|p| {
        std::fs::metadata(dir.join(p))
            .map(|m| m.len() == 0)
            .unwrap_or(true)
    });
    assert!(
        deep.len() >= 4,
        "the module has files two levels down: {tracked}"
    );
    let shallow: Vec<&str> = tracked
        .lines()
        .filter(|p| p.matches('/').count() == 2)
        .collect();
    assert!(shallow.len() >= 2, "{tracked}");
    let ours = |dir: &Path| uncommitted_by_status(&env, dir);
    let gits = |dir: &Path| uncommitted_by_git(&env, dir);
    assert_eq!(ours(&dir), Default::default());

    // The same size, so only the stat data and the content tell.
    let same_size = dir.join(deep[0]);
    let mut bytes = std::fs::read(&same_size).expect("read");
    let last = bytes
        .iter()
        .rposition(|b| b.is_ascii_alphanumeric())
        .expect("a letter");
    bytes[last] = if bytes[last] == b'x' { b'y' } else { b'x' };
    std::fs::write(&same_size, &bytes).expect("write");
    std::fs::remove_file(dir.join(deep[1])).expect("delete");
    let old_dir = Path::new(deep[2]).parent().expect("parent");
    std::fs::write(dir.join(old_dir).join("added.py"), "A = 1\n").expect("write");
    // First alone: every directory on disk still has tracked files.
    let expected = gits(&dir);
    assert_eq!(expected.len(), 3, "{expected:?}");
    assert_eq!(ours(&dir), expected);
    std::fs::create_dir_all(dir.join("modules/a/brand/new")).expect("mkdir");
    std::fs::write(dir.join("modules/a/brand/new/deep.py"), "B = 2\n").expect("write");
    std::fs::create_dir_all(dir.join("modules/a/empty/dirs")).expect("mkdir");
    std::fs::write(dir.join(".git/info/exclude"), "*.log\n").expect("exclude");
    std::fs::write(dir.join(old_dir).join("debug.log"), "ignored\n").expect("write");
    let to_dir = dir.join(deep[3]);
    std::fs::remove_file(&to_dir).expect("delete");
    std::fs::create_dir(&to_dir).expect("mkdir");
    std::fs::write(to_dir.join("inside.py"), "C = 3\n").expect("write");
    std::fs::remove_file(dir.join(shallow[0])).expect("delete");
    std::os::unix::fs::symlink("elsewhere", dir.join(shallow[0])).expect("symlink");
    std::fs::write(dir.join("modules/a/señal.py"), "D = 4\n").expect("write");

    let expected = gits(&dir);
    for path in [
        deep[0].to_owned(),
        deep[1].to_owned(),
        format!("{}/added.py", old_dir.display()),
        "modules/a/brand/new/deep.py".to_owned(),
        format!("{}/inside.py", deep[3]),
        shallow[0].to_owned(),
        "modules/a/señal.py".to_owned(),
    ] {
        assert!(expected.contains(&path), "git lists {path}: {expected:?}");
    }
    assert_eq!(ours(&dir), expected);
    // Staged, the same paths still differ from HEAD (the index holds them now).
    env.git(&dir, &["add", "-A", "modules/a"]);
    assert_eq!(ours(&dir), expected);
}

/// What ignore rules exclude inside a module is not an uncommitted change,
/// and what they do not is: status agrees with `git status --porcelain
/// -uall` with `__pycache__`s everywhere (as after Django ran), stray
/// compiled files, rules from `.git/info/exclude` (one negated) and from a
/// `.gitignore` inside the module, and a directory holding only ignored
/// files.
#[test]
fn status_leaves_out_what_git_ignores_inside_a_module_and_nothing_else() {
    let env = TestEnv::new();
    let dir = project_with_a(&env);
    let ours = |dir: &Path| uncommitted_by_status(&env, dir);
    let gits = |dir: &Path| uncommitted_by_git(&env, dir);
    let tracked = env.git(&dir, &["ls-files", "modules/a"]);
    let packages: std::collections::BTreeSet<&str> = tracked
        .lines()
        .filter(|p| p.ends_with(".py"))
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
        .collect();
    assert!(packages.len() >= 2, "{tracked}");
    // A module's .gitignore of its own, committed.
    std::fs::write(dir.join("modules/a/.gitignore"), "generated/\n").expect("write");
    env.git(&dir, &["add", "modules/a/.gitignore"]);
    env.git(&dir, &["commit", "-qm", "ignore generated/"]);
    assert!(
        std::fs::read_to_string(dir.join(".gitignore"))
            .expect("the project's .gitignore")
            .contains("__pycache__/"),
        "the generated .gitignore ignores __pycache__/"
    );
    std::fs::write(dir.join(".git/info/exclude"), "*.log\n!keep.log\nbuild/\n").expect("exclude");
    // `build/` ignores directories only: a file of that name is untracked.
    let second = dir.join(packages.iter().nth(1).expect("a second package"));
    std::fs::write(second.join("build"), "a file").expect("write");
    let expected = gits(&dir);
    assert_eq!(expected.len(), 1, "{expected:?}");
    assert_eq!(ours(&dir), expected);
    std::fs::remove_file(second.join("build")).expect("remove");
    for package in &packages {
        let cache = dir.join(package).join("__pycache__");
        std::fs::create_dir_all(&cache).expect("mkdir");
        std::fs::write(cache.join("models.cpython-311.pyc"), [0u8, 1, 2]).expect("write");
    }
    let first = dir.join(packages.first().expect("a package"));
    std::fs::write(first.join("stray.pyc"), [3u8]).expect("write");
    std::fs::create_dir_all(first.join("generated/deep")).expect("mkdir");
    std::fs::write(first.join("generated/deep/out.txt"), "x").expect("write");
    std::fs::write(first.join("debug.log"), "ignored").expect("write");
    std::fs::create_dir_all(first.join("build")).expect("mkdir");
    std::fs::write(first.join("build/lib.txt"), "ignored").expect("write");
    assert_eq!(gits(&dir), Default::default(), "git ignores all of it");
    assert_eq!(ours(&dir), gits(&dir));

    // An untracked file among the ignored ones is listed, each alone: one
    // a negated rule lets through, one next to a `__pycache__`, one in a
    // new directory.
    for (path, content) in [
        ("keep.log", "kept"),
        ("new_module.py", "N = 1\n"),
        ("scratch/notes.md", "n"),
    ] {
        let file = first.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, content).expect("write");
        let expected = gits(&dir);
        assert_eq!(expected.len(), 1, "{path}: {expected:?}");
        assert_eq!(ours(&dir), expected, "{path}");
        std::fs::remove_file(&file).expect("remove");
    }
    // A new directory holding only ignored files shows nothing.
    std::fs::write(first.join("scratch/only.pyc"), [4u8]).expect("write");
    assert_eq!(gits(&dir), Default::default());
    assert_eq!(ours(&dir), Default::default());
}
