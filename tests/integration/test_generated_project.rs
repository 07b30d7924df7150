//! The generated project passes its own checks (Django, pytest, npm).
//!
//! The Rust side (generation, commits, notes, wiring, hostile input) always
//! runs. The parts that install packages run only with
//! `QUICKSCALE_PYTHON_TESTS=1` / `QUICKSCALE_NPM_TESTS=1` and print a
//! visible `SKIPPED` line otherwise (see common/python.rs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git_quickscale::config::{Identity, Theme};
use git_quickscale::manifest::Manifest;
use git_quickscale::render::{self, FileMap};
use git_quickscale::state::AppliedState;
use git_quickscale::value::Value;
use git_quickscale::wiring::{self, ModuleInput, Wiring, spec::WiringHints};

use crate::common::python::{self, Venv};
use crate::common::{TestEnv, describe, fixtures, snapshot, stderr, stdout};

const SLUG: &str = "demo";
const PACKAGE: &str = "demo";

// --- helpers -------------------------------------------------------------------

fn identity(theme: Theme) -> Identity {
    Identity {
        slug: SLUG.into(),
        package: PACKAGE.into(),
        theme,
        name: None,
    }
}

/// `plan demo --theme <theme> --yes`, then `apply --yes` in demo/; returns demo/.
fn generate(env: &TestEnv, theme: Theme) -> PathBuf {
    env.qs_ok(
        env.root(),
        &["plan", SLUG, "--theme", theme.name(), "--yes"],
    );
    let project = env.root().join(SLUG);
    assert!(
        project.join("quickscale.yml").is_file(),
        "plan wrote no quickscale.yml"
    );
    env.qs_ok(&project, &["apply", "--yes"]);
    project
}

fn write_file_map(root: &Path, files: &FileMap) {
    for (rel, file) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &file.contents).expect("write generated file");
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn porcelain(env: &TestEnv, project: &Path) -> String {
    env.git(project, &["status", "--porcelain", "--untracked-files=all"])
}

fn assert_clean(env: &TestEnv, project: &Path, when: &str) {
    let status = porcelain(env, project);
    assert!(
        status.is_empty(),
        "the worktree is not clean {when}:\n{status}"
    );
}

/// `git ls-tree -r HEAD`: path → mode.
fn head_tree(env: &TestEnv, project: &Path) -> BTreeMap<String, String> {
    env.git(project, &["ls-tree", "-r", "-z", "HEAD"])
        .split('\0')
        .filter(|e| !e.is_empty())
        .map(|entry| {
            let (meta, path) = entry.split_once('\t').expect("ls-tree entry");
            let mode = meta.split(' ').next().expect("mode");
            (path.to_owned(), mode.to_owned())
        })
        .collect()
}

fn note(env: &TestEnv, project: &Path) -> AppliedState {
    let text = env.git(project, &["notes", "--ref", "quickscale", "show", "HEAD"]);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the note is not state JSON: {e}\n{text}"))
}

/// A production-like environment for `manage.py check --deploy`.
fn production_env(scratch: &Path) -> Vec<(String, String)> {
    vec![
        (
            "DJANGO_SETTINGS_MODULE".into(),
            format!("{PACKAGE}.settings.production"),
        ),
        (
            "SECRET_KEY".into(),
            "k7Qp2v9XzL4mN8rT1wYb6cHf3jDs5gAe0uKoPiRlEnBtVqWxZy".repeat(2),
        ),
        ("ALLOWED_HOSTS".into(), "example.com".into()),
        (
            "DATABASE_URL".into(),
            format!("sqlite:///{}", scratch.join("production.sqlite3").display()),
        ),
    ]
}

