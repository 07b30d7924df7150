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
    split_tags_repo_with(env, modules, &|_| {})
}

/// Changes a module's files (path, text) before they are committed.
type EditFiles = dyn Fn(&mut Vec<(String, String)>);

/// [`split_tags_repo`] with each module's files changed by `edit` first.
fn split_tags_repo_with(env: &TestEnv, modules: &[(&str, &[&str])], edit: &EditFiles) -> PathBuf {
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
            let mut files = module_files(name, version);
            edit(&mut files);
            write_files(&dir, &files);
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
    env.qs_ok(
        &dir,
        &["--index", index, "update", "crm", "--to", "0.88.0", "--yes"],
    );
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
fn module_repo_with(
    env: &TestEnv,
    name: &str,
    manifest: &str,
    extra: &[(String, String)],
) -> PathBuf {
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
        err.contains(
            "Not derived (module.yml and the catalog declare none): apps, middleware, URL includes"
        ),
        "{err}"
    );
    assert!(err.contains("[modules.legacy.wiring]"), "{err}");
    // dash declares apps and URLs; its adapter adds nothing it lacks.
    assert!(!err.contains("module dash: upstream"), "{err}");

    let settings = read(&dir, "shop/settings/modules.py");
    assert!(
        settings.contains("\"quickscale_modules_dash\","),
        "{settings}"
    );
    assert!(!settings.contains("TenantMiddleware"), "{settings}");
    assert!(
        settings.contains("\"DASH_TITLE\": \"dash in solo mode\",  # dash.mode"),
        "{settings}"
    );
    // The adapter-only module is embedded and its options wired, not its app.
    assert!(
        settings.contains("\"LEGACY_GREETING\": \"hi\""),
        "{settings}"
    );
    assert!(
        !settings.contains("\"quickscale_modules_legacy\""),
        "{settings}"
    );
    assert!(dir.join("modules/legacy/module.yml").exists());
    let urls = read(&dir, "shop/urls_modules.py");
    assert!(
        // dash declares no access: its pages are for signed-in users.
        urls.contains("path(\"dash/\", protected(\"quickscale_modules_dash.urls\", \"login\"))"),
        "{urls}"
    );

    // The rule that depends on an option follows it.
    env.qs_ok(
        &dir,
        &["plan", "--reconfigure", "--set", "dash.mode=saas", "--yes"],
    );
    env.qs_ok(&dir, &["apply", "--yes"]);
    let settings = read(&dir, "shop/settings/modules.py");
    assert!(
        settings.contains("\"quickscale_modules_dash.middleware.TenantMiddleware\","),
        "{settings}"
    );
    assert!(
        settings.contains("\"DASH_TITLE\": \"dash in saas mode\""),
        "{settings}"
    );
    let status = json(&env.qs_ok(&dir, &["status", "--json"]));
    assert_eq!(status["in_sync"], true, "{status:#}");

    // No module Python ran: the adapters would have left a marker.
    assert_eq!(markers(env.root()), Vec::<PathBuf>::new());
}

// ---------------------------------------------------------------------------
// Projects made by upstream QuickScale, built in its documented formats
// ---------------------------------------------------------------------------

/// Which upstream release made a fixture project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Era {
    /// v0.69–v0.7x: `project.name` in quickscale.yml and state.yml.
    V069,
    /// v0.79: slug/package, null versions, `installed_version: v0.72.0`.
    V079,
    /// 0.88: split tags, consolidated state.yml, urls split around home.
    V088,
}

impl Era {
    fn module_version(self) -> &'static str {
        match self {
            Era::V088 => "0.88.0",
            _ => "0.73.0",
        }
    }

    /// The ref upstream embedded a module from.
    fn embed_ref(self, name: &str) -> String {
        match self {
            Era::V088 => format!("splits/{name}-module/0.88.0"),
            _ => format!("splits/{name}-module"),
        }
    }
}

/// A project upstream made, with the module repository and the index
/// pointing the catalog at it.
struct Upstream {
    dir: PathBuf,
    repo: PathBuf,
    index: String,
}

const HEADER_SETTINGS: &str = "\"\"\"QuickScale managed module settings wiring.\n\nDO NOT EDIT MANUALLY. This file is regenerated by QuickScale.\n\"\"\"\n\n";
const HEADER_URLS: &str = "\"\"\"QuickScale managed module URL wiring.\n\nDO NOT EDIT MANUALLY. This file is regenerated by QuickScale.\n\"\"\"\n\n";

/// Upstream's `settings/modules.py` for `wired` modules (pformat style;
/// upstream renders the modules sorted by name).
fn upstream_settings(wired: &[(&str, u32)]) -> String {
    let mut apps: Vec<String> = wired
        .iter()
        .map(|(m, _)| format!("'quickscale_modules_{m}'"))
        .collect();
    apps.sort();
    let mut settings: Vec<String> = Vec::new();
    for (m, page) in wired {
        let up = m.to_uppercase();
        settings.push(format!("'{up}_GREETING': 'hello'"));
        settings.push(format!("'{up}_PAGE_SIZE': {page}"));
    }
    settings.sort();
    format!(
        "{HEADER_SETTINGS}MODULE_INSTALLED_APPS: list[str] = [{}]\n\nMODULE_MIDDLEWARE: list[str] = []\n\nMODULE_SETTINGS: dict[str, object] = {{{}}}\n",
        apps.join(", "),
        settings.join(",\n ")
    )
}

/// Upstream's `urls_modules.py` for `wired` modules.
fn upstream_urls(era: Era, wired: &[(&str, u32)]) -> String {
    let lines: String = wired
        .iter()
        .map(|(m, _)| format!("    path(\"{m}/\", include(\"quickscale_modules_{m}.urls\")),\n"))
        .collect();
    match era {
        Era::V088 => format!(
            "{HEADER_URLS}from django.urls import URLPattern, URLResolver, include, path\n\nManagedURLPattern = URLPattern | URLResolver\n\nPRE_HOME_MODULE_URLPATTERNS: list[ManagedURLPattern] = [\n\n]\n\nPOST_HOME_MODULE_URLPATTERNS: list[ManagedURLPattern] = [\n{lines}]\n\nMODULE_URLPATTERNS: list[ManagedURLPattern] = (\n    PRE_HOME_MODULE_URLPATTERNS + POST_HOME_MODULE_URLPATTERNS\n)\n"
        ),
        _ if wired.is_empty() => {
            format!(
                "{HEADER_URLS}from django.urls import URLPattern\n\nMODULE_URLPATTERNS: list[URLPattern] = []\n"
            )
        }
        _ => format!(
            "{HEADER_URLS}from django.urls import include, path\n\nMODULE_URLPATTERNS = [\n{lines}]\n"
        ),
    }
}

/// Upstream's `.quickscale/config.yml` (yaml.dump, sort_keys=False).
fn upstream_modules_file(era: Era, names: &[&str]) -> String {
    let mut out =
        "default_remote: https://github.com/Experto-AI/quickscale.git\nmodules:\n".to_owned();
    for name in names {
        let version = match era {
            Era::V088 => "0.88.0",
            _ => "v0.72.0",
        };
        out.push_str(&format!(
            "  {name}:\n    prefix: modules/{name}\n    branch: splits/{name}-module\n    installed_version: {version}\n    installed_at: '2026-03-01'\n"
        ));
    }
    out
}

/// Builds a project the way upstream's `apply` left it: the generated
/// files committed as "Initial project structure", each module added by
/// `git subtree add --squash` and committed with its wiring and
/// config.yml as "Add module: <m>"; the state file and the final wiring
/// regeneration left uncommitted. `None` (after a visible SKIPPED line)
/// without the git-subtree script.
fn upstream_project(env: &TestEnv, era: Era, modules: &[&str]) -> Option<Upstream> {
    upstream_project_with(env, era, modules, &|_| {})
}

