//! Acceptance: the first-party teams module (modules/teams), published as
//! users get it and embedded into generated projects.
//!
//! Always: the catalog entry is ready and points at this repository's
//! `splits/teams-module`; the user guide lists every option; the split
//! (published by scripts/publish-first-party.sh into a temporary bare
//! repository) embeds and is wired from its module.yml alone (apps, the
//! current-team middleware, URLs, settings, requirements); options are
//! validated.
//!
//! With `QUICKSCALE_PYTHON_TESTS=1`, one test per stack (Python 3.11 +
//! Django 5.2; Python >= 3.12 + Django 6) embeds the split into projects and
//! checks each: `check`, `migrate`, its own tests, and a probe (invite →
//! email → accept as a new user, the team dashboard in the theme's layout,
//! the REST API, another team's pages are 404). The module's own suite runs
//! once per stack (it has its own settings, whatever the theme).
//!
//! CI time: the stacks' base venvs are shared (common/python.rs); projects
//! that differ only in their theme share one small venv too (no second pip
//! run). Defaults: Django 5.2 runs showcase_html and showcase_htmx; Django 6
//! runs showcase_react with teams + billing (billing's customer is the team;
//! dj-stripe's tables come from its models, since its migration history
//! takes minutes on SQLite and billing's own test runs it) and crm_react
//! when `QUICKSCALE_UPSTREAM_REPO` holds the upstream crm and auth modules.
//! `QUICKSCALE_TEAMS_THEMES=all` (or a comma-separated list) runs those
//! themes alone on both stacks, plus the first with billing on Django 6;
//! `QUICKSCALE_TEAMS_BILLING=0` leaves billing out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use git_quickscale::config::Theme;
use git_quickscale::manifest::Manifest;

use crate::common::first_party::{self, split_branch};
use crate::common::python::{self, Stack, Venv};
use crate::common::{TestEnv, describe, repo_root, stderr, stdout};

const MODULE: &str = "teams";
const THEMES_VAR: &str = "QUICKSCALE_TEAMS_THEMES";
const BILLING_VAR: &str = "QUICKSCALE_TEAMS_BILLING";
const UPSTREAM_VAR: &str = "QUICKSCALE_UPSTREAM_REPO";
/// This repository, where the catalog's first-party entries point.
const REPOSITORY: &str = "https://github.com/Experto-AI/git-quickscale.git";

fn manifest() -> Manifest {
    let path = repo_root().join("modules/teams/module.yml");
    let text = std::fs::read_to_string(&path).expect("modules/teams/module.yml");
    Manifest::parse(&text, "modules/teams/module.yml", MODULE).expect("a valid manifest")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn the_catalog_lists_teams_as_ready_from_this_repository() {
    let env = TestEnv::new();
    let out = env.qs_ok(env.root(), &["list-modules", "--json"]);
    let all: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let teams = all
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == MODULE))
        .unwrap_or_else(|| panic!("no teams entry: {all}"));
    assert_eq!(teams["ready"], true, "{teams}");
    assert_eq!(teams["source"], REPOSITORY, "{teams}");
    assert_eq!(teams["ref"], split_branch(MODULE), "{teams}");
    let plan = env.qs_ok(
        env.root(),
        &["plan", "acme", "--module", MODULE, "--yes", "--offline"],
    );
    let said = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(!said.contains("not ready"), "{said}");
}

#[test]
fn the_user_guide_lists_every_teams_option() {
    let guide = read(&repo_root().join("docs/user-guide.md"));
    let section = guide
        .split("\n### The teams module")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/user-guide.md has a `### The teams module` section");
    let m = manifest();
    assert!(m.options.len() >= 9, "{:?}", m.options);
    for option in &m.options {
        let setting = option.django_setting.as_deref().unwrap_or_default();
        assert!(
            section.contains(&format!("`{}`", option.name)) && section.contains(setting),
            "the teams section of docs/user-guide.md does not list option `{}` ({setting})",
            option.name
        );
        assert!(option.mutable, "{} is documented as mutable", option.name);
    }
    assert!(section.contains("mutable"), "{section}");
}

