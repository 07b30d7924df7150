//! Acceptance (issue 24, one design system): module pages look native in
//! every theme, checked inside headless Chromium.
//!
//! Each theme × module set is generated, migrated and served
//! (`runserver`); `common/layout_check.py` drives Chromium over the
//! DevTools protocol on a pipe and measures every page at 375 px and
//! 1280 px: the theme's shell and stylesheet, a page header (`.page-header`
//! with an `<h1>`) on module pages, the project's name in the page title, no
//! emoji icons, navigation links on one line (and one row), no element
//! wider than the viewport outside a scrolling container, no `<button>`
//! in the browser's default look (its computed style compared with a
//! default button's in a shadow root), and no two buttons touching. Screenshots land in
//! `target/test-cache/screenshots/layout-*.png`; `UPDATE_DOCS=1` copies
//! the ones docs/gallery.md shows into docs/gallery/.
//!
//! Gated: `QUICKSCALE_LAYOUT_TESTS=1` (they take minutes, so the CI run of
//! scripts/test.sh leaves them out; run them by hand after changing a
//! theme's or module's templates or CSS), `QUICKSCALE_PYTHON_TESTS=1` and
//! a `chromium` (else `SKIPPED`).
//! The first-party set (billing + teams) runs on the baseline stack in the
//! three showcase themes, which share one venv (~1 min after the base venv);
//! the upstream sets (auth, auth + crm, and crm_react) need
//! `QUICKSCALE_UPSTREAM_REPO` and a Python >= 3.12 as well.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use git_quickscale::config::Theme;

use crate::common::first_party;
use crate::common::python::{self, Stack, Venv};
use crate::common::{TestEnv, describe, repo_root, stdout};

const LAYOUT_CHECK: &str = include_str!("common/layout_check.py");
const UPSTREAM_VAR: &str = "QUICKSCALE_UPSTREAM_REPO";
/// Set to 1 to run the layout checks (see the module docs).
const LAYOUT_VAR: &str = "QUICKSCALE_LAYOUT_TESTS";

/// True when the layout checks are asked for and Python tests are on;
/// otherwise prints `SKIPPED` (when Python tests are on).
fn layout_enabled() -> bool {
    if !python::python_enabled() {
        return false;
    }
    if std::env::var(LAYOUT_VAR).is_ok_and(|v| v == "1") {
        return true;
    }
    python::skipped(&format!(
        "the layout checks in headless Chromium take minutes: set {LAYOUT_VAR}=1 to run them"
    ));
    false
}
/// The widths every page is measured at: a small phone and a laptop.
const WIDTHS: [u32; 2] = [375, 1280];

/// Creates the records the pages show and a signed-in session; prints
/// `QS-SEED {"cookie": ..., "pages": [...]}` with each page's path and
/// what the check expects of it. MODULES (a set of names) is prepended.
const SEED: &str = r#"
import json
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

User = get_user_model()
def make_user(name):
    fields = {User.USERNAME_FIELD: f"{name}@example.com" if User.USERNAME_FIELD == "email" else name}
    if User.USERNAME_FIELD != "email":
        fields["email"] = f"{name}@example.com"
    user = User._default_manager.create_user(password="correct horse battery staple", **fields)
    user.first_name, user.last_name = name.capitalize(), "Example"
    user.save()
    return user

alice = make_user("alice")
name = settings.PROJECT_NAME
pages = []
def page(path, signed_in=True, header=True, title=name, shot=None):
    pages.append({"path": path, "signed_in": signed_in, "page_header": header, "title": title, "screenshot": shot})

if HOME:
    page("/", signed_in=False, header=False)
if "teams" in MODULES:
    from quickscale_modules_teams import services
    from quickscale_modules_teams.models import Invitation
    acme = services.create_team(alice, "Acme Robotics")
    def invitation(email, role):
        invited = Invitation(team=acme, email=email, role=role, invited_by=alice)
        token = invited.new_token()
        invited.save()
        return invited, token
    bob = make_user("bob")
    services.accept(invitation(bob.email, "admin")[0], bob)
    token = invitation("dana@example.com", "member")[1]
    page(reverse("quickscale_teams:list"), shot="teams-list")
    page(reverse("quickscale_teams:create"))
    page(reverse("quickscale_teams:dashboard", kwargs={"team_slug": acme.slug}), shot="teams-dashboard")
    page(reverse("quickscale_teams:settings", kwargs={"team_slug": acme.slug}))
    page(reverse("quickscale_teams:invitation", kwargs={"token": token}), signed_in=False, shot="teams-invitation")
