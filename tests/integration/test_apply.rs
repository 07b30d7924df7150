//! apply, status, remove and undo against real repositories.

use crate::common::fixtures::module_repo;
use crate::common::{TestEnv, describe, stderr, stdout};
use std::path::{Path, PathBuf};

fn status_json(env: &TestEnv, dir: &std::path::Path) -> serde_json::Value {
    let out = env.qs_ok(dir, &["status", "--json"]);
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

#[test]
fn embeds_two_modules_at_requested_refs() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let b = module_repo(&env, "b");
    let (a_src, b_src) = (format!("a={}", a.display()), format!("b={}", b.display()));
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "demo",
            "--theme",
            "showcase_html",
            "--module",
            "a",
            "--module",
            "b@v1.0.0",
            "--source",
            &a_src,
            "--source",
            &b_src,
            "--yes",
        ],
    );
    let dir = env.root().join("demo");
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    let plan = stdout(&out);
    assert!(plan.contains("+ embed a from"), "{plan}");
    assert!(
        plan.contains("+ embed b from") && plan.contains("at v1.0.0"),
        "{plan}"
    );

    // Trees equal the upstream trees at the requested refs (a: its HEAD, v2.0.0).
    assert_eq!(env.rev(&dir, "HEAD:modules/a"), env.rev(&a, "HEAD^{tree}"));
    assert_eq!(
        env.rev(&dir, "HEAD:modules/b"),
        env.rev(&b, "v1.0.0^{tree}")
    );
    assert_ne!(env.rev(&b, "v1.0.0^{tree}"), env.rev(&b, "HEAD^{tree}"));

    // git log: initial commit, a squash + merge per module, the wiring commit.
    let log = env.git(&dir, &["log", "--first-parent", "--format=%s"]);
    let subjects: Vec<&str> = log.lines().collect();
    assert_eq!(subjects.len(), 4, "{log}");
    assert_eq!(subjects[0], "Wire modules a, b");
    assert!(
        subjects[1].starts_with("Merge commit '") && subjects[1].ends_with("' as 'modules/b'"),
        "{log}"
    );
    assert!(subjects[2].ends_with("' as 'modules/a'"), "{log}");
    assert_eq!(subjects[3], "Initial project structure");
    assert_eq!(env.git(&dir, &["rev-list", "--count", "HEAD"]).trim(), "6");
    let squash = |rev: &str| env.git(&dir, &["log", "-1", "--format=%s", rev]);
    assert!(squash("HEAD^^2").starts_with("Squashed 'modules/b/' content from commit "));
    assert!(squash("HEAD^^^2").starts_with("Squashed 'modules/a/' content from commit "));
    let squash_b = env.git(&dir, &["log", "-1", "--format=%B", "HEAD^^2"]);
    assert!(
        squash_b.contains(&format!(
            "git-subtree-dir: modules/b\ngit-subtree-split: {}",
            env.rev(&b, "v1.0.0")
        )),
        "{squash_b}"
    );

    // The note on HEAD describes what is there.
    let note: serde_json::Value =
        serde_json::from_str(&env.git(&dir, &["notes", "--ref", "quickscale", "show", "HEAD"]))
            .expect("note JSON");
    assert_eq!(note["schema"], 1);
    assert_eq!(note["modules"]["a"]["commit"], env.rev(&a, "HEAD"));
    assert_eq!(note["modules"]["b"]["commit"], env.rev(&b, "v1.0.0"));
    assert_eq!(note["modules"]["b"]["ref"], "v1.0.0");
    assert_eq!(note["modules"]["a"]["ref"], "HEAD");
    assert_eq!(
        note["modules"]["b"]["tree"],
        env.rev(&dir, "HEAD:modules/b")
    );
    assert_eq!(note["modules"]["a"]["options"]["page_size"], 10);
    assert_eq!(
        note["managed"]["demo/settings/modules.py"],
        env.rev(&dir, "HEAD:demo/settings/modules.py")
    );
    // Every commit the tool made on the first-parent chain has a note.
    for rev in ["HEAD", "HEAD^", "HEAD^^", "HEAD^^^"] {
        env.git(&dir, &["notes", "--ref", "quickscale", "show", rev]);
    }
    // Refs and config.
    assert_eq!(
        env.rev(&dir, "refs/quickscale/modules/a"),
        env.rev(&a, "HEAD")
    );
    assert_eq!(
        env.rev(&dir, "refs/quickscale/modules/b"),
        env.rev(&b, "v1.0.0")
    );
    // The project did not exist before this apply, so there is nothing to undo to.
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/undo"])
            .is_empty()
    );
    assert_eq!(
        env.git(&dir, &["config", "notes.rewriteRef"]).trim(),
        "refs/notes/quickscale"
    );
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/tmp"])
            .is_empty()
    );

    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
    let status = status_json(&env, &dir);
    assert_eq!(status["in_sync"], true, "{status:#}");
    assert_eq!(status["state"]["origin"], "note");
    assert_eq!(status["modules"].as_array().map(Vec::len), Some(2));
    for m in status["modules"].as_array().expect("modules") {
        assert_eq!(m["desired"], "in_sync");
        assert_eq!(m["committed_changes"].as_array().map(Vec::len), Some(0));
        assert_eq!(m["uncommitted_changes"].as_array().map(Vec::len), Some(0));
    }
    assert_eq!(status["modules"][1]["version"], "1.0.0");

    // Nothing changed: apply says so and exits 0; the preview exits 0 too.
    let again = env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        stderr(&again).contains("Nothing to do"),
        "{}",
        describe(&again)
    );
    assert_eq!(
        env.qs(&dir, &["apply", "--dry-run", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn mutable_change_touches_only_managed_files_and_immutable_change_is_refused() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&["--module", "a", "--source", &format!("a={}", a.display())]);
    let before = env.rev(&dir, "HEAD");

    env.qs_ok(
        &dir,
        &["plan", "--reconfigure", "--set", "a.page_size=25", "--yes"],
    );
    let preview = env.qs(&dir, &["apply", "--dry-run", "--detailed-exitcode"]);
    assert_eq!(preview.status.code(), Some(2), "{}", describe(&preview));
    assert!(
        stdout(&preview).contains("~ a.page_size: 10 → 25 (A_PAGE_SIZE)"),
        "{}",
        stdout(&preview)
    );
    assert_eq!(env.rev(&dir, "HEAD"), before, "dry run wrote");

    env.qs_ok(&dir, &["apply", "--yes"]);
    assert_eq!(env.rev(&dir, "HEAD^"), before, "one commit");
    let changed = env.git(&dir, &["diff", "--name-only", "HEAD^", "HEAD"]);
    assert_eq!(changed, "quickscale.yml\nshop/settings/modules.py\n");
    let settings = std::fs::read_to_string(dir.join("shop/settings/modules.py")).expect("settings");
    assert!(
        settings.contains("\"A_PAGE_SIZE\": 25,  # a.page_size"),
        "{settings}"
    );
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");

    // An immutable change is refused with nothing written.
    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    std::fs::write(
        dir.join("quickscale.yml"),
        yml.replace("page_size: 25", "page_size: 25\n    storage: file"),
    )
    .expect("edit");
    let snap = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("! a.storage: db → file: option storage of module a is immutable"),
        "{text}"
    );
    assert!(text.contains("git quickscale plan --remove a"), "{text}");
    crate::common::assert_same_repo(
        &snap,
        &env.repo_snapshot(&dir),
        "a refused apply changed the repository",
    );
}