#[test]
fn the_teams_split_embeds_and_is_wired_from_its_manifest() {
    let env = TestEnv::new();
    let Some(bare) = first_party::publish(&env, MODULE) else {
        return;
    };
    let project = first_party::embed(
        &env,
        "acme",
        "showcase_html",
        &[(MODULE, &bare)],
        &[
            "teams.invitation_expiry_days=3",
            "teams.extra_roles=[\"viewer:Viewer:50\"]",
        ],
    );
    let tip = env.rev(&bare, &split_branch(MODULE));
    let log = env.git(
        &project,
        &[
            "log",
            "--format=%B",
            "--grep",
            "git-subtree-dir: modules/teams",
        ],
    );
    assert!(log.contains(&format!("git-subtree-split: {tip}")), "{log}");
    for file in [
        "module.yml",
        "README.md",
        "src/quickscale_modules_teams/models.py",
        "src/quickscale_modules_teams/migrations/0001_initial.py",
        "tests/test_isolation.py",
    ] {
        assert!(project.join("modules/teams").join(file).is_file(), "{file}");
    }

    let settings = read(&project.join("acme/settings/modules.py"));
    for expected in [
        "\"rest_framework\"",
        "\"quickscale_modules_teams\"",
        "\"quickscale_modules_teams.middleware.CurrentTeamMiddleware\"",
        "\"QUICKSCALE_TEAMS_ROUTE\": \"teams/\"",
        "\"QUICKSCALE_TEAMS_INVITATION_EXPIRY_DAYS\": 3",
        "\"QUICKSCALE_TEAMS_QUERY_GUARD\": \"debug\"",
        "viewer:Viewer:50",
    ] {
        assert!(settings.contains(expected), "{expected}:\n{settings}");
    }
    let urls = read(&project.join("acme/urls_modules.py"));
    assert!(
        urls.contains("path(\"\", include(\"quickscale_modules_teams.urls\"))"),
        "{urls}"
    );
    let reqs = read(&project.join("requirements-modules.txt"));
    for req in ["djangorestframework>=3.15", "-e ./modules/teams"] {
        assert!(reqs.contains(req), "{req}:\n{reqs}");
    }

    for bad in [
        "teams.invitation_expiry_days=0",
        "teams.query_guard=sometimes",
        "teams.allow_team_creation=maybe",
        "teams.teams_routes=t/",
    ] {
        let out = env.qs(&project, &["plan", "--reconfigure", "--set", bad, "--yes"]);
        assert!(
            !out.status.success(),
            "{bad} was accepted:\n{}",
            describe(&out)
        );
    }
    env.qs_ok(
        &project,
        &[
            "plan",
            "--reconfigure",
            "--set",
            "teams.query_guard=always",
            "--yes",
        ],
    );
    env.qs_ok(&project, &["apply", "--yes"]);
    let settings = read(&project.join("acme/settings/modules.py"));
    assert!(
        settings.contains("\"QUICKSCALE_TEAMS_QUERY_GUARD\": \"always\""),
        "{settings}"
    );
    assert_eq!(
        env.git(&project, &["status", "--porcelain"]),
        "",
        "apply leaves a clean worktree"
    );
}

// --- the Python side -------------------------------------------------------------

const CHECK_WARNINGS: [&str; 4] = [
    "-W",
    "error::DeprecationWarning",
    "-W",
    "error::PendingDeprecationWarning",
];

/// Drives the module in the migrated project through Django's test client:
/// a team, an invitation by email, accepting it as a new user, the
/// dashboard, the API, and another team's pages. With billing, bills the team.
const PROBE: &str = r#"
import json, re
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
from quickscale_modules_teams import services
from quickscale_modules_teams.models import Invitation

import quickscale_modules_teams

setup_test_environment()
User = get_user_model()