fn as_pairs(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
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

// --- a. every theme: one clean commit, and the project passes its own checks ---

fn theme_is_generated_and_passes_its_checks(theme: Theme) {
    let env = TestEnv::new();
    let project = generate(&env, theme);

    // Exactly one commit, nothing left over.
    assert_eq!(
        env.git(&project, &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
    assert_eq!(
        env.git(&project, &["log", "-1", "--format=%s"]).trim(),
        "Initial project structure"
    );
    assert_clean(&env, &project, "after apply");

    // The commit holds exactly the rendered theme, the managed wiring and quickscale.yml.
    let mut expected = render::render_project(&identity(theme)).expect("render");
    expected.extend(wiring::render(PACKAGE, &Wiring::default()));
    let tree = head_tree(&env, &project);
    let mut expected_paths: BTreeSet<&str> = expected.keys().map(String::as_str).collect();
    expected_paths.insert("quickscale.yml");
    let tree_paths: BTreeSet<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(
        tree_paths, expected_paths,
        "committed tree ≠ rendered files"
    );
    for (path, file) in &expected {
        let mode = if file.executable { "100755" } else { "100644" };
        assert_eq!(tree[path], mode, "{path}: mode");
        assert_eq!(
            std::fs::read(project.join(path)).expect("read"),
            file.contents,
            "{path}: worktree ≠ rendered"
        );
    }
    let config = read(&project.join("quickscale.yml"));
    assert!(
        config.contains(&format!("theme: {}", theme.name())),
        "{config}"
    );

    // The note records the theme and the managed files' blobs.
    let state = note(&env, &project);
    assert_eq!(state.project, identity(theme));
    assert!(state.modules.is_empty(), "{:?}", state.modules);
    let managed: BTreeSet<String> = wiring::managed_paths(PACKAGE).into_iter().collect();
    assert_eq!(
        state.managed.keys().cloned().collect::<BTreeSet<_>>(),
        managed
    );
    for (path, blob) in &state.managed {
        assert_eq!(
            env.git(&project, &["rev-parse", &format!("HEAD:{path}")])
                .trim(),
            blob,
            "{path}: note's blob id"
        );
    }

    if python::python_enabled() {
        project_passes_its_checks(&env, &project, theme, &python::lts_stack());
    }
}

/// The same project on the newest Django 6.x and a Python >= 3.12.
fn theme_passes_its_checks_on_django_6(theme: Theme) {
    let env = TestEnv::new();
    let project = generate(&env, theme);
    if !python::python_enabled() {
        return;
    }
    if let Some(stack) = python::django6_stack() {
        project_passes_its_checks(&env, &project, theme, &stack);
    }
}

/// Django's deprecation warnings (`RemovedInDjangoXXWarning` are
/// `DeprecationWarning` or `PendingDeprecationWarning` subclasses) as errors.
const DEPRECATIONS_ARE_ERRORS: [&str; 4] = [
    "-W",
    "error::DeprecationWarning",
    "-W",
    "error::PendingDeprecationWarning",
];

/// In the development settings: the toolbar is installed, its URLs are
/// mounted and a page requested from 127.0.0.1 carries it.
const DEBUG_TOOLBAR_PROBE: &str = r#"
from django.conf import settings
from django.test import Client
from django.urls import reverse
response = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST="localhost").get("/")
print("QS-TOOLBAR", "debug_toolbar" in settings.INSTALLED_APPS, reverse("djdt:render_panel"),
      response.status_code, 'id="djDebug"' in response.content.decode())
"#;

/// A generated project installs on `stack` and passes `check` (with
/// deprecation warnings as errors), `migrate`, its own tests and the
/// production `check --deploy`.
fn project_passes_its_checks(env: &TestEnv, project: &Path, theme: Theme, stack: &python::Stack) {
    let venv = Venv::create_on(env, project, stack, &[]);
    let version = venv.python(&["-m", "django", "--version"], &[]);
    let series = if stack.django == python::DJANGO_LTS {
        "5.2."
    } else {
        "6."
    };
    assert!(
        stdout(&version).starts_with(series),
        "{}: expected Django {series}x:\n{}",
        stack.label(),
        describe(&version)
    );
    let mut args = DEPRECATIONS_ARE_ERRORS.to_vec();
    args.extend(["manage.py", "check"]);
    let check = venv.python(&args, &[]);
    assert!(
        stdout(&check).contains("System check identified no issues"),
        "{}",
        describe(&check)
    );
    venv.manage(&["migrate", "--noinput"], &[]);
    let tests = venv.pytest(&["-v"], &[]);
    assert_pytest_passed(&tests);
    // --reuse-db (pyproject.toml): the SQLite test database outlives the run.
    assert!(
        project.join("test-db.sqlite3").is_file(),
        "pytest did not keep its test database"
    );
    // django-debug-toolbar: in development only, on pages requested from 127.0.0.1.
    let toolbar = venv.shell(DEBUG_TOOLBAR_PROBE, &[]);
    assert!(
        stdout(&toolbar).contains("QS-TOOLBAR True /__debug__/render_panel/ 200 True"),
        "{}",
        describe(&toolbar)
    );
    assert!(
        !stdout(&tests).contains("RemovedInDjango"),
        "the project's tests raise Django deprecation warnings:\n{}",
        describe(&tests)
    );

    let scratch = tempfile::tempdir().expect("tempdir");
    let prod = production_env(scratch.path());
    let mut args = DEPRECATIONS_ARE_ERRORS.to_vec();
    args.extend(["manage.py", "check", "--deploy", "--fail-level", "WARNING"]);
    let deploy = venv.python(&args, &as_pairs(&prod));
    assert!(
        // Silenced: only the preload reminder (security.W021), preload being off by default.
        stdout(&deploy).contains("System check identified no issues (1 silenced)"),
        "{}",
        describe(&deploy)
    );
    assert!(
        !stderr(&deploy).contains("ERROR") && !stderr(&deploy).contains("WARNING"),
        "{}",
        describe(&deploy)
    );

    let prod_apps = venv.shell(
        "from django.conf import settings; print('QS-PROD-TOOLBAR', 'debug_toolbar' in settings.INSTALLED_APPS)",
        &as_pairs(&prod),
    );
    assert!(
        stdout(&prod_apps).contains("QS-PROD-TOOLBAR False"),
        "{}",
        describe(&prod_apps)
    );

    venv.python(&["-m", "compileall", "-q", "."], &[]);
    // The project's own lint (ruff from requirements-dev.txt, configured in
    // pyproject.toml) passes as generated: what CI's lint job and pre-commit run.
    venv.python(&["-m", "ruff", "check", "--no-cache", "."], &[]);
    venv.python(&["-m", "ruff", "format", "--no-cache", "--check", "."], &[]);

    match theme {
        Theme::ShowcaseHtmx => {
            // c. The HTMX partial test exists, ran and passed.
            let htmx = venv.pytest(&["-k", "htmx", "-v", "-rA"], &[]);
            let text = stdout(&htmx);
            assert!(
                text.contains("tests/test_htmx.py::test_htmx_request_returns_partial PASSED"),
                "the HTMX partial test did not run and pass:\n{text}"
            );
            assert!(!text.contains("SKIPPED"), "{text}");
            assert_pytest_passed(&htmx);
        }
        Theme::ShowcaseReact => {
            // Without a build, REQUIRE_FRONTEND_BUILD=1 turns the skip into a failure.
            let out = venv.try_python(
                &[
                    "-m",
                    "pytest",
                    "-p",
                    "no:cacheprovider",
                    "-k",
                    "test_home_references_built_bundle",
                ],
                &[("REQUIRE_FRONTEND_BUILD", "1")],
            );
            assert!(
                !out.status.success() && stdout(&out).contains("REQUIRE_FRONTEND_BUILD=1"),
                "pytest should fail without frontend/dist when REQUIRE_FRONTEND_BUILD=1:\n{}",
                describe(&out)
            );
        }
        // Tested with its modules in e2e_2_crm_theme.rs.
        Theme::ShowcaseHtml | Theme::CrmReact => {}
    }

    // Everything the checks wrote (db.sqlite3, __pycache__, …) is ignored.
    assert_clean(env, project, "after running the project's checks");
}

#[test]
fn showcase_html_is_generated_and_passes_its_checks() {
    theme_is_generated_and_passes_its_checks(Theme::ShowcaseHtml);
}

#[test]
fn showcase_htmx_is_generated_and_passes_its_checks_including_the_htmx_partial() {
    theme_is_generated_and_passes_its_checks(Theme::ShowcaseHtmx);
}

#[test]
fn showcase_react_is_generated_and_passes_its_checks() {
    theme_is_generated_and_passes_its_checks(Theme::ShowcaseReact);
}

#[test]
fn showcase_html_passes_its_checks_on_django_6() {
    theme_passes_its_checks_on_django_6(Theme::ShowcaseHtml);
}

#[test]
fn showcase_htmx_passes_its_checks_on_django_6() {
    theme_passes_its_checks_on_django_6(Theme::ShowcaseHtmx);
}

#[test]
fn showcase_react_passes_its_checks_on_django_6() {
    theme_passes_its_checks_on_django_6(Theme::ShowcaseReact);
}

/// The counts apply prints agree with each other and with the commit.
#[test]
fn apply_reports_one_file_count_for_a_new_project() {
    let env = TestEnv::new();
    env.qs_ok(env.root(), &["plan", SLUG, "--yes"]);
    let project = env.root().join(SLUG);
    let out = env.qs_ok(&project, &["apply", "--yes"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let number_after = |prefix: &str| -> usize {
        let line = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line:\n{text}"));
        line[prefix.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no number after `{prefix}`: {line}"))
    };
    // Every committed file but quickscale.yml, which was there already.
    let committed = head_tree(&env, &project).len() - 1;
    assert_eq!(
        number_after("Generating the project ("),
        committed,
        "{text}"
    );
    assert_eq!(number_after("Writing "), committed, "{text}");
    assert_eq!(number_after("Applied: 1 commit(s), "), committed, "{text}");
}

/// The closing hint of a new project is the whole way to a running site.
#[test]
fn apply_hints_at_migrate_and_runserver() {
    let env = TestEnv::new();
    env.qs_ok(env.root(), &["plan", SLUG, "--yes"]);
    let project = env.root().join(SLUG);
    let out = env.qs_ok(&project, &["apply", "--yes"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let next = text
        .lines()
        .find(|l| l.starts_with("Next: "))
        .unwrap_or_else(|| panic!("no Next: line:\n{text}"));
    let steps: Vec<&str> = next["Next: ".len()..].split(" && ").collect();
    assert_eq!(
        steps,
        [
            "python3 -m venv .venv",
            ".venv/bin/pip install -r requirements-dev.txt",
            ".venv/bin/python manage.py migrate",
            ".venv/bin/python manage.py runserver",
        ],
        "{next}"
    );
}

#[test]
fn every_theme_is_covered() {
    assert_eq!(render::available_themes(), Theme::ALL.to_vec());
}

// --- b. React: npm install, build and test; Django serves the bundle ---------

#[test]
fn showcase_react_frontend_builds_tests_and_is_served_by_django() {
    let env = TestEnv::new();
    let project = generate(&env, Theme::ShowcaseReact);
    if !python::npm_enabled() {
        return;
    }
    let frontend = project.join("frontend");
    python::npm(&env, &frontend, &["ci"], &[]);
    python::frontend_lint_passes_and_can_fail(&env, &frontend);
    python::npm(&env, &frontend, &["run", "build"], &[]);
    let vitest = python::npm(&env, &frontend, &["test"], &[]);
    let vitest_out = stdout(&vitest);
    assert!(
        vitest_out.contains("passed") && !vitest_out.contains("failed"),
        "{}",
        describe(&vitest)
    );
    let manifest = frontend.join("dist/.vite/manifest.json");
    let text = read(&manifest);
    let vite: serde_json::Value = serde_json::from_str(&text).expect("vite manifest JSON");
    let entry = vite["index.html"]["file"]
        .as_str()
        .unwrap_or_else(|| panic!("no index.html entry in the Vite manifest:\n{text}"));
    assert!(
        frontend.join("dist").join(entry).is_file(),
        "{entry} is missing"
    );
    // node_modules/ and dist/ are ignored and the theme ships its lockfile,
    // so installing, building and testing leave the worktree clean.
    let status = porcelain(&env, &project);
    assert!(status.is_empty(), "npm left unexpected changes:\n{status}");

    if !python::python_enabled() {
        return;
    }
    let venv = Venv::create(&env, &project);
    let tests = venv.pytest(&["-v", "-rA"], &[("REQUIRE_FRONTEND_BUILD", "1")]);
    let text = stdout(&tests);
    assert!(
        text.contains("tests/test_frontend.py::test_home_references_built_bundle PASSED"),
        "the bundle test did not run and pass:\n{text}"
    );
    assert!(!text.contains("SKIPPED"), "{text}");
    assert_pytest_passed(&tests);

    // The production static pipeline (as in the Dockerfile) accepts the bundle.
    let scratch = tempfile::tempdir().expect("tempdir");
    let prod = production_env(scratch.path());
    venv.manage(&["collectstatic", "--noinput"], &as_pairs(&prod));
    assert!(
        project.join("staticfiles").join(entry).is_file(),
        "collectstatic did not collect {entry}"
    );
}

// --- d. Wiring through the library functions -------------------------------------

const FIXTURE: &str = "fixture";

fn fixture_manifest() -> Manifest {
    let files = fixtures::module_files(FIXTURE, "1.0.0");
    let text = &files
        .iter()
        .find(|(p, _)| p == "module.yml")
        .expect("fixture module.yml")
        .1;
    Manifest::parse(text, "modules/fixture/module.yml", FIXTURE).expect("fixture manifest")
}

fn fixture_input(options: &[(&str, Value)]) -> ModuleInput {
    let manifest = fixture_manifest();
    let given: BTreeMap<String, Value> = options
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let options = manifest
        .resolve_options(FIXTURE, &given)
        .expect("fixture options");
    ModuleInput {
        name: FIXTURE.into(),
        manifest: Some(manifest),
        hints: WiringHints::default(),
        options,
        installable: true,
        access: None,
    }
}

/// Computes and writes the wiring for the fixture module with `page_size`.
fn wire_fixture(project: &Path, page_size: i64) -> Wiring {
    let w =
        wiring::compute(&[fixture_input(&[("page_size", Value::Int(page_size))])]).expect("wiring");
    write_file_map(project, &wiring::render(PACKAGE, &w));
    w
}

/// Settings, URL reversal and a test-client GET, as seen by Django.
const PROBE: &str = r#"
import json
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse

setup_test_environment()
response = Client().get(URL)
print("QS-PROBE " + json.dumps({
    "reverse": reverse(URL_NAME),
    "settings": {name: getattr(settings, name, None) for name in NAMES},
    "status": response.status_code,
    "json": response.json() if response.status_code == 200 else response.content.decode(errors="replace"),
}, sort_keys=True))
"#;

fn probe(venv: &Venv<'_>, url: &str, url_name: &str, names: &[&str]) -> serde_json::Value {
    let code = format!(
        "URL = {url:?}\nURL_NAME = {url_name:?}\nNAMES = {}\n{PROBE}",
        serde_json::to_string(names).expect("json")
    );
    let out = venv.shell(&code, &[]);
    let text = stdout(&out);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("QS-PROBE "))
        .unwrap_or_else(|| panic!("the probe printed no result:\n{}", describe(&out)));
    serde_json::from_str(line).expect("probe JSON")
}

#[test]
fn library_wiring_embeds_a_module_and_reconfigures_only_managed_files() {
    let env = TestEnv::new();
    let project = generate(&env, Theme::ShowcaseHtml);
    let module_dir = project.join("modules").join(FIXTURE);
    for (rel, text) in fixtures::module_files(FIXTURE, "1.0.0") {
        let path = module_dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write fixture file");
    }

    let w = wire_fixture(&project, 7);
    assert_eq!(w.apps, ["quickscale_modules_fixture"]);
    assert_eq!(w.requirements, ["-e ./modules/fixture"]);
    assert_eq!(w.settings["FIXTURE_PAGE_SIZE"].value, Value::Int(7));
    assert_eq!(
        w.settings["FIXTURE_GREETING"].value,
        Value::Str("hello".into())
    );
    assert_eq!(
        w.settings.len(),
        2,
        "only options with a django_setting become settings"
    );
    let settings_py = read(&project.join(PACKAGE).join("settings/modules.py"));
    assert!(
        settings_py.contains("    \"FIXTURE_PAGE_SIZE\": 7,  # fixture.page_size\n"),
        "{settings_py}"
    );
    let urls_py = read(&project.join(PACKAGE).join("urls_modules.py"));
    assert!(
        urls_py.contains("path(\"fixture/\", include(\"quickscale_modules_fixture.urls\"))"),
        "{urls_py}"
    );
    env.git(&project, &["add", "-A"]);
    env.git(
        &project,
        &["commit", "-qm", "Embed and wire the fixture module"],
    );

    // Re-running with the same options changes nothing.
    wire_fixture(&project, 7);
    assert_clean(&env, &project, "after re-running identical wiring");

    let python = python::python_enabled();
    let venv = python.then(|| Venv::create(&env, &project));
    let names = ["FIXTURE_PAGE_SIZE", "FIXTURE_GREETING"];
    if let Some(venv) = &venv {
        venv.manage(&["check"], &[]);
        let migrate = venv.manage(&["migrate", "--noinput"], &[]);
        assert!(
            stdout(&migrate).contains("Applying quickscale_modules_fixture.0001_initial... OK"),
            "{}",
            describe(&migrate)
        );
        let seen = probe(venv, "/fixture/", "fixture-index", &names);
        assert_eq!(seen["reverse"], "/fixture/", "{seen}");
        assert_eq!(seen["settings"]["FIXTURE_PAGE_SIZE"], 7, "{seen}");
        assert_eq!(seen["settings"]["FIXTURE_GREETING"], "hello", "{seen}");
        assert_eq!(seen["status"], 200, "{seen}");
        assert_eq!(seen["json"]["page_size"], 7, "{seen}");
        assert_eq!(seen["json"]["greeting"], "hello", "{seen}");
    }

    // Reconfigure: only the managed settings file changes.
    wire_fixture(&project, 9);
    let changed = env.git(&project, &["diff", "--name-only"]);
    assert_eq!(
        changed.lines().collect::<Vec<_>>(),
        [format!("{PACKAGE}/settings/modules.py")],
        "reconfiguring touched more than the managed settings file"
    );
    let untracked = env.git(&project, &["ls-files", "--others", "--exclude-standard"]);
    assert!(untracked.is_empty(), "untracked files: {untracked}");
    let diff = env.git(&project, &["diff", "-U0"]);
    assert!(
        diff.contains("-    \"FIXTURE_PAGE_SIZE\": 7,")
            && diff.contains("+    \"FIXTURE_PAGE_SIZE\": 9,"),
        "{diff}"
    );

    if let Some(venv) = &venv {
        venv.manage(&["check"], &[]);
        let seen = probe(venv, "/fixture/", "fixture-index", &names);
        assert_eq!(seen["settings"]["FIXTURE_PAGE_SIZE"], 9, "{seen}");
        assert_eq!(seen["json"]["page_size"], 9, "{seen}");
    }
}

// --- e. Embedding through the real engine ---------------------------------------

#[test]
fn engine_embeds_two_modules_that_django_serves_with_their_options() {
    let env = TestEnv::new();
    let upstream = fixtures::module_repo(&env, "a");
    let upstream_b = fixtures::module_repo(&env, "b");
    let project = generate(&env, Theme::ShowcaseHtml);
    let source = format!("a={}", upstream.display());
    let source_b = format!("b={}", upstream_b.display());
    env.qs_ok(
        &project,
        &[
            "plan",
            "--add",
            "a",
            "--add",
            "b@v1.0.0",
            "--source",
            &source,
            "--source",
            &source_b,
            "--set",
            "a.greeting=hi",
            "--yes",
        ],
    );
    env.qs_ok(&project, &["apply", "--yes"]);
    assert_clean(&env, &project, "after embedding a module");
    assert_eq!(
        env.git(&project, &["log", "-1", "--format=%s"]).trim(),
        "Wire modules a, b"
    );
    assert!(project.join("modules/a/module.yml").is_file());
    let settings_py = read(&project.join(PACKAGE).join("settings/modules.py"));
    assert!(
        settings_py.contains("    \"A_GREETING\": \"hi\",  # a.greeting\n"),
        "{settings_py}"
    );
    let requirements = read(&project.join(wiring::REQUIREMENTS_FILE));
    assert!(
        requirements.lines().any(|l| l == "-e ./modules/a"),
        "{requirements}"
    );
    let state = note(&env, &project);
    assert_eq!(
        state.modules["a"].options["greeting"],
        Value::Str("hi".into())
    );

    if !python::python_enabled() {
        return;
    }
    let venv = Venv::create(&env, &project);
    venv.manage(&["check"], &[]);
    let migrate = venv.manage(&["migrate", "--noinput"], &[]);
    assert!(
        stdout(&migrate).contains("Applying quickscale_modules_a.0001_initial... OK"),
        "{}",
        describe(&migrate)
    );
    assert!(
        stdout(&migrate).contains("Applying quickscale_modules_b.0001_initial... OK"),
        "{}",
        describe(&migrate)
    );
    let seen_b = probe(&venv, "/b/", "b-index", &["B_GREETING", "B_PAGE_SIZE"]);
    assert_eq!(seen_b["json"]["version"], "1.0.0", "{seen_b}");
    let seen = probe(&venv, "/a/", "a-index", &["A_GREETING", "A_PAGE_SIZE"]);
    assert_eq!(seen["status"], 200, "{seen}");
    assert_eq!(seen["json"]["greeting"], "hi", "{seen}");
    assert_eq!(seen["json"]["page_size"], 10, "{seen}");
    assert_eq!(seen["reverse"], "/a/", "{seen}");
    // The project's own suite still passes with the module wired in.
    assert_pytest_passed(&venv.pytest(&[], &[]));
    assert_clean(&env, &project, "after running the project's checks");
    // Django and pytest left bytecode inside the module prefixes; git ignores
    // it (.gitignore), and so does status.
    let pycache = std::fs::read_dir(project.join("modules/a"))
        .expect("modules/a")
        .flatten()
        .any(|e| e.path().join("__pycache__").is_dir());
    assert!(
        pycache,
        "the checks should have written __pycache__ under modules/a"
    );
    let status: serde_json::Value =
        serde_json::from_slice(&env.qs_ok(&project, &["status", "--json"]).stdout)
            .expect("status JSON");
    assert_eq!(status["in_sync"], true, "{status:#}");
    for m in status["modules"].as_array().expect("modules") {
        assert_eq!(
            m["uncommitted_changes"],
            serde_json::json!([]),
            "{status:#}"
        );
    }
}

// --- g. Modules that bring django-allauth and Django REST framework --------------

const ACCOUNTS: &str = "accounts";

/// A fixture module shaped like the catalog's auth and crm: django-allauth's
/// pages under accounts/, a Django REST framework view that sets no
/// permission classes of its own under api/, and a page of its own that
/// fills the `extra_css`/`extra_js` blocks the upstream modules' templates use.
fn accounts_module_files() -> Vec<(String, String)> {
    let pkg = fixtures::app_package(ACCOUNTS);
    let mut files: Vec<(String, String)> = fixtures::module_files(ACCOUNTS, "1.0.0")
        .into_iter()
        .filter(|(path, _)| path != "module.yml")
        .collect();
    files.push((
        "module.yml".into(),
        format!(
            r#"name: {ACCOUNTS}
version: "1.0.0"
description: Fixture module with django-allauth and Django REST framework
dependencies: ["django-allauth>=65", "djangorestframework>=3.15"]
django_apps: [django.contrib.sites, allauth, allauth.account, rest_framework, {pkg}]
middleware: [allauth.account.middleware.AccountMiddleware]
urls:
  - {{route: "accounts/", include: allauth.urls}}
  - {{route: "accounts/", include: {pkg}.account_urls}}
  - {{route: "api/", include: {pkg}.api}}
# Its pages under api/ declare nothing: signed-in users only.
access: {{allauth.urls: public, {pkg}.account_urls: public}}
nav:
  - {{label: Records, url: accounts-records, show: signed_in}}
  - {{label: Join us, url: account_signup, show: signed_out}}
  - {{label: Not mounted, url: "nowhere:page"}}
settings:
  SITE_ID: 1
  AUTHENTICATION_BACKENDS:
    - django.contrib.auth.backends.ModelBackend
    - allauth.account.auth_backends.AuthenticationBackend
"#
        ),
    ));
    // Like upstream auth's urls.py: allauth's URLs again, inside its namespace.
    files.push((
        format!("{pkg}/account_urls.py"),
        r#"from django.urls import include, path
from django.views.generic import TemplateView

app_name = "accounts_fixture"

urlpatterns = [
    path("", include("allauth.urls")),
    path("profile/", TemplateView.as_view(template_name="accounts_fixture/page.html"), name="profile"),
]
"#
        .into(),
    ));
    files.push((
        format!("{pkg}/api.py"),
        r#"from django.contrib.auth import get_user_model
from django.urls import path
from django.views.generic import ListView, TemplateView
from rest_framework.response import Response
from rest_framework.views import APIView


class WhoAmI(APIView):
    """No permission_classes: the project's REST_FRAMEWORK defaults decide."""

    def get(self, request):
        return Response({"user": request.user.get_username()})


class Records(ListView):
    """Lists every user's e-mail address, like a CRM dashboard lists contacts."""

    template_name = "accounts_fixture/records.html"

    def get_queryset(self):
        return get_user_model().objects.order_by("pk")


urlpatterns = [
    path("whoami/", WhoAmI.as_view(), name="accounts-whoami"),
    path("page/", TemplateView.as_view(template_name="accounts_fixture/page.html")),
    path("records/", Records.as_view(), name="accounts-records"),
    path("records/<int:pk>/", Records.as_view(), name="accounts-record"),
]
"#
        .into(),
    ));
    files.push((
        format!("{pkg}/templates/accounts_fixture/page.html"),
        r#"{% extends "base.html" %}
{% block title %}Fixture page{% endblock %}
{% block extra_css %}<link rel="stylesheet" href="/static/accounts-fixture.css">{% endblock %}
{% block content %}<p id="fixture-page">A module's page</p>{% endblock %}
{% block extra_js %}<script src="/static/accounts-fixture.js"></script>{% endblock %}
"#
        .into(),
    ));
    files.push((
        format!("{pkg}/templates/accounts_fixture/records.html"),
        r#"{% extends "base.html" %}
{% block content %}<ul id="records">{% for u in object_list %}<li>{{ u.email }}</li>{% endfor %}</ul>{% endblock %}
"#
        .into(),
    ));
    files
}

/// Requests as a visitor and as a signed-in user, through Django's test client.
const ACCOUNT_PROBE: &str = r#"
import json
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
get_user_model().objects.create_user("alice", "alice@example.com", "correct horse battery staple")
out = {"walk": anonymous_walk(["alice@example.com"])}

from collections import Counter
from allauth import urls as allauth_urls
from django.urls import URLResolver, get_resolver, reverse

def url_names(patterns):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from url_names(p.url_patterns)
        elif p.name:
            yield p.name

allauth_names = set(url_names(allauth_urls.urlpatterns))
mounted = Counter(n for n in url_names(get_resolver().url_patterns) if n in allauth_names)
out["allauth_names"] = {n: mounted[n] for n in sorted(allauth_names)}
out["profile_url"] = reverse("accounts_fixture:profile")
client = Client()
response = client.get("/api/records/")
out["anonymous_records"] = {"status": response.status_code, "location": response.get("Location", "")}
def page(name, url):
    response = client.get(url)
    out[name] = {
        "status": response.status_code,
        "templates": [t.name for t in response.templates],
        "html": response.content.decode(),
    }
out["home_anonymous"] = client.get("/").content.decode()
page("login", "/accounts/login/")
page("signup", "/accounts/signup/")
out["anonymous_api"] = client.get("/api/whoami/").status_code
response = client.post("/accounts/login/", {"login": "alice", "password": "correct horse battery staple"})
out["login_post"] = {"status": response.status_code, "location": response.get("Location", "")}
page("page", "/api/page/")
out["records"] = client.get("/api/records/").content.decode()
response = client.get("/api/whoami/")
out["user_api"] = {"status": response.status_code, "body": response.content.decode()}
out["home_signed_in"] = client.get("/").content.decode()
print("QS-PROBE " + json.dumps(out))
"#;

/// What every page of `theme`'s layout contains.
fn layout_markers(theme: Theme) -> Vec<&'static str> {
    let mut markers = vec![
        "<header class=\"site-header\">",
        "<footer class=\"site-footer\">",
        "href=\"/static/css/style.css\"",
        "<a class=\"skip-link\" href=\"#main\">",
    ];
    if theme == Theme::ShowcaseHtmx {
        markers.push("src=\"/static/vendor/htmx.min.js\"");
    }
    markers
}

/// Embeds the accounts fixture module into a new `theme` project, then
/// checks the account pages, the API default and (with Chromium) takes a
/// screenshot of the sign-in page.
fn account_pages_use_the_layout_and_apis_need_a_login(theme: Theme) {
    let env = TestEnv::new();
    let upstream = fixtures::module_repo(&env, ACCOUNTS);
    fixtures::commit_to(
        &env,
        &upstream,
        &accounts_module_files(),
        "accounts: allauth and DRF",
    );
    let project = generate(&env, theme);
    let source = format!("{ACCOUNTS}={}", upstream.display());
    env.qs_ok(
        &project,
        &[
            "plan",
            "--add",
            "accounts@main",
            "--source",
            &source,
            "--yes",
        ],
    );
    // Like any auth module, it sets AUTHENTICATION_BACKENDS: the owner allows it.
    let yml_path = project.join("quickscale.yml");
    let yml = std::fs::read_to_string(&yml_path).expect("yml");
    assert!(yml.contains("    ref: main\n"), "{yml}");
    std::fs::write(
        &yml_path,
        yml.replace(
            "    ref: main\n",
            "    ref: main\n    allow_settings: [AUTHENTICATION_BACKENDS]\n",
        ),
    )
    .expect("write yml");
    env.qs_ok(&project, &["apply", "--yes"]);
    assert_clean(&env, &project, "after embedding the accounts module");
    if !python::python_enabled() {
        return;
    }
    let venv = Venv::create(&env, &project);
    venv.manage(&["migrate", "--noinput"], &[]);
    let out = venv.shell(&format!("{}{ACCOUNT_PROBE}", python::ANONYMOUS_WALK), &[]);
    let text = stdout(&out);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("QS-PROBE "))
        .unwrap_or_else(|| panic!("the probe printed no result:\n{}", describe(&out)));
    let seen: serde_json::Value = serde_json::from_str(line).expect("probe JSON");

    // No page lists records to a visitor: the module's pages, which
    // declare no access, send visitors to the sign-in page.
    let walk = &seen["walk"];
    assert_eq!(
        walk["leaks"],
        serde_json::json!([]),
        "pages list records to visitors: {walk:#}"
    );
    assert!(walk["requested"].as_u64().unwrap_or(0) >= 10, "{walk:#}");
    for path in ["/api/records/", "/api/records/1/", "/api/page/"] {
        assert_eq!(walk["statuses"][path], 302, "{path}: {walk:#}");
    }
    assert_eq!(walk["statuses"]["/accounts/login/"], 200, "{walk:#}");
    assert_eq!(
        seen["anonymous_records"]["location"], "/accounts/login/?next=/api/records/",
        "{seen}"
    );
    // Signed in, the same page lists them (the walk would have seen a leak).
    let records = seen["records"].as_str().unwrap_or_default();
    assert!(records.contains("<li>alice@example.com</li>"), "{records}");

    // django-allauth's pages render inside the theme's own layout.
    for page in ["login", "signup", "page"] {
        let html = seen[page]["html"].as_str().unwrap_or_default();
        assert_eq!(seen[page]["status"], 200, "{page}: {html}");
        for marker in layout_markers(theme) {
            assert!(
                html.contains(marker),
                "{page}: the {} layout's `{marker}` is missing:\n{html}",
                theme.name()
            );
        }
    }
    // allauth's URLs are mounted once, though the module's URLconf includes them again.
    let names = seen["allauth_names"].as_object().expect("allauth names");
    assert!(names.contains_key("account_login"), "{names:?}");
    let twice: Vec<_> = names.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "allauth URL names mounted other than once: {twice:?}"
    );
    assert_eq!(seen["profile_url"], "/accounts/profile/", "{seen}");
    let login_templates = seen["login"]["templates"].to_string();
    assert!(
        login_templates.contains("\"allauth/layouts/base.html\"")
            && login_templates.contains("\"base.html\""),
        "{login_templates}"
    );
    let login = seen["login"]["html"].as_str().unwrap_or_default();
    assert!(
        login.contains("name=\"login\""),
        "no sign-in form:\n{login}"
    );
    assert!(login.contains("account-page"), "{login}");
    // Password reset works by e-mail only, so sign-up does not call it optional.
    let signup = seen["signup"]["html"].as_str().unwrap_or_default();
    assert!(signup.contains("type=\"email\""), "{signup}");
    assert!(
        !signup.contains("(optional)"),
        "sign-up calls the e-mail optional:\n{signup}"
    );
    assert!(
        !login.contains("<strong>Menu:</strong>"),
        "allauth's default layout is still used:\n{login}"
    );
    assert!(
        login.contains(">Sign up</a>"),
        "the navigation offers no sign-up link:\n{login}"
    );
    // A module's own template fills the extra_css/extra_js blocks.
    let page = seen["page"]["html"].as_str().unwrap_or_default();
    for part in [
        "href=\"/static/accounts-fixture.css\"",
        "src=\"/static/accounts-fixture.js\"",
        "id=\"fixture-page\"",
    ] {
        assert!(page.contains(part), "`{part}` is missing:\n{page}");
    }

    // Django REST framework needs a signed-in user by default.
    assert_eq!(
        seen["anonymous_api"], 403,
        "an API view without permission_classes answers anonymous requests: {seen}"
    );
    assert_eq!(
        seen["login_post"]["status"], 302,
        "signing in failed: {seen}"
    );
    // Signing in without ?next= lands on the project's main page.
    assert_eq!(seen["login_post"]["location"], "/", "{seen}");
    assert_eq!(seen["user_api"]["status"], 200, "{seen}");
    assert_eq!(seen["user_api"]["body"], "{\"user\":\"alice\"}", "{seen}");
    let home = seen["home_signed_in"].as_str().unwrap_or_default();
    assert!(home.contains(">Sign out</a>"), "{home}");
    // The module's nav entries, as each visitor should see them, behind a
    // "Menu" toggle on narrow screens; an entry whose URL is not mounted is left out.
    let anonymous = seen["home_anonymous"].as_str().unwrap_or_default();
    assert!(
        anonymous.contains("<a href=\"/accounts/signup/\">Join us</a>"),
        "{anonymous}"
    );
    assert!(!anonymous.contains(">Records</a>"), "{anonymous}");
    assert!(!anonymous.contains(">Admin</a>"), "{anonymous}");
    assert!(
        home.contains("<a href=\"/api/records/\">Records</a>"),
        "{home}"
    );
    assert!(!home.contains(">Join us</a>"), "{home}");
    for html in [anonymous, home] {
        assert!(!html.contains("Not mounted"), "{html}");
        assert!(
            html.contains("<label for=\"nav-toggle\" class=\"nav-toggle\""),
            "{html}"
        );
    }

    // For eyes: target/test-cache/screenshots/<theme>-{home,login}.png.
    if let Some(chromium) = python::chromium("the screenshots of the sign-in page") {
        let scratch = tempfile::tempdir().expect("tempdir");
        let server = venv.runserver(scratch.path());
        for (name, path) in [("home", "/"), ("login", "/accounts/login/")] {
            let png = python::cache_dir("screenshots").join(format!("{}-{name}.png", theme.name()));
            python::screenshot(&env, &chromium, &format!("{}{path}", server.base_url), &png);
        }
        // A phone: the navigation folds behind "Menu".
        let png =
            python::cache_dir("screenshots").join(format!("{}-login-phone.png", theme.name()));
        python::screenshot_sized(
            &env,
            &chromium,
            &format!("{}/accounts/login/", server.base_url),
            &png,
            (390, 844),
        );
        drop(server);
    }
    assert_clean(&env, &project, "after running the project");
}

#[test]
fn showcase_html_account_pages_use_the_layout_and_apis_need_a_login() {
    account_pages_use_the_layout_and_apis_need_a_login(Theme::ShowcaseHtml);
}

#[test]
fn showcase_htmx_account_pages_use_the_layout_and_apis_need_a_login() {
    account_pages_use_the_layout_and_apis_need_a_login(Theme::ShowcaseHtmx);
}

#[test]
fn showcase_react_account_pages_use_the_layout_and_apis_need_a_login() {
    account_pages_use_the_layout_and_apis_need_a_login(Theme::ShowcaseReact);
}

/// The catalog's wiring hints mount a module whose own URL patterns carry
/// their prefix (notifications, forms) at the root: a stand-in for the
/// notifications module (same package, same pattern, no `urls` in its
/// manifest) answers at the webhook path upstream documents.
#[test]
fn catalog_hints_mount_notifications_at_its_documented_path() {
    let env = TestEnv::new();
    let name = "notifications";
    let pkg = fixtures::app_package(name);
    let upstream = fixtures::module_repo(&env, name);
    let mut files = fixtures::module_files(name, "1.0.0");
    for (path, text) in &mut files {
        if path == "module.yml" {
            // Like upstream's manifest: no `urls`, so the catalog's hint applies.
            let cut = text.find("urls:").expect("urls in the fixture manifest");
            text.truncate(cut);
        } else if *path == format!("{pkg}/urls.py") {
            *text = "from django.urls import path\n\nfrom . import views\n\napp_name = \"quickscale_notifications\"\n\nurlpatterns = [\n    path(\"notifications/webhooks/resend/\", views.index, name=\"resend-webhook\"),\n]\n".into();
        }
    }
    fixtures::commit_to(
        &env,
        &upstream,
        &files,
        "notifications: upstream's URL shape",
    );
    let project = generate(&env, Theme::ShowcaseHtml);
    let source = format!("{name}={}", upstream.display());
    env.qs_ok(
        &project,
        // @main: the catalog's ref (splits/notifications-module) is not in the fixture.
        &[
            "plan",
            "--add",
            &format!("{name}@main"),
            "--source",
            &source,
            "--yes",
        ],
    );
    env.qs_ok(&project, &["apply", "--yes"]);
    let urls_py = read(&project.join(PACKAGE).join("urls_modules.py"));
    assert!(
        urls_py.contains(&format!("path(\"\", include(\"{pkg}.urls\"))")),
        "{urls_py}"
    );
    if !python::python_enabled() {
        return;
    }
    let venv = Venv::create(&env, &project);
    let seen = probe(
        &venv,
        "/notifications/webhooks/resend/",
        "quickscale_notifications:resend-webhook",
        &[],
    );
    assert_eq!(seen["reverse"], "/notifications/webhooks/resend/", "{seen}");
    assert_eq!(seen["status"], 200, "{seen}");
    assert_eq!(seen["json"]["module"], name, "{seen}");
}

// --- f. Hostile values and names -------------------------------------------------

/// Option values that would break out of a naive Python (or template) literal.
const HOSTILE: &[&str] = &[
    "",
    "double \" quote",
    "single ' quote",
    "\"",
    "\\",
    "ends with a backslash \\",
    "\\\" escaped quote",
    "backslash-newline \\\nimport os",
    "line\nbreak",
    "crlf\r\nline",
    "tab\there",
    "{{ project.package }}",
    "{% raw %}{{ x }}{% endraw %}",
    "{%- if true -%}x{%- endif -%}",
    "\"\"\"",
    "'''",
    "\"\"\"; import os; os.system('touch /tmp/qs-pwned'); \"\"\"",
    "'''; import os; '''",
    "\", \"DEBUG\": True, \"X\": \"",
    "}\nimport os\nX = {",
    "# not a comment",
    "\\N{BULLET} \\u0041 \\x41 \\101",
    "f\"{__import__('os')}\"",
    "nul \u{0} byte",
    "escape \u{1b}[31mred\u{1b}[0m bell \u{7}",
    "del \u{7f} nel \u{85}",
    "line sep \u{2028} para sep \u{2029}",
    "rtl \u{202e}override\u{202c} isolate \u{2066}x\u{2069}",
    "bom \u{feff} zwsp \u{200b}",
    "emoji 🦀 zwj 👩\u{200d}💻 flag 🇪🇸",
    "combining e\u{301} cjk 漢字 arabic مرحبا",
    "edges \u{d7ff}\u{e000}\u{fffd}\u{10000}\u{10ffff}",
];

/// Checks every generated file with Python's own parser: only the docstring
/// and annotated assignments of pure literals; prints their values as JSON.
const LITERAL_CHECK: &str = r#"
import ast, json, sys

results = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        source = f.read()
    tree = ast.parse(source, filename=path)
    values = {}
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            values[node.target.id] = ast.literal_eval(node.value)
            continue
        sys.exit(f"{path}:{node.lineno}: not a literal assignment: {ast.dump(node)[:300]}")
    namespace = {}
    exec(compile(tree, path, "exec"), namespace)
    for name, value in values.items():
        if namespace[name] != value:
            sys.exit(f"{path}: {name} differs between exec and literal_eval")
    results.append(values)
json.dump(results, sys.stdout, ensure_ascii=True)
"#;

/// Parses each file with python3 and returns its assignments as JSON.
fn python_literals(env: &TestEnv, dir: &Path, files: &[PathBuf]) -> Vec<serde_json::Value> {
    let script = dir.join("literal_check.py");
    std::fs::write(&script, LITERAL_CHECK).expect("write script");
    let mut args = vec![script.to_str().expect("utf8 path")];
    args.extend(files.iter().map(|f| f.to_str().expect("utf8 path")));
    let out = python::system_python(env, dir, &args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("python printed no JSON ({e}):\n{}", describe(&out)))
}

/// Printable ASCII and newlines only: nothing can hide or reorder code.
fn assert_plain_ascii(path: &Path) {
    let bytes = std::fs::read(path).expect("read");
    if let Some(pos) = bytes
        .iter()
        .position(|b| !(b' '..=b'~').contains(b) && *b != b'\n')
    {
        panic!(
            "{}: byte {:#04x} at offset {pos} is not printable ASCII",
            path.display(),
            bytes[pos]
        );
    }
}

fn json_of(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).expect("value to JSON")
}

#[test]
fn hostile_option_values_render_as_inert_python_literals() {
    if !python::python3_available() {
        return;
    }
    let env = TestEnv::new();
    let dir = env.root();
    // Structured values of every kind, from a module with static settings.
    let strings = || HOSTILE.iter().map(|s| Value::Str((*s).to_owned()));
    let structured = BTreeMap::from([
        ("EXTRA_LIST".to_owned(), Value::List(strings().collect())),
        (
            "EXTRA_MAP".to_owned(),
            Value::Map(
                HOSTILE
                    .iter()
                    .zip(strings())
                    .map(|(k, v)| ((*k).to_owned(), Value::List(vec![v, Value::Null])))
                    .collect(),
            ),
        ),
        (
            "EXTRA_SCALARS".to_owned(),
            Value::List(vec![
                Value::Int(i64::MIN),
                Value::Int(i64::MAX),
                Value::Int(0),
                Value::Float(0.1),
                Value::Float(-0.0),
                Value::Float(1e300),
                Value::Float(-2.5e-300),
                Value::Float(5e-324),
                Value::Float(f64::MAX),
                Value::Float(3.0),
                Value::Bool(true),
                Value::Bool(false),
                Value::Null,
                Value::Map(BTreeMap::new()),
                Value::List(Vec::new()),
            ]),
        ),
    ]);
    let extra = ModuleInput {
        name: "extra".into(),
        manifest: None,
        hints: WiringHints {
            settings: Some(structured.clone()),
            ..WiringHints::default()
        },
        options: BTreeMap::new(),
        installable: false,
        access: None,
    };

    let mut settings_files = Vec::new();
    let mut url_files = Vec::new();
    let mut expected = Vec::new();
    for (i, hostile) in HOSTILE.iter().enumerate() {
        let input = fixture_input(&[("greeting", Value::Str((*hostile).to_owned()))]);
        let w = wiring::compute(&[input, extra.clone()]).expect("wiring");
        let rendered = wiring::render(PACKAGE, &w);
        let out_dir = dir.join(format!("case{i}"));
        write_file_map(&out_dir, &rendered);
        for path in rendered.keys() {
            assert_plain_ascii(&out_dir.join(path));
        }
        settings_files.push(out_dir.join(PACKAGE).join("settings/modules.py"));
        url_files.push(out_dir.join(PACKAGE).join("urls_modules.py"));
        let mut settings: serde_json::Map<String, serde_json::Value> = structured
            .iter()
            .map(|(k, v)| (k.clone(), json_of(v)))
            .collect();
        settings.insert("FIXTURE_GREETING".into(), (*hostile).into());
        settings.insert("FIXTURE_PAGE_SIZE".into(), 10.into());
        expected.push(serde_json::json!({
            "MODULE_INSTALLED_APPS": ["quickscale_modules_fixture"],
            "MODULE_MIDDLEWARE": [],
            "MODULE_SETTINGS": settings,
        }));
    }
    let seen = python_literals(&env, dir, &settings_files);
    assert_eq!(seen.len(), expected.len());
    for ((got, want), hostile) in seen.iter().zip(&expected).zip(HOSTILE) {
        assert_eq!(
            got["MODULE_SETTINGS"]["FIXTURE_GREETING"],
            serde_json::Value::from(*hostile),
            "greeting {hostile:?} did not round-trip"
        );
        assert_eq!(got, want, "greeting {hostile:?}: settings differ");
    }
    // urls_modules.py calls path()/include(), so it is not all literals; its
    // names are validated, and it must still parse.
    let mut args = vec![
        "-c",
        "import ast, sys\nfor p in sys.argv[1:]:\n    ast.parse(open(p, encoding='utf-8').read(), filename=p)",
    ];
    args.extend(url_files.iter().map(|p| p.to_str().expect("utf8 path")));
    python::system_python(&env, dir, &args);
}

#[test]
fn hostile_option_values_survive_quickscale_yml_and_apply() {
    let env = TestEnv::new();
    let upstream = fixtures::module_repo(&env, "a");
    let project = generate(&env, Theme::ShowcaseHtml);
    // Command-line arguments cannot carry NUL; everything else goes through
    // `--set`, the YAML emitter and parser, the note and the renderer.
    let first = "q\"uo'te \\ back\\slash {{ project.slug }} {% raw %} \"\"\" ''' \nnew\r\nline \u{202e}rlo 🦀 👩\u{200d}💻 \t# tab \u{1b}[31m";
    let second = "\"\"\"; import os; os.system('touch /tmp/qs-pwned'); \"\"\"\n'''\\";
    let source = format!("a={}", upstream.display());
    env.qs_ok(
        &project,
        &[
            "plan",
            "--add",
            "a",
            "--source",
            &source,
            "--set",
            &format!("a.greeting={first}"),
            "--yes",
        ],
    );
    env.qs_ok(&project, &["apply", "--yes"]);
    assert_clean(&env, &project, "after apply");

    let settings_path = project.join(PACKAGE).join("settings/modules.py");
    let have_python = python::python3_available();
    let check = |want: &str| {
        assert_plain_ascii(&settings_path);
        if have_python {
            let seen = python_literals(&env, env.root(), std::slice::from_ref(&settings_path));
            assert_eq!(
                seen[0]["MODULE_SETTINGS"]["A_GREETING"],
                serde_json::Value::from(want),
                "{}",
                read(&settings_path)
            );
        }
        assert_eq!(
            note(&env, &project).modules["a"].options["greeting"],
            Value::Str(want.to_owned()),
            "the note's option differs"
        );
    };
    check(first);

    env.qs_ok(
        &project,
        &[
            "plan",
            "--reconfigure",
            "--set",
            &format!("a.greeting={second}"),
            "--yes",
        ],
    );
    env.qs_ok(&project, &["apply", "--yes"]);
    assert_clean(&env, &project, "after reconfiguring");
    check(second);
    let changed = env.git(&project, &["diff", "--name-only", "HEAD~1", "HEAD"]);
    assert_eq!(
        changed.lines().collect::<Vec<_>>(),
        [
            format!("{PACKAGE}/settings/modules.py").as_str(),
            "quickscale.yml"
        ]
    );
}

#[test]
fn hostile_slugs_and_packages_are_refused_and_write_nothing() {
    let env = TestEnv::new();
    let cases: &[(&[&str], &str)] = &[
        (&["plan", "a\"b", "--yes"], "invalid project slug"),
        (&["plan", "{{ x }}", "--yes"], "invalid project slug"),
        (&["plan", "../escape", "--yes"], "invalid project slug"),
        (&["plan", "a\nb", "--yes"], "invalid project slug"),
        (&["plan", "demo\u{202e}", "--yes"], "invalid project slug"),
        (
            &["plan", "ok", "--package", "x; import os", "--yes"],
            "invalid package name",
        ),
        (
            &["plan", "ok", "--package", "x\"", "--yes"],
            "invalid package name",
        ),
        (
            &["plan", "ok", "--package", "import", "--yes"],
            "invalid package name",
        ),
        (
            &["plan", "ok", "--package", "a.b", "--yes"],
            "invalid package name",
        ),
    ];
    let before = snapshot(env.root());
    for (args, message) in cases {
        let out = env.qs(env.root(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}:\n{}", describe(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("error: ") && err.contains(message),
            "{args:?}: expected `{message}`:\n{err}"
        );
        assert_eq!(snapshot(env.root()), before, "{args:?} wrote something");
    }

    // The same names written into quickscale.yml by hand are refused by apply.
    let project = env.root().join("hand-written");
    std::fs::create_dir_all(&project).expect("mkdir");
    for (identity, message) in [
        ("slug: \"a\\\"b\"\n  package: ab", "invalid project slug"),
        (
            "slug: ab\n  package: \"x; import os\"",
            "invalid package name",
        ),
        ("slug: \"{{ x }}\"\n  package: ab", "invalid project slug"),
    ] {
        std::fs::write(
            project.join("quickscale.yml"),
            format!(
                "version: \"1\"\nproject:\n  {identity}\n  theme: showcase_html\nmodules: {{}}\n"
            ),
        )
        .expect("write quickscale.yml");
        let before = snapshot(env.root());
        let out = env.qs(&project, &["apply", "--yes"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{identity}:\n{}",
            describe(&out)
        );
        assert!(
            stderr(&out).contains(message),
            "{identity}:\n{}",
            describe(&out)
        );
        assert_eq!(snapshot(env.root()), before, "apply wrote something");
    }
}

// --- h. The team tooling: CI's lint job, pre-commit, the lock files ---------------

/// Prints CI's lint job's `run` steps (name, run, env) as JSON.
const LINT_STEPS: &str = r#"
import json, yaml
ci = yaml.safe_load(open(".github/workflows/ci.yml"))
print("QS-STEPS " + json.dumps([s for s in ci["jobs"]["lint"]["steps"] if "run" in s]))
"#;

/// Writes the `repo: local` part of .pre-commit-config.yaml to `out`; prints the hook ids.
const LOCAL_HOOKS: &str = r#"
import json, sys, yaml
config = yaml.safe_load(open(".pre-commit-config.yaml"))
config["repos"] = [r for r in config["repos"] if r["repo"] == "local"]
yaml.safe_dump(config, open(sys.argv[1], "w"))
print("QS-HOOKS " + json.dumps([h["id"] for r in config["repos"] for h in r["hooks"]]))
"#;

/// Runs CI's lint job's steps in `project` as GitHub does (bash -eo pipefail,
/// the step's env), the venv first on PATH; pre-commit with the repo-local
/// hooks only (`config`): offline. Returns the failed step's name and output.
pub(crate) fn run_lint_job(
    env: &TestEnv,
    venv: &Venv<'_>,
    steps: &[serde_json::Value],
    config: &Path,
) -> Result<(), String> {
    let path = lint_path(venv);
    for step in steps {
        let name = step["name"].as_str().unwrap_or("(unnamed)");
        let run = step["run"].as_str().expect("run").replace(
            "pre-commit run",
            &format!("pre-commit run -c {}", config.display()),
        );
        let mut cmd = python::base_command(env, "bash", venv.project());
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &run])
            .env("PATH", &path)
            .env("VIRTUAL_ENV", venv.bin_dir().parent().expect("venv"))
            .env("PIP_CACHE_DIR", python::cache_dir("pip"))
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("UV_CACHE_DIR", python::cache_dir("uv"))
            .env("PRE_COMMIT_HOME", env.root().join("pre-commit-home"));
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            cmd.env(k, v.as_str().expect("env value"));
        }
        let out = python::run_with_timeout(cmd, std::time::Duration::from_secs(300));
        if !out.status.success() {
            return Err(format!("{name}:\n{}", describe(&out)));
        }
    }
    Ok(())
}