#[test]
fn remove_and_undo() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let b = module_repo(&env, "b");
    let dir = env.new_project(&[
        "--module",
        "a",
        "--module",
        "b",
        "--source",
        &format!("a={}", a.display()),
        "--source",
        &format!("b={}", b.display()),
    ]);
    let yml_before = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    let before = env.rev(&dir, "HEAD");

    let out = env.qs_ok(&dir, &["remove", "a", "--yes"]);
    let err = stderr(&out);
    assert!(err.contains("database tables remain"), "{err}");
    assert!(
        err.contains("python manage.py migrate quickscale_modules_a zero"),
        "{err}"
    );
    assert_eq!(env.rev(&dir, "HEAD^"), before, "one commit");
    assert!(!dir.join("modules/a").exists());
    let settings = std::fs::read_to_string(dir.join("shop/settings/modules.py")).expect("settings");
    assert!(
        !settings.contains("quickscale_modules_a") && settings.contains("quickscale_modules_b")
    );
    // quickscale.yml lost exactly the lines of module a.
    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    let removed: Vec<&str> = yml_before
        .lines()
        .filter(|l| !yml.lines().any(|m| m == *l))
        .collect();
    assert!(
        removed
            .iter()
            .all(|l| l.contains("a:") || l.contains("a\n") || l.contains(&a.display().to_string())),
        "{removed:?}"
    );
    assert!(
        env.git(&dir, &["for-each-ref", "refs/quickscale/modules/a"])
            .is_empty()
    );
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
    let status = status_json(&env, &dir);
    assert_eq!(status["in_sync"], true, "{status:#}");

    // Undo brings everything back.
    env.qs_ok(&dir, &["undo"]);
    assert_eq!(env.rev(&dir, "HEAD"), before);
    assert!(dir.join("modules/a/module.yml").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml"),
        yml_before
    );
    assert_eq!(
        env.rev(&dir, "refs/quickscale/modules/a"),
        env.rev(&a, "HEAD")
    );
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");

    // A second undo has nothing to undo; after a user commit, undo explains.
    assert_eq!(env.qs(&dir, &["undo"]).status.code(), Some(1));
    env.qs_ok(&dir, &["plan", "--remove", "b", "--yes"]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    std::fs::write(dir.join("NOTES.md"), "mine\n").expect("write");
    env.git(&dir, &["add", "NOTES.md"]);
    env.git(&dir, &["commit", "-qm", "user commit"]);
    let out = env.qs(&dir, &["undo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("commits were made on top of the last one"),
        "{}",
        describe(&out)
    );
    assert!(stderr(&out).contains("hint: "), "{}", describe(&out));
}

#[test]
fn uncommitted_user_edit_in_a_path_apply_writes_is_kept() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&["--module", "a", "--source", &format!("a={}", a.display())]);
    // The user hand-edits a managed file without committing, then changes an option.
    let settings = dir.join("shop/settings/modules.py");
    let edited = format!(
        "{}# my local experiment\n",
        std::fs::read_to_string(&settings).expect("read")
    );
    std::fs::write(&settings, &edited).expect("edit");
    env.qs_ok(
        &dir,
        &["plan", "--reconfigure", "--set", "a.greeting=hey", "--yes"],
    );
    let snap = env.repo_snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("shop/settings/modules.py (has uncommitted changes)"),
        "{}",
        describe(&out)
    );
    assert_eq!(std::fs::read_to_string(&settings).expect("read"), edited);
    crate::common::assert_same_repo(&snap, &env.repo_snapshot(&dir), "after");
}

