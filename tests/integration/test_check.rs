//! `git quickscale check`, the CI drift check, against real repositories: a
//! bare remote, `--depth 1` clones without notes (as `actions/checkout`
//! makes), full clones without notes, and histories that `--no-verify`
//! let through. Also the engine's own guard: an operation that would write
//! a user-owned path is refused before anything is written.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::fixtures::module_repo;
use crate::common::{
    TestEnv, append, assert_same_repo, describe, git_subtree_path, stderr, stdout,
};

/// A project `shop` with module `a` at v1.0.0, pushed as `main` to the bare
/// repository `remote.git`. No hooks: these tests commit what they refuse.
struct Setup {
    dir: PathBuf,
    remote: PathBuf,
    a: PathBuf,
}

fn setup(env: &TestEnv) -> Setup {
    let a = module_repo(env, "a");
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "shop",
            "--theme",
            "showcase_html",
            "--module",
            "a@v1.0.0",
            "--source",
            &format!("a={}", a.display()),
            "--yes",
        ],
    );
    let dir = env.root().join("shop");
    env.qs_ok(&dir, &["apply", "--yes", "--no-hooks"]);
    let remote = env.root().join("remote.git");
    env.git(
        env.root(),
        &["init", "-q", "--bare", remote.to_str().expect("utf8")],
    );
    env.git(
        &dir,
        &["remote", "add", "origin", remote.to_str().expect("utf8")],
    );
    env.git(&dir, &["push", "-q", "origin", "main"]);
    Setup { dir, remote, a }
}

/// `git clone` of the remote (`file://`, so `--depth` is honoured), as CI
/// makes it: no notes, no `refs/quickscale/*`.
fn clone(env: &TestEnv, remote: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let to = env.root().join(name);
    let url = format!("file://{}", remote.display());
    let mut args = vec!["clone", "-q"];
    args.extend_from_slice(extra);
    args.extend([url.as_str(), to.to_str().expect("utf8")]);
    env.git(env.root(), &args);
    let refs = env.git(&to, &["for-each-ref", "--format=%(refname)"]);
    assert!(
        !refs.contains("refs/notes/") && !refs.contains("refs/quickscale/"),
        "a clone has no state: {refs}"
    );
    to
}

fn commit(env: &TestEnv, dir: &Path, message: &str) -> String {
    env.git(dir, &["add", "-A"]);
    env.git(dir, &["commit", "-qm", message]);
    env.rev(dir, "HEAD")
}

/// Runs `check ARGS` and asserts that it wrote nothing.
fn check(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let before = env.repo_snapshot(dir);
    let mut full = vec!["check"];
    full.extend_from_slice(args);
    let out = env.qs(dir, &full);
    assert_same_repo(&before, &env.repo_snapshot(dir), "check");
    out
}

fn check_code(env: &TestEnv, dir: &Path, args: &[&str], code: i32) -> Output {
    let out = check(env, dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "check {args:?}:\n{}",
        describe(&out)
    );
    out
}

fn check_json(env: &TestEnv, dir: &Path, args: &[&str], code: i32) -> serde_json::Value {
    let mut full = vec!["--format", "json"];
    full.extend_from_slice(args);
    let out = check_code(env, dir, &full, code);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", describe(&out)))
}

fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["findings"].as_array().expect("findings").clone()
}

/// The findings with stable id `id`.
fn with_id(report: &serde_json::Value, id: &str) -> Vec<serde_json::Value> {
    findings(report)
        .into_iter()
        .filter(|f| f["id"] == id)
        .collect()
}

fn ids(report: &serde_json::Value) -> Vec<String> {
    findings(report)
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The 1-based number of the line holding `needle` in `text`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{text}"))
}

// ---------------------------------------------------------------------------
// Drift of HEAD.

