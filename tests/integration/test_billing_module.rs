//! Acceptance: the first-party billing module (modules/billing), published
//! as users get it and embedded into generated projects.
//!
//! Always: the catalog entry is ready and points at this repository's
//! `splits/billing-module`; the user guide lists every option; the split
//! (published by scripts/publish-first-party.sh into a temporary bare
//! repository) embeds and is wired from its module.yml alone; options are
//! validated and the immutable ones stay.
//!
//! With `QUICKSCALE_PYTHON_TESTS=1`, per stack (Python 3.11 + Django 5.2,
//! Python >= 3.12 + Django 6): the project installs, passes `check`,
//! `migrate`, its own tests and the module's own suite, and a probe drives
//! the pricing page, Checkout, signed webhooks, the dashboard and the REST
//! API against the module's fake Stripe on 127.0.0.1 (no network).
//!
//! CI time: dj-stripe's migrations take about 90 s on SQLite, so by default
//! each stack runs one theme (showcase_html on Django 5.2, showcase_react on
//! Django 6). `QUICKSCALE_BILLING_THEMES=all` (or a comma-separated list of
//! themes) runs those themes on both stacks; crm_react also needs
//! `QUICKSCALE_UPSTREAM_REPO` (its crm and auth modules) and Django 6.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use git_quickscale::config::Theme;
use git_quickscale::manifest::Manifest;

use crate::common::first_party::{self, split_branch};
use crate::common::python::{self, Stack, Venv};
use crate::common::{TestEnv, describe, repo_root, stderr, stdout};

const MODULE: &str = "billing";
const THEMES_VAR: &str = "QUICKSCALE_BILLING_THEMES";
const UPSTREAM_VAR: &str = "QUICKSCALE_UPSTREAM_REPO";
/// This repository, where the catalog's first-party entries point.
const REPOSITORY: &str = "https://github.com/Experto-AI/git-quickscale.git";

fn manifest() -> Manifest {
    let path = repo_root().join("modules/billing/module.yml");
    let text = std::fs::read_to_string(&path).expect("modules/billing/module.yml");
    Manifest::parse(&text, "modules/billing/module.yml", MODULE).expect("a valid manifest")
}

#[test]
fn the_catalog_lists_billing_as_ready_from_this_repository() {
    let env = TestEnv::new();
    let out = env.qs_ok(env.root(), &["list-modules", "--json"]);
    let all: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let billing = all
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == MODULE))
        .unwrap_or_else(|| panic!("no billing entry: {all}"));
    assert_eq!(billing["ready"], true, "{billing}");
    assert_eq!(billing["source"], REPOSITORY, "{billing}");
    assert_eq!(billing["ref"], split_branch(MODULE), "{billing}");
    let text = stdout(&env.qs_ok(env.root(), &["list-modules"]));
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("billing"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("ready") && !line.contains("not ready"),
        "{line}"
    );
    // Planning it no longer says "not ready".
    let plan = env.qs_ok(
        env.root(),
        &["plan", "shop", "--module", MODULE, "--yes", "--offline"],
    );
    let said = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(!said.contains("not ready"), "{said}");
}

#[test]
fn the_user_guide_lists_every_billing_option() {
    let guide = std::fs::read_to_string(repo_root().join("docs/user-guide.md")).expect("guide");
    let section = guide
        .split("\n### The billing module")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/user-guide.md has a `### The billing module` section");
    let m = manifest();
    assert!(m.options.len() >= 10, "{:?}", m.options);
    for option in &m.options {
        let setting = option.django_setting.as_deref().unwrap_or_default();
        assert!(
            section.contains(&format!("`{}`", option.name)) && section.contains(setting),
            "the billing section of docs/user-guide.md does not list option `{}` ({setting})",
            option.name
        );
        let kind = if option.mutable {
            "mutable"
        } else {
            "immutable"
        };
        assert!(
            section.contains(kind),
            "the guide does not say which options are {kind}"
        );
    }
}