#[test]
fn status_reports_local_edits_and_derived_state_after_a_clone() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&["--module", "a", "--source", &format!("a={}", a.display())]);
    // A committed edit inside the prefix and an uncommitted one.
    std::fs::write(dir.join("modules/a/README.md"), "patched\n").expect("write");
    env.git(&dir, &["commit", "-qam", "patch module a"]);
    std::fs::write(dir.join("modules/a/CHANGELOG.md"), "local\n").expect("write");
    let status = status_json(&env, &dir);
    let m = &status["modules"][0];
    assert_eq!(
        m["committed_changes"],
        serde_json::json!(["modules/a/README.md"]),
        "{status:#}"
    );
    assert_eq!(
        m["uncommitted_changes"],
        serde_json::json!(["modules/a/CHANGELOG.md"]),
        "{status:#}"
    );
    // The nearest note is on HEAD^ (the user commit has none).
    assert_eq!(status["state"]["origin"], "note");
    assert_eq!(status["state"]["note_commit"], env.rev(&dir, "HEAD^"));

    // A fresh clone has no notes: state is derived, then repaired.
    std::fs::write(dir.join("modules/a/CHANGELOG.md"), "2.0.0: changes\n").expect("restore");
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
    let status = status_json(&env, &clone);
    assert_eq!(status["state"]["origin"], "derived", "{status:#}");
    assert!(
        status["state"]["unverified"]
            .as_array()
            .is_some_and(|u| !u.is_empty())
    );
    assert_eq!(
        status["modules"][0]["commit"],
        env.rev(&a, "HEAD"),
        "commit from the git-subtree trailers"
    );
    let text = stdout(&env.qs_ok(&clone, &["status"]));
    assert!(
        text.contains("git quickscale status --repair-state"),
        "{text}"
    );
    env.qs_ok(&clone, &["status", "--repair-state"]);
    let status = status_json(&env, &clone);
    assert_eq!(status["state"]["origin"], "note");
    assert_eq!(status["state"]["note_commit"], env.rev(&clone, "HEAD"));
}