#[test]
fn a_clean_project_checks_clean_here_and_in_a_depth_1_clone_without_notes() {
    let env = TestEnv::new();
    let s = setup(&env);
    let out = check_code(&env, &s.dir, &[], 0);
    assert!(stdout(&out).contains("No drift"), "{}", describe(&out));
    let report = check_json(&env, &s.dir, &[], 0);
    assert_eq!(report["state"], "note");
    assert_eq!(report["drift"], false);
    assert!(findings(&report).is_empty(), "{report:#}");

    let ci = clone(&env, &s.remote, "ci", &["--depth", "1"]);
    let report = check_json(&env, &ci, &[], 0);
    assert_eq!(report["state"], "derived");
    assert_eq!(report["shallow"], true);
    assert_eq!(report["drift"], false);
    // Warnings, not drift: the state is derived, module a is unproven.
    let no_note = with_id(&report, "no-note");
    assert_eq!(no_note.len(), 1, "{report:#}");
    assert_eq!(no_note[0]["severity"], "warning");
    assert!(
        no_note[0]["fix"]
            .as_str()
            .expect("fix")
            .contains("git quickscale sync"),
        "{report:#}"
    );
    let unproven = with_id(&report, "unproven");
    assert_eq!(unproven.len(), 1, "{report:#}");
    assert_eq!(unproven[0]["severity"], "warning");
    assert_eq!(unproven[0]["file"], "modules/a");
    assert_eq!(report["summary"]["errors"], 0);

    let out = check_code(&env, &ci, &["--format", "github"], 0);
    let text = stdout(&out);
    assert!(
        text.contains("::warning title=git-quickscale no-note::"),
        "{text}"
    );
    assert!(
        text.contains("::warning file=modules/a,title=git-quickscale unproven::"),
        "{text}"
    );
    assert!(!text.contains("::error"), "{text}");
}

#[test]
fn a_hand_edited_managed_file_in_a_depth_1_clone_is_drift_with_a_github_annotation() {
    let env = TestEnv::new();
    let s = setup(&env);
    let managed = "shop/settings/modules.py";
    let rendered = std::fs::read_to_string(s.dir.join(managed)).expect("managed");
    append(&s.dir, managed, "DEBUG_TOOLBAR = True\n");
    commit(&env, &s.dir, "Turn the toolbar on");
    env.git(&s.dir, &["push", "-q", "origin", "main"]);
    let edited_line = rendered.lines().count() as u64 + 1;

    let ci = clone(&env, &s.remote, "ci", &["--depth", "1"]);
    let out = check_code(&env, &ci, &["--format", "github"], 2);
    let text = stdout(&out);
    let annotation = text
        .lines()
        .find(|l| l.starts_with("::error file=shop/settings/modules.py,"))
        .unwrap_or_else(|| panic!("no annotation for the file:\n{}", describe(&out)));
    assert!(
        annotation.starts_with(&format!(
            "::error file=shop/settings/modules.py,line={edited_line},title=git-quickscale managed-drift::"
        )),
        "{annotation}"
    );
    assert!(annotation.contains("git quickscale apply"), "{annotation}");

    let out = check_code(&env, &ci, &[], 2);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("error[managed-drift] {managed}:{edited_line}: ")),
        "{text}"
    );
    assert!(text.contains("Drift found"), "{text}");

    let report = check_json(&env, &ci, &[], 2);
    let drift = with_id(&report, "managed-drift");
    assert_eq!(drift.len(), 1, "{report:#}");
    assert_eq!(drift[0]["file"], managed);
    assert_eq!(drift[0]["line"], edited_line);
    assert_eq!(drift[0]["severity"], "error");
    assert_eq!(report["drift"], true);

    // SARIF, next to another format: the only file check writes is the one named.
    let sarif = env.root().join("check.sarif");
    let out = env.qs(
        &ci,
        &[
            "check",
            "--sarif",
            sarif.to_str().expect("utf8"),
            "--format",
            "github",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif")).expect("json");
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "managed-drift")
        .expect("managed-drift result");
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], managed);
    assert_eq!(loc["region"]["startLine"], edited_line);

    // The same in the project itself, where the state comes from a note.
    let report = check_json(&env, &s.dir, &[], 2);
    assert_eq!(report["state"], "note");
    assert_eq!(with_id(&report, "managed-drift")[0]["line"], edited_line);
}