def make_user(name):
    fields = {User.USERNAME_FIELD: f"{name}@example.com" if User.USERNAME_FIELD == "email" else name}
    if User.USERNAME_FIELD != "email":
        fields["email"] = f"{name}@example.com"
    return User._default_manager.create_user(password="correct horse battery staple", **fields)

def page(client, url):
    response = client.get(url)
    return {"status": response.status_code, "html": response.content.decode()}

alice, mallory = make_user("alice"), make_user("mallory")
acme = services.create_team(alice, "Acme")
services.create_team(mallory, "Evil Corp")
owner = Client()
owner.force_login(alice)
out = {"dashboard_path": reverse("quickscale_teams:dashboard", kwargs={"team_slug": acme.slug}),
       "module_file": quickscale_modules_teams.__file__}
invited = owner.post(reverse("quickscale_teams:invite", kwargs={"team_slug": acme.slug}), {"email": "bob@example.com", "role": "admin"})
out["invite"] = invited.status_code
out["emails"] = [{"to": m.to, "subject": m.subject} for m in mail.outbox]
token = re.search(r"/invitations/([^/\s]+)/", mail.outbox[-1].body).group(1) if mail.outbox else "none"
newcomer = Client()
out["invitation_page"] = newcomer.get(f"/teams/invitations/{token}/").status_code
signup = {"password1": "a-long-pass-123!", "password2": "a-long-pass-123!"}
if User.USERNAME_FIELD != "email":
    signup["username"] = "bob"
out["signup_accept"] = newcomer.post(f"/teams/invitations/{token}/", signup).status_code
out["reuse"] = newcomer.post(f"/teams/invitations/{token}/accept/").status_code
out["bob_role"] = acme.role_of(User._default_manager.get(email="bob@example.com"))
out["dashboard"] = page(owner, out["dashboard_path"])
out["api_teams"] = newcomer.get("/teams/api/teams/").json()
intruder = Client()
intruder.force_login(mallory)
out["intruder_dashboard"] = intruder.get(out["dashboard_path"]).status_code
out["intruder_api"] = intruder.get(f"/teams/api/teams/{acme.slug}/members/").status_code
out["anonymous_dashboard"] = Client().get(out["dashboard_path"]).status_code
if BILLING:
    from quickscale_modules_billing.models import BillingCustomer
    out["billing_dashboard"] = owner.get(reverse("quickscale_billing:dashboard")).status_code
    out["billing_owner"] = [c.owner.name for c in BillingCustomer.objects.all()]
print("QS-PROBE " + json.dumps(out, default=str))
"#;

fn check_probe(seen: &serde_json::Value, billing: bool) {
    assert_eq!(seen["dashboard_path"], "/teams/acme/", "{seen}");
    assert_eq!(seen["invite"], 302, "{seen}");
    assert_eq!(
        seen["emails"][0]["to"][0], "bob@example.com",
        "the invitation went through Django's email framework: {seen}"
    );
    assert_eq!(seen["invitation_page"], 200, "{seen}");
    assert_eq!(seen["signup_accept"], 302, "{seen}");
    assert_eq!(seen["reuse"], 410, "a used link is refused: {seen}");
    assert_eq!(seen["bob_role"], "admin", "{seen}");
    let html = seen["dashboard"]["html"].as_str().unwrap_or_default();
    assert_eq!(seen["dashboard"]["status"], 200, "{html}");
    for marker in [
        // The theme's layout: the page extends the project's base template.
        "<footer class=\"site-footer\">",
        "quickscale_modules_teams/teams.css",
        "Acme",
        "alice",
        "bob",
        "Pending invitations",
    ] {
        assert!(html.contains(marker), "dashboard: no `{marker}`:\n{html}");
    }
    assert_eq!(seen["api_teams"]["teams"][0]["slug"], "acme", "{seen}");
    assert_eq!(seen["intruder_dashboard"], 404, "{seen}");
    assert_eq!(seen["intruder_api"], 404, "{seen}");
    assert_eq!(seen["anonymous_dashboard"], 302, "{seen}");
    if billing {
        assert_eq!(seen["billing_dashboard"], 200, "{seen}");
        assert_eq!(
            seen["billing_owner"],
            serde_json::json!(["Acme"]),
            "the team is billing's customer: {seen}"
        );
    }
}