if "billing" in MODULES:
    from quickscale_modules_billing.models import Plan, PlanLimit
    free = Plan.objects.create(name="Free", slug="free")
    basic = Plan.objects.create(name="Basic", slug="basic", monthly_price=10, yearly_price=100, sort_order=1,
        stripe_monthly_price_id="price_basic_m", stripe_yearly_price_id="price_basic_y", highlighted=True,
        features=["Email support"])
    Plan.objects.create(name="Pro", slug="pro", monthly_price=30, sort_order=2, stripe_monthly_price_id="price_pro_m",
        features=["Priority support", "Audit log"])
    PlanLimit.objects.create(plan=free, metric="projects", limit=1)
    PlanLimit.objects.create(plan=basic, metric="projects", limit=10)
    page(reverse("quickscale_billing:pricing"), signed_in=False, shot="billing-pricing")
    page(reverse("quickscale_billing:dashboard"), shot="billing-dashboard")
if "auth" in MODULES:
    page(reverse("account_login"), signed_in=False)
    page(reverse("account_signup"), signed_in=False)
    page(reverse("quickscale_auth:profile"), shot="auth-profile")
    page(reverse("quickscale_auth:profile-edit"))
    page(reverse("quickscale_auth:account-delete"))
    page(reverse("account_change_password"))
    page(reverse("account_logout"))
if "crm" in MODULES:
    from quickscale_modules_crm.models import Company, Contact, Deal, Stage
    stages = list(Stage.objects.order_by("order")) or [Stage.objects.create(name="Lead", order=0)]
    company = Company.objects.create(name="Globex Corporation")
    for i, (first, last, title, amount) in enumerate([
        ("Carol", "Jones", "Website redesign", 48000), ("Dan", "Smith", "Support plan", 12500),
        ("Erin", "Lee", "Data migration to the new warehouse platform", 73800),
    ]):
        contact = Contact.objects.create(first_name=first, last_name=last, email=f"{first.lower()}@globex.example", company=company)
        Deal.objects.create(title=title, contact=contact, amount=amount, stage=stages[i % len(stages)])
    page(reverse("quickscale_crm:dashboard"), shot="crm-dashboard")

client = Client()
client.force_login(alice)
cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
print("QS-SEED " + json.dumps({"cookie": cookie, "pages": pages}))
"#;

fn timing(what: &str, started: Instant) {
    let _ = writeln!(
        std::io::stderr(),
        "note: layout {what}: {:.1?}",
        started.elapsed()
    );
}

/// `python <args>` of `venv` in `project` on the settings shim (its
/// directory first on the path), and a project's own module copies when it
/// shares another project's venv.
fn command(venv: &Venv<'_>, project: &Path, names: &[&str], shim: &Path, args: &[&str]) -> Command {
    let mut cmd = venv.command(args, &[("DJANGO_SETTINGS_MODULE", "layout_settings")]);
    cmd.current_dir(project);
    let mut path = vec![shim.display().to_string()];
    if project != venv.project() {
        path.extend(names.iter().map(|m| {
            project
                .join(format!("modules/{m}/src"))
                .display()
                .to_string()
        }));
    }
    cmd.env("PYTHONPATH", path.join(":"));
    cmd
}

fn run(cmd: Command, what: &str) -> String {
    let out = python::run_with_timeout(cmd, Duration::from_secs(600));
    assert!(out.status.success(), "{what}:\n{}", describe(&out));
    stdout(&out)
}