/// [`upstream_project`] with each module's files changed by `edit` first.
fn upstream_project_with(
    env: &TestEnv,
    era: Era,
    modules: &[&str],
    edit: &EditFiles,
) -> Option<Upstream> {
    let path = crate::common::git_subtree_path()?;
    let versions = [era.module_version()];
    let all: Vec<(&str, &[&str])> = modules.iter().map(|m| (*m, &versions[..])).collect();
    let repo = split_tags_repo_with(env, &all, edit);
    let index = index_for(env, &repo, modules);
    // The generated files: a project of this tool's, without anything of its own.
    let scratch = env.root().join("scratch");
    std::fs::create_dir_all(&scratch).expect("mkdir");
    env.qs_ok(
        &scratch,
        &["plan", "shop", "--theme", "showcase_html", "--yes"],
    );
    env.qs_ok(&scratch.join("shop"), &["apply", "--yes", "--no-hooks"]);
    let dir = env.root().join("shop");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for entry in std::fs::read_dir(scratch.join("shop")).expect("read_dir") {
        let entry = entry.expect("entry");
        if entry.file_name() == ".git" {
            continue;
        }
        let target = dir.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            crate::common::copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
    std::fs::remove_file(dir.join("requirements-modules.txt")).expect("rm");
    if era == Era::V088 {
        let urls = read(&dir, "shop/urls.py")
            .replace(
                "from .urls_modules import MODULE_URLPATTERNS",
                "from shop.urls_modules import (\n    POST_HOME_MODULE_URLPATTERNS,\n    PRE_HOME_MODULE_URLPATTERNS,\n)",
            )
            .replace(
                "urlpatterns += MODULE_URLPATTERNS",
                "urlpatterns += PRE_HOME_MODULE_URLPATTERNS\nurlpatterns += POST_HOME_MODULE_URLPATTERNS",
            );
        std::fs::write(dir.join("shop/urls.py"), urls).expect("urls");
    }
    let listed: String = modules
        .iter()
        .map(|m| match era {
            Era::V069 => format!("  {m}: null\n"),
            _ => format!("  {m}:\n    page_size: 20\n"),
        })
        .collect();
    let config = match era {
        Era::V069 => format!(
            "version: '1'\nproject:\n  name: shop\n  theme: showcase_html\nmodules:\n{listed}docker:\n  start: true\n  build: true\n"
        ),
        _ => format!(
            "version: '1'\nproject:\n  slug: shop\n  package: shop\n  theme: showcase_html\nmodules:\n{listed}docker:\n  start: true\n  build: true\n  create_superuser: false\n"
        ),
    };
    std::fs::write(dir.join("quickscale.yml"), config).expect("config");
    std::fs::write(dir.join("shop/settings/modules.py"), upstream_settings(&[])).expect("w");
    std::fs::write(dir.join("shop/urls_modules.py"), upstream_urls(era, &[])).expect("w");
    env.git(&dir, &["init", "-q", "-b", "main"]);
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "-qm", "Initial project structure"]);
    let repo_s = repo.to_str().expect("utf8").to_owned();
    let mut wired: Vec<(&str, u32)> = Vec::new();
    for (i, m) in modules.iter().enumerate() {
        env.git_with_path(
            &dir,
            &path,
            &[
                "subtree",
                "add",
                &format!("--prefix=modules/{m}"),
                &repo_s,
                &era.embed_ref(m),
                "--squash",
            ],
        );
        // The embed-time applier wires with the defaults.
        wired.push((m, 10));
        std::fs::write(
            dir.join("shop/settings/modules.py"),
            upstream_settings(&wired),
        )
        .expect("w");
        std::fs::write(dir.join("shop/urls_modules.py"), upstream_urls(era, &wired)).expect("w");
        std::fs::create_dir_all(dir.join(".quickscale")).expect("mkdir");
        std::fs::write(
            dir.join(".quickscale/config.yml"),
            upstream_modules_file(era, &modules[..=i]),
        )
        .expect("w");
        env.git(&dir, &["add", "-A"]);
        env.git(&dir, &["commit", "-qm", &format!("Add module: {m}")]);
    }
    // The final regeneration with the options of quickscale.yml: never committed.
    let final_wired: Vec<(&str, u32)> = modules
        .iter()
        .map(|m| (*m, if era == Era::V069 { 10 } else { 20 }))
        .collect();
    std::fs::write(
        dir.join("shop/settings/modules.py"),
        upstream_settings(&final_wired),
    )
    .expect("w");
    std::fs::write(
        dir.join(".quickscale/state.yml"),
        upstream_state(env, era, &dir, modules),
    )
    .expect("w");
    if era == Era::V088 {
        // 0.88's apply also leaves its env sync uncommitted in a user-owned file.
        let mut env_example = read(&dir, ".env.example");
        env_example.push_str("CRM_API_KEY=\n");
        std::fs::write(dir.join(".env.example"), env_example).expect("w");
    }
    let index = index.to_string_lossy().into_owned();
    Some(Upstream { dir, repo, index })
}

/// `.quickscale/state.yml` as `era` wrote it for `modules`.
fn upstream_state(env: &TestEnv, era: Era, dir: &Path, modules: &[&str]) -> String {
    let project = match era {
        Era::V069 => "project:\n  name: shop\n  theme: showcase_html\n".to_owned(),
        Era::V079 => "project:\n  slug: shop\n  package: shop\n  theme: showcase_html\n".to_owned(),
        Era::V088 => "project:\n  slug: shop\n  package: shop\n  theme: showcase_html\n  project_contract: 0.88.0\n".to_owned(),
    };
    let mut out = format!(
        "version: '1'\n{project}  created_at: '2026-03-01T10:00:00.123456'\n  last_applied: '2026-03-01T10:05:00.654321'\nmodules:\n"
    );
    for m in modules {
        match era {
            Era::V088 => {
                let split = env.git(dir, &["log", "-1", "--format=%(trailers:key=git-subtree-split,valueonly)", "--grep", &format!("git-subtree-dir: modules/{m}"), "--all"]);
                out.push_str(&format!(
                    "  {m}:\n    version: 0.88.0\n    commit_sha: {}\n    embedded_at: '2026-03-01T10:01:00.000000'\n    options:\n      page_size: 20\n    prefix: modules/{m}\n    branch: splits/{m}-module\n    installed_at: '2026-03-01'\n",
                    split.trim()
                ));
            }
            Era::V079 => out.push_str(&format!(
                "  {m}:\n    version: null\n    commit_sha: null\n    embedded_at: '2026-03-01T10:01:00.000000'\n    options:\n      page_size: 20\n"
            )),
            Era::V069 => out.push_str(&format!(
                "  {m}:\n    version: null\n    commit_sha: null\n    embedded_at: '2026-03-01T10:01:00.000000'\n    options: null\n"
            )),
        }
    }
    if era == Era::V088 {
        out.push_str("managed_files:\n- path: shop/settings/modules.py\n  hash: 0000000000000000000000000000000000000000000000000000000000000000\n  applied_at: '2026-03-01T10:05:00.654321'\n");
    }
    out
}

/// Every file of the project that is the user's: all but the managed
/// wiring, quickscale.yml, upstream's `.quickscale/` and `.git`.
fn user_files(dir: &Path) -> std::collections::BTreeMap<PathBuf, (Vec<u8>, u32)> {
    crate::common::snapshot(dir)
        .into_iter()
        .filter(|(p, _)| {
            let s = p.to_string_lossy();
            !(s.starts_with(".git")
                || s.starts_with(".quickscale")
                || s == "quickscale.yml"
                || s == "requirements-modules.txt"
                || s == "shop/settings/modules.py"
                || s == "shop/urls_modules.py")
        })
        .collect()
}

