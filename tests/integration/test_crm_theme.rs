//! The crm_react theme: a React + Vite CRM on the crm module's REST API.
//!
//! Always run: `plan` adds the crm and auth modules and says so; the theme
//! renders a Vite frontend that Django serves. With `QUICKSCALE_NPM_TESTS=1`
//! the frontend's own tests (Vitest) and build run, and with
//! `QUICKSCALE_PYTHON_TESTS=1` too, the Django side passes its checks (without
//! the modules, whose tests skip). The end-to-end test needs the real
//! upstream modules (`QUICKSCALE_UPSTREAM_REPO`, see test_upstream_modules.rs),
//! Python >= 3.12 and Chromium; it prints a `SKIPPED` line otherwise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git_quickscale::catalog::Catalog;
use git_quickscale::config::{self, Identity, Theme};
use git_quickscale::render;

use crate::common::{TestEnv, describe, stderr, stdout};

const SLUG: &str = "crmdemo";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The modules a written quickscale.yml lists, in order, with their sources.
fn planned(path: &Path) -> config::ProjectConfig {
    let catalog = Catalog::load(&[]).expect("catalog");
    config::parse(&read(path), "quickscale.yml", &catalog).expect("the planned file is valid")
}

fn module_names(cfg: &config::ProjectConfig) -> Vec<&str> {
    cfg.modules.iter().map(|m| m.name.as_str()).collect()
}

// --- plan -----------------------------------------------------------------------

#[test]
fn plan_with_the_crm_theme_adds_crm_and_auth_and_says_so() {
    let env = TestEnv::new();
    let out = env.qs_ok(
        env.root(),
        &["plan", SLUG, "--theme", "crm_react", "--yes"],
    );
    let cfg = planned(&env.root().join(SLUG).join("quickscale.yml"));
    assert_eq!(cfg.project.theme, Theme::CrmReact);
    assert_eq!(module_names(&cfg), ["crm", "auth"]);
    assert!(cfg.sources.is_empty(), "{:?}", cfg.sources);
    let said = stderr(&out);
    assert!(
        said.contains("The crm_react theme needs the crm and auth modules: added them"),
        "plan does not say that it added the modules:\n{}",
        describe(&out)
    );
    assert!(stdout(&out).contains("  crm:"), "{}", describe(&out));
}

#[test]
fn plan_keeps_the_modules_given_and_adds_only_the_missing_ones() {
    let env = TestEnv::new();
    let out = env.qs_ok(
        env.root(),
        &[
            "plan",
            SLUG,
            "--theme",
            "crm_react",
            "--module",
            "blog",
            "--module",
            "crm@v0.73.0",
            "--set",
            "crm.contacts_per_page=20",
            "--yes",
            "--offline",
        ],
    );
    let cfg = planned(&env.root().join(SLUG).join("quickscale.yml"));
    assert_eq!(module_names(&cfg), ["blog", "crm", "auth"]);
    assert_eq!(cfg.sources["crm"].git_ref.as_deref(), Some("v0.73.0"));
    let said = stderr(&out);
    assert!(
        said.contains("The crm_react theme needs the auth module: added it"),
        "{}",
        describe(&out)
    );
    assert!(!said.contains("crm and auth"), "{}", describe(&out));

    // Every module already given: nothing to add, nothing said.
    let out = env.qs_ok(
        env.root(),
        &[
            "plan",
            "other",
            "--theme",
            "crm_react",
            "--module",
            "auth",
            "--module",
            "crm",
            "--yes",
        ],
    );
    let cfg = planned(&env.root().join("other/quickscale.yml"));
    assert_eq!(module_names(&cfg), ["auth", "crm"]);
    assert!(!stderr(&out).contains("needs"), "{}", describe(&out));

    // Other themes add nothing.
    env.qs_ok(
        env.root(),
        &["plan", "plain", "--theme", "showcase_react", "--yes"],
    );
    assert!(planned(&env.root().join("plain/quickscale.yml")).modules.is_empty());
}

