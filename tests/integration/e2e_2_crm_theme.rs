//! The crm_react theme: a React + Vite CRM on the crm module's REST API.
//!
//! Always run: `plan` adds the crm and auth modules and says so; the theme
//! renders a Vite frontend that Django serves. With `QUICKSCALE_NPM_TESTS=1`
//! the frontend's own tests (Vitest) and build run, and with
//! `QUICKSCALE_PYTHON_TESTS=1` too, the Django side passes its checks (without
//! the modules, whose tests skip). The end-to-end test needs the real
//! upstream modules (`QUICKSCALE_UPSTREAM_REPO`, see e2e_2_upstream_modules.rs),
//! Python >= 3.12 and Chromium; it prints a `SKIPPED` line otherwise.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use git_quickscale::catalog::Catalog;
use git_quickscale::config::{self, Identity, Theme};
use git_quickscale::render;

use crate::common::python::{self, Venv};
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
    let out = env.qs_ok(env.root(), &["plan", SLUG, "--theme", "crm_react", "--yes"]);
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
    assert!(
        planned(&env.root().join("plain/quickscale.yml"))
            .modules
            .is_empty()
    );
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
    assert!(!env.root().join(SLUG).exists(), "--dry-run wrote something");
}

#[test]
fn removing_a_module_the_theme_needs_warns_but_is_allowed() {
    let env = TestEnv::new();
    env.qs_ok(env.root(), &["plan", SLUG, "--theme", "crm_react", "--yes"]);
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
    assert!(stdout(&help).contains("crm_react"), "{}", describe(&help));
    let out = env.qs(env.root(), &["plan", SLUG, "--theme", "crm", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("a similar value exists: 'crm_react'"),
        "{}",
        describe(&out)
    );
    assert!(!env.root().join(SLUG).exists());
}

// --- the rendered theme -----------------------------------------------------------

fn identity() -> Identity {
    Identity {
        slug: SLUG.into(),
        package: SLUG.into(),
        theme: Theme::CrmReact,
        name: None,
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
        assert!(!text.contains("showcase"), "{path} mentions another theme");
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

/// Vitest's summary line, e.g. `Tests  32 passed (32)`, checked for no failures,
/// and the component test files that must have run.
fn assert_vitest_passed(out: &std::process::Output) {
    let text = stdout(out);
    let summary = text
        .lines()
        .find(|l| l.trim_start().starts_with("Tests "))
        .unwrap_or_else(|| panic!("no Vitest summary:\n{}", describe(out)));
    assert!(
        summary.contains(" passed") && !summary.contains("failed") && !summary.contains("skipped"),
        "{summary}\n{}",
        describe(out)
    );
    for file in [
        "src/Board.test.tsx",
        "src/ContactsList.test.tsx",
        "src/ContactForm.test.tsx",
        "src/DealDetail.test.tsx",
    ] {
        assert!(text.contains(file), "{file} did not run:\n{text}");
    }
}

/// Asserts that a pytest run reports passes and no failures or errors.
fn assert_pytest_passed(out: &std::process::Output) {
    let text = stdout(out);
    let summary = text.lines().last().unwrap_or_default();
    assert!(
        summary.contains(" passed") && !summary.contains("failed") && !summary.contains("error"),
        "unexpected pytest summary `{summary}`:\n{}",
        describe(out)
    );
}

/// The frontend installs from its lockfile, passes its Vitest component tests
/// (the API mocked at the fetch layer) and builds; the Django side serves the
/// build and passes its checks. No modules are needed for this, so it runs
/// everywhere the npm (and Python) checks run; the crm API's own tests skip,
/// saying why, and run in the end-to-end test below.
#[test]
fn the_frontend_passes_its_tests_and_builds_and_django_serves_it() {
    if !python::npm_enabled() {
        return;
    }
    let env = TestEnv::new();
    let project = write_project(env.root());
    let frontend = project.join("frontend");
    python::npm(&env, &frontend, &["ci"], &[]);
    python::frontend_lint_passes_and_can_fail(&env, &frontend);
    let vitest = python::npm(&env, &frontend, &["test"], &[]);
    assert_vitest_passed(&vitest);
    python::npm(&env, &frontend, &["run", "build"], &[]);
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&frontend.join("dist/.vite/manifest.json"))).expect("manifest");
    let entry = manifest["index.html"]["file"].as_str().expect("entry");
    assert!(frontend.join("dist").join(entry).is_file(), "{entry}");

    if !python::python_enabled() {
        return;
    }
    let venv = Venv::create(&env, &project);
    let check = venv.manage(&["check"], &[]);
    assert!(
        stdout(&check).contains("System check identified no issues"),
        "{}",
        describe(&check)
    );
    venv.manage(&["migrate", "--noinput"], &[]);
    // The project's lint passes as generated (CI's lint job, pre-commit).
    venv.python(&["-m", "ruff", "check", "--no-cache", "."], &[]);
    venv.python(&["-m", "ruff", "format", "--no-cache", "--check", "."], &[]);
    let tests = venv.pytest(&["-rA"], &[("REQUIRE_FRONTEND_BUILD", "1")]);
    let text = stdout(&tests);
    assert_pytest_passed(&tests);
    assert!(
        text.contains("PASSED tests/test_frontend.py::test_app_references_built_bundle"),
        "{text}"
    );
    assert!(
        text.contains("PASSED tests/test_pages.py::test_the_page_tells_the_app_who_is_signed_in_and_where_things_are"),
        "{text}"
    );
    // Only the crm API's tests skip, and they say why.
    let skips: Vec<&str> = text.lines().filter(|l| l.starts_with("SKIPPED")).collect();
    assert_eq!(skips.len(), 1, "{text}");
    assert!(
        skips[0].contains("test_crm_api.py") && skips[0].contains("the crm module is not embedded"),
        "{text}"
    );
}

// --- end to end, with the real crm and auth modules --------------------------------

/// A local clone of github.com/Experto-AI/quickscale (see e2e_2_upstream_modules.rs).
const UPSTREAM_VAR: &str = "QUICKSCALE_UPSTREAM_REPO";
const USERNAME: &str = "alice";
const PASSWORD: &str = "e2e-correct-horse-battery";

/// An executable's absolute path (playwright-core wants one).
fn absolute_program(program: &Path) -> PathBuf {
    if program.components().count() > 1 {
        return program.to_owned();
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| program.to_owned())
}

/// A few companies, contacts and deals across the stages, so that the board
/// in the screenshot looks like a working pipeline.
const SEED: &str = r#"
from quickscale_modules_crm.models import Company, Contact, Deal, Stage
stage = {s.name: s for s in Stage.objects.all()}
rows = [
    ("Globex", "Hank", "Scorpio", "Data migration", "Prospecting", "8500.00", "2026-04-15"),
    ("Initech", "Bill", "Lumbergh", "Printer fleet", "Prospecting", "3200.00", None),
    ("Umbrella", "Alice", "Abernathy", "Lab equipment", "Negotiation", "27000.00", "2026-05-20"),
    ("Stark Industries", "Pepper", "Potts", "Annual licence", "Closed-Won", "15000.00", "2026-01-31"),
    ("Wayne Enterprises", "Lucius", "Fox", "Security audit", "Closed-Lost", "6400.00", None),
]
for company, first, last, title, stage_name, amount, close in rows:
    c = Contact.objects.create(
        first_name=first, last_name=last, email=f"{first.lower()}@{company.split()[0].lower()}.example",
        company=Company.objects.create(name=company),
    )
    Deal.objects.create(title=title, contact=c, stage=stage[stage_name], amount=amount, expected_close_date=close)
print("QS-SEED", Deal.objects.count())
"#;

/// Each deal's stage, read from the database after the browser is done.
const STAGES: &str = r#"
import json
from quickscale_modules_crm.models import Deal
print("QS-STAGES " + json.dumps({d.title: d.stage.name for d in Deal.objects.select_related("stage")}))
"#;

/// plan → apply (crm and auth from the upstream clone) → install → check,
/// migrate, pytest, npm ci, Vitest, build → a user → runserver → headless
/// Chromium signs in, creates a contact and two deals, drags one deal to
/// another stage and moves the other with the keyboard, reloads and sees
/// both moves; the database agrees. The board's screenshot is left in
/// `target/test-cache/screenshots/crm_react-board.png` (and, with
/// `UPDATE_DOCS=1`, copied to docs/images/crm-board.png for the user guide).
#[test]
fn the_crm_works_end_to_end_in_headless_chromium() {
    let Some(repo) = std::env::var_os(UPSTREAM_VAR).filter(|v| !v.is_empty()) else {
        python::skipped(&format!(
            "set {UPSTREAM_VAR} to a local clone of github.com/Experto-AI/quickscale to run the CRM end-to-end test"
        ));
        return;
    };
    let repo = PathBuf::from(repo);
    if !python::python_enabled() || !python::npm_enabled() {
        return;
    }
    let Some(chromium) = python::chromium("the CRM end-to-end test") else {
        return;
    };
    let Some(stack) = python::django6_stack() else {
        return;
    };
    let env = TestEnv::new();
    let source = |name: &str| format!("{name}={}", repo.display());
    let out = env.qs_ok(
        env.root(),
        &[
            "plan",
            SLUG,
            "--theme",
            "crm_react",
            "--source",
            &source("crm"),
            "--source",
            &source("auth"),
            "--yes",
        ],
    );
    assert!(
        stderr(&out).contains("added them to quickscale.yml"),
        "{}",
        describe(&out)
    );
    let project = env.root().join(SLUG);
    env.qs_ok(&project, &["apply", "--yes"]);
    for name in ["crm", "auth"] {
        assert!(
            project
                .join("modules")
                .join(name)
                .join("module.yml")
                .is_file(),
            "modules/{name} is not embedded"
        );
    }

    // The project's own checks, with the real modules.
    let venv = Venv::create_on(&env, &project, &stack, &["--ignore-requires-python"]);
    let check = venv.manage(&["check"], &[]);
    assert!(
        stdout(&check).contains("System check identified no issues"),
        "{}",
        describe(&check)
    );
    venv.manage(&["migrate", "--noinput"], &[]);
    let frontend = project.join("frontend");
    python::npm(&env, &frontend, &["ci"], &[]);
    assert_vitest_passed(&python::npm(&env, &frontend, &["test"], &[]));
    python::npm(&env, &frontend, &["run", "build"], &[]);
    let tests = venv.pytest(&["-rA"], &[("REQUIRE_FRONTEND_BUILD", "1")]);
    let text = stdout(&tests);
    assert_pytest_passed(&tests);
    assert!(!text.contains("SKIPPED"), "{text}");
    for test in [
        "test_a_deal_moves_to_another_stage",
        "test_changes_without_the_csrf_token_are_refused",
        "test_a_deal_shows_its_contact_company_and_notes",
    ] {
        assert!(
            text.contains(&format!("PASSED tests/test_crm_api.py::{test}")),
            "{test} did not pass:\n{text}"
        );
    }

    // A user, some data, a server, a browser.
    venv.shell(
        &format!(
            "from django.contrib.auth import get_user_model; get_user_model().objects.create_user({USERNAME:?}, 'alice@example.com', {PASSWORD:?}, first_name='Alice', last_name='Lane')"
        ),
        &[],
    );
    assert!(stdout(&venv.shell(SEED, &[])).contains("QS-SEED 5"));
    let scratch = tempfile::tempdir().expect("tempdir");
    let server = venv.runserver(scratch.path());
    let screenshot = python::cache_dir("screenshots").join("crm_react-board.png");
    let _ = std::fs::remove_file(&screenshot);
    let chromium = absolute_program(&chromium);
    let e2e = std::panic::catch_unwind(|| {
        python::npm(
            &env,
            &frontend,
            &["run", "test:e2e"],
            &[
                ("E2E_BASE_URL", server.base_url.as_str()),
                ("E2E_USERNAME", USERNAME),
                ("E2E_PASSWORD", PASSWORD),
                ("E2E_CHROMIUM", chromium.to_str().expect("UTF-8 path")),
                ("E2E_SCREENSHOT", screenshot.to_str().expect("UTF-8 path")),
                ("E2E_SUFFIX", ""),
            ],
        )
    });
    let e2e = match e2e {
        Ok(out) => out,
        Err(panic) => {
            eprintln!("runserver log:\n{}", server.log());
            std::panic::resume_unwind(panic);
        }
    };
    assert!(
        stdout(&e2e).contains("1 passed"),
        "{}\nrunserver log:\n{}",
        describe(&e2e),
        server.log()
    );
    drop(server);

    // What the browser did is in the database.
    let text = stdout(&venv.shell(STAGES, &[]));
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("QS-STAGES "))
        .unwrap_or_else(|| panic!("no stages printed:\n{text}"));
    let stages: BTreeMap<String, String> = serde_json::from_str(line).expect("stages JSON");
    assert_eq!(stages["Website redesign"], "Negotiation", "{stages:?}");
    assert_eq!(stages["Support plan"], "Closed-Won", "{stages:?}");
    assert_eq!(stages["Lab equipment"], "Negotiation", "{stages:?}");

    let png = std::fs::read(&screenshot)
        .unwrap_or_else(|e| panic!("no screenshot {}: {e}", screenshot.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "{} is not a plausible screenshot ({} bytes)",
        screenshot.display(),
        png.len()
    );
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        let docs = crate::common::repo_root().join("docs/images/crm-board.png");
        std::fs::create_dir_all(docs.parent().expect("docs/images")).expect("mkdir docs/images");
        std::fs::copy(&screenshot, &docs).expect("copy the screenshot into docs/images");
    }
    let _ = writeln!(
        std::io::stderr(),
        "note: CRM end-to-end in {} passed; screenshot of the board: {}",
        chromium.display(),
        screenshot.display()
    );
}
