//! Property: an update never touches user code (roadmap v0.80).
//!
//! Each case starts from one project with module `crm` embedded at v1.0.0,
//! makes random user edits (templates, static files, the project package,
//! tests, quickscale.yml comments; some committed, some not), random local
//! patches inside the module's prefix, and a random upstream version
//! (files added, changed, deleted and renamed; options and wiring
//! changed), then runs `update`. After every update:
//! - every user-owned path is byte-identical (quickscale.yml: all but its
//!   `ref:` line);
//! - every local patch is kept, or the update was refused with conflicts
//!   that name only patched files;
//! - the result is all or nothing: refused means the repository is exactly
//!   as before.
//!
//! `QUICKSCALE_UPDATE_CASES` sets the number of cases (CI: the default
//! below; `scripts/update-properties.sh` runs thousands).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::common::fixtures::commit_to;
use crate::common::{TestEnv, describe, snapshot, stderr};
use crate::test_update::update_files;

const DEFAULT_CASES: u32 = 200;

/// Outcomes seen, so the run shows it exercised both paths.
static MERGED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static REFUSED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
const PKG: &str = "quickscale_modules_crm";

/// A user edit outside the module (user-owned).
#[derive(Debug, Clone)]
enum UserEdit {
    Template,
    Static,
    Package,
    Test,
    NewFile,
    ConfigComment,
}

/// A local patch inside `modules/crm`.
#[derive(Debug, Clone)]
enum Patch {
    PrependViews,
    AppendModels,
    AppendReadme,
    NewLocalFile,
    AppendManifestComment,
}

/// One upstream change between v1.0.0 and the new version.
#[derive(Debug, Clone)]
enum Upstream {
    ChangeViews,
    ChangeModels,
    ChangeReadme,
    AddFile,
    DeleteReadme,
    RenameReadme,
    NewOption,
    NewDefault,
    DeleteApps,
}

#[derive(Debug, Clone)]
struct Case {
    edits: Vec<(UserEdit, bool)>,
    patches: Vec<Patch>,
    upstream: Vec<Upstream>,
}

fn case() -> impl Strategy<Value = Case> {
    let edit = prop_oneof![
        Just(UserEdit::Template),
        Just(UserEdit::Static),
        Just(UserEdit::Package),
        Just(UserEdit::Test),
        Just(UserEdit::NewFile),
        Just(UserEdit::ConfigComment),
    ];
    let patch = prop_oneof![
        Just(Patch::PrependViews),
        Just(Patch::AppendModels),
        Just(Patch::AppendReadme),
        Just(Patch::NewLocalFile),
        Just(Patch::AppendManifestComment),
    ];
    let upstream = prop_oneof![
        Just(Upstream::ChangeViews),
        Just(Upstream::ChangeModels),
        Just(Upstream::ChangeReadme),
        Just(Upstream::AddFile),
        Just(Upstream::DeleteReadme),
        Just(Upstream::RenameReadme),
        Just(Upstream::NewOption),
        Just(Upstream::NewDefault),
        Just(Upstream::DeleteApps),
    ];
    (
        proptest::collection::vec((edit, any::<bool>()), 0..5),
        proptest::collection::vec(patch, 0..4),
        proptest::collection::vec(upstream, 1..5),
    )
        .prop_map(|(edits, patches, upstream)| Case {
            edits,
            patches,
            upstream,
        })
}

fn append(path: &Path, text: &str) {
    let mut now = std::fs::read_to_string(path).unwrap_or_default();
    now.push_str(text);
    std::fs::write(path, now).expect("write");
}

fn prepend(path: &Path, text: &str) {
    let now = std::fs::read_to_string(path).expect("read");
    std::fs::write(path, format!("{text}{now}")).expect("write");
}

/// The user-owned files: everything but `.git`, the module prefixes, the
/// managed wiring and quickscale.yml.
fn user_files(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    let managed = [
        "shop/settings/modules.py",
        "shop/urls_modules.py",
        "requirements-modules.txt",
        "quickscale.yml",
    ];
    snapshot(dir)
        .into_iter()
        .filter(|(p, _)| {
            !p.starts_with(".git")
                && !p.starts_with("modules")
                && !managed.iter().any(|m| p == Path::new(m))
        })
        .collect()
}

