//! Interop with upstream QuickScale: its version tags
//! (`splits/<name>-module/<version>`), its 0.88 manifests (`derivation:`
//! rules, `required_modules`, an `adapter.py` never run) and
//! `git quickscale adopt` for projects upstream made.

use std::path::{Path, PathBuf};

use crate::common::fixtures::module_files;
use crate::common::{TestEnv, describe, stderr, stdout};

/// Writes `files` under `dir`.
fn write_files(dir: &Path, files: &[(String, String)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
}

/// A repository shaped like upstream QuickScale at 0.88: the monorepo on
/// `main` with the repository's own release tags (`v0.88.0`, `0.90.0`,
/// which are not module versions), and each module on its split branch
/// `splits/<name>-module` with immutable tags `splits/<name>-module/<v>`.
fn split_tags_repo(env: &TestEnv, modules: &[(&str, &[&str])]) -> PathBuf {
    let dir = env.root().join("upstream").join("quickscale");
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    write_files(
        &dir,
        &[(
            "pyproject.toml".into(),
            "[project]\nname = \"quickscale\"\nversion = \"0.88.0\"\n".into(),
        )],
    );
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "-qm", "monorepo"]);
    env.git(&dir, &["tag", "v0.88.0"]);
    env.git(&dir, &["tag", "0.90.0"]);
    for (name, versions) in modules {
        let branch = format!("splits/{name}-module");
        env.git(&dir, &["checkout", "-q", "--orphan", &branch]);
        env.git(&dir, &["rm", "-rqf", "."]);
        for version in *versions {
            write_files(&dir, &module_files(name, version));
            env.git(&dir, &["add", "-A"]);
            env.git(&dir, &["commit", "-qm", &format!("{name} {version}")]);
            env.git(&dir, &["tag", &format!("{branch}/{version}")]);
        }
        env.git(&dir, &["checkout", "-q", "main"]);
    }
    dir
}

/// An index file pointing the catalog's entries for `names` at `repo`
/// (their `tags` stay the bundled `splits/<name>-module/{version}`).
fn index_for(env: &TestEnv, repo: &Path, names: &[&str]) -> PathBuf {
    let path = env.root().join("index.toml");
    let mut text = String::new();
    for name in names {
        text.push_str(&format!(
            "[modules.{name}]\nsource = \"{}\"\n",
            repo.display()
        ));
    }
    std::fs::write(&path, text).expect("index");
    path
}

fn note(env: &TestEnv, dir: &Path) -> serde_json::Value {
    serde_json::from_str(&env.git(dir, &["notes", "--ref", "quickscale", "show", "HEAD"]))
        .expect("note")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(out)))
}

#[test]
fn pins_and_updates_follow_split_tags() {
    let env = TestEnv::new();
    let repo = split_tags_repo(&env, &[("crm", &["0.88.0", "0.88.1", "0.89.0"])]);
    // Another module's newer tag on the same repository is not crm's.
    env.git(&repo, &["tag", "splits/blog-module/0.95.0", "v0.88.0"]);
    let index = index_for(&env, &repo, &["crm"]);
    let index = index.to_str().expect("utf8");
    let dir = env.new_project(&[]);
    // A bare version pins to the module's own tag.
    env.qs_ok(
        &dir,
        &["--index", index, "plan", "--add", "crm@0.88.0", "--yes"],
    );
    env.qs_ok(&dir, &["--index", index, "apply", "--yes"]);
    let n = note(&env, &dir);
    assert_eq!(n["modules"]["crm"]["ref"], "splits/crm-module/0.88.0");
    assert_eq!(
        n["modules"]["crm"]["commit"],
        env.rev(&repo, "splits/crm-module/0.88.0")
    );
    assert_eq!(n["modules"]["crm"]["version"], "0.88.0");
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&repo, "splits/crm-module/0.88.0^{tree}")
    );

    // The versions upstream offers: 0.88.1 is compatible (0.x: same minor),
    // 0.89.0 breaking; the repository's v0.88.0/0.90.0 and blog's tags are not crm's.
    let out = env.qs(&dir, &["--index", index, "update", "--check", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let status = json(&env.qs_ok(&dir, &["--index", index, "status", "--json"]));
    let crm = status["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .find(|m| m["name"] == "crm")
        .expect("crm")
        .clone();
    assert_eq!(
        crm["available"]["compatible"], "splits/crm-module/0.88.1",
        "{status:#}"
    );
    assert_eq!(crm["available"]["breaking"], "splits/crm-module/0.89.0");
    let listed = json(&env.qs_ok(&dir, &["--index", index, "list-modules", "--json"]));
    let row = listed
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["name"] == "crm")
        .expect("crm row")
        .clone();
    assert_eq!(row["available"]["compatible"], "splits/crm-module/0.88.1");
    assert_eq!(row["tags"], "splits/crm-module/{version}");

    // update: the newest compatible version.
    env.qs_ok(&dir, &["--index", index, "update", "--yes"]);
    let n = note(&env, &dir);
    assert_eq!(n["modules"]["crm"]["ref"], "splits/crm-module/0.88.1");
    assert_eq!(n["modules"]["crm"]["version"], "0.88.1");
    assert_eq!(
        env.rev(&dir, "HEAD:modules/crm"),
        env.rev(&repo, "splits/crm-module/0.88.1^{tree}")
    );
    let out = env.qs_ok(&dir, &["--index", index, "update", "--yes"]);
    assert!(
        stdout(&out).contains("0.89.0") || stderr(&out).contains("0.89.0"),
        "the breaking version is named: {}",
        describe(&out)
    );
    // --major crosses to 0.89.0; `--to` takes a bare version too.
    env.qs_ok(&dir, &["--index", index, "update", "--major", "--yes"]);
    assert_eq!(
        note(&env, &dir)["modules"]["crm"]["ref"],
        "splits/crm-module/0.89.0"
    );
    env.qs_ok(&dir, &["--index", index, "update", "crm", "--to", "0.88.0", "--yes"]);
    assert_eq!(
        note(&env, &dir)["modules"]["crm"]["ref"],
        "splits/crm-module/0.88.0"
    );
    let status = json(&env.qs_ok(&dir, &["--index", index, "status", "--json"]));
    assert_eq!(status["in_sync"], true, "{status:#}");
}