/// `manage.py runserver` in the background; killed when dropped.
struct Served {
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Starts `cmd` (`manage.py runserver` without an address) on a free
    /// port and waits until `/healthz/` answers 200.
    fn start(mut cmd: Command, scratch: &Path) -> Served {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = scratch.join(format!("runserver-{port}.log"));
        let file = std::fs::File::create(&log).expect("runserver log");
        cmd.arg(format!("127.0.0.1:{port}"))
            .stdout(file.try_clone().expect("log file"))
            .stderr(file);
        let served = Served {
            child: cmd.spawn().expect("start runserver"),
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        while !healthy(port) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "runserver did not answer /healthz/ within 60s:\n{}",
                served.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        served
    }
}

fn healthy(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = [0u8; 12];
    write!(
        stream,
        "GET /healthz/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .is_ok()
        && stream.read_exact(&mut head).is_ok()
        && &head[9..12] == b"200"
}

/// One generated project to measure.
struct Case<'a> {
    theme: Theme,
    /// Module names and the repositories they come from.
    modules: Vec<(&'a str, PathBuf)>,
}

/// Generates, migrates, seeds and serves `case`, and measures its pages in
/// Chromium. Returns the findings (`theme page @width: finding`) and the
/// venv it made when `shared` was None.
fn measure<'e>(
    env: &'e TestEnv,
    chromium: &Path,
    case: &Case<'_>,
    stack: &Stack,
    shared: Option<&Venv<'e>>,
    pip_args: &[&str],
) -> (Vec<String>, Option<Venv<'e>>) {
    let started = Instant::now();
    let names: Vec<&str> = case.modules.iter().map(|(n, _)| *n).collect();
    let slug = format!("l{}{}", case.theme.name().replace('_', ""), names.join(""));
    let borrowed: Vec<(&str, &Path)> = case
        .modules
        .iter()
        .map(|(n, p)| (*n, p.as_path()))
        .collect();
    let project = first_party::embed(env, &slug, case.theme.name(), &borrowed, &[]);
    let own = match shared {
        Some(_) => None,
        None => Some(Venv::create_on(env, &project, stack, pip_args)),
    };
    let venv = own.as_ref().or(shared).expect("a venv");
    timing(&format!("{slug}: generate + install"), started);

    // The development settings, as a visitor sees the site: without
    // django-debug-toolbar's panel (not the theme's), and with dj-stripe's
    // tables from its models (its migration history takes minutes on
    // SQLite; as in e2e_2_teams_module.rs).
    let shim = env.root().join(format!("shim-{slug}"));
    std::fs::create_dir_all(&shim).expect("mkdir");
    let mut settings = format!(
        "from {slug}.settings.local import *  # noqa: F403\nDEBUG_TOOLBAR_CONFIG = {{\"SHOW_TOOLBAR_CALLBACK\": lambda request: False}}\n"
    );
    if names.contains(&"billing") {
        settings.push_str("MIGRATION_MODULES = {\"djstripe\": None}\n");
    }
    std::fs::write(shim.join("layout_settings.py"), settings).expect("write the settings shim");
    let python = |args: &[&str]| command(venv, &project, &names, &shim, args);
    run(
        python(&["manage.py", "migrate", "--noinput", "--run-syncdb"]),
        "migrate",
    );
    let seed = format!(
        "MODULES = {names:?}\nHOME = {}\n{SEED}",
        if case.theme == Theme::CrmReact {
            "False"
        } else {
            "True"
        },
    );
    let seeded = run(python(&["manage.py", "shell", "-c", &seed]), "the seed");
    let line = seeded
        .lines()
        .find_map(|l| l.strip_prefix("QS-SEED "))
        .unwrap_or_else(|| panic!("the seed printed nothing:\n{seeded}"));
    let mut config: serde_json::Value = serde_json::from_str(line).expect("seed JSON");
    let server = Served::start(
        python(&["manage.py", "runserver", "--noreload"]),
        env.root(),
    );
    let shots = python::cache_dir("screenshots");
    for page in config["pages"].as_array_mut().into_iter().flatten() {
        if let Some(name) = page["screenshot"].as_str() {
            let file = shots.join(format!("layout-{}-{name}.png", case.theme.name()));
            // Not a previous run's: UPDATE_DOCS copies what exists.
            let _ = std::fs::remove_file(&file);
            page["screenshot"] = file.display().to_string().into();
        }
    }
    config["base_url"] = server.base_url.clone().into();
    config["widths"] = WIDTHS.to_vec().into();
    let results = layout_check(env, venv, chromium, &slug, &config, &server);
    let findings = findings_of(case.theme, &results);
    timing(&format!("{slug}: all"), started);
    (findings, own)
}

/// Runs common/layout_check.py with `config`; its results.
fn layout_check(
    env: &TestEnv,
    venv: &Venv<'_>,
    chromium: &Path,
    slug: &str,
    config: &serde_json::Value,
    server: &Served,
) -> serde_json::Value {
    let config_file = env.root().join(format!("layout-{slug}.json"));
    std::fs::write(&config_file, config.to_string()).expect("write the layout config");
    let script = env.root().join("layout_check.py");
    std::fs::write(&script, LAYOUT_CHECK).expect("write layout_check.py");
    let mut cmd = venv.command(
        &[
            script.to_str().expect("UTF-8 path"),
            chromium.to_str().expect("UTF-8 path"),
            config_file.to_str().expect("UTF-8 path"),
        ],
        &[],
    );
    cmd.current_dir(env.root());
    let out = python::run_with_timeout(cmd, Duration::from_secs(300));
    assert!(
        out.status.success(),
        "the layout check failed to run:\n{}\nserver log:\n{}",
        describe(&out),
        server.log()
    );
    let text = stdout(&out);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("QS-LAYOUT "))
        .unwrap_or_else(|| panic!("the layout check printed nothing:\n{}", describe(&out)));
    serde_json::from_str(line).expect("layout JSON")
}