#[test]
fn the_published_split_embeds_and_is_wired_from_its_manifest() {
    let env = TestEnv::new();
    let Some(bare) = first_party::publish(&env, MODULE) else {
        return;
    };
    let project = first_party::embed(
        &env,
        "shop",
        "showcase_html",
        &[(MODULE, &bare)],
        &["billing.currency=eur", "billing.pricing_route=plans/"],
    );

    // The module is the split branch's tip, as a squashed subtree.
    let tip = env.rev(&bare, &split_branch(MODULE));
    let log = env.git(
        &project,
        &[
            "log",
            "--format=%B",
            "--grep",
            "git-subtree-dir: modules/billing",
        ],
    );
    assert!(log.contains(&format!("git-subtree-split: {tip}")), "{log}");
    assert!(project.join("modules/billing/module.yml").is_file());
    assert!(
        project
            .join("modules/billing/src/quickscale_modules_billing/models.py")
            .is_file()
    );

    // Wired from module.yml: apps, the root include, option settings, requirements.
    let settings = read(&project.join("shop/settings/modules.py"));
    for app in ["rest_framework", "djstripe", "quickscale_modules_billing"] {
        assert!(
            settings.contains(&format!("\"{app}\"")),
            "{app}:\n{settings}"
        );
    }
    for expected in [
        "\"QUICKSCALE_BILLING_CURRENCY\": \"eur\"",
        "\"QUICKSCALE_BILLING_PRICING_ROUTE\": \"plans/\"",
        "\"QUICKSCALE_BILLING_ROUTE\": \"billing/\"",
        "\"QUICKSCALE_BILLING_TRIAL_DAYS\": 0",
        "\"QUICKSCALE_BILLING_CUSTOMER\": \"user\"",
        "\"QUICKSCALE_BILLING_SECRET_KEY_ENV_VAR\": \"STRIPE_SECRET_KEY\"",
        "\"DJSTRIPE_FOREIGN_KEY_TO_FIELD\": \"id\"",
    ] {
        assert!(settings.contains(expected), "{expected}:\n{settings}");
    }
    assert!(
        !settings.contains("sk_") && !settings.contains("whsec_"),
        "no secret in the managed settings:\n{settings}"
    );
    let urls = read(&project.join("shop/urls_modules.py"));
    assert!(
        urls.contains("path(\"\", include(\"quickscale_modules_billing.urls\"))"),
        "{urls}"
    );
    let reqs = read(&project.join("requirements-modules.txt"));
    for req in [
        "dj-stripe>=2.11,<3",
        "stripe>=15.0.1,<16",
        "djangorestframework>=3.15",
        "-e ./modules/billing",
    ] {
        assert!(reqs.contains(req), "{req}:\n{reqs}");
    }

    // Options are checked against the manifest; the immutable one stays.
    for bad in [
        "billing.trial_days=-1",
        "billing.proration_behavior=sometimes",
        "billing.customer=everyone",
        "billing.currencyy=eur",
    ] {
        let out = env.qs(&project, &["plan", "--reconfigure", "--set", bad, "--yes"]);
        assert!(
            !out.status.success(),
            "{bad} was accepted:\n{}",
            describe(&out)
        );
    }
    let out = env.qs(
        &project,
        &[
            "plan",
            "--reconfigure",
            "--set",
            "billing.customer=team",
            "--yes",
        ],
    );
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !out.status.success() && said.contains("immutable"),
        "{said}"
    );
    env.qs_ok(
        &project,
        &[
            "plan",
            "--reconfigure",
            "--set",
            "billing.trial_days=14",
            "--yes",
        ],
    );
    env.qs_ok(&project, &["apply", "--yes"]);
    let settings = read(&project.join("shop/settings/modules.py"));
    assert!(
        settings.contains("\"QUICKSCALE_BILLING_TRIAL_DAYS\": 14"),
        "{settings}"
    );
    assert_eq!(
        env.git(&project, &["status", "--porcelain"]),
        "",
        "apply leaves a clean worktree"
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// --- the Python side -------------------------------------------------------------

/// Django's deprecation warnings as errors, except dj-stripe's own on Django
/// 5.2 (its admin forms' URLField; not the module's code).
const CHECK_WARNINGS: [&str; 6] = [
    "-W",
    "error::DeprecationWarning",
    "-W",
    "error::PendingDeprecationWarning",
    "-W",
    "ignore:The default scheme will be changed from 'http' to 'https':DeprecationWarning",
];

/// Drives the module in the migrated project through Django's test client,
/// with the module's fake Stripe on 127.0.0.1: pricing page, Checkout,
/// signed webhooks (and a replay and a forged one), dashboard, REST API.
const PROBE: &str = r#"
import json, os
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
from quickscale_modules_billing import conf
from quickscale_modules_billing.models import BillingCustomer, BillingEvent, Plan, PlanLimit
from quickscale_modules_billing.testing import FakeStripe

setup_test_environment()
fake = FakeStripe()
os.environ[conf.secret_key_env_var()] = fake.api_key
os.environ[conf.webhook_secret_env_var()] = fake.webhook_secret
os.environ[conf.API_BASE_ENV_VAR] = fake.start()

free = Plan.objects.create(name="Free", slug="free")
basic = Plan.objects.create(name="Basic", slug="basic", monthly_price=10, sort_order=1,
    stripe_monthly_price_id=fake.create_price(1000, "month", name="Basic"))
Plan.objects.create(name="Pro", slug="pro", monthly_price=30, sort_order=2,
    stripe_monthly_price_id=fake.create_price(3000, "month", name="Pro"))
PlanLimit.objects.create(plan=free, metric="projects", limit=1)
PlanLimit.objects.create(plan=basic, metric="projects", limit=5)

def page(client, url):
    response = client.get(url)
    return {"status": response.status_code, "html": response.content.decode()}

out = {"reverse": {name: reverse(f"quickscale_billing:{name}") for name in ("pricing", "dashboard", "webhook", "api-plans")},
       "currency": conf.currency()}
out["pricing_anonymous"] = page(Client(), out["reverse"]["pricing"])
out["dashboard_anonymous"] = Client().get(out["reverse"]["dashboard"]).status_code

User = get_user_model()
fields = {User.USERNAME_FIELD: "alice@example.com" if User.USERNAME_FIELD == "email" else "alice"}
if User.USERNAME_FIELD != "email":
    fields["email"] = "alice@example.com"
user = User._default_manager.create_user(password="correct horse battery staple", **fields)
client = Client()
client.force_login(user)
response = client.post(reverse("quickscale_billing:checkout"), {"plan": "basic", "interval": "month"})
out["checkout"] = {"status": response.status_code, "location": response.get("Location", "")}
fake.complete_checkout(out["checkout"]["location"].rsplit("/", 1)[-1])

def deliver(event, **kw):
    body, headers = fake.webhook_request(event, **kw)
    return client.post(out["reverse"]["webhook"], data=body, content_type="application/json", headers=headers).status_code

out["webhooks"] = {event["type"]: deliver(event) for event in fake.events}
out["replay"] = deliver(fake.events[0])
out["forged"] = deliver(fake.events[0], secret="whsec_not_the_secret")
out["events_recorded"] = BillingEvent.objects.count()
out["events_sent"] = len(fake.events)
customer = BillingCustomer.objects.get(owner=user)
out["customer"] = {"status": customer.status, "plan": customer.plan.slug if customer.plan else None}
out["dashboard"] = page(client, out["reverse"]["dashboard"])
out["api_plans"] = client.get(out["reverse"]["api-plans"]).json()
out["api_subscription"] = client.get(reverse("quickscale_billing:api-subscription")).json()
fake.stop()
print("QS-PROBE " + json.dumps(out, default=str))
"#;

fn run_probe(venv: &Venv<'_>) -> serde_json::Value {
    let out = venv.shell(PROBE, &[]);
    let text = stdout(&out);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("QS-PROBE "))
        .unwrap_or_else(|| panic!("the probe printed no result:\n{}", describe(&out)));
    serde_json::from_str(line).expect("probe JSON")
}