#[test]
fn plan_accepts_sources_for_the_modules_the_theme_adds() {
    let env = TestEnv::new();
    let out = env.qs(
        env.root(),
        &[
            "plan",
            SLUG,
            "--theme",
            "crm_react",
            "--source",
            "crm=../upstream",
            "--source",
            "auth=../upstream",
            "--yes",
            "--dry-run",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("theme: crm_react"), "{text}");
    assert!(text.contains("url: ../upstream"), "{text}");
    assert!(
        !env.root().join(SLUG).exists(),
        "--dry-run wrote something"
    );
}

#[test]
fn removing_a_module_the_theme_needs_warns_but_is_allowed() {
    let env = TestEnv::new();
    env.qs_ok(
        env.root(),
        &["plan", SLUG, "--theme", "crm_react", "--yes"],
    );
    let file = env.root().join(SLUG).join("quickscale.yml");
    let out = env.qs_ok(
        env.root(),
        &[
            "plan",
            "--remove",
            "crm",
            "--output",
            file.to_str().expect("utf8"),
            "--yes",
        ],
    );
    assert!(
        stderr(&out).contains("the crm_react theme needs the crm module"),
        "{}",
        describe(&out)
    );
    assert_eq!(module_names(&planned(&file)), ["auth"]);
}

#[test]
fn help_and_errors_list_the_crm_theme() {
    let env = TestEnv::new();
    let help = env.qs_ok(env.root(), &["plan", "--help"]);
    assert!(
        stdout(&help).contains("crm_react"),
        "{}",
        describe(&help)
    );
    let out = env.qs(env.root(), &["plan", SLUG, "--theme", "crm", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("crm_react"), "{}", describe(&out));
}

// --- the rendered theme -----------------------------------------------------------

fn identity() -> Identity {
    Identity {
        slug: SLUG.into(),
        package: SLUG.into(),
        theme: Theme::CrmReact,
    }
}

fn rendered() -> BTreeMap<String, String> {
    render::render_project(&identity())
        .expect("render crm_react")
        .into_iter()
        .map(|(path, file)| {
            let text = String::from_utf8(file.contents).unwrap_or_default();
            (path, text)
        })
        .collect()
}

#[test]
fn the_theme_renders_a_vite_frontend_that_django_serves() {
    let files = rendered();
    for path in [
        "frontend/package.json",
        "frontend/package-lock.json",
        "frontend/vite.config.ts",
        "frontend/src/main.tsx",
        "frontend/src/Board.tsx",
        "frontend/src/Board.test.tsx",
        "frontend/src/ContactsList.test.tsx",
        "frontend/src/DealDetail.test.tsx",
        "frontend/e2e/crm.e2e.ts",
        "templates/index.html",
        "crmdemo/views.py",
        "crmdemo/urls.py",
        "tests/test_crm_api.py",
        "Dockerfile",
        ".github/workflows/ci.yml",
    ] {
        assert!(files.contains_key(path), "{path} is not rendered");
    }
    let settings = &files["crmdemo/settings/base.py"];
    assert!(
        settings.contains("FRONTEND_MANIFEST_PATH"),
        "the Vite build is not served:\n{settings}"
    );
    assert!(
        settings.contains("\"DEFAULT_PAGINATION_CLASS\": \"crmdemo.api.PageNumberPagination\""),
        "{settings}"
    );
    let package: serde_json::Value =
        serde_json::from_str(&files["frontend/package.json"]).expect("package.json");
    let lock: serde_json::Value =
        serde_json::from_str(&files["frontend/package-lock.json"]).expect("package-lock.json");
    // The lockfile is the one npm wrote for this package.json.
    for kind in ["dependencies", "devDependencies"] {
        let wanted = package[kind].as_object().expect(kind);
        let locked = lock["packages"][""][kind].as_object().expect(kind);
        assert_eq!(wanted, locked, "{kind}: package.json ≠ package-lock.json");
    }
    assert!(
        package["devDependencies"]["playwright-core"].is_string(),
        "the E2E test drives Chromium with playwright-core"
    );
    for (path, text) in &files {
        assert!(
            !text.contains("showcase"),
            "{path} mentions another theme"
        );
    }
}

/// The theme on disk, without modules: rendered files plus the managed wiring.
fn write_project(root: &Path) -> PathBuf {
    let project = root.join(SLUG);
    let mut files = render::render_project(&identity()).expect("render");
    files.extend(git_quickscale::wiring::render(
        SLUG,
        &git_quickscale::wiring::Wiring::default(),
    ));
    for (rel, file) in &files {
        let path = project.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &file.contents).expect("write");
    }
    project
}