/// quickscale.yml without its `ref:` lines (the one thing update changes).
fn config_without_refs(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("quickscale.yml"))
        .expect("quickscale.yml")
        .lines()
        .filter(|l| !l.trim_start().starts_with("ref:"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_case(env: &TestEnv, template: &Path, n: usize, case: &Case) -> Result<(), TestCaseError> {
    let root = env.root().join(format!("case-{n}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("case dir");
    for part in ["shop", "upstream"] {
        let status = std::process::Command::new("cp")
            .args(["-a"])
            .arg(template.join(part))
            .arg(root.join(part))
            .status()
            .expect("cp");
        assert!(status.success());
    }
    let dir = root.join("shop");
    let up = root.join("upstream").join("crm");
    let result = check_case(env, &dir, &up, case);
    let _ = std::fs::remove_dir_all(&root);
    result
}

fn check_case(env: &TestEnv, dir: &Path, up: &Path, case: &Case) -> Result<(), TestCaseError> {
    let prefix = dir.join("modules/crm");
    // Local patches, committed (each is a marker line we look for later).
    let mut kept: Vec<(PathBuf, String)> = Vec::new();
    for (i, p) in case.patches.iter().enumerate() {
        let line = format!("# local patch {i}\n");
        let path = match p {
            Patch::PrependViews => {
                let path = prefix.join(PKG).join("views.py");
                prepend(&path, &line);
                path
            }
            Patch::AppendModels => {
                let path = prefix.join(PKG).join("models.py");
                append(&path, &line);
                path
            }
            Patch::AppendReadme => {
                let path = prefix.join("README.md");
                append(&path, &line);
                path
            }
            Patch::NewLocalFile => {
                let path = prefix.join(PKG).join(format!("local_{i}.py"));
                std::fs::write(&path, &line).expect("write");
                path
            }
            Patch::AppendManifestComment => {
                let path = prefix.join("module.yml");
                append(&path, &line);
                path
            }
        };
        kept.push((path, line));
    }
    if !case.patches.is_empty() {
        env.git(dir, &["add", "-A", "modules"]);
        env.git(dir, &["commit", "-qm", "local patches"]);
    }
    // User edits: committed or left in the worktree.
    for (i, (edit, commit)) in case.edits.iter().enumerate() {
        let text = format!("<!-- user edit {i} -->\n");
        match edit {
            UserEdit::Template => append(&dir.join("templates/base.html"), &text),
            UserEdit::Static => append(&dir.join("static/css/style.css"), &format!("/* {i} */\n")),
            UserEdit::Package => append(&dir.join("shop/views.py"), &format!("# user {i}\n")),
            UserEdit::Test => append(&dir.join("tests/test_pages.py"), &format!("# user {i}\n")),
            UserEdit::NewFile => {
                std::fs::write(dir.join(format!("mine_{i}.txt")), &text).expect("write")
            }
            UserEdit::ConfigComment => {
                append(&dir.join("quickscale.yml"), &format!("# my comment {i}\n"))
            }
        }
        if *commit {
            env.git(dir, &["add", "-A", "."]);
            env.git(dir, &["commit", "-qm", &format!("user edit {i}")]);
        }
    }
    // The new upstream version.
    let mut files = update_files("crm", "1.0.0");
    for (i, u) in case.upstream.iter().enumerate() {
        let edit = |files: &mut Vec<(String, String)>, path: &str, f: &dyn Fn(&str) -> String| {
            if let Some((_, text)) = files.iter_mut().find(|(p, _)| p == path) {
                *text = f(text);
            }
        };
        match u {
            Upstream::ChangeViews => edit(&mut files, &format!("{PKG}/views.py"), &|t| {
                t.replace("\"module\": \"crm\"", &format!("\"module\": \"crm{i}\""))
            }),
            Upstream::ChangeModels => edit(&mut files, &format!("{PKG}/models.py"), &|t| {
                format!("{t}\n# upstream {i}\n")
            }),
            Upstream::ChangeReadme => {
                edit(&mut files, "README.md", &|t| format!("{t}upstream {i}\n"))
            }
            Upstream::AddFile => files.push((
                format!("{PKG}/added_{i}.py"),
                format!("# added upstream {i}\n"),
            )),
            Upstream::DeleteReadme => {
                files.retain(|(p, _)| p != "README.md");
            }
            Upstream::RenameReadme => {
                if let Some(pos) = files.iter().position(|(p, _)| p == "README.md") {
                    let (_, text) = files.remove(pos);
                    files.push(("README.rst".into(), text));
                }
            }
            Upstream::NewOption => edit(&mut files, "module.yml", &|t| {
                t.replace(
                    "  immutable:\n",
                    &format!(
                        "    extra_{i}:\n      type: integer\n      default: {i}\n      django_setting: CRM_EXTRA_{i}\n  immutable:\n"
                    ),
                )
            }),
            Upstream::NewDefault => edit(&mut files, "module.yml", &|t| {
                t.replace("default: hello", &format!("default: hello-{i}"))
            }),
            Upstream::DeleteApps => {
                files.retain(|(p, _)| p != &format!("{PKG}/apps.py"));
            }
        }
    }
    let upstream_dir = up.to_owned();
    for gone in ["README.md", &format!("{PKG}/apps.py")] {
        if !files.iter().any(|(p, _)| p == gone) {
            let _ = std::fs::remove_file(upstream_dir.join(gone));
        }
    }
    commit_to(env, &upstream_dir, &files, "crm 1.1.0");
    env.git(&upstream_dir, &["tag", "v1.1.0"]);

    let users_before = user_files(dir);
    let config_before = config_without_refs(dir);
    let repo_before = env.repo_snapshot(dir);
    let out = env.qs(dir, &["update", "crm", "--yes"]);
    let users_after = user_files(dir);
    prop_assert!(
        users_before == users_after,
        "user-owned files changed: {case:?}\n{}",
        describe(&out)
    );
    prop_assert_eq!(&config_before, &config_without_refs(dir), "{:?}", case);
    match out.status.code() {
        Some(0) => {
            MERGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for (path, line) in &kept {
                let now = std::fs::read_to_string(path).unwrap_or_default();
                // A patch of a file upstream renamed travels with it.
                let moved = path.ends_with("README.md")
                    && std::fs::read_to_string(path.with_file_name("README.rst"))
                        .is_ok_and(|t| t.contains(line.as_str()));
                prop_assert!(
                    now.contains(line.as_str()) || moved,
                    "local patch lost in {}: {case:?}\n{}",
                    path.display(),
                    describe(&out)
                );
            }
            let tracked = env.git(dir, &["status", "--porcelain", "--untracked-files=no"]);
            for line in tracked.lines() {
                prop_assert!(
                    !line.contains("modules/") && !line.contains("shop/settings/modules.py"),
                    "the update left changes: {line}\n{case:?}"
                );
            }
        }
        Some(1) => {
            REFUSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let err = stderr(&out);
            prop_assert!(
                err.contains("would conflict"),
                "refused for another reason: {case:?}\n{}",
                describe(&out)
            );
            let patched: Vec<PathBuf> = kept
                .iter()
                .filter_map(|(p, _)| p.strip_prefix(dir).ok().map(Path::to_owned))
                .collect();
            for line in err.lines().filter(|l| l.starts_with("    modules/")) {
                let path = Path::new(line.trim().split(':').next().unwrap_or_default());
                let renamed = path.ends_with("README.rst")
                    && patched.iter().any(|p| p.ends_with("README.md"));
                prop_assert!(
                    patched.iter().any(|p| p == path) || renamed,
                    "a conflict where there is no local patch: {line}\n{case:?}"
                );
            }
            let after = env.repo_snapshot(dir);
            prop_assert!(
                repo_before == after,
                "a refused update changed the repository: {case:?}"
            );
        }
        _ => prop_assert!(false, "unexpected exit: {case:?}\n{}", describe(&out)),
    }
    Ok(())
}

#[test]
fn updates_never_touch_user_code() {
    let cases = std::env::var("QUICKSCALE_UPDATE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let env = TestEnv::new();
    let template = env.root().join("template");
    std::fs::create_dir_all(template.join("upstream/crm")).expect("mkdir");
    let up = template.join("upstream/crm");
    env.git(&up, &["init", "-q", "-b", "main"]);
    commit_to(&env, &up, &update_files("crm", "1.0.0"), "crm 1.0.0");
    env.git(&up, &["tag", "v1.0.0"]);
    env.qs_ok(
        &template,
        &["plan", "shop", "--theme", "showcase_html", "--yes"],
    );
    let dir = template.join("shop");
    env.qs_ok(&dir, &["apply", "--yes"]);
    env.qs_ok(
        &dir,
        &[
            "plan",
            "--add",
            "crm@v1.0.0",
            "--source",
            "crm=../upstream/crm",
            "--yes",
        ],
    );
    env.qs_ok(&dir, &["apply", "--yes"]);
    assert!(dir.join("modules/crm").join(PKG).join("views.py").exists());

    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&case(), |c| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        run_case(&env, &template, n, &c)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let merged = MERGED.load(std::sync::atomic::Ordering::Relaxed);
    let refused = REFUSED.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "updates_never_touch_user_code: {} cases, {merged} merged, {refused} refused with conflicts",
        counter.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(
        cases < 20 || (merged > 0 && refused > 0),
        "the cases did not exercise both merges and conflicts"
    );
}
