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

/// An upstream-0.88-style module.yml: the wiring only in `derivation:`
/// rules (a static app and URL include, middleware chosen by an option, a
/// computed setting).
fn derived_manifest(name: &str) -> String {
    let up = name.to_uppercase();
    format!(
        r#"name: {name}
version: "0.88.0"
description: "A module wired by derivation rules"
config:
  mutable:
    greeting: {{type: string, default: hello, django_setting: {up}_GREETING}}
    page_size: {{type: integer, default: 10, django_setting: {up}_PAGE_SIZE}}
    mode:
      type: string
      default: solo
      django_setting: {up}_MODE
      validation:
        choices: ["solo", "saas"]
  immutable: {{}}
dependencies: []
derivation:
  wiring_projections:
    - wiring_field: apps
      derivation_type: static
      expression:
        value:
          - quickscale_modules_{name}
    - wiring_field: url_includes
      derivation_type: static
      expression:
        value:
          - - "{name}/"
            - quickscale_modules_{name}.urls
  option_derivations:
    mode:
      wiring_projections:
        - wiring_field: middleware
          derivation_type: conditional
          source_options: [mode]
          expression:
            branches:
              saas: [quickscale_modules_{name}.middleware.TenantMiddleware]
      derived_settings:
        - setting_key: {up}_TITLE
          source_options: [mode]
          derivation_type: computed
          expression:
            template: "{name} in {{mode}} mode"
"#
    )
}

/// The adapter upstream 0.88 would import: if anything runs it, it leaves
/// a marker file next to itself.
const MARKER_ADAPTER: &str = "from pathlib import Path\n\nPath(__file__).with_name(\"ADAPTER_WAS_IMPORTED\").write_text(\"adapter.py ran\")\n\n\ndef get_manifest_adapter():\n    raise RuntimeError(\"never called by git-quickscale\")\n";

/// A module repository `name` at `<env>/upstream/<name>` whose module.yml
/// is `manifest` (the package of the fixture modules otherwise), with an
/// `adapter.py` that marks its import.
fn module_repo_with(env: &TestEnv, name: &str, manifest: &str, extra: &[(String, String)]) -> PathBuf {
    let dir = env.root().join("upstream").join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    let mut files: Vec<(String, String)> = module_files(name, "0.88.0")
        .into_iter()
        .filter(|(p, _)| p != "module.yml")
        .collect();
    files.push(("module.yml".into(), manifest.to_owned()));
    files.push((
        format!("quickscale_modules_{name}/adapter.py"),
        MARKER_ADAPTER.into(),
    ));
    files.extend_from_slice(extra);
    write_files(&dir, &files);
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "-qm", &format!("{name} 0.88.0")]);
    env.git(&dir, &["tag", "v0.88.0"]);
    dir
}

/// Every file named `ADAPTER_WAS_IMPORTED` under `dir`.
fn markers(dir: &Path) -> Vec<PathBuf> {
    crate::common::snapshot(dir)
        .into_keys()
        .filter(|p| p.ends_with("ADAPTER_WAS_IMPORTED"))
        .collect()
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

#[test]
fn derivation_rules_wire_the_module_and_no_module_python_runs() {
    let env = TestEnv::new();
    let middleware = (
        "quickscale_modules_dash/middleware.py".to_owned(),
        "class TenantMiddleware:\n    def __init__(self, get_response):\n        self.get_response = get_response\n\n    def __call__(self, request):\n        return self.get_response(request)\n".to_owned(),
    );
    let dash = module_repo_with(&env, "dash", &derived_manifest("dash"), &[middleware]);
    // Only an adapter.py: module.yml declares options and nothing else.
    let legacy = module_repo_with(
        &env,
        "legacy",
        "name: legacy\nversion: \"0.88.0\"\nconfig:\n  mutable:\n    greeting: {type: string, default: hi, django_setting: LEGACY_GREETING}\n    page_size: {type: integer, default: 5, django_setting: LEGACY_PAGE_SIZE}\n",
        &[],
    );
    let dir = env.new_project(&[]);
    for (name, repo) in [("dash", &dash), ("legacy", &legacy)] {
        env.qs_ok(
            &dir,
            &[
                "plan",
                "--add",
                &format!("{name}@v0.88.0"),
                "--source",
                &format!("{name}={}", repo.display()),
                "--yes",
            ],
        );
    }
    let out = env.qs_ok(&dir, &["apply", "--yes"]);
    let err = stderr(&out);
    assert!(
        err.contains("module legacy: upstream QuickScale computes part of its wiring by importing modules/legacy/quickscale_modules_legacy/adapter.py, which git quickscale never runs"),
        "{err}"
    );
    assert!(
        err.contains("Not derived (module.yml and the catalog declare none): apps, middleware, URL includes"),
        "{err}"
    );
    assert!(err.contains("[modules.legacy.wiring]"), "{err}");
    // dash declares apps and URLs; its adapter adds nothing it lacks.
    assert!(!err.contains("module dash: upstream"), "{err}");

    let settings = read(&dir, "shop/settings/modules.py");
    assert!(settings.contains("\"quickscale_modules_dash\","), "{settings}");
    assert!(!settings.contains("TenantMiddleware"), "{settings}");
    assert!(
        settings.contains("\"DASH_TITLE\": \"dash in solo mode\",  # dash.mode"),
        "{settings}"
    );
    // The adapter-only module is embedded and its options wired, not its app.
    assert!(settings.contains("\"LEGACY_GREETING\": \"hi\""), "{settings}");
    assert!(!settings.contains("\"quickscale_modules_legacy\""), "{settings}");
    assert!(dir.join("modules/legacy/module.yml").exists());
    let urls = read(&dir, "shop/urls_modules.py");
    assert!(
        urls.contains("path(\"dash/\", include(\"quickscale_modules_dash.urls\"))"),
        "{urls}"
    );

    // The rule that depends on an option follows it.
    env.qs_ok(&dir, &["plan", "--reconfigure", "--set", "dash.mode=saas", "--yes"]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    let settings = read(&dir, "shop/settings/modules.py");
    assert!(
        settings.contains("\"quickscale_modules_dash.middleware.TenantMiddleware\","),
        "{settings}"
    );
    assert!(settings.contains("\"DASH_TITLE\": \"dash in saas mode\""), "{settings}");
    let status = json(&env.qs_ok(&dir, &["status", "--json"]));
    assert_eq!(status["in_sync"], true, "{status:#}");

    // No module Python ran: the adapters would have left a marker.
    assert_eq!(markers(env.root()), Vec::<PathBuf>::new());
}