#[test]
fn new_project_dry_run_lists_files_and_existing_files_block_generation() {
    let env = TestEnv::new();
    env.qs_ok(
        env.root(),
        &["plan", "shop", "--theme", "showcase_htmx", "--yes"],
    );
    let dir = env.root().join("shop");
    let before = crate::common::snapshot(&dir);
    let out = env.qs_ok(&dir, &["apply", "--dry-run"]);
    let listing = stdout(&out);
    for path in [
        "manage.py",
        "shop/settings/base.py",
        "shop/settings/modules.py",
        "requirements-modules.txt",
        "static/vendor/htmx.min.js",
    ] {
        assert!(
            listing.lines().any(|l| l.trim() == path),
            "{path} not listed:\n{listing}"
        );
    }
    assert_eq!(
        crate::common::snapshot(&dir),
        before,
        "dry run wrote something"
    );

    // A user file that generation would overwrite blocks it, listed, nothing written.
    std::fs::write(dir.join("manage.py"), "my own manage.py\n").expect("write");
    std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
    std::fs::write(dir.join("templates/base.html"), "mine\n").expect("write");
    let before = crate::common::snapshot(&dir);
    let out = env.qs(&dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("would overwrite existing files:\n  manage.py\n  templates/base.html"),
        "{err}"
    );
    assert_eq!(crate::common::snapshot(&dir), before);
    assert!(!dir.join(".git").exists());
}