/// Every finding of `results` (and every answer but 200) as
/// `theme page @width: finding`.
fn findings_of(theme: Theme, results: &serde_json::Value) -> Vec<String> {
    let results = results.as_array().expect("a list");
    assert!(results.len() >= 2, "nothing was measured: {results:?}");
    let mut findings = Vec::new();
    for result in results {
        let label = format!(
            "{} {} @{}px",
            theme.name(),
            result["page"].as_str().unwrap_or_default(),
            result["width"]
        );
        if result["status"] != 200 {
            findings.push(format!("{label}: HTTP {}", result["status"]));
        }
        for finding in result["findings"].as_array().into_iter().flatten() {
            findings.push(format!("{label}: {}", finding.as_str().unwrap_or_default()));
        }
    }
    findings
}

/// With `UPDATE_DOCS=1`, copies the screenshots of `theme` that
/// docs/gallery.md shows (`gallery/<theme>-<name>.png`) into docs/gallery/.
fn update_gallery(theme: Theme) {
    if std::env::var_os("UPDATE_DOCS").is_none() {
        return;
    }
    let gallery =
        std::fs::read_to_string(repo_root().join("docs/gallery.md")).expect("docs/gallery.md");
    let shots = python::cache_dir("screenshots");
    let prefix = format!("](gallery/{}-", theme.name());
    for (at, _) in gallery.match_indices(&prefix) {
        let rest = &gallery[at + prefix.len()..];
        let Some(name) = rest.split(".png)").next() else {
            continue;
        };
        let from = shots.join(format!("layout-{}-{name}.png", theme.name()));
        if from.is_file() {
            let to = repo_root().join(format!("docs/gallery/{}-{name}.png", theme.name()));
            std::fs::copy(&from, &to).expect("copy a screenshot into docs/gallery");
        }
    }
}

/// Always (no Python): every theme's project carries the overrides of the
/// upstream auth and crm pages, user-owned (a module update never writes
/// them), in the component layer: page header, the project's name in the
/// title, no emoji icons, no "QuickScale" title, formatted amounts.
#[test]
fn every_theme_ships_the_overrides_of_upstream_module_pages_as_user_files() {
    use git_quickscale::config::Identity;
    use git_quickscale::ownership::{Class, classify};
    const OVERRIDES: [&str; 6] = [
        "templates/quickscale_modules_auth/account/profile.html",
        "templates/quickscale_modules_auth/account/profile_edit.html",
        "templates/quickscale_modules_auth/account/account_delete.html",
        "templates/quickscale_modules_auth/account/login.html",
        "templates/quickscale_modules_auth/account/signup.html",
        "templates/quickscale_modules_crm/crm/dashboard.html",
    ];
    for theme in Theme::ALL {
        let identity = Identity {
            slug: "acme".into(),
            package: "acme".into(),
            theme,
            name: Some("Acme Robotics".into()),
        };
        let files = git_quickscale::render::render_project(&identity).expect("render");
        for path in OVERRIDES {
            let file = files
                .get(path)
                .unwrap_or_else(|| panic!("{}: no {path}", theme.name()));
            let text = String::from_utf8(file.contents.clone()).expect("UTF-8");
            let embedded = vec!["auth".to_owned(), "crm".to_owned()];
            assert_eq!(
                classify(path, "acme", &embedded),
                Class::UserOwned,
                "{path}"
            );
            let title = text
                .split("{% block title %}")
                .nth(1)
                .and_then(|t| t.split("{% endblock %}").next())
                .unwrap_or_else(|| panic!("{path} sets no title"));
            assert!(title.contains("{{ project_name }}"), "{path}: {title}");
            assert!(!text.contains("QuickScale"), "{path}");
            assert!(text.contains("class=\"page-header\""), "{path}");
            assert!(
                !text
                    .chars()
                    .any(|c| matches!(c as u32, 0x2600..=0x27BF | 0x1F300..=0x1FAFF)),
                "{path} prints emoji"
            );
            assert!(
                !text.contains("btn"),
                "{path} uses the module's button classes"
            );
        }
        let crm = String::from_utf8(
            files["templates/quickscale_modules_crm/crm/dashboard.html"]
                .contents
                .clone(),
        )
        .expect("UTF-8");
        assert!(
            crm.contains("{% extends \"base.html\" %}"),
            "the theme's shell"
        );
        assert_eq!(
            crm.matches("|floatformat:\"2g\"").count(),
            2,
            "amounts with thousands separators"
        );
    }
}