fn timing(what: &str, started: Instant) {
    let _ = writeln!(
        std::io::stderr(),
        "note: teams {what}: {:.1?}",
        started.elapsed()
    );
}

/// Runs the venv's `python <args>` in `project` and asserts success. A
/// project other than the venv's own (a second theme sharing the venv, so
/// it costs no pip run) gets its own copy of the module first on the path.
fn run(venv: &Venv<'_>, project: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> String {
    let mut cmd = venv.command(args, extra_env);
    cmd.current_dir(project);
    if project != venv.project() {
        cmd.env("PYTHONPATH", project.join("modules/teams/src"));
    }
    let out = python::run_with_timeout(cmd, std::time::Duration::from_secs(600));
    assert!(
        out.status.success(),
        "python {} in {}:\n{}",
        args.join(" "),
        project.display(),
        describe(&out)
    );
    stdout(&out)
}

/// One project of the run: a theme, with billing or not.
struct Case<'a> {
    theme: Theme,
    billing: Option<&'a Path>,
    /// Run the module's own suite in this project.
    module_suite: bool,
}

/// Embeds teams (and billing, customer = team) into a `case.theme` project
/// and checks it on `stack`: install (or reuse `shared`), check, migrate,
/// project tests, the module's suite when asked, the probe. Returns whether
/// it ran (false: skipped) and the venv it made, if any.
fn teams_works_in<'e>(
    env: &'e TestEnv,
    teams: &Path,
    case: &Case<'_>,
    stack: &Stack,
    shared: Option<&Venv<'e>>,
) -> (bool, Option<Venv<'e>>) {
    let started = Instant::now();
    let theme = case.theme;
    let mut modules: Vec<(&str, PathBuf)> = vec![(MODULE, teams.to_owned())];
    let mut sets: Vec<&str> = Vec::new();
    if let Some(billing) = case.billing {
        modules.push(("billing", billing.to_owned()));
        sets.push("billing.customer=team");
    }
    let mut pip_args: Vec<&str> = Vec::new();
    if theme == Theme::CrmReact {
        let Some(upstream) = std::env::var_os(UPSTREAM_VAR).filter(|v| !v.is_empty()) else {
            python::skipped(&format!(
                "crm_react needs the upstream crm and auth modules: set {UPSTREAM_VAR} to a clone of github.com/Experto-AI/quickscale"
            ));
            return (false, None);
        };
        if stack.django == python::DJANGO_LTS {
            python::skipped("crm_react's upstream modules need Django 6");
            return (false, None);
        }
        let upstream = PathBuf::from(upstream);
        modules.push(("crm", upstream.clone()));
        modules.push(("auth", upstream));
        pip_args.push("--ignore-requires-python");
    }
    let slug = format!(
        "t{}{}",
        theme.name().replace('_', ""),
        if case.billing.is_some() {
            "billing"
        } else {
            ""
        }
    );
    let borrowed: Vec<(&str, &Path)> = modules.iter().map(|(n, p)| (*n, p.as_path())).collect();
    let project = first_party::embed(env, &slug, theme.name(), &borrowed, &sets);
    let label = format!(
        "{}{} on {}",
        theme.name(),
        if case.billing.is_some() {
            " + billing"
        } else {
            ""
        },
        stack.label()
    );
    if case.billing.is_some() {
        let settings = read(&project.join(format!("{slug}/settings/modules.py")));
        assert!(
            settings.contains("\"QUICKSCALE_BILLING_CUSTOMER\": \"team\""),
            "{settings}"
        );
    }
    // A project that only differs in its theme shares the first one's venv
    // (the same requirements; its own module copy comes first on the path).
    let own = match shared {
        Some(_) if case.billing.is_none() && pip_args.is_empty() => None,
        _ => {
            let step = Instant::now();
            let venv = Venv::create_on(env, &project, stack, &pip_args);
            timing(&format!("{label}: install"), step);
            Some(venv)
        }
    };
    let venv = own.as_ref().or(shared).expect("a venv");

    let mut args = CHECK_WARNINGS.to_vec();
    if case.billing.is_some() {
        // dj-stripe's admin forms, on Django 5.2 only (see e2e_2_billing_module.rs).
        args.extend([
            "-W",
            "ignore:The default scheme will be changed from 'http' to 'https':DeprecationWarning",
        ]);
    }
    args.extend(["manage.py", "check"]);
    let check = run(venv, &project, &args, &[]);
    assert!(
        check.contains("System check identified no issues"),
        "{check}"
    );

    let step = Instant::now();
    if case.billing.is_some() {
        // dj-stripe's own migration history takes 90-180 s on SQLite (billing's
        // test runs it); here its tables come from its models (syncdb), and
        // every other app, teams and billing included, migrates for real.
        let shim = env.root().join("qs-teams-settings");
        std::fs::create_dir_all(&shim).expect("mkdir");
        std::fs::write(
            shim.join("teams_with_billing_settings.py"),
            format!(
                "from {slug}.settings.local import *  # noqa: F403\nMIGRATION_MODULES = {{\"djstripe\": None}}\n"
            ),
        )
        .expect("write the settings shim");
        let shim_path = shim.to_str().expect("UTF-8 path");
        run(
            venv,
            &project,
            &["manage.py", "migrate", "--noinput", "--run-syncdb"],
            &[
                ("DJANGO_SETTINGS_MODULE", "teams_with_billing_settings"),
                ("PYTHONPATH", shim_path),
            ],
        );
    } else {
        run(venv, &project, &["manage.py", "migrate", "--noinput"], &[]);
    }
    timing(&format!("{label}: migrate"), step);
    // Scoped to this module: upstream's auth module (crm_react) lacks a
    // migration on Django 6.1 (`0002_alter_user_managers`), its bug, not ours.
    let pending = run(
        venv,
        &project,
        &[
            "manage.py",
            "makemigrations",
            "--check",
            "--dry-run",
            "quickscale_modules_teams",
        ],
        &[],
    );
    assert!(pending.contains("No changes detected"), "{pending}");

    // The project's own tests (the test database is made from the models).
    let step = Instant::now();
    // The test database from the models only with billing (dj-stripe's
    // migration history costs minutes; the billing test runs it): crm_react's
    // tests need the pipeline stages crm's migrations seed.
    let mut pytest = vec!["-m", "pytest", "-p", "no:cacheprovider", "-q"];
    if case.billing.is_some() {
        pytest.push("--nomigrations");
    }
    let summary = run(venv, &project, &pytest, &[]);
    assert!(
        summary.contains(" passed") && !summary.contains(" failed"),
        "{summary}"
    );
    timing(&format!("{label}: project tests"), step);

    if case.module_suite {
        let step = Instant::now();
        let text = run(
            venv,
            &project.join("modules/teams"),
            &["-m", "pytest", "-q"],
            &[],
        );
        assert!(
            text.contains(" passed") && !text.contains(" failed"),
            "the teams module's tests failed:\n{text}"
        );
        timing(
            &format!(
                "{label}: module tests ({})",
                text.lines().last().unwrap_or_default()
            ),
            step,
        );
    }

    let step = Instant::now();
    let code = format!(
        "BILLING = {}\n{PROBE}",
        if case.billing.is_some() {
            "True"
        } else {
            "False"
        }
    );
    let text = run(venv, &project, &["manage.py", "shell", "-c", &code], &[]);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("QS-PROBE "))
        .unwrap_or_else(|| panic!("the probe printed no result:\n{text}"));
    let seen: serde_json::Value = serde_json::from_str(line).expect("probe JSON");
    let module_file = seen["module_file"].as_str().unwrap_or_default();
    assert!(
        Path::new(module_file).starts_with(project.join("modules/teams")),
        "{label} imported the module from {module_file}, not from its own modules/teams"
    );
    check_probe(&seen, case.billing.is_some());
    timing(&format!("{label}: probe"), step);

    assert_eq!(
        env.git(
            &project,
            &["status", "--porcelain", "--untracked-files=all"]
        ),
        "",
        "the checks left files git sees"
    );
    timing(&format!("{label}: all"), started);
    (true, own)
}