fn check_probe(seen: &serde_json::Value, pricing_path: &str) {
    assert_eq!(seen["reverse"]["pricing"], pricing_path, "{seen}");
    assert_eq!(seen["reverse"]["dashboard"], "/billing/", "{seen}");
    assert_eq!(seen["reverse"]["webhook"], "/billing/webhook/", "{seen}");
    assert_eq!(seen["currency"], "eur", "{seen}");
    for name in ["pricing_anonymous", "dashboard"] {
        let html = seen[name]["html"].as_str().unwrap_or_default();
        assert_eq!(seen[name]["status"], 200, "{name}:\n{html}");
        // The page extends the project's base template (the theme's layout).
        for marker in [
            "<footer class=\"site-footer\">",
            "quickscale_modules_billing/billing.css",
        ] {
            assert!(html.contains(marker), "{name}: no `{marker}`:\n{html}");
        }
    }
    let pricing = seen["pricing_anonymous"]["html"]
        .as_str()
        .unwrap_or_default();
    for plan in ["Free", "Basic", "Pro", "EUR"] {
        assert!(
            pricing.contains(plan),
            "pricing page lacks {plan}:\n{pricing}"
        );
    }
    assert_eq!(
        seen["dashboard_anonymous"], 302,
        "the dashboard needs a signed-in user: {seen}"
    );
    assert_eq!(seen["checkout"]["status"], 303, "{seen}");
    assert!(
        seen["checkout"]["location"]
            .as_str()
            .is_some_and(|l| l.starts_with("http://127.0.0.1:") && l.contains("/c/pay/cs_test_")),
        "{seen}"
    );
    let webhooks = seen["webhooks"].as_object().expect("webhooks");
    assert!(webhooks.len() >= 5, "{seen}");
    assert!(webhooks.values().all(|s| s == 200), "{seen}");
    assert_eq!(seen["replay"], 200, "a replay is acknowledged: {seen}");
    assert_eq!(seen["forged"], 400, "a forged signature is refused: {seen}");
    assert_eq!(
        seen["events_recorded"], seen["events_sent"],
        "each event is recorded once, the replay not again: {seen}"
    );
    assert_eq!(seen["customer"]["status"], "active", "{seen}");
    assert_eq!(seen["customer"]["plan"], "basic", "{seen}");
    let dashboard = seen["dashboard"]["html"].as_str().unwrap_or_default();
    for text in ["Basic", "Active", "https://invoice.stripe.test/i/in_"] {
        assert!(
            dashboard.contains(text),
            "dashboard lacks {text}:\n{dashboard}"
        );
    }
    let plans: Vec<&str> = seen["api_plans"]["plans"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["slug"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(plans, ["free", "basic", "pro"], "{seen}");
    assert_eq!(seen["api_subscription"]["status"], "active", "{seen}");
    assert_eq!(seen["api_subscription"]["plan"]["slug"], "basic", "{seen}");
}

/// The themes to run on a stack: the default one, or `QUICKSCALE_BILLING_THEMES`.
fn themes(default: Theme) -> Vec<Theme> {
    match std::env::var(THEMES_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        None => vec![default],
        Some(v) if v.trim() == "all" => Theme::ALL.to_vec(),
        Some(v) => v
            .split(',')
            .map(|name| {
                Theme::ALL
                    .into_iter()
                    .find(|t| t.name() == name.trim())
                    .unwrap_or_else(|| panic!("{THEMES_VAR}: unknown theme `{name}`"))
            })
            .collect(),
    }
}

fn timing(what: &str, started: Instant) {
    let _ = writeln!(
        std::io::stderr(),
        "note: billing {what}: {:.1?}",
        started.elapsed()
    );
}

/// Publishes the split, embeds it into a `theme` project (with crm and auth
/// from the upstream clone for crm_react), installs it on `stack`, and runs
/// every check.
fn billing_works_in(theme: Theme, stack: &Stack) {
    let started = Instant::now();
    let env = TestEnv::new();
    let Some(bare) = first_party::publish(&env, MODULE) else {
        return;
    };
    let upstream = std::env::var_os(UPSTREAM_VAR).filter(|v| !v.is_empty());
    let mut modules: Vec<(&str, PathBuf)> = vec![(MODULE, bare)];
    let mut pip_args: Vec<&str> = Vec::new();
    if theme == Theme::CrmReact {
        let Some(upstream) = upstream else {
            python::skipped(&format!(
                "crm_react needs the upstream crm and auth modules: set {UPSTREAM_VAR} to a clone of github.com/Experto-AI/quickscale"
            ));
            return;
        };
        if stack.django == python::DJANGO_LTS {
            python::skipped("crm_react's upstream modules need Django 6");
            return;
        }
        let upstream = PathBuf::from(upstream);
        modules.push(("crm", upstream.clone()));
        modules.push(("auth", upstream));
        // The upstream modules declare Python ^3.14 (see test_upstream_modules.rs).
        pip_args.push("--ignore-requires-python");
    }
    let borrowed: Vec<(&str, &Path)> = modules.iter().map(|(n, p)| (*n, p.as_path())).collect();
    let project = first_party::embed(
        &env,
        "demo",
        theme.name(),
        &borrowed,
        &["billing.currency=eur", "billing.pricing_route=plans/"],
    );
    let label = format!("{} on {}", theme.name(), stack.label());
    timing(&format!("{label}: publish, plan, apply"), started);

    let step = Instant::now();
    let venv = Venv::create_on(&env, &project, stack, &pip_args);
    timing(&format!("{label}: install"), step);

    let mut args = CHECK_WARNINGS.to_vec();
    args.extend(["manage.py", "check"]);
    let check = venv.python(&args, &[]);
    assert!(
        stdout(&check).contains("System check identified no issues"),
        "{}",
        describe(&check)
    );
    let step = Instant::now();
    venv.manage(&["migrate", "--noinput"], &[]);
    timing(&format!("{label}: migrate"), step);
    let pending = venv.manage(&["makemigrations", "--check", "--dry-run"], &[]);
    assert!(
        stdout(&pending).contains("No changes detected"),
        "{}",
        describe(&pending)
    );

    // The project's own tests. The database is migrated above; migrating
    // the test database again would cost dj-stripe's 90 s once more.
    let step = Instant::now();
    let tests = venv.pytest(&["-q", "--nomigrations"], &[]);
    let summary = stdout(&tests);
    assert!(
        summary.contains(" passed") && !summary.contains(" failed"),
        "{}",
        describe(&tests)
    );
    timing(&format!("{label}: project tests"), step);

    // The module's own suite, in the project's environment.
    let step = Instant::now();
    let mut cmd = venv.command(&["-m", "pytest", "-q"], &[]);
    cmd.current_dir(project.join("modules/billing"));
    let own = python::run_with_timeout(cmd, std::time::Duration::from_secs(600));
    let text = stdout(&own);
    assert!(
        own.status.success() && text.contains(" passed") && !text.contains(" failed"),
        "the billing module's tests failed:\n{}",
        describe(&own)
    );
    timing(&format!("{label}: module tests"), step);

    let step = Instant::now();
    let seen = run_probe(&venv);
    check_probe(&seen, "/plans/");
    timing(&format!("{label}: probe"), step);

    // Everything the checks wrote (db.sqlite3, __pycache__, …) is ignored.
    assert_eq!(
        env.git(
            &project,
            &["status", "--porcelain", "--untracked-files=all"]
        ),
        "",
        "the checks left files git sees"
    );
    let summary_line = text.lines().last().unwrap_or_default().to_owned();
    let _ = writeln!(
        std::io::stderr(),
        "note: billing in {label}: ok ({summary_line}) in {:.0?}",
        started.elapsed()
    );
}

#[test]
fn billing_works_on_django_lts() {
    if !python::python_enabled() {
        return;
    }
    let stack = python::lts_stack();
    for theme in themes(Theme::ShowcaseHtml) {
        billing_works_in(theme, &stack);
    }
}

#[test]
fn billing_works_on_django_6() {
    if !python::python_enabled() {
        return;
    }
    let Some(stack) = python::django6_stack() else {
        return;
    };
    for theme in themes(Theme::ShowcaseReact) {
        billing_works_in(theme, &stack);
    }
}