#[test]
fn identity_changes_are_refused_and_plan_remove_then_apply_is_one_commit() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&["--module", "a", "--source", &format!("a={}", a.display())]);
    let listing: Vec<serde_json::Value> =
        serde_json::from_slice(&env.qs_ok(&dir, &["list-modules", "--json"]).stdout).expect("json");
    let row = listing
        .iter()
        .find(|r| r["name"] == "a")
        .expect("private module listed");
    assert_eq!(
        (row["wanted"].clone(), row["installed"].clone()),
        (serde_json::json!(true), serde_json::json!(true))
    );

    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    for (from, to, expect) in [
        (
            "theme: showcase_html",
            "theme: showcase_react",
            "project.theme: showcase_html → showcase_react",
        ),
        (
            "package: shop",
            "package: shop2",
            "project.package: shop → shop2",
        ),
        ("slug: shop", "slug: shop2", "project.slug: shop → shop2"),
    ] {
        std::fs::write(dir.join("quickscale.yml"), yml.replace(from, to)).expect("write");
        let snap = env.repo_snapshot(&dir);
        let out = env.qs(&dir, &["apply", "--yes"]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(stdout(&out).contains(expect), "{}", stdout(&out));
        crate::common::assert_same_repo(&snap, &env.repo_snapshot(&dir), expect);
    }
    std::fs::write(dir.join("quickscale.yml"), &yml).expect("restore");

    let before = env.rev(&dir, "HEAD");
    env.qs_ok(&dir, &["plan", "--remove", "a", "--yes"]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert_eq!(env.rev(&dir, "HEAD^"), before, "one commit");
    assert_eq!(
        env.git(&dir, &["log", "-1", "--format=%s"]).trim(),
        "Remove module a"
    );
    assert!(!dir.join("modules").exists());
    assert_eq!(env.git(&dir, &["status", "--porcelain"]), "");
}

#[test]
fn a_tampered_note_is_ignored_and_repaired() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let dir = env.new_project(&["--module", "a", "--source", &format!("a={}", a.display())]);
    let note = env.git(&dir, &["notes", "--ref", "quickscale", "show", "HEAD"]);
    let tampered = note.replacen("\"a\": {", "\"../README.md\": {\"source\": \"x\", \"ref\": \"x\", \"commit\": \"\", \"prefix\": \"modules/../README.md\", \"tree\": \"\", \"options\": {}},\n    \"a\": {", 1);
    assert_ne!(tampered, note);
    env.git(
        &dir,
        &[
            "notes",
            "--ref",
            "quickscale",
            "add",
            "-f",
            "-m",
            &tampered,
            "HEAD",
        ],
    );
    let out = env.qs_ok(&dir, &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["state"]["origin"], "derived", "{status:#}");
    assert!(
        stderr(&out).contains("`../README.md` is not a module name); it was ignored"),
        "{}",
        describe(&out)
    );
    assert_eq!(status["modules"].as_array().map(Vec::len), Some(1));
    env.qs_ok(&dir, &["status", "--repair-state"]);
    let status: serde_json::Value =
        serde_json::from_slice(&env.qs_ok(&dir, &["status", "--json"]).stdout).expect("json");
    assert_eq!(status["state"]["origin"], "note");
    assert_eq!(status["in_sync"], true, "{status:#}");
}

/// One apply embedding 34 modules, each history too large for a copy of
/// loose objects. Once every module arrived as a pack of its own, and gix's
/// object store, which sized its pack slots when the repository was opened
/// (32 for a new one), failed every lookup after the 33rd ("too few index
/// slots"). Now the copies and the apply's own commits, trees and note are
/// written once, as one pack (src/git/buffered.rs): no loose object, and
/// `git fsck` finds the repository whole.
/// The modules are branches of one source repository made by one `git
/// fast-import` (cheap); each has its own content.
/// A source repository with a branch per module (`m00`, `m01`, …), each
/// with its own content and more objects than a loose copy takes
/// (src/git/local.rs), made by one `git fast-import` (cheap).
fn many_modules_source(env: &TestEnv, count: usize) -> (PathBuf, Vec<String>) {
    use std::io::Write as _;
    let names: Vec<String> = (0..count).map(|i| format!("m{i:02}")).collect();
    let src = env.root().join("upstream").join("many");
    std::fs::create_dir_all(&src).expect("mkdir");
    env.git(&src, &["init", "-q", "-b", "main"]);
    let mut stream = Vec::new();
    for name in &names {
        let mut files = crate::common::fixtures::module_files(name, "1.0.0");
        files.extend((0..70).map(|i| (format!("data/f{i}.txt"), format!("{name} {i}\n"))));
        write!(
            stream,
            "commit refs/heads/{name}\ncommitter T <t@example.com> 1767323045 +0000\ndata 2\nv1\n"
        )
        .expect("write");
        for (path, text) in &files {
            write!(
                stream,
                "M 100644 inline {path}\ndata {}\n{text}\n",
                text.len()
            )
            .expect("write");
        }
    }
    let mut cmd = std::process::Command::new("git");
    env.env(&mut cmd);
    let mut child = cmd
        .current_dir(&src)
        .args(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&stream)
        .expect("stream");
    assert!(child.wait().expect("wait").success());
    (src, names)
}