/// The cases of `stack`, in one test: the themes' projects share a venv
/// where they can; the module's suite runs once.
fn teams_works_on(stack: &Stack, cases: &[(Theme, bool)]) {
    let started = Instant::now();
    let env = TestEnv::new();
    let Some(teams) = first_party::publish(&env, MODULE) else {
        return;
    };
    let billing_wanted = cases.iter().any(|(_, b)| *b);
    let billing_on = std::env::var(BILLING_VAR).map_or(true, |v| v != "0");
    if billing_wanted && !billing_on {
        python::skipped(&format!("{BILLING_VAR}=0: no teams + billing project"));
    }
    let billing = if billing_wanted && billing_on {
        first_party::publish(&env, "billing")
    } else {
        None
    };
    let mut shared: Option<Venv<'_>> = None;
    let mut suite_ran = false;
    for (theme, with_billing) in cases {
        let billing = if *with_billing {
            match billing.as_deref() {
                Some(b) => Some(b),
                None => {
                    if billing_on {
                        python::skipped("billing could not be published");
                    }
                    None
                }
            }
        } else {
            None
        };
        let case = Case {
            theme: *theme,
            billing,
            module_suite: !suite_ran,
        };
        let (ran, made) = teams_works_in(&env, &teams, &case, stack, shared.as_ref());
        suite_ran |= ran;
        if shared.is_none() && billing.is_none() && *theme != Theme::CrmReact {
            shared = made;
        }
    }
    timing(&format!("on {}: total", stack.label()), started);
}