/// billing + teams (first-party) in the three showcase themes, on the
/// baseline stack; the themes share one venv.
#[test]
fn billing_and_teams_pages_pass_the_layout_check_in_every_theme() {
    if !layout_enabled() {
        return;
    }
    let Some(chromium) = python::chromium("the layout check") else {
        return;
    };
    let env = TestEnv::new();
    let (Some(teams), Some(billing)) = (
        first_party::publish(&env, "teams"),
        first_party::publish(&env, "billing"),
    ) else {
        return;
    };
    let stack = python::lts_stack();
    let mut shared: Option<Venv<'_>> = None;
    let mut findings = Vec::new();
    for theme in [
        Theme::ShowcaseHtml,
        Theme::ShowcaseHtmx,
        Theme::ShowcaseReact,
    ] {
        let case = Case {
            theme,
            modules: vec![("teams", teams.clone()), ("billing", billing.clone())],
        };
        let (found, made) = measure(&env, &chromium, &case, &stack, shared.as_ref(), &[]);
        findings.extend(found);
        if shared.is_none() {
            shared = made;
        }
        update_gallery(theme);
    }
    assert!(
        findings.is_empty(),
        "layout findings:\n{}",
        findings.join("\n")
    );
}

/// The upstream auth and crm modules (the project's overrides of their
/// pages) in every theme: auth alone, auth + crm, and crm_react.
#[test]
fn upstream_auth_and_crm_pages_pass_the_layout_check_in_every_theme() {
    if !layout_enabled() {
        return;
    }
    let Some(upstream) = std::env::var_os(UPSTREAM_VAR).filter(|v| !v.is_empty()) else {
        python::skipped(&format!(
            "set {UPSTREAM_VAR} to a clone of github.com/Experto-AI/quickscale to measure the auth and crm pages"
        ));
        return;
    };
    let Some(chromium) = python::chromium("the layout check") else {
        return;
    };
    let Some(stack) = python::django6_stack() else {
        return;
    };
    let upstream = PathBuf::from(upstream);
    let env = TestEnv::new();
    let mut findings = Vec::new();
    let mut shared: Option<Venv<'_>> = None;
    for (theme, modules) in [
        (Theme::ShowcaseHtml, vec!["auth", "crm"]),
        (Theme::ShowcaseHtmx, vec!["auth", "crm"]),
        (Theme::ShowcaseReact, vec!["auth", "crm"]),
        (Theme::ShowcaseHtml, vec!["auth"]),
        (Theme::CrmReact, vec!["crm", "auth"]),
    ] {
        let case = Case {
            theme,
            modules: modules.iter().map(|m| (*m, upstream.clone())).collect(),
        };
        // Projects with the same modules share a venv (crm_react's own).
        let reuse = shared.as_ref().filter(|_| modules == ["auth", "crm"]);
        let (found, made) = measure(
            &env,
            &chromium,
            &case,
            &stack,
            reuse,
            &["--ignore-requires-python"],
        );
        findings.extend(found);
        if shared.is_none() {
            shared = made;
        }
        update_gallery(theme);
    }
    assert!(
        findings.is_empty(),
        "layout findings:\n{}",
        findings.join("\n")
    );
}