/// Runs git, hooks included, with the binary under test on PATH.
fn git_with_hooks(env: &TestEnv, dir: &Path, args: &[&str]) -> std::process::Output {
    let bin = Path::new(crate::common::BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = std::process::Command::new("git");
    env.env(&mut cmd);
    cmd.env("PATH", path).current_dir(dir).args(args);
    cmd.output().expect("run git")
}

fn adopt(env: &TestEnv, up: &Upstream, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--index", up.index.as_str(), "adopt"];
    full.extend_from_slice(args);
    env.qs(&up.dir, &full)
}

fn qs_ok_in(env: &TestEnv, up: &Upstream, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--index", up.index.as_str()];
    full.extend_from_slice(args);
    env.qs_ok(&up.dir, &full)
}

#[test]
fn adopt_dry_run_shows_the_plan_and_writes_nothing() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V079, &["crm", "storage"]) else {
        return;
    };
    // status points at adopt while upstream's state files are there.
    let out = qs_ok_in(&env, &up, &["status"]);
    assert!(
        stderr(&out).contains("`git quickscale adopt --dry-run`"),
        "{}",
        describe(&out)
    );
    let before = crate::common::snapshot(&up.dir);
    let out = adopt(&env, &up, &["--dry-run"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        crate::common::snapshot(&up.dir),
        before,
        "the dry run wrote something"
    );
    let split = env.rev(&up.repo, "splits/crm-module");
    for expected in [
        // What was found, in which format.
        ".quickscale/state.yml",
        "upstream v0.7x–v0.8x state",
        ".quickscale/config.yml",
        // The modules, their upstream commits and refs.
        &format!("crm at {}", &split[..12]),
        "splits/crm-module",
        // Upstream's placeholders are named and ignored.
        "v0.72.0",
        // What is retired and regenerated, with the difference.
        "retire .quickscale/state.yml",
        "retire .quickscale/config.yml",
        "regenerate shop/settings/modules.py",
        "-MODULE_INSTALLED_APPS: list[str] = ['quickscale_modules_crm', 'quickscale_modules_storage']",
        "Dry run: nothing was written.",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    // --json says the same, for machines.
    let out = adopt(&env, &up, &["--dry-run", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let plan = json(&out);
    assert_eq!(plan["modules"][0]["name"], "crm", "{plan:#}");
    assert_eq!(plan["modules"][0]["commit"], split);
    assert_eq!(plan["modules"][0]["ref"], "splits/crm-module");
    assert!(
        plan["retire"]
            .as_array()
            .expect("retire")
            .iter()
            .any(|p| p == ".quickscale/state.yml"),
        "{plan:#}"
    );
    assert_eq!(
        crate::common::snapshot(&up.dir),
        before,
        "the JSON dry run wrote something"
    );
}

/// Adopts `era`'s project and checks what every era shares: one commit, a
/// note and module refs, upstream's files retired (kept in
/// refs/quickscale/adopted), user-owned files byte-identical, in sync.
fn adopts(era: Era) -> Option<(TestEnv, Upstream)> {
    let env = TestEnv::new();
    let up = upstream_project(&env, era, &["crm", "blog"])?;
    let user_before = user_files(&up.dir);
    let head_before = env.rev(&up.dir, "HEAD");
    let state_before = read(&up.dir, ".quickscale/state.yml");
    let out = adopt(&env, &up, &["--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(env.rev(&up.dir, "HEAD^"), head_before, "one commit on top");
    assert_eq!(user_files(&up.dir), user_before, "user-owned files changed");
    let n = note(&env, &up.dir);
    for m in ["crm", "blog"] {
        let split = env.rev(&up.repo, &era.embed_ref(m));
        assert_eq!(n["modules"][m]["commit"], split, "{n:#}");
        assert_eq!(n["modules"][m]["version"], era.module_version());
        assert_eq!(
            n["modules"][m]["tree"],
            env.rev(&up.dir, &format!("HEAD:modules/{m}"))
        );
        assert_eq!(
            env.rev(&up.dir, &format!("refs/quickscale/modules/{m}")),
            split
        );
    }
    assert_eq!(n["operation"]["kind"], "adopt");
    assert!(
        n["adopted"]["retired"][".quickscale/state.yml"].is_string(),
        "{n:#}"
    );
    // Upstream's files are gone from the tree and the worktree, and kept.
    for f in [".quickscale/state.yml", ".quickscale/config.yml"] {
        assert!(!up.dir.join(f).exists(), "{f} is still there");
        let listed = env.git(&up.dir, &["ls-tree", "-r", "--name-only", "HEAD"]);
        assert!(!listed.lines().any(|l| l == f), "{f} is still committed");
    }
    assert_eq!(
        env.git(
            &up.dir,
            &["show", "refs/quickscale/adopted:.quickscale/state.yml"]
        ),
        state_before,
        "the uncommitted state.yml is kept as it was"
    );
    // Clean after adopt, but for the user's own uncommitted changes, untouched.
    let git_status = env.git(&up.dir, &["status", "--porcelain"]);
    let expected = if era == Era::V088 {
        " M .env.example\n"
    } else {
        ""
    };
    assert_eq!(git_status, expected, "the worktree after adopt");
    let status = json(&qs_ok_in(&env, &up, &["status", "--json"]));
    assert_eq!(status["in_sync"], true, "{status:#}");
    assert_eq!(status["state"]["origin"], "note", "{status:#}");
    // Running it again has nothing to do.
    let again = adopt(&env, &up, &["--yes"]);
    assert!(again.status.success(), "{}", describe(&again));
    assert!(
        stdout(&again).contains("Nothing to adopt"),
        "{}",
        describe(&again)
    );
    Some((env, up))
}

#[test]
fn adopts_a_v069_project_with_project_name() {
    // Before adopt, quickscale.yml's `project.name` is not this tool's: the
    // error says what to run.
    let env = TestEnv::new();
    if let Some(up) = upstream_project(&env, Era::V069, &["crm"]) {
        let out = env.qs(&up.dir, &["--index", up.index.as_str(), "status"]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(
            stderr(&out).contains("`git quickscale adopt --dry-run`"),
            "{}",
            describe(&out)
        );
    }
    let Some((_env, up)) = adopts(Era::V069) else {
        return;
    };
    let config = read(&up.dir, "quickscale.yml");
    assert!(
        config.contains("  slug: shop\n")
            && config.contains("  package: shop\n")
            && !config.contains("name: shop"),
        "{config}"
    );
}

#[test]
fn adopts_a_v079_project_and_update_and_remove_work_afterwards() {
    let Some((env, up)) = adopts(Era::V079) else {
        return;
    };
    // The options of quickscale.yml are applied, as upstream's final wiring did.
    let settings = read(&up.dir, "shop/settings/modules.py");
    assert!(settings.contains("\"CRM_PAGE_SIZE\": 20,"), "{settings}");
    assert!(
        settings.starts_with("\"\"\"Managed by git-quickscale"),
        "{settings}"
    );
    // update: a new commit on the split branch is merged.
    env.git(&up.repo, &["checkout", "-q", "splits/crm-module"]);
    write_files(
        &up.repo,
        &[("CHANGELOG.md".into(), "0.73.1: fixes\n".into())],
    );
    env.git(&up.repo, &["add", "-A"]);
    env.git(&up.repo, &["commit", "-qm", "crm 0.73.1"]);
    env.git(&up.repo, &["checkout", "-q", "main"]);
    qs_ok_in(&env, &up, &["update", "crm", "--yes"]);
    assert_eq!(read(&up.dir, "modules/crm/CHANGELOG.md"), "0.73.1: fixes\n");
    assert_eq!(
        note(&env, &up.dir)["modules"]["crm"]["commit"],
        env.rev(&up.repo, "splits/crm-module")
    );
    // The guard: adopt installed the hooks, and a commit mixing a module's
    // files with the user's is refused as in a project made here.
    let hook = up.dir.join(".git/hooks/pre-commit");
    assert!(
        std::fs::read_to_string(&hook).is_ok_and(|h| h.contains("git-quickscale")),
        "adopt did not install the hooks"
    );
    let append = |rel: &str, text: &str| {
        let mut old = read(&up.dir, rel);
        old.push_str(text);
        std::fs::write(up.dir.join(rel), old).expect("w");
    };
    append("modules/crm/README.md", "local fix\n");
    append("templates/base.html", "<!-- mine -->\n");
    env.git(&up.dir, &["add", "-A"]);
    let before = env.rev(&up.dir, "HEAD");
    let out = git_with_hooks(&env, &up.dir, &["commit", "-qm", "mixed"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("[mixed-commit]"),
        "{}",
        describe(&out)
    );
    assert_eq!(env.rev(&up.dir, "HEAD"), before);
    env.git(&up.dir, &["reset", "-q", "--hard"]);
    // remove: the module and its wiring go.
    qs_ok_in(&env, &up, &["plan", "--remove", "blog", "--yes"]);
    qs_ok_in(&env, &up, &["apply", "--yes"]);
    assert!(!up.dir.join("modules/blog").exists());
    assert!(!read(&up.dir, "shop/settings/modules.py").contains("quickscale_modules_blog"));
    let status = json(&qs_ok_in(&env, &up, &["status", "--json"]));
    assert_eq!(status["in_sync"], true, "{status:#}");
}

#[test]
fn adopts_a_088_project_on_its_version_tags() {
    let Some((env, up)) = adopts(Era::V088) else {
        return;
    };
    let n = note(&env, &up.dir);
    assert_eq!(n["modules"]["crm"]["ref"], "splits/crm-module/0.88.0");
    let config = read(&up.dir, "quickscale.yml");
    assert!(config.contains("ref: 0.88.0"), "{config}");
    // The project's urls.py imports the module URLs split around the home page.
    let urls = read(&up.dir, "shop/urls_modules.py");
    assert!(
        urls.contains("PRE_HOME_MODULE_URLPATTERNS: list = []"),
        "{urls}"
    );
    assert!(
        urls.contains("POST_HOME_MODULE_URLPATTERNS: list = [\n    path(\"blog/\""),
        "{urls}"
    );
    // A compatible tag upstream: update follows it.
    env.git(&up.repo, &["checkout", "-q", "splits/crm-module"]);
    write_files(&up.repo, &module_files("crm", "0.88.1"));
    env.git(&up.repo, &["add", "-A"]);
    env.git(&up.repo, &["commit", "-qm", "crm 0.88.1"]);
    env.git(&up.repo, &["tag", "splits/crm-module/0.88.1"]);
    env.git(&up.repo, &["checkout", "-q", "main"]);
    qs_ok_in(&env, &up, &["update", "crm", "--yes"]);
    let n = note(&env, &up.dir);
    assert_eq!(n["modules"]["crm"]["ref"], "splits/crm-module/0.88.1");
    assert_eq!(n["modules"]["crm"]["version"], "0.88.1");
}

#[test]
fn upstream_bugs_are_reported_with_what_was_done() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V079, &["crm", "storage"]) else {
        return;
    };
    let path = crate::common::git_subtree_path().expect("checked above");
    // An embedded module upstream lost track of (not in state.yml, not in quickscale.yml).
    env.git(
        &up.repo,
        &["checkout", "-q", "--orphan", "splits/forms-module"],
    );
    env.git(&up.repo, &["rm", "-rqf", "."]);
    write_files(&up.repo, &module_files("forms", "0.75.0"));
    env.git(&up.repo, &["add", "-A"]);
    env.git(&up.repo, &["commit", "-qm", "forms"]);
    // blog, listed but never embedded, is published there too (for `apply`).
    env.git(
        &up.repo,
        &["checkout", "-q", "--orphan", "splits/blog-module"],
    );
    env.git(&up.repo, &["rm", "-rqf", "."]);
    write_files(&up.repo, &module_files("blog", "0.73.0"));
    env.git(&up.repo, &["add", "-A"]);
    env.git(&up.repo, &["commit", "-qm", "blog"]);
    env.git(&up.repo, &["checkout", "-q", "main"]);
    let index = format!(
        "{}[modules.forms]\nsource = \"{}\"\n[modules.blog]\nsource = \"{}\"\n",
        std::fs::read_to_string(&up.index).expect("index"),
        up.repo.display(),
        up.repo.display()
    );
    std::fs::write(&up.index, index).expect("index");
    let state = read(&up.dir, ".quickscale/state.yml");
    std::fs::rename(
        up.dir.join(".quickscale/state.yml"),
        env.root().join("state.yml"),
    )
    .expect("mv");
    // `git subtree add` wants a clean worktree: upstream's uncommitted final
    // wiring waits aside meanwhile.
    let settings = read(&up.dir, "shop/settings/modules.py");
    env.git(&up.dir, &["checkout", "--", "shop/settings/modules.py"]);
    env.git_with_path(
        &up.dir,
        &path,
        &[
            "subtree",
            "add",
            "--prefix=modules/forms",
            up.repo.to_str().expect("utf8"),
            "splits/forms-module",
            "--squash",
        ],
    );
    std::fs::write(up.dir.join("shop/settings/modules.py"), settings).expect("w");
    // A module listed but never embedded; a removed module still in config.yml;
    // raw credentials in state.yml.
    // A clone leaves out the upstream commits `git subtree add` fetched.
    let _ = std::fs::remove_file(up.dir.join(".git/FETCH_HEAD"));
    env.git(&up.dir, &["reflog", "expire", "--expire=now", "--all"]);
    env.git(&up.dir, &["gc", "-q", "--prune=now"]);
    let crm_split = env.git(
        &up.dir,
        &[
            "log",
            "-1",
            "--format=%(trailers:key=git-subtree-split,valueonly)",
            "--grep",
            "git-subtree-dir: modules/crm",
        ],
    );
    let gone = std::process::Command::new("git")
        .args(["cat-file", "-e", crm_split.trim()])
        .current_dir(&up.dir)
        .output()
        .expect("git");
    assert!(!gone.status.success(), "the split commit is still there");
    // quickscale.yml asks for an option upstream never applied (crm.page_size 30, not 20).
    let config = read(&up.dir, "quickscale.yml")
        .replace("  crm:\n    page_size: 20\n", "  crm:\n    page_size: 30\n")
        .replace("docker:", "  blog:\n    page_size: 5\ndocker:");
    std::fs::write(up.dir.join("quickscale.yml"), config).expect("w");
    std::fs::write(
        up.dir.join(".quickscale/config.yml"),
        upstream_modules_file(Era::V079, &["crm", "storage", "listings"]),
    )
    .expect("w");
    let state = state.replace(
        "  storage:\n    version: null\n    commit_sha: null\n    embedded_at: '2026-03-01T10:01:00.000000'\n    options:\n      page_size: 20\n",
        "  storage:\n    version: null\n    commit_sha: null\n    embedded_at: '2026-03-01T10:01:00.000000'\n    options:\n      page_size: 20\n      access_key_id: AKIAIOSFODNN7EXAMPLE\n      secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n",
    );
    assert!(state.contains("secret_access_key"), "{state}");
    std::fs::write(up.dir.join(".quickscale/state.yml"), &state).expect("w");
    let user_before = user_files(&up.dir);
    let out = adopt(&env, &up, &["--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    for expected in [
        // Listed but not embedded: left for `apply`.
        "blog is listed in quickscale.yml but modules/blog does not exist",
        // Removed, still tracked.
        "listings",
        // Embedded but missing from the state: adopted and listed.
        "forms is embedded",
        // Null versions and the hard-coded placeholder.
        "v0.72.0",
        // Credentials: named, never copied.
        "storage.secret_access_key",
        // state.yml was never committed.
        "not committed",
        // An option changed in quickscale.yml after upstream's last apply.
        "crm: quickscale.yml sets page_size differently from what .quickscale/state.yml says upstream applied",
        // The upstream commits are not in the repository.
        &format!(
            "the upstream commit {} is not in this repository",
            &crm_split.trim()[..12]
        ),
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(
        !text.contains("wJalrXUtnFEMI"),
        "a credential was printed:\n{text}"
    );
    let n = env.git(&up.dir, &["notes", "--ref", "quickscale", "show", "HEAD"]);
    assert!(
        !n.contains("wJalrXUtnFEMI") && !n.contains("AKIAIOSFODNN7"),
        "{n}"
    );
    let kept = env.git(
        &up.dir,
        &["show", "refs/quickscale/adopted:.quickscale/state.yml"],
    );
    assert!(
        !kept.contains("wJalrXUtnFEMI") && kept.contains("secret_access_key: REDACTED"),
        "{kept}"
    );
    let n: serde_json::Value = serde_json::from_str(&n).expect("note");
    assert!(n["modules"]["forms"].is_object(), "{n:#}");
    assert!(n["modules"]["blog"].is_null(), "{n:#}");
    assert!(read(&up.dir, "quickscale.yml").contains("  forms:"));
    assert!(read(&up.dir, "shop/settings/modules.py").contains("\"CRM_PAGE_SIZE\": 30,"));
    let refs = env.git(
        &up.dir,
        &[
            "for-each-ref",
            "--format=%(refname)",
            "refs/quickscale/modules/",
        ],
    );
    assert_eq!(refs, "", "module refs to commits the repository lacks");
    assert_eq!(user_files(&up.dir), user_before, "user-owned files changed");
    // blog waits for `apply`, which embeds it.
    let status = json(&qs_ok_in(&env, &up, &["status", "--json"]));
    assert_eq!(status["in_sync"], false, "{status:#}");
    qs_ok_in(&env, &up, &["apply", "--yes"]);
    let status = json(&qs_ok_in(&env, &up, &["status", "--json"]));
    assert_eq!(status["in_sync"], true, "{status:#}");
}

/// Asserts two snapshots are equal, naming the paths that differ.
fn assert_same(
    after: &std::collections::BTreeMap<PathBuf, (Vec<u8>, u32)>,
    before: &std::collections::BTreeMap<PathBuf, (Vec<u8>, u32)>,
    what: &str,
) {
    let differ: Vec<&PathBuf> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(differ.is_empty(), "{what}: {differ:?}");
}

#[test]
fn a_killed_adopt_is_rolled_back_or_completed_by_recover() {
    // Before the point of no return (upstream's uncommitted state.yml, with
    // a credential, already deleted) and after it.
    for point in ["index-written", "refs-moved"] {
        let env = TestEnv::new();
        let Some(up) = upstream_project(&env, Era::V079, &["crm"]) else {
            return;
        };
        let state = read(&up.dir, ".quickscale/state.yml").replace(
            "      page_size: 20\n",
            "      page_size: 20\n      api_token: tok-123456\n",
        );
        std::fs::write(up.dir.join(".quickscale/state.yml"), &state).expect("w");
        let before = env.repo_snapshot(&up.dir);
        let args = ["--index", up.index.as_str(), "adopt", "--yes", "--no-hooks"];
        crate::common::kill_at(&env, &up.dir, &args, point);
        let out = env.qs_ok(&up.dir, &["--index", up.index.as_str(), "recover"]);
        if point == "refs-moved" {
            assert!(stderr(&out).contains("completed"), "{}", describe(&out));
            assert!(!up.dir.join(".quickscale/state.yml").exists());
            let status = json(&qs_ok_in(&env, &up, &["status", "--json"]));
            assert_eq!(status["in_sync"], true, "{status:#}");
        } else {
            assert!(stderr(&out).contains("rolled back"), "{}", describe(&out));
            crate::common::assert_same_repo(&before, &env.repo_snapshot(&up.dir), point);
            assert_eq!(read(&up.dir, ".quickscale/state.yml"), state);
        }
    }
}

#[test]
fn adopt_refuses_what_it_cannot_take_over_and_writes_nothing() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V088, &["crm"]) else {
        return;
    };
    // An upstream apply that failed half-way waits to be resumed.
    std::fs::write(
        up.dir.join(".quickscale/apply-recovery.yml"),
        "failed_step: docker\n",
    )
    .expect("w");
    let before = crate::common::snapshot(&up.dir);
    let out = adopt(&env, &up, &["--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains(".quickscale/apply-recovery.yml"),
        "{}",
        describe(&out)
    );
    assert_same(
        &crate::common::snapshot(&up.dir),
        &before,
        "adopt wrote something",
    );
    std::fs::remove_file(up.dir.join(".quickscale/apply-recovery.yml")).expect("rm");
    // A module directory upstream lists but nothing proves was embedded.
    write_files(
        &up.dir,
        &[("modules/blog/README.md".into(), "mine\n".into())],
    );
    env.git(&up.dir, &["add", "-A"]);
    env.git(&up.dir, &["commit", "-qm", "my blog"]);
    let state = read(&up.dir, ".quickscale/state.yml").replace(
        "managed_files:",
        "  blog:\n    version: 0.88.0\n    prefix: modules/blog\n    branch: splits/blog-module\nmanaged_files:",
    );
    std::fs::write(up.dir.join(".quickscale/state.yml"), state).expect("w");
    let before = crate::common::snapshot(&up.dir);
    let out = adopt(&env, &up, &["--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("modules/blog"), "{}", describe(&out));
    assert!(
        stderr(&out).contains("git-subtree trailers"),
        "{}",
        describe(&out)
    );
    assert_same(
        &crate::common::snapshot(&up.dir),
        &before,
        "adopt wrote something",
    );
}

#[test]
fn an_adopted_project_passes_manage_py_check() {
    if !crate::common::python::python_enabled() {
        crate::common::python::skipped(
            "set QUICKSCALE_PYTHON_TESTS=1 to run manage.py check on an adopted project",
        );
        return;
    }
    // One project (0.88, whose urls.py imports the split URL lists), on the
    // shared base venv: pip installs only the two local modules.
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V088, &["crm", "blog"]) else {
        return;
    };
    let out = adopt(&env, &up, &["--yes", "--no-hooks"]);
    assert!(out.status.success(), "{}", describe(&out));
    let venv = crate::common::python::Venv::create(&env, &up.dir);
    let out = venv.manage(&["check"], &[]);
    assert!(stdout(&out).contains("no issues"), "{}", describe(&out));
    // The adopted wiring is what Django loaded.
    let out = venv.manage(
        &["shell", "-c", "from django.conf import settings; from django.urls import reverse; print(settings.CRM_PAGE_SIZE, 'quickscale_modules_blog' in settings.INSTALLED_APPS, reverse('home') is not None)"],
        &[],
    );
    assert!(stdout(&out).contains("20 True True"), "{}", describe(&out));
}

/// A real project made by upstream QuickScale, named by this variable, is
/// copied and adopted (the copy only: the original is never written).
const REAL_PROJECT_VAR: &str = "QUICKSCALE_UPSTREAM_PROJECT";

#[test]
fn adopts_a_copy_of_a_real_upstream_project() {
    let Some(original) = std::env::var_os(REAL_PROJECT_VAR).filter(|v| !v.is_empty()) else {
        crate::common::skipped(&format!(
            "set {REAL_PROJECT_VAR} to a project made by upstream QuickScale to adopt a copy of it"
        ));
        return;
    };
    let env = TestEnv::new();
    let dir = env.root().join("real");
    crate::common::copy_tree(Path::new(&original), &dir);
    let user_before = crate::common::snapshot(&dir)
        .into_iter()
        .filter(|(p, _)| {
            let s = p.to_string_lossy();
            !(s.starts_with(".git") || s.starts_with(".quickscale") || s == "quickscale.yml")
        })
        .collect::<std::collections::BTreeMap<_, _>>();
    let before = crate::common::snapshot(&dir);
    let out = env.qs(&dir, &["adopt", "--dry-run"]);
    assert_eq!(
        crate::common::snapshot(&dir),
        before,
        "the dry run wrote something"
    );
    if stderr(&out).contains("as upstream's CLI did before 0.76") {
        // Upstream before 0.76 wired modules into settings/base.py and
        // urls.py: refused, as the ungated test of that shape shows.
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(stderr(&out).contains("hint:"), "{}", describe(&out));
        let out = env.qs(&dir, &["adopt", "--yes"]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert_eq!(
            crate::common::snapshot(&dir),
            before,
            "adopt wrote something"
        );
        eprintln!(
            "{REAL_PROJECT_VAR}: made by upstream before 0.76 (wired inline): refused, as it must be"
        );
        return;
    }
    assert!(out.status.success(), "{}", describe(&out));
    let out = env.qs(&dir, &["adopt", "--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    // The files adopt writes: the managed wiring, and the user-owned
    // settings/upstream_settings.py that keeps what no manifest declares.
    let package_files = |m: &std::collections::BTreeMap<PathBuf, (Vec<u8>, u32)>| {
        m.iter()
            .filter(|(p, _)| {
                let s = p.to_string_lossy();
                !(s.ends_with("settings/modules.py")
                    || s.ends_with("settings/upstream_settings.py")
                    || s.ends_with("urls_modules.py")
                    || s == "requirements-modules.txt")
            })
            .map(|(p, v)| (p.clone(), v.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let user_after = crate::common::snapshot(&dir)
        .into_iter()
        .filter(|(p, _)| {
            let s = p.to_string_lossy();
            !(s.starts_with(".git") || s.starts_with(".quickscale") || s == "quickscale.yml")
        })
        .collect::<std::collections::BTreeMap<_, _>>();
    assert_eq!(package_files(&user_after), package_files(&user_before));
    // The state is a note now, on the one commit adopt made.
    let n = note(&env, &dir);
    assert_eq!(n["operation"]["kind"], "adopt", "{n:#}");
    let status = json(&env.qs_ok(&dir, &["status", "--json"]));
    assert_eq!(status["state"]["origin"], "note", "{status:#}");
    let again = env.qs(&dir, &["adopt", "--yes"]);
    assert!(
        stdout(&again).contains("Nothing to adopt"),
        "{}",
        describe(&again)
    );
}

/// Upstream before 0.76 wrote each module's wiring into settings/base.py
/// and urls.py (a project made by its 0.73.0 CLI has these blocks, and no
/// settings/modules.py or urls_modules.py). The wiring adopt would write
/// there is imported by nothing: adopt refuses, naming the block, and
/// writes nothing.
#[test]
fn adopt_refuses_upstreams_inline_wiring_of_before_0_76_and_writes_nothing() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V069, &["crm"]) else {
        return;
    };
    let base = read(&up.dir, "shop/settings/base.py");
    let mut base: String = base
        .lines()
        .filter(|l| !l.contains("MODULE_"))
        .map(|l| format!("{l}\n"))
        .collect();
    base.push_str("\n# QuickScale CRM Module - Added by quickscale embed\nINSTALLED_APPS += [\n    \"quickscale_modules_crm\",\n]\nCRM_PAGE_SIZE = 10\n");
    let line = base
        .lines()
        .position(|l| l.contains("Added by quickscale embed"))
        .expect("marker")
        + 1;
    std::fs::write(up.dir.join("shop/settings/base.py"), &base).expect("w");
    let urls: String = read(&up.dir, "shop/urls.py")
        .lines()
        .filter(|l| !l.contains("MODULE_URLPATTERNS"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + "urlpatterns += [path(\"crm/\", include(\"quickscale_modules_crm.urls\"))]\n";
    std::fs::write(up.dir.join("shop/urls.py"), urls).expect("w");
    env.git(
        &up.dir,
        &[
            "rm",
            "-q",
            "-f",
            "shop/settings/modules.py",
            "shop/urls_modules.py",
        ],
    );
    env.git(&up.dir, &["add", "shop"]);
    env.git(
        &up.dir,
        &["commit", "-qm", "wired inline, as upstream 0.73 did"],
    );
    let before = crate::common::snapshot(&up.dir);
    let head = env.rev(&up.dir, "HEAD");
    for args in [&["--dry-run"][..], &["--yes"][..]] {
        let out = adopt(&env, &up, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("shop/settings/base.py:{line}")),
            "{err}"
        );
        assert!(err.contains("Added by quickscale embed"), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert_same(
            &crate::common::snapshot(&up.dir),
            &before,
            "adopt wrote something",
        );
        assert_no_commit_and_no_ref(&env, &up.dir, &head);
    }
}

/// HEAD is still `head` and no ref of the tool's was written.
fn assert_no_commit_and_no_ref(env: &TestEnv, dir: &Path, head: &str) {
    assert_eq!(env.rev(dir, "HEAD"), head);
    assert!(
        env.git(dir, &["for-each-ref", "refs/quickscale"])
            .is_empty(),
        "refs written"
    );
}

/// Upstream 0.88's project declares its own Python (`python =
/// ">=3.14,<3.15"` in pyproject.toml), modules or not: after adopt,
/// `status` names that Python and why, not this tool's baseline.
#[test]
fn an_adopted_project_keeps_the_python_its_own_pyproject_requires() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V088, &["crm"]) else {
        return;
    };
    let pyproject = read(&up.dir, "pyproject.toml").replace(
        "requires-python = \">=3.11\"",
        "requires-python = \">=3.14,<3.15\"",
    );
    assert!(pyproject.contains(">=3.14,<3.15"), "{pyproject}");
    std::fs::write(up.dir.join("pyproject.toml"), pyproject).expect("w");
    env.git(&up.dir, &["add", "pyproject.toml"]);
    env.git(&up.dir, &["commit", "-qm", "upstream 0.88's Python"]);
    let out = adopt(&env, &up, &["--yes", "--no-hooks"]);
    assert!(out.status.success(), "{}", describe(&out));
    let status = json(&qs_ok_in(&env, &up, &["status", "--json"]));
    assert_eq!(status["python"]["version"], "3.14", "{status:#}");
    assert!(
        status["python"]["reasons"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("pyproject.toml: Python >=3.14,<3.15")),
        "{status:#}"
    );
}

/// settings/upstream_settings.py is the user's, and the managed wiring
/// installs every app it lists: removing a module whose app upstream's
/// list keeps would leave Django importing a package that is gone. remove
/// says which line, and leaves the file to the user.
#[test]
fn removing_a_module_upstreams_kept_app_list_names_says_which_line_to_delete() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V079, &["crm", "blog"]) else {
        return;
    };
    with_upstream_only_wiring(&up.dir);
    let out = adopt(&env, &up, &["--yes", "--no-hooks"]);
    assert!(out.status.success(), "{}", describe(&out));
    let kept_path = "shop/settings/upstream_settings.py";
    let kept = read(&up.dir, kept_path);
    let line = kept
        .lines()
        .position(|l| l.contains("\"quickscale_modules_crm\""))
        .unwrap_or_else(|| panic!("no crm app in {kept}"))
        + 1;
    let out = qs_ok_in(&env, &up, &["remove", "crm", "--yes"]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{kept_path}:{line}")) && err.contains("quickscale_modules_crm"),
        "{}",
        describe(&out)
    );
    assert!(err.contains("hint:"), "{}", describe(&out));
    // The file is the user's: remove leaves it as it was.
    assert_eq!(read(&up.dir, kept_path), kept);
    assert!(!up.dir.join("modules/crm").exists());
}

// ---------------------------------------------------------------------------
// Issue 19 item 6: adopt's input is untrusted
// ---------------------------------------------------------------------------

/// Runs adopt with a deadline: a FIFO must be refused, never read.
fn adopt_within(env: &TestEnv, up: &Upstream, secs: u64) -> std::process::Output {
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(crate::common::BIN);
    env.env(&mut cmd);
    let mut child = cmd
        .current_dir(&up.dir)
        .args(["--index", up.index.as_str(), "adopt", "--yes", "--no-hooks"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            crate::common::assert_no_scratch(&up.dir, &["adopt"], &out);
            return out;
        }
        if started.elapsed().as_secs() > secs {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("adopt hung:\n{}", describe(&out));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn adopt_refuses_a_quickscale_directory_that_is_a_link_and_touches_nothing_outside() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V079, &["crm"]) else {
        return;
    };
    let outside = env.root().join("elsewhere");
    std::fs::rename(up.dir.join(".quickscale"), &outside).expect("move");
    std::os::unix::fs::symlink(&outside, up.dir.join(".quickscale")).expect("link");
    env.git(&up.dir, &["add", "-A"]);
    env.git(&up.dir, &["commit", "-qm", "link"]);
    let before = crate::common::snapshot(&outside);
    let head = env.rev(&up.dir, "HEAD");
    let out = adopt(&env, &up, &["--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains("`.quickscale` is a symbolic link"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(
        crate::common::snapshot(&outside),
        before,
        "outside files changed"
    );
    assert_no_commit_and_no_ref(&env, &up.dir, &head);
}

#[test]
fn adopt_refuses_links_fifos_and_huge_files_in_quickscale_without_reading_them() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V079, &["crm"]) else {
        return;
    };
    let state = up.dir.join(".quickscale/state.yml");
    let original = std::fs::read(&state).expect("state");
    // A link to a device that never ends.
    std::fs::remove_file(&state).expect("rm");
    std::os::unix::fs::symlink("/dev/zero", &state).expect("link");
    let out = adopt_within(&env, &up, 30);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("`.quickscale/state.yml` is a symbolic link"),
        "{}",
        describe(&out)
    );
    // A FIFO: refused at once, not waited on.
    std::fs::remove_file(&state).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(&state)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let out = adopt_within(&env, &up, 30);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("is not a regular file"),
        "{}",
        describe(&out)
    );
    // Over the size limit: refused from its size, before reading.
    std::fs::remove_file(&state).expect("rm");
    let mut big = original.clone();
    big.extend(std::iter::repeat_n(b'#', 2 << 20));
    std::fs::write(&state, &big).expect("big");
    let out = adopt_within(&env, &up, 30);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("bytes"), "{}", describe(&out));
    // Put back, adopt works.
    std::fs::write(&state, &original).expect("w");
    let out = adopt_within(&env, &up, 60);
    assert!(out.status.success(), "{}", describe(&out));
}

#[test]
fn adopt_redacts_credentials_at_any_depth_and_never_stores_them() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V079, &["crm"]) else {
        return;
    };
    let state = read(&up.dir, ".quickscale/state.yml").replace(
        "      page_size: 20\n",
        "      page_size: 20\n      db_password: 987654321\n      nested:\n        api_token: N3stedT0kenValue\n        region: eu-west-1\n      smtp: {host: mail, password: Fl0wP4ssw0rd}\n",
    );
    std::fs::write(up.dir.join(".quickscale/state.yml"), &state).expect("w");
    let out = adopt(&env, &up, &["--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = format!("{}{}", stdout(&out), stderr(&out));
    for path in [
        "crm.db_password",
        "crm.nested.api_token",
        "crm.smtp.password",
    ] {
        assert!(err.contains(path), "{path} not reported:\n{err}");
    }
    let kept = env.git(
        &up.dir,
        &["show", "refs/quickscale/adopted:.quickscale/state.yml"],
    );
    assert!(kept.contains("region: eu-west-1"), "{kept}");
    assert!(kept.contains("host: mail"), "{kept}");
    // Nothing in the object database (loose or packed, reachable or not)
    // holds a credential.
    let mut cmd = std::process::Command::new("git");
    env.env(&mut cmd);
    let all = cmd
        .current_dir(&up.dir)
        .args(["cat-file", "--batch-all-objects", "--batch", "--unordered"])
        .output()
        .expect("cat-file");
    let all = String::from_utf8_lossy(&all.stdout);
    for secret in ["987654321", "N3stedT0kenValue", "Fl0wP4ssw0rd"] {
        assert!(!all.contains(secret), "{secret} is in the object database");
        assert!(!kept.contains(secret), "{secret} kept");
    }
    assert!(
        !crate::common::snapshot(&up.dir.join(".git"))
            .values()
            .any(|(b, _)| String::from_utf8_lossy(b).contains("N3stedT0kenValue"))
    );
}

// ---------------------------------------------------------------------------
// Issue 19 item 5: adopt changes nothing Django runs
// ---------------------------------------------------------------------------

/// Adds to the fixture's (uncommitted, as upstream leaves it) wiring what
/// upstream's v0.79 CLI wrote from its own code and no manifest declares:
/// e-mail, allauth and DRF settings (a set literal among them) and an app.
fn with_upstream_only_wiring(dir: &Path) {
    let path = dir.join("shop/settings/modules.py");
    let text = read(dir, "shop/settings/modules.py")
        .replace(
            "MODULE_INSTALLED_APPS: list[str] = [",
            "MODULE_INSTALLED_APPS: list[str] = ['django.contrib.humanize', ",
        )
        .replace(
            "MODULE_SETTINGS: dict[str, object] = {",
            "MODULE_SETTINGS: dict[str, object] = {'ACCOUNT_LOGIN_METHODS': {'email'},\n 'DEFAULT_FROM_EMAIL': 'noreply@example.com',\n 'EMAIL_BACKEND': 'django.core.mail.backends.locmem.EmailBackend',\n 'REST_FRAMEWORK': {'DEFAULT_PERMISSION_CLASSES': ['rest_framework.permissions.IsAuthenticated'],\n                    'PAGE_SIZE': 25},\n ",
        );
    std::fs::write(path, text).expect("w");
}

#[test]
fn adopt_keeps_the_settings_upstream_wrote_that_no_manifest_declares() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V079, &["crm"]) else {
        return;
    };
    with_upstream_only_wiring(&up.dir);
    let out = adopt(&env, &up, &["--dry-run"]);
    assert!(out.status.success(), "{}", describe(&out));
    let plan = format!("{}{}", stdout(&out), stderr(&out));
    for name in [
        "EMAIL_BACKEND",
        "DEFAULT_FROM_EMAIL",
        "ACCOUNT_LOGIN_METHODS",
        "REST_FRAMEWORK",
        "django.contrib.humanize",
    ] {
        assert!(
            plan.contains(name) && plan.contains("shop/settings/upstream_settings.py"),
            "{name} is not named in the plan:\n{plan}"
        );
    }
    let out = adopt(&env, &up, &["--yes", "--no-hooks"]);
    assert!(out.status.success(), "{}", describe(&out));
    let kept = env.git(
        &up.dir,
        &["show", "HEAD:shop/settings/upstream_settings.py"],
    );
    assert!(
        kept.contains("\"ACCOUNT_LOGIN_METHODS\": {'email'},"),
        "{kept}"
    );
    assert!(
        kept.contains("\"EMAIL_BACKEND\": 'django.core.mail.backends.locmem.EmailBackend',"),
        "{kept}"
    );
    assert!(kept.contains("'PAGE_SIZE': 25}"), "{kept}");
    assert!(kept.contains("\"django.contrib.humanize\""), "{kept}");
    let wired = env.git(&up.dir, &["show", "HEAD:shop/settings/modules.py"]);
    assert!(wired.contains("from .upstream_settings import"), "{wired}");
    assert!(wired.contains("\"CRM_PAGE_SIZE\": 20"), "{wired}");
    // The settings the manifests give are not duplicated into the kept file.
    assert!(!kept.contains("CRM_PAGE_SIZE"), "{kept}");
    // check == apply, and a later apply keeps importing the user's file.
    let out = env.qs(&up.dir, &["--index", up.index.as_str(), "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    qs_ok_in(
        &env,
        &up,
        &[
            "plan",
            "--reconfigure",
            "--set",
            "crm.page_size=30",
            "--yes",
        ],
    );
    qs_ok_in(&env, &up, &["apply", "--yes", "--no-hooks"]);
    let wired = env.git(&up.dir, &["show", "HEAD:shop/settings/modules.py"]);
    assert!(
        wired.contains("from .upstream_settings import") && wired.contains("\"CRM_PAGE_SIZE\": 30"),
        "{wired}"
    );
    // The user's file is theirs: once deleted, the import goes with it.
    env.git(&up.dir, &["rm", "-q", "shop/settings/upstream_settings.py"]);
    env.git(&up.dir, &["commit", "-qm", "drop the kept settings"]);
    qs_ok_in(
        &env,
        &up,
        &[
            "plan",
            "--reconfigure",
            "--set",
            "crm.page_size=31",
            "--yes",
        ],
    );
    qs_ok_in(&env, &up, &["apply", "--yes", "--no-hooks"]);
    let wired = env.git(&up.dir, &["show", "HEAD:shop/settings/modules.py"]);
    assert!(!wired.contains("upstream_settings"), "{wired}");
}

/// Every uppercase setting (repr) and every URL pattern (route, name),
/// as Django loads them.
/// Every uppercase setting, the URL patterns and the status of anonymous
/// and signed-in requests, as one JSON line (see the script).
const DUMP: &str = include_str!("adopt_django_dump.py");

/// The settings that differ between two dumps, but for the one addition
/// adopt makes: QUICKSCALE_NAV (alone and inside MODULE_SETTINGS), the
/// module nav entries only git-quickscale's theme templates read; upstream's
/// templates never do, so nothing Django serves changes. Anything else
/// added, changed or dropped is listed.
fn settings_changed(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let (b, a) = (&before["settings"], &after["settings"]);
    let keys: std::collections::BTreeSet<&String> = b
        .as_object()
        .expect("settings")
        .keys()
        .chain(a.as_object().expect("settings").keys())
        .collect();
    let without_nav = |v: &serde_json::Value| -> serde_json::Value {
        match v.as_str() {
            Some(text) if text.contains("'QUICKSCALE_NAV': ") => {
                let start = text.find("'QUICKSCALE_NAV': ").expect("found");
                let end = text[start..]
                    .find("], ")
                    .map(|i| start + i + 3)
                    .unwrap_or(text.len());
                serde_json::Value::String(format!("{}{}", &text[..start], &text[end..]))
            }
            _ => v.clone(),
        }
    };
    keys.into_iter()
        .filter(|k| k.as_str() != "QUICKSCALE_NAV" || !b[k.as_str()].is_null())
        .filter(|k| without_nav(&b[k.as_str()]) != without_nav(&a[k.as_str()]))
        .map(|k| format!("{k}: {} -> {}", b[k.as_str()], a[k.as_str()]))
        .collect()
}

#[test]
fn adopt_changes_no_setting_and_no_url_django_runs() {
    if !crate::common::python::python_enabled() {
        crate::common::python::skipped(
            "set QUICKSCALE_PYTHON_TESTS=1 to compare Django's settings and URLs before and after adopt",
        );
        return;
    }
    let env = TestEnv::new();
    // crm only: the fixture's blog wiring lacks the MARKDOWNX_MEDIA_PATH
    // upstream's real blog wiring has (a fixture artefact, not a change).
    let Some(up) = upstream_project(&env, Era::V079, &["crm"]) else {
        return;
    };
    with_upstream_only_wiring(&up.dir);
    // Upstream's projects install their modules through poetry; the venv
    // helper reads requirements-modules.txt, which adopt writes: lent for
    // the install only, then removed so that adopt finds the project as is.
    let reqs = up.dir.join("requirements-modules.txt");
    std::fs::write(&reqs, "-e ./modules/crm\n").expect("w");
    let venv = crate::common::python::Venv::create(&env, &up.dir);
    std::fs::remove_file(&reqs).expect("rm");
    let dump = |what: &str| -> serde_json::Value {
        let out = venv.manage(&["shell", "-c", DUMP], &[]);
        assert!(out.status.success(), "{what}: {}", describe(&out));
        let text = stdout(&out);
        let line = text.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
    };
    let before = dump("before adopt");
    let out = adopt(&env, &up, &["--yes", "--no-hooks"]);
    assert!(out.status.success(), "{}", describe(&out));
    let after = dump("after adopt");
    assert_eq!(before["urls"], after["urls"], "URL patterns changed");
    let changed = settings_changed(&before, &after);
    assert!(
        changed.is_empty(),
        "settings changed by adopt:\n{}",
        changed.join("\n")
    );
    let b = &before["settings"];
    assert!(
        b["EMAIL_BACKEND"].as_str().unwrap_or("").contains("locmem"),
        "{b:#}"
    );
}

#[test]
fn adopt_records_a_version_tag_only_when_the_source_confirms_it() {
    let env = TestEnv::new();
    let Some(up) = upstream_project(&env, Era::V088, &["crm", "blog"]) else {
        return;
    };
    // crm's recorded version has no tag at the source (upstream recorded
    // 0.71.0 for a module it embedded from a branch); blog's is right.
    let state = read(&up.dir, ".quickscale/state.yml");
    let crm_at = state.find("  crm:\n").expect("crm");
    let fixed = format!(
        "{}{}",
        &state[..crm_at],
        state[crm_at..].replacen("version: 0.88.0", "version: 0.71.0", 1)
    );
    std::fs::write(up.dir.join(".quickscale/state.yml"), fixed).expect("w");
    let out = adopt(&env, &up, &["--yes", "--no-hooks"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("records version 0.71.0, but its tag splits/crm-module/0.71.0 does not exist at the source"),
        "{text}"
    );
    let n = note(&env, &up.dir);
    let crm_split = env.rev(&up.repo, "splits/crm-module/0.88.0^{commit}");
    assert_eq!(n["modules"]["crm"]["ref"], crm_split, "{n:#}");
    assert_eq!(n["modules"]["crm"]["commit"], crm_split, "{n:#}");
    // blog's tag names the embedded commit at the source: recorded as is.
    assert_eq!(
        n["modules"]["blog"]["ref"], "splits/blog-module/0.88.0",
        "{n:#}"
    );
    let status = json(&qs_ok_in(&env, &up, &["status", "--json"]));
    assert_eq!(status["in_sync"], true, "{status:#}");
}

// ---------------------------------------------------------------------------
// Issue 19 item 5 and issue 24: adopt keeps the access upstream's project
// gave each module's pages, and says what that risks
// ---------------------------------------------------------------------------

#[test]
fn adopt_keeps_module_pages_upstream_served_openly_public_and_warns() {
    let env = TestEnv::new();
    // A crm whose manifest declares no access, as upstream's do: its pages
    // get the catalog's level, login.
    let no_access = |files: &mut Vec<(String, String)>| {
        for (path, text) in files.iter_mut() {
            if path == "module.yml" {
                *text = text.replace("access: public\n", "");
            }
        }
    };
    let Some(up) = upstream_project_with(&env, Era::V079, &["crm"], &no_access) else {
        return;
    };
    let dry = adopt(&env, &up, &["--dry-run"]);
    assert!(dry.status.success(), "{}", describe(&dry));
    let plan = stdout(&dry);
    assert!(
        plan.contains(
            "sources.crm.access: public (the access upstream's project gave these pages)"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("warning: crm: upstream served /crm/ (quickscale_modules_crm.urls; git quickscale's level: login) to everyone"),
        "{plan}"
    );
    assert!(plan.contains("set sources.crm.access: login"), "{plan}");
    let out = adopt(&env, &up, &["--yes", "--no-hooks"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("warning: crm: upstream served /crm/"),
        "{}",
        describe(&out)
    );
    // What Django runs: the include mounted as upstream mounted it.
    let urls = read(&up.dir, "shop/urls_modules.py");
    assert!(
        urls.contains("path(\"crm/\", include(\"quickscale_modules_crm.urls\"))"),
        "{urls}"
    );
    assert!(
        !urls.contains("protected(\"quickscale_modules_crm.urls\""),
        "{urls}"
    );
    // Recorded in the committed quickscale.yml, where the owner changes it.
    let committed = env.git(&up.dir, &["show", "HEAD:quickscale.yml"]);
    assert!(
        committed.contains("sources:\n  crm:\n    access: public\n"),
        "{committed}"
    );
    // The recommended next step works: login guards the pages.
    let text = read(&up.dir, "quickscale.yml").replace("access: public", "access: login");
    std::fs::write(up.dir.join("quickscale.yml"), text).expect("w");
    qs_ok_in(&env, &up, &["apply", "--yes"]);
    let urls = read(&up.dir, "shop/urls_modules.py");
    assert!(
        urls.contains("protected(\"quickscale_modules_crm.urls\", \"login\")"),
        "{urls}"
    );
}

/// The gated fixture made by upstream's own CLI (scripts/upstream-cli-fixture.sh).
fn upstream_cli_project(env: &TestEnv, repo: &Path) -> PathBuf {
    let script = crate::common::repo_root().join("scripts/upstream-cli-fixture.sh");
    let out_dir = env.root().join("upstream-cli");
    let mut cmd = crate::common::python::base_command(env, "bash", env.root());
    cmd.arg(&script)
        .arg(&out_dir)
        .env("QUICKSCALE_UPSTREAM_REPO", repo)
        .env(
            "QUICKSCALE_UPSTREAM_CACHE",
            crate::common::python::cache_dir("upstream-cli"),
        )
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    if let Some(python) = std::env::var_os("QUICKSCALE_UPSTREAM_PYTHON") {
        cmd.env("QUICKSCALE_UPSTREAM_PYTHON", python);
    }
    let out = crate::common::python::run_with_timeout(cmd, std::time::Duration::from_secs(600));
    assert!(out.status.success(), "{}", describe(&out));
    let dir = PathBuf::from(stdout(&out).lines().last().unwrap_or_default().trim());
    assert!(
        dir.join(".quickscale/state.yml").is_file(),
        "{}",
        describe(&out)
    );
    dir
}

/// Issue 19 item 5's acceptance: a project made by upstream's own CLI
/// (0.79.0, auth + crm + notifications) runs the same Django after adopt:
/// every uppercase setting, the URL patterns, and the status of anonymous
/// and signed-in requests to every page and API of the modules.
#[test]
fn adopting_a_project_made_by_upstreams_own_cli_changes_nothing_django_runs() {
    let Some(repo) = crate::test_real_refs::upstream_repo() else {
        return;
    };
    let Some(stack) = crate::common::python::django6_stack() else {
        return;
    };
    let env = TestEnv::new();
    let dir = upstream_cli_project(&env, &repo);
    let modules: Vec<String> = ["auth", "crm", "notifications"]
        .iter()
        .filter(|m| dir.join("modules").join(m).is_dir())
        .map(|m| format!("-e ./modules/{m}"))
        .collect();
    assert_eq!(modules.len(), 3, "upstream's apply embedded {modules:?}");
    // Upstream installs with poetry; the venv helper reads
    // requirements-dev.txt: lent for the install only, then removed so that
    // adopt finds the project as upstream left it. The modules declare
    // Python ^3.14, hence --ignore-requires-python (documented in the script).
    let reqs = dir.join("requirements-dev.txt");
    std::fs::write(
        &reqs,
        format!(
            "python-decouple>=3.8\nwhitenoise>=6.8\ndj-database-url>=3.1\n{}\n",
            modules.join("\n")
        ),
    )
    .expect("w");
    let venv =
        crate::common::python::Venv::create_on(&env, &dir, &stack, &["--ignore-requires-python"]);
    std::fs::remove_file(&reqs).expect("rm");
    // Upstream's project does not depend on django-debug-toolbar, and its
    // urls.py mounts the toolbar whenever it imports (its settings never
    // install the app); the shared base venv has it (this project's themes
    // use it), so it is hidden from this venv, as on upstream's machines.
    let site = venv.python(
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        &[],
    );
    let site = PathBuf::from(stdout(&site).trim());
    std::fs::write(
        site.join("debug_toolbar.py"),
        "raise ImportError(\"not a dependency of upstream's project\")\n",
    )
    .expect("hide debug_toolbar");
    let db = format!("sqlite:///{}", env.root().join("db.sqlite3").display());
    let vars = [("DATABASE_URL", db.as_str()), ("QS_DUMP_REQUESTS", "1")];
    venv.manage(&["migrate", "--noinput", "-v0"], &vars);
    let dump = |what: &str| -> serde_json::Value {
        let out = venv.manage(&["shell", "-c", DUMP], &vars);
        let text = stdout(&out);
        let line = text.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
    };
    let before = dump("before adopt");
    // Upstream's behaviour, so that the comparison cannot pass on nothing.
    let requests = &before["requests"];
    for (request, status) in [
        ("GET /crm/ anonymous", 200),
        ("GET /crm/api/contacts/ anonymous", 403),
        ("POST /crm/api/tags/ anonymous", 403),
        ("GET /crm/api/contacts/ signed-in", 200),
        ("GET /accounts/profile/ anonymous", 302),
        ("GET /accounts/profile/ signed-in", 200),
    ] {
        assert_eq!(requests[request], status, "{request}: {requests:#}");
    }
    let out = env.qs(&dir, &["adopt", "--yes", "--no-hooks"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("warning: crm: upstream served /crm/"),
        "{}",
        describe(&out)
    );
    let after = dump("after adopt");
    // The same URL patterns, but for one named change: the wiring mounts
    // each URLconf once, and upstream auth's urls.py includes allauth.urls
    // again, so allauth's second copies go. Django never reached them (the
    // first match wins; they have the same routes and names), which the
    // identical responses below show. Nothing else may go or come.
    let counts = |v: &serde_json::Value| {
        let mut m = std::collections::BTreeMap::<String, usize>::new();
        for u in v.as_array().expect("urls") {
            *m.entry(u.to_string()).or_default() += 1;
        }
        m
    };
    let (b_urls, a_urls) = (counts(&before["urls"]), counts(&after["urls"]));
    assert_eq!(
        b_urls.keys().collect::<Vec<_>>(),
        a_urls.keys().collect::<Vec<_>>(),
        "URL patterns changed"
    );
    let dropped: Vec<&String> = b_urls
        .iter()
        .filter(|(u, n)| a_urls[u.as_str()] != **n)
        .map(|(u, _)| u)
        .collect();
    assert!(
        dropped
            .iter()
            .all(|u| u.contains("\"accounts/") && a_urls[u.as_str()] == 1),
        "URL patterns changed: {dropped:?}"
    );
    assert!(
        stdout(&out).contains("mounted once"),
        "the plan names the dropped copies: {}",
        describe(&out)
    );
    let changed = settings_changed(&before, &after);
    assert!(
        changed.is_empty(),
        "settings changed by adopt:\n{}",
        changed.join("\n")
    );
    assert_eq!(before["requests"], after["requests"], "responses changed");
    let check = venv.manage(&["check"], &vars);
    assert!(stdout(&check).contains("no issues"), "{}", describe(&check));
}