/// PATH for the lint job: the venv's bin/ (with a `pip` of its own, so that
/// nothing installs into the shared base venv), then the base venv's (its
/// ruff and pre-commit), then the host's.
fn lint_path(venv: &Venv<'_>) -> std::ffi::OsString {
    use std::os::unix::fs::PermissionsExt;
    let shim = venv.bin_dir().join("pip");
    if !shim.exists() {
        let script = format!(
            "#!/bin/sh\nexec \"{}\" -m pip \"$@\"\n",
            venv.python_path().display()
        );
        std::fs::write(&shim, script).expect("pip shim");
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let base = python::cache_dir("venvs")
        .join(venv.stack().label())
        .join("bin");
    std::env::join_paths(
        [venv.bin_dir(), base]
            .into_iter()
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
    )
    .expect("PATH")
}

/// CI's lint job's `run` steps as ci.yml has them, and a pre-commit config
/// of the repo-local hooks only (written under `env`), for [`run_lint_job`].
pub(crate) fn lint_job(venv: &Venv<'_>) -> (Vec<serde_json::Value>, PathBuf) {
    let steps_out = venv.python(&["-c", LINT_STEPS], &[]);
    let steps: Vec<serde_json::Value> = stdout(&steps_out)
        .lines()
        .find_map(|l| l.strip_prefix("QS-STEPS "))
        .map(|j| serde_json::from_str(j).expect("steps JSON"))
        .unwrap_or_else(|| panic!("{}", describe(&steps_out)));
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    for needed in [
        "ruff check",
        "ruff format --check",
        "pre-commit run --all-files",
    ] {
        assert!(
            runs.iter().any(|r| r.contains(needed)),
            "the lint job does not run `{needed}`: {runs:?}"
        );
    }
    let config = venv
        .bin_dir()
        .parent()
        .expect("venv dir")
        .join("pre-commit-local.yaml");
    let hooks_out = venv.python(&["-c", LOCAL_HOOKS, config.to_str().expect("UTF-8")], &[]);
    assert!(
        stdout(&hooks_out).contains("QS-HOOKS [\"ruff-check\", \"ruff-format\"]"),
        "{}",
        describe(&hooks_out)
    );
    (steps, config)
}

/// The README's "Pinned dependencies" commands that write a lock.
fn lock_commands(readme: &str) -> Vec<String> {
    let section = readme
        .split("## Pinned dependencies")
        .nth(1)
        .expect("README has a Pinned dependencies section");
    section
        .lines()
        .filter(|l| l.starts_with("uv pip compile "))
        .map(str::to_owned)
        .collect()
}

/// A generated project passes CI's lint job as written in its ci.yml (ruff
/// check, ruff format --check, pre-commit's repo-local hooks, the lock
/// check), and each of them can fail; the README's uv commands write locks
/// that pin every package, which the lint job then checks against
/// requirements*.txt.
#[test]
fn generated_lint_job_pre_commit_hooks_and_locks_work() {
    let env = TestEnv::new();
    let project = generate(&env, Theme::ShowcaseHtml);
    if !python::python_enabled() {
        return;
    }
    let venv = Venv::create(&env, &project);
    let (steps, config) = lint_job(&venv);

    // An embedded module's code is its authors': with a ruff configuration
    // of its own (upstream's have one), it still stays out of the project's lint.
    let module = project.join("modules/m");
    std::fs::create_dir_all(&module).expect("mkdir");
    std::fs::write(
        module.join("pyproject.toml"),
        "[tool.ruff]\nline-length = 79\n",
    )
    .expect("write");
    std::fs::write(module.join("loose.py"), "import os\nx = {'a':1}\n").expect("write");
    env.git(&project, &["add", "modules/m"]);
    env.git(&project, &["commit", "-qm", "a module", "--no-verify"]);

    // As generated: every step passes, and leaves the worktree as it was.
    if let Err(e) = run_lint_job(&env, &venv, &steps, &config) {
        panic!("CI's lint job fails on the generated project: {e}");
    }
    assert_clean(&env, &project, "after the lint job");

    // An unused import, committed: ruff check and pre-commit's hook refuse it.
    std::fs::write(project.join("demo/extra.py"), "import os\n").expect("write");
    env.git(&project, &["add", "demo/extra.py"]);
    env.git(&project, &["commit", "-qm", "extra", "--no-verify"]);
    let err = run_lint_job(&env, &venv, &steps, &config).expect_err("ruff accepted it");
    assert!(
        err.starts_with("ruff check:") && err.contains("F401"),
        "{err}"
    );
    let pre_commit: Vec<serde_json::Value> = steps
        .iter()
        .filter(|s| s["run"].as_str().is_some_and(|r| r.contains("pre-commit")))
        .cloned()
        .collect();
    let err = run_lint_job(&env, &venv, &pre_commit, &config).expect_err("pre-commit accepted it");
    assert!(
        err.contains("ruff check") && err.contains("Failed"),
        "{err}"
    );
    env.git(&project, &["reset", "-q", "--hard", "HEAD~1"]);

    // The README's lock commands (uv, from PyPI into the venv): every package pinned.
    venv.pip(&["install", "-q", "uv"]);
    let readme = read(&project.join("README.md"));
    let commands = lock_commands(&readme);
    assert_eq!(commands.len(), 2, "{readme}");
    for command in &commands {
        let mut cmd = python::base_command(&env, "bash", &project);
        cmd.args(["-c", command])
            .env("PATH", lint_path(&venv))
            .env("UV_CACHE_DIR", python::cache_dir("uv"));
        let out = python::run_with_timeout(cmd, std::time::Duration::from_secs(300));
        assert!(out.status.success(), "{command}:\n{}", describe(&out));
    }
    for lock in ["requirements.lock", "requirements-dev.lock"] {
        let text = read(&project.join(lock));
        let pins: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
            .collect();
        assert!(
            pins.iter().any(|l| l.starts_with("django==")),
            "{lock}:\n{text}"
        );
        let loose: Vec<&&str> = pins.iter().filter(|l| !l.contains("==")).collect();
        assert!(loose.is_empty(), "{lock} leaves these unpinned: {loose:?}");
    }
    env.git(
        &project,
        &["add", "requirements.lock", "requirements-dev.lock"],
    );
    env.git(&project, &["commit", "-qm", "Lock", "--no-verify"]);
    if let Err(e) = run_lint_job(&env, &venv, &steps, &config) {
        panic!("CI's lint job fails with fresh locks: {e}");
    }
    assert_clean(&env, &project, "after the lint job checked the locks");
    // A requirement the lock lacks: the lint job says so.
    let reqs = project.join("requirements.txt");
    std::fs::write(&reqs, read(&reqs) + "six>=1.16\n").expect("write");
    env.git(&project, &["commit", "-qam", "six", "--no-verify"]);
    let err = run_lint_job(&env, &venv, &steps, &config).expect_err("a stale lock passed");
    assert!(
        err.starts_with("Lock files match the requirements:") && err.contains("+six=="),
        "{err}"
    );
}

/// The optional type checking the README offers (issue 24 item 6):
/// `pip install -r requirements-typecheck.txt` then `mypy` passes on the
/// generated project of every offline theme, leaves modules/ and migrations
/// out, and fails naming a project file with a type error. mypy is not in
/// requirements-dev.txt (the usual install stays small).
#[test]
fn generated_mypy_with_django_stubs_passes_and_catches_errors() {
    let env = TestEnv::new();
    let project = generate(&env, Theme::ShowcaseHtmx);
    let readme = read(&project.join("README.md"));
    let section = readme
        .split("## Type checking (optional)")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Type checking (optional) section");
    let commands: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert_eq!(
        commands,
        ["pip install -r requirements-typecheck.txt", "mypy"],
        "{section}"
    );
    let typecheck = read(&project.join("requirements-typecheck.txt"));
    for needed in [
        "-r requirements-dev.txt",
        "mypy",
        "django-stubs[compatible-mypy]",
    ] {
        assert!(
            typecheck.lines().any(|l| l.starts_with(needed)),
            "requirements-typecheck.txt lacks {needed}:\n{typecheck}"
        );
    }
    let dev = read(&project.join("requirements-dev.txt"));
    assert!(
        !dev.contains("mypy") && !dev.contains("django-stubs"),
        "{dev}"
    );
    if !python::python_enabled() {
        return;
    }
    let venv = Venv::create_on(
        &env,
        &project,
        &python::lts_stack(),
        &["-r", "requirements-typecheck.txt"],
    );
    let cache = python::cache_dir("mypy");
    let mypy = |venv: &Venv<'_>| {
        venv.try_python(
            &["-m", "mypy"],
            &[("MYPY_CACHE_DIR", cache.to_str().expect("UTF-8"))],
        )
    };

    // Type errors in an embedded module and in a migration are not the
    // project's: as generated plus those, mypy passes.
    let bad = "x: int = \"a\"\n";
    std::fs::create_dir_all(project.join("modules/m")).expect("mkdir");
    std::fs::write(project.join("modules/m/bad.py"), bad).expect("write");
    let migrations = project.join("demo/migrations");
    std::fs::create_dir_all(&migrations).expect("mkdir");
    std::fs::write(migrations.join("__init__.py"), "").expect("write");
    std::fs::write(migrations.join("0001_bad.py"), bad).expect("write");
    let out = mypy(&venv);
    assert!(
        out.status.success() && stdout(&out).contains("Success"),
        "mypy fails on the generated project:\n{}",
        describe(&out)
    );

    // A type error in a project module: mypy fails and names it.
    std::fs::write(project.join("demo/extra.py"), bad).expect("write");
    let out = mypy(&venv);
    let text = stdout(&out);
    assert!(
        !out.status.success() && text.contains("demo/extra.py:1: error"),
        "mypy accepted `{}` in demo/extra.py:\n{}",
        bad.trim(),
        describe(&out)
    );
    assert!(
        !text.contains("modules/m") && !text.contains("migrations"),
        "{text}"
    );

    // showcase_react's package passes too (same dependencies: the same
    // venv); showcase_html is the skeleton, checked above under htmx's views.
    let other = TestEnv::new();
    let project = generate(&other, Theme::ShowcaseReact);
    let venv = venv.moved_to(&project);
    let out = mypy(&venv);
    assert!(
        out.status.success(),
        "mypy fails on the generated showcase_react project:\n{}",
        describe(&out)
    );
}