/// The projects of a stack: `QUICKSCALE_TEAMS_THEMES`, each alone and the
/// first also with billing on Django 6; else the defaults.
fn cases(defaults: &[(Theme, bool)], django6: bool) -> Vec<(Theme, bool)> {
    match std::env::var(THEMES_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        None => defaults.to_vec(),
        Some(v) => {
            let themes: Vec<Theme> = if v.trim() == "all" {
                Theme::ALL.to_vec()
            } else {
                v.split(',')
                    .map(|name| {
                        Theme::ALL
                            .into_iter()
                            .find(|t| t.name() == name.trim())
                            .unwrap_or_else(|| panic!("{THEMES_VAR}: unknown theme `{name}`"))
                    })
                    .collect()
            };
            let mut all: Vec<(Theme, bool)> = themes.iter().map(|t| (*t, false)).collect();
            if django6 {
                all.push((themes[0], true));
            }
            all
        }
    }
}

/// Python 3.11 + Django 5.2: teams alone in the HTML and htmx themes.
#[test]
fn teams_works_on_django_lts() {
    if !python::python_enabled() {
        return;
    }
    let defaults = [(Theme::ShowcaseHtml, false), (Theme::ShowcaseHtmx, false)];
    teams_works_on(&python::lts_stack(), &cases(&defaults, false));
}

/// Python >= 3.12 + Django 6: teams with billing (the team pays) in the
/// React theme, and crm_react when the upstream modules are at hand.
#[test]
fn teams_works_on_django_6() {
    if !python::python_enabled() {
        return;
    }
    let Some(stack) = python::django6_stack() else {
        return;
    };
    let defaults = [(Theme::ShowcaseReact, true), (Theme::CrmReact, false)];
    teams_works_on(&stack, &cases(&defaults, true));
}