/// `plan --add` of every module in `names` from `src`.
fn plan_many(env: &TestEnv, dir: &Path, src: &Path, names: &[String]) {
    let mut args: Vec<String> = vec!["plan".into()];
    for name in names {
        args.extend(["--add".into(), format!("{name}@{name}")]);
        args.extend(["--source".into(), format!("{name}={}", src.display())]);
    }
    args.push("--yes".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.qs_ok(dir, &args);
}

/// `git count-objects -v`'s `what` line (`count:`, `packs:`).
fn count_objects(env: &TestEnv, dir: &Path, what: &str) -> u64 {
    let counts = env.git(dir, &["count-objects", "-v"]);
    counts
        .lines()
        .find_map(|l| l.strip_prefix(what))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{what} in {counts}"))
}

/// Every module of `names` is in HEAD with its source branch's tree, the
/// repository is whole, and every embedded module is in the note.
fn assert_all_embedded(env: &TestEnv, dir: &Path, src: &Path, names: &[String]) {
    for name in names {
        assert_eq!(
            env.rev(dir, &format!("HEAD:modules/{name}")),
            env.rev(src, &format!("{name}^{{tree}}")),
            "{name}"
        );
    }
    env.git(dir, &["fsck", "--no-dangling"]);
    let status = status_json(env, dir);
    assert_eq!(
        status["modules"].as_array().map(Vec::len),
        Some(names.len()),
        "{status}"
    );
}

#[test]
fn one_apply_embeds_thirty_four_modules_writing_their_objects_as_one_pack() {
    let env = TestEnv::new();
    let (src, names) = many_modules_source(&env, 34);
    let dir = env.new_project(&[]);
    plan_many(&env, &dir, &src, &names);
    let objects = |what: &str| count_objects(&env, &dir, what);
    let (loose, packs) = (objects("count:"), objects("packs:"));
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert_eq!(objects("count:"), loose, "no loose object was written");
    assert_eq!(objects("packs:"), packs + 1, "one pack was written");
    assert_all_embedded(&env, &dir, &src, &names);
}

/// The same 34 modules, each asked for by a symbolic ref, which
/// src/git/local.rs does not copy but leaves to the fetch: each module
/// arrives as a fetched pack of its own, 34 packs written while the
/// repository is open. gix sizes its pack slots at open (32 for a new
/// repository), and the 33rd pack failed every lookup ("too few index
/// slots") until writing commands opened it with room for 1,024.
#[test]
fn one_apply_fetching_thirty_four_modules_as_packs_of_their_own_finds_every_object() {
    let env = TestEnv::new();
    let (src, names) = many_modules_source(&env, 34);
    let mut args: Vec<String> = vec!["plan".into()];
    for name in &names {
        let alias = format!("refs/heads/alias-{name}");
        env.git(
            &src,
            &["symbolic-ref", &alias, &format!("refs/heads/{name}")],
        );
        args.extend(["--add".into(), format!("{name}@alias-{name}")]);
        args.extend(["--source".into(), format!("{name}={}", src.display())]);
    }
    args.push("--yes".into());
    let dir = env.new_project(&[]);
    env.qs_ok(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let packs = count_objects(&env, &dir, "packs:");
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(
        count_objects(&env, &dir, "packs:") >= packs + 34,
        "each module was fetched as a pack of its own"
    );
    assert_all_embedded(&env, &dir, &src, &names);
}