#[test]
fn quickscale_yml_not_applied_is_drift_naming_its_line() {
    let env = TestEnv::new();
    let s = setup(&env);
    env.qs_ok(
        &s.dir,
        &["plan", "--reconfigure", "--set", "a.greeting=hi", "--yes"],
    );
    let yml = std::fs::read_to_string(s.dir.join("quickscale.yml")).expect("yml");
    let report = check_json(&env, &s.dir, &[], 2);
    let pending = with_id(&report, "not-applied");
    assert_eq!(pending.len(), 1, "{report:#}");
    assert_eq!(pending[0]["file"], "quickscale.yml");
    assert_eq!(pending[0]["line"], line_of(&yml, "greeting: hi"));
    let message = pending[0]["message"].as_str().expect("message");
    assert!(message.contains("a.greeting"), "{message}");
    assert!(
        pending[0]["fix"]
            .as_str()
            .expect("fix")
            .contains("git quickscale apply"),
        "{report:#}"
    );

    // Committed and pushed without apply: a clone without notes still sees it.
    commit(&env, &s.dir, "Say hi");
    env.git(&s.dir, &["push", "-q", "origin", "main"]);
    let ci = clone(&env, &s.remote, "ci", &["--depth", "1"]);
    let report = check_json(&env, &ci, &[], 2);
    assert_eq!(report["drift"], true, "{report:#}");
    let drift = with_id(&report, "managed-drift");
    assert!(
        drift
            .iter()
            .any(|f| f["file"] == "shop/settings/modules.py"),
        "{report:#}"
    );

    // apply makes it clean again.
    env.qs_ok(&s.dir, &["apply", "--yes", "--no-hooks"]);
    check_code(&env, &s.dir, &[], 0);
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let env = TestEnv::new();
    let s = setup(&env);
    append(&s.dir, "shop/urls_modules.py", "# mine\n");
    commit(&env, &s.dir, "edit");
    let report = check_json(&env, &s.dir, &[], 2);
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&report),
        [
            "drift",
            "findings",
            "head",
            "note_commit",
            "range",
            "schema",
            "shallow",
            "state",
            "strict",
            "summary"
        ]
    );
    assert_eq!(report["schema"], 1);
    assert_eq!(report["head"], env.rev(&s.dir, "HEAD"));
    assert_eq!(report["range"], serde_json::Value::Null);
    assert_eq!(report["strict"], false);
    assert_eq!(keys(&report["summary"]), ["errors", "infos", "warnings"]);
    for f in findings(&report) {
        assert_eq!(
            keys(&f),
            [
                "commit", "file", "fix", "id", "line", "message", "paths", "severity"
            ],
            "{f:#}"
        );
    }
    let f = &with_id(&report, "managed-drift")[0];
    assert_eq!(f["paths"], serde_json::json!(["shop/urls_modules.py"]));
    assert_eq!(f["commit"], serde_json::Value::Null);

    let report = check_json(&env, &s.dir, &["--base", "HEAD~1"], 2);
    assert_eq!(
        keys(&report["range"]),
        ["base", "base_commit", "commits_checked"]
    );
    assert_eq!(report["range"]["base"], "HEAD~1");
    assert_eq!(report["range"]["base_commit"], env.rev(&s.dir, "HEAD~1"));
    assert_eq!(report["range"]["commits_checked"], 1);
    let edit = &with_id(&report, "managed-edit")[0];
    assert_eq!(edit["commit"], env.rev(&s.dir, "HEAD"));
    assert_eq!(edit["file"], "shop/urls_modules.py");
}

#[test]
fn module_edits_are_info_by_default_and_drift_with_strict() {
    let env = TestEnv::new();
    let s = setup(&env);
    append(&s.dir, "modules/a/README.md", "local fix\n");
    commit(&env, &s.dir, "Fix a's readme");
    env.git(&s.dir, &["push", "-q", "origin", "main"]);

    let out = check_code(&env, &s.dir, &[], 0);
    let text = stdout(&out);
    assert!(text.contains("info[module-modified] modules/a: "), "{text}");
    assert!(text.contains("  modules/a/README.md\n"), "{text}");
    let report = check_json(&env, &s.dir, &["--strict"], 2);
    let modified = with_id(&report, "module-modified");
    assert_eq!(modified[0]["severity"], "error");
    assert_eq!(
        modified[0]["paths"],
        serde_json::json!(["modules/a/README.md"])
    );
    assert_eq!(report["strict"], true);

    // A full clone without notes compares with the squashed upstream tree.
    let full = clone(&env, &s.remote, "full", &[]);
    let report = check_json(&env, &full, &[], 0);
    assert_eq!(report["state"], "derived");
    let modified = with_id(&report, "module-modified");
    assert_eq!(modified.len(), 1, "{report:#}");
    assert_eq!(modified[0]["severity"], "info");
    assert_eq!(
        modified[0]["paths"],
        serde_json::json!(["modules/a/README.md"])
    );
    check_code(&env, &full, &["--strict"], 2);
    let out = check_code(&env, &full, &["--format", "github"], 0);
    assert!(
        stdout(&out).contains("::notice file=modules/a,title=git-quickscale module-modified::"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_module_prefix_missing_from_head_is_drift() {
    let env = TestEnv::new();
    let s = setup(&env);
    env.git(&s.dir, &["rm", "-rq", "modules/a"]);
    commit(&env, &s.dir, "drop a");
    let report = check_json(&env, &s.dir, &[], 2);
    let missing = with_id(&report, "module-missing");
    assert_eq!(missing.len(), 1, "{report:#}");
    assert_eq!(missing[0]["file"], "modules/a");
    assert!(
        missing[0]["fix"]
            .as_str()
            .expect("fix")
            .contains("git quickscale remove a"),
        "{report:#}"
    );
}

// ---------------------------------------------------------------------------
// Policy over a range of commits (what --no-verify let through).

/// Starts branch `feature` at main; returns main's commit.
fn feature(env: &TestEnv, dir: &Path) -> String {
    env.git(dir, &["checkout", "-qb", "feature"]);
    env.rev(dir, "main")
}

#[test]
fn a_mixed_commit_in_the_range_is_drift_and_split_commits_pass() {
    let env = TestEnv::new();
    let s = setup(&env);
    feature(&env, &s.dir);
    append(&s.dir, "modules/a/README.md", "module work\n");
    commit(&env, &s.dir, "module work");
    append(&s.dir, "templates/base.html", "<!-- mine -->\n");
    commit(&env, &s.dir, "my work");
    check_code(&env, &s.dir, &["--base", "main"], 0);

    append(&s.dir, "modules/a/README.md", "more\n");
    append(&s.dir, "templates/base.html", "<!-- more -->\n");
    append(&s.dir, "static/css/style.css", "/* more */\n");
    let mixed = commit(&env, &s.dir, "mixed");
    let report = check_json(&env, &s.dir, &["--base", "main"], 2);
    assert_eq!(report["range"]["commits_checked"], 3);
    let v = with_id(&report, "mixed-commit");
    assert_eq!(v.len(), 1, "{report:#}");
    assert_eq!(v[0]["commit"], mixed);
    assert_eq!(
        v[0]["paths"],
        serde_json::json!(["static/css/style.css", "templates/base.html"])
    );
    assert!(
        v[0]["fix"]
            .as_str()
            .expect("fix")
            .contains(&format!("git rebase -i {}^", &mixed[..12])),
        "{report:#}"
    );
    // Without --base only HEAD's drift is checked: none.
    check_code(&env, &s.dir, &[], 0);
    let out = check_code(&env, &s.dir, &["--base", "main"], 2);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "error[mixed-commit] commit {} (mixed): ",
            &mixed[..12]
        )),
        "{text}"
    );
    assert!(text.contains("  templates/base.html\n"), "{text}");
    let out = check_code(&env, &s.dir, &["--base", "main", "--format", "github"], 2);
    assert!(
        stdout(&out)
            .contains("::error file=static/css/style.css,title=git-quickscale mixed-commit::"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_managed_edit_reverted_later_is_still_found_in_the_range() {
    let env = TestEnv::new();
    let s = setup(&env);
    let base = feature(&env, &s.dir);
    append(&s.dir, "shop/urls_modules.py", "# mine\n");
    let edit = commit(&env, &s.dir, "edit the wiring");
    env.git(&s.dir, &["revert", "--no-edit", "HEAD"]);
    // HEAD itself is clean again...
    check_code(&env, &s.dir, &[], 0);
    // ...but the range shows the hand edit. The revert, which puts back
    // exactly what the tool renders, is not one.
    let report = check_json(&env, &s.dir, &["--base", &base], 2);
    let v = with_id(&report, "managed-edit");
    assert_eq!(v.len(), 1, "{report:#}");
    assert_eq!(v[0]["commit"], edit);
    assert_eq!(v[0]["paths"], serde_json::json!(["shop/urls_modules.py"]));
    assert!(
        v[0]["fix"].as_str().expect("fix").contains("shop/urls.py"),
        "{report:#}"
    );
}

#[test]
fn a_hand_deleted_prefix_in_the_range_is_drift_with_the_remove_recipe() {
    let env = TestEnv::new();
    let s = setup(&env);
    feature(&env, &s.dir);
    env.git(&s.dir, &["rm", "-rq", "modules/a"]);
    let drop = commit(&env, &s.dir, "drop a");
    env.git(&s.dir, &["revert", "--no-edit", "HEAD"]);
    check_code(&env, &s.dir, &[], 0);
    let report = check_json(&env, &s.dir, &["--base", "main"], 2);
    let v = with_id(&report, "prefix-removed");
    assert_eq!(v.len(), 1, "{report:#}");
    assert_eq!(v[0]["commit"], drop);
    assert!(
        v[0]["fix"]
            .as_str()
            .expect("fix")
            .contains("git quickscale remove a"),
        "{report:#}"
    );
    // Deleting one file of the module is module work.
    env.git(&s.dir, &["rm", "-q", "modules/a/README.md"]);
    commit(&env, &s.dir, "drop a readme");
    assert_eq!(
        with_id(
            &check_json(&env, &s.dir, &["--base", "HEAD~1"], 0),
            "prefix-removed"
        )
        .len(),
        0
    );
}

/// A branch `side` whose tip carries git-subtree trailers for modules/a and
/// changes `files`: a crafted "subtree merge" once merged.
fn crafted_subtree_branch(env: &TestEnv, dir: &Path, a: &Path, files: &[&str]) {
    env.git(dir, &["checkout", "-qb", "side"]);
    for f in files {
        append(dir, f, "side change\n");
    }
    env.git(dir, &["add", "-A"]);
    let split = env.rev(a, "v1.1.0");
    let message = format!(
        "Squashed 'modules/a/' changes\n\ngit-subtree-dir: modules/a\ngit-subtree-split: {split}\n"
    );
    env.git(dir, &["commit", "-qm", &message]);
    env.git(dir, &["checkout", "-q", "main"]);
}

#[test]
fn a_subtree_merge_that_edits_templates_is_drift_and_one_inside_its_prefix_passes() {
    let env = TestEnv::new();
    let s = setup(&env);
    let base = env.rev(&s.dir, "HEAD");
    crafted_subtree_branch(&env, &s.dir, &s.a, &["modules/a/README.md"]);
    env.git(
        &s.dir,
        &["merge", "-q", "--no-ff", "-m", "Merge side", "side"],
    );
    check_code(&env, &s.dir, &["--base", &base], 0);

    env.git(&s.dir, &["reset", "-q", "--hard", &base]);
    env.git(&s.dir, &["branch", "-qD", "side"]);
    crafted_subtree_branch(
        &env,
        &s.dir,
        &s.a,
        &["modules/a/README.md", "templates/base.html"],
    );
    env.git(
        &s.dir,
        &["merge", "-q", "--no-ff", "-m", "Merge side", "side"],
    );
    let merge = env.rev(&s.dir, "HEAD");
    let report = check_json(&env, &s.dir, &["--base", &base], 2);
    let v = with_id(&report, "subtree-merge");
    assert_eq!(v.len(), 1, "{report:#}");
    assert_eq!(v[0]["commit"], merge);
    assert_eq!(v[0]["paths"], serde_json::json!(["templates/base.html"]));
}

#[test]
fn a_real_git_subtree_pull_squash_and_an_ordinary_merge_pass() {
    let Some(subtree) = git_subtree_path() else {
        return;
    };
    let env = TestEnv::new();
    let s = setup(&env);
    let base = feature(&env, &s.dir);
    // A file v1.1.0 does not change, so the pull merges cleanly.
    append(
        &s.dir,
        "modules/a/quickscale_modules_a/models.py",
        "# module work\n",
    );
    commit(&env, &s.dir, "module work");
    append(&s.dir, "templates/base.html", "my work\n");
    commit(&env, &s.dir, "my work");
    env.git(&s.dir, &["checkout", "-q", "main"]);
    env.git(
        &s.dir,
        &["merge", "-q", "--no-ff", "-m", "Merge feature", "feature"],
    );
    env.git_with_path(
        &s.dir,
        &subtree,
        &[
            "subtree",
            "pull",
            "-q",
            "--squash",
            "--prefix=modules/a",
            s.a.to_str().expect("utf8"),
            "v1.1.0",
            "-m",
            "Update a",
        ],
    );
    let report = check_json(&env, &s.dir, &["--base", &base], 0);
    assert!(report["range"]["commits_checked"].as_u64().expect("n") >= 4);
    let errors: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{report:#}");
    // The pulled update shows as a local change of the prefix (info).
    assert_eq!(ids(&report), ["module-modified"], "{report:#}");
}

#[test]
fn quickscale_yml_committed_without_apply_is_a_warning_in_the_range() {
    let env = TestEnv::new();
    let s = setup(&env);
    feature(&env, &s.dir);
    // A comment changes nothing apply would do: the wiring still matches.
    append(&s.dir, "quickscale.yml", "# a comment\n");
    commit(&env, &s.dir, "comment");
    let report = check_json(&env, &s.dir, &["--base", "main"], 0);
    assert!(findings(&report).is_empty(), "{report:#}");
    // An option committed without apply: a warning for the commit, and
    // drift of HEAD until apply runs.
    env.qs_ok(
        &s.dir,
        &["plan", "--reconfigure", "--set", "a.greeting=hi", "--yes"],
    );
    let by_hand = commit(&env, &s.dir, "say hi");
    let report = check_json(&env, &s.dir, &["--base", "main"], 2);
    let v = with_id(&report, "desired-not-applied");
    assert_eq!(v.len(), 1, "{report:#}");
    assert_eq!(v[0]["severity"], "warning");
    assert_eq!(v[0]["commit"], by_hand);
    assert_eq!(with_id(&report, "not-applied").len(), 1, "{report:#}");
    env.qs_ok(&s.dir, &["apply", "--yes", "--no-hooks"]);
    let report = check_json(&env, &s.dir, &["--base", "main"], 0);
    assert_eq!(ids(&report), ["desired-not-applied"], "{report:#}");
}

#[test]
fn the_tools_own_commits_pass_in_a_clone_without_notes() {
    let env = TestEnv::new();
    let s = setup(&env);
    let b = module_repo(&env, "b");
    feature(&env, &s.dir);
    env.qs_ok(
        &s.dir,
        &[
            "plan",
            "--add",
            "b@v1.0.0",
            "--source",
            &format!("b={}", b.display()),
            "--yes",
        ],
    );
    env.qs_ok(&s.dir, &["apply", "--yes", "--no-hooks"]);
    env.qs_ok(
        &s.dir,
        &["plan", "--reconfigure", "--set", "a.greeting=hi", "--yes"],
    );
    env.qs_ok(&s.dir, &["apply", "--yes", "--no-hooks"]);
    env.qs_ok(&s.dir, &["remove", "b", "--yes"]);
    append(&s.dir, "templates/base.html", "my work\n");
    commit(&env, &s.dir, "my work");
    env.git(&s.dir, &["push", "-q", "origin", "feature"]);

    // With the notes (the project itself).
    let report = check_json(&env, &s.dir, &["--base", "main"], 0);
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
    assert!(report["range"]["commits_checked"].as_u64().expect("n") >= 6);

    // Without them: the tool's commits are recognized by their content.
    let ci = clone(&env, &s.remote, "ci", &["--branch", "feature"]);
    let report = check_json(&env, &ci, &["--base", "origin/main"], 0);
    assert_eq!(report["state"], "derived");
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");

    // A hand edit on top is still caught there.
    append(&s.dir, "shop/urls_modules.py", "# mine\n");
    commit(&env, &s.dir, "edit the wiring");
    env.git(&s.dir, &["revert", "--no-edit", "HEAD"]);
    env.git(&s.dir, &["push", "-q", "origin", "feature"]);
    env.git(&ci, &["pull", "-q", "--ff-only"]);
    let report = check_json(&env, &ci, &["--base", "origin/main"], 2);
    assert_eq!(with_id(&report, "managed-edit").len(), 1, "{report:#}");
}

#[test]
fn a_shallow_clone_says_how_to_fetch_the_history_base_needs() {
    let env = TestEnv::new();
    let s = setup(&env);
    feature(&env, &s.dir);
    append(&s.dir, "templates/base.html", "one\n");
    commit(&env, &s.dir, "one");
    append(&s.dir, "templates/base.html", "two\n");
    commit(&env, &s.dir, "two");
    env.git(&s.dir, &["push", "-q", "origin", "feature"]);
    let ci = clone(
        &env,
        &s.remote,
        "ci",
        &["--depth", "1", "--branch", "feature"],
    );

    // The base is not in the clone at all.
    let out = check_code(&env, &ci, &["--base", "origin/main"], 1);
    let err = stderr(&out);
    assert!(err.contains("origin/main"), "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");
    let out = check_code(&env, &ci, &["--base", "HEAD~2"], 1);
    assert!(
        stderr(&out).contains("fetch-depth: 0"),
        "{}",
        describe(&out)
    );

    // The base is there, but the history between it and HEAD is not.
    env.git(
        &ci,
        &[
            "fetch",
            "-q",
            "--depth",
            "1",
            "origin",
            "main:refs/remotes/origin/main",
        ],
    );
    let out = check_code(&env, &ci, &["--base", "origin/main"], 1);
    let err = stderr(&out);
    assert!(err.contains("shallow"), "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");
    assert!(err.contains("git fetch --unshallow"), "{err}");

    env.git(&ci, &["fetch", "-q", "--unshallow"]);
    let report = check_json(&env, &ci, &["--base", "origin/main"], 0);
    assert_eq!(report["range"]["commits_checked"], 2);
}

#[test]
fn check_refuses_a_base_it_cannot_resolve() {
    let env = TestEnv::new();
    let s = setup(&env);
    let out = check_code(&env, &s.dir, &["--base", "no-such-branch"], 1);
    assert!(
        stderr(&out).contains("no-such-branch"),
        "{}",
        describe(&out)
    );
}

// ---------------------------------------------------------------------------
// The engine's guard: a module operation never writes a user-owned path.

#[test]
fn an_operation_that_would_write_a_user_owned_path_is_refused_before_any_write() {
    let env = TestEnv::new();
    let s = setup(&env);
    // The user's own Django app `billing`.
    std::fs::create_dir_all(s.dir.join("billing")).expect("mkdir");
    std::fs::write(s.dir.join("billing/urls_modules.py"), "# my own file\n").expect("write");
    commit(&env, &s.dir, "my billing app");
    // A crafted state note that says the project package is `billing`: the
    // wiring would go to billing/settings/modules.py and billing/urls_modules.py.
    env.git(
        &s.dir,
        &["notes", "--ref", "quickscale", "copy", "HEAD~1", "HEAD"],
    );
    let note = env.git(&s.dir, &["notes", "--ref", "quickscale", "show", "HEAD"]);
    let crafted = note
        .replace("\"package\": \"shop\"", "\"package\": \"billing\"")
        .replace("\"shop/", "\"billing/");
    assert_ne!(crafted, note);
    // It records the tree's blobs for the paths it claims, so it is not
    // read as a stale note (engine::stale) but used.
    let mut crafted: serde_json::Value = serde_json::from_str(&crafted).expect("note");
    let mut managed = serde_json::Map::new();
    for (path, _) in crafted["managed"].as_object().expect("managed") {
        if let Some(id) = env
            .git(&s.dir, &["ls-tree", "HEAD", "--", path])
            .split_whitespace()
            .nth(2)
        {
            managed.insert(path.clone(), id.into());
        }
    }
    crafted["managed"] = managed.into();
    let crafted = crafted.to_string();
    env.git(
        &s.dir,
        &[
            "notes",
            "--ref",
            "quickscale",
            "add",
            "-f",
            "-m",
            &crafted,
            "HEAD",
        ],
    );
    let status: serde_json::Value =
        serde_json::from_slice(&env.qs_ok(&s.dir, &["status", "--json"]).stdout).expect("json");
    assert_eq!(
        status["state"]["origin"], "note",
        "the crafted note is used"
    );

    let before = env.repo_snapshot(&s.dir);
    let out = env.qs(&s.dir, &["remove", "a", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("would write files that belong to you"),
        "{err}"
    );
    assert!(err.contains("  billing/settings/modules.py\n"), "{err}");
    assert!(err.contains("  billing/urls_modules.py\n"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_same_repo(&before, &env.repo_snapshot(&s.dir), "refused remove");
    assert_eq!(
        std::fs::read_to_string(s.dir.join("billing/urls_modules.py")).expect("read"),
        "# my own file\n"
    );
}
