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
//! Python >= 3.12 + Django 6), for each theme: the project installs, passes
//! `check`, `migrate` and its own tests, and a probe drives the pricing
//! page, Checkout, signed webhooks (a replay, a forged one), the dashboard
//! and the REST API against the module's fake Stripe on 127.0.0.1 (no
//! network); the module's own suite runs once per stack.
//!
//! CI time. The themes of a stack share one venv (on the stack's shared
//! base venv, plus dj-stripe and stripe). dj-stripe's migrations take 1.5
//! to 3 minutes of CPU on SQLite, so one project is migrated from scratch
//! (the first, on Django 5.2) and every other starts from a copy of its
//! database: `migrate` then applies only what differs (on Django 6, Django's
//! own new migrations, if any; never dj-stripe's or the module's). Both
//! stacks run in one test, one after the other. Default themes:
//! showcase_html, showcase_htmx and showcase_react on Django 5.2,
//! showcase_react on Django 6. `QUICKSCALE_BILLING_THEMES=all` (or a
//! comma-separated list) sets both stacks' themes; crm_react also needs
//! `QUICKSCALE_UPSTREAM_REPO` (its crm and auth modules) and Django 6, and
//! gets a venv and a migration of its own. The database migrated from
//! scratch is kept under `<target>/test-cache/billing-db/`, named by a hash
//! of what the migration depends on (interpreter, installed versions,
//! apps, the module's migration files): a later run with the same inputs
//! starts from it. `QUICKSCALE_BILLING_FRESH_MIGRATE=1` migrates every
//! project from scratch and ignores that cache.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
/// Runs in a transaction that is rolled back, so the next theme's copy of
/// the database starts empty.
const PROBE: &str = r#"
import json, os
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
from djstripe.models import Event
from quickscale_modules_billing import conf
from quickscale_modules_billing.models import BillingCustomer, BillingEvent, Plan, PlanLimit
from quickscale_modules_billing.testing import FakeStripe
from quickscale_modules_billing.webhooks import CHECKOUT_EVENTS, INVOICE_EVENTS, SUBSCRIPTION_EVENTS

setup_test_environment()
fake = FakeStripe()
os.environ[conf.secret_key_env_var()] = fake.api_key
os.environ[conf.webhook_secret_env_var()] = fake.webhook_secret
os.environ[conf.API_BASE_ENV_VAR] = fake.start()
out = {}

class Rollback(Exception):
    pass

def probe():
    free = Plan.objects.create(name="Free", slug="free")
    basic = Plan.objects.create(name="Basic", slug="basic", monthly_price=10, sort_order=1,
        stripe_monthly_price_id=fake.create_price(1000, "month", "eur", name="Basic"))
    Plan.objects.create(name="Pro", slug="pro", monthly_price=30, sort_order=2,
        stripe_monthly_price_id=fake.create_price(3000, "month", "eur", name="Pro"))
    PlanLimit.objects.create(plan=free, metric="projects", limit=1)
    PlanLimit.objects.create(plan=basic, metric="projects", limit=5)

    def page(client, url):
        response = client.get(url)
        return {"status": response.status_code, "html": response.content.decode()}

    out["reverse"] = {name: reverse(f"quickscale_billing:{name}") for name in ("pricing", "dashboard", "webhook", "api-plans")}
    out["currency"] = conf.currency()
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
    handled = {**SUBSCRIPTION_EVENTS, **INVOICE_EVENTS, **CHECKOUT_EVENTS}
    out["events_sent"] = len(fake.events)
    out["events_stored"] = Event.objects.count()
    out["events_handled"] = len([e for e in fake.events if e["type"] in handled])
    out["events_recorded"] = BillingEvent.objects.count()
    customer = BillingCustomer.objects.get(owner=user)
    out["customer"] = {"status": customer.status, "plan": customer.plan.slug if customer.plan else None}
    out["dashboard"] = page(client, out["reverse"]["dashboard"])
    out["api_plans"] = client.get(out["reverse"]["api-plans"]).json()
    out["api_subscription"] = client.get(reverse("quickscale_billing:api-subscription")).json()
    raise Rollback

try:
    with transaction.atomic():
        probe()
except Rollback:
    pass
fake.stop()
out["plans_left"] = Plan.objects.count()
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
    for plan in ["Free", "Basic", "Pro", "10.00 EUR"] {
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
        seen["events_stored"], seen["events_sent"],
        "each event is stored once, the replay not again: {seen}"
    );
    assert_eq!(
        seen["events_recorded"], seen["events_handled"],
        "each handled event is in the billing history once: {seen}"
    );
    assert_eq!(seen["customer"]["status"], "active", "{seen}");
    assert_eq!(seen["customer"]["plan"], "basic", "{seen}");
    let dashboard = seen["dashboard"]["html"].as_str().unwrap_or_default();
    for text in [
        "Basic",
        "Active",
        "10.00 EUR",
        "https://invoice.stripe.test/i/in_",
    ] {
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
    assert_eq!(seen["plans_left"], 0, "the probe rolls back: {seen}");
}

/// The themes to run on a stack: the defaults, or `QUICKSCALE_BILLING_THEMES`.
fn themes(default: &[Theme]) -> Vec<Theme> {
    match std::env::var(THEMES_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        None => default.to_vec(),
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

/// Set to 1 to migrate every project from scratch (minutes each).
const FRESH_VAR: &str = "QUICKSCALE_BILLING_FRESH_MIGRATE";
/// A from-scratch migration with dj-stripe: minutes of CPU on SQLite.
const MIGRATE_TIMEOUT: Duration = Duration::from_secs(1200);

/// What a from-scratch migration's result depends on, as a short hash: the
/// interpreter, every installed distribution's version, the project's
/// apps and the module's migration files. Names the database cached
/// under `<target>/test-cache/billing-db/`.
fn db_key(venv: &Venv<'_>) -> String {
    const KEY: &str = r#"
import hashlib, importlib.metadata as md, pathlib, sys
from django.conf import settings
import quickscale_modules_billing
h = hashlib.sha256()
h.update(sys.version.encode())
h.update("\n".join(sorted(f"{d.metadata['Name']}=={d.version}" for d in md.distributions())).encode())
h.update("\n".join(settings.INSTALLED_APPS).encode())
for f in sorted(pathlib.Path(quickscale_modules_billing.__file__).parent.joinpath("migrations").glob("*.py")):
    h.update(f.name.encode() + f.read_bytes())
print("QS-KEY", h.hexdigest()[:24])
"#;
    let out = venv.shell(KEY, &[]);
    stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("QS-KEY "))
        .unwrap_or_else(|| panic!("no key:\n{}", describe(&out)))
        .to_owned()
}

/// What the projects of a run share.
struct Shared<'a> {
    /// The stack's venv, moved from showcase project to showcase project.
    venv: Option<Venv<'a>>,
    /// The first showcase project (the one migrated from scratch).
    first: Option<PathBuf>,
}

/// Embeds the published split into a `theme` project and runs every check
/// on `stack`. Showcase themes share `shared`; crm_react (with crm and auth
/// from the upstream clone) gets a venv and a migration of its own.
fn billing_works_in<'a>(
    env: &'a TestEnv,
    bare: &Path,
    theme: Theme,
    stack: &Stack,
    shared: &mut Shared<'a>,
) {
    let started = Instant::now();
    let upstream = std::env::var_os(UPSTREAM_VAR).filter(|v| !v.is_empty());
    let mut modules: Vec<(&str, PathBuf)> = vec![(MODULE, bare.to_owned())];
    let mut pip_args: Vec<&str> = Vec::new();
    let own = theme == Theme::CrmReact;
    if own {
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
        // The upstream modules declare Python ^3.14 (see e2e_2_upstream_modules.rs).
        pip_args.push("--ignore-requires-python");
    }
    let label = format!("{} on {}", theme.name(), stack.label());
    let slug = format!(
        "{}-{}",
        theme.name().replace('_', "-"),
        if stack.django == python::DJANGO_LTS {
            "lts"
        } else {
            "six"
        }
    );
    let borrowed: Vec<(&str, &Path)> = modules.iter().map(|(n, p)| (*n, p.as_path())).collect();
    let project = first_party::embed(
        env,
        &slug,
        theme.name(),
        &borrowed,
        &["billing.currency=eur", "billing.pricing_route=plans/"],
    );
    timing(&format!("{label}: plan, apply"), started);

    // Install: the first project of a stack installs its requirements; the
    // next showcase themes embed the same module tree (asserted) and need
    // nothing the base venv lacks, so they use the venv as it is.
    let step = Instant::now();
    let tree = env.rev(&project, "HEAD:modules/billing");
    let venv = match (own, shared.venv.take()) {
        (false, Some(venv)) => {
            assert_eq!(
                env.rev(venv.project(), "HEAD:modules/billing"),
                tree,
                "every theme embeds the same module tree"
            );
            venv.moved_to(&project)
        }
        _ => Venv::create_on(env, &project, stack, &pip_args),
    };
    timing(&format!("{label}: install"), step);

    let mut args = CHECK_WARNINGS.to_vec();
    args.extend(["manage.py", "check"]);
    let check = venv.python(&args, &[]);
    assert!(
        stdout(&check).contains("System check identified no issues"),
        "{}",
        describe(&check)
    );

    // Migrate: from scratch for the run's first showcase project (and
    // crm_react, and every project with QUICKSCALE_BILLING_FRESH_MIGRATE=1);
    // the others start from a copy of that database, and migrate applies
    // what their stack and theme add (nothing of dj-stripe or the module).
    let step = Instant::now();
    let fresh_all = std::env::var(FRESH_VAR).is_ok_and(|v| v == "1");
    let db = project.join("db.sqlite3");
    let mut cached: Option<PathBuf> = None;
    let copied_from = match (&shared.first, own || fresh_all) {
        (Some(first), false) => {
            std::fs::copy(first.join("db.sqlite3"), &db).expect("copy the migrated database");
            Some(first.clone())
        }
        (None, false) => {
            let file = python::cache_dir("billing-db").join(format!("{}.sqlite3", db_key(&venv)));
            let hit = file.is_file();
            if hit {
                std::fs::copy(&file, &db).expect("copy the cached database");
            }
            cached = Some(file);
            hit.then(|| PathBuf::from("the cache"))
        }
        _ => None,
    };
    let migrate = python::run_with_timeout(
        venv.command(&["manage.py", "migrate", "--noinput"], &[]),
        MIGRATE_TIMEOUT,
    );
    let said = stdout(&migrate);
    assert!(migrate.status.success(), "{}", describe(&migrate));
    if copied_from.is_some() {
        assert!(
            !said.contains("Applying djstripe.")
                && !said.contains("Applying quickscale_modules_billing."),
            "{}",
            describe(&migrate)
        );
    } else {
        assert!(
            said.contains("Applying djstripe.")
                && said.contains("Applying quickscale_modules_billing.0001_initial... OK"),
            "{}",
            describe(&migrate)
        );
    }
    timing(
        &format!(
            "{label}: migrate{}",
            match &copied_from {
                Some(from) if from.as_path() == Path::new("the cache") =>
                    " (from the database an earlier run migrated from scratch with the same packages and migrations)",
                Some(_) => " (from a copy of the first project's database)",
                None => " (from scratch)",
            }
        ),
        step,
    );
    if let (Some(file), None) = (&cached, &copied_from) {
        // Kept for the next run: written aside, then renamed into place.
        let part = file.with_extension("part");
        std::fs::copy(&db, &part).expect("cache the migrated database");
        std::fs::rename(&part, file).expect("cache the migrated database");
    }
    if shared.first.is_none() && !own {
        shared.first = Some(project.clone());
        let pending = venv.manage(&["makemigrations", "--check", "--dry-run"], &[]);
        assert!(
            stdout(&pending).contains("No changes detected"),
            "{}",
            describe(&pending)
        );
    }

    // The project's own tests, as a user runs them: settings/test.py makes
    // dj-stripe's test tables from its models (no minutes of migrations)
    // and tests/test_migrations.py checks its models against its migrations.
    let step = Instant::now();
    let pytest = ["-m", "pytest", "-p", "no:cacheprovider", "-q"];
    let tests = python::run_with_timeout(venv.command(&pytest, &[]), MIGRATE_TIMEOUT);
    let summary = stdout(&tests);
    assert!(
        tests.status.success() && summary.contains(" passed") && !summary.contains(" failed"),
        "{}",
        describe(&tests)
    );
    timing(&format!("{label}: project tests"), step);

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
    let _ = writeln!(
        std::io::stderr(),
        "note: billing in {label}: ok in {:.0?}",
        started.elapsed()
    );
    if !own {
        shared.venv = Some(venv);
    }
}

/// The module's own suite (unit, webhook and end-to-end tests against the
/// fake Stripe), as embedded in the stack's last project, in its venv.
fn module_suite_passes(venv: &Venv<'_>, label: &str) {
    let step = Instant::now();
    let mut cmd = venv.command(&["-m", "pytest", "-q"], &[]);
    cmd.current_dir(venv.project().join("modules/billing"));
    let own = python::run_with_timeout(cmd, Duration::from_secs(900));
    let text = stdout(&own);
    assert!(
        own.status.success() && text.contains(" passed") && !text.contains(" failed"),
        "the billing module's tests failed:\n{}",
        describe(&own)
    );
    let summary = text.lines().last().unwrap_or_default().to_owned();
    timing(&format!("{label}: module tests ({summary})"), step);
}

/// Both stacks in one test, one after the other, so that one dj-stripe
/// migration from scratch serves every project (see the module docs).
#[test]
fn billing_works_in_the_themes_on_django_lts_and_6() {
    if !python::python_enabled() {
        return;
    }
    let started = Instant::now();
    let env = TestEnv::new();
    let Some(bare) = first_party::publish(&env, MODULE) else {
        return;
    };
    let mut first: Option<PathBuf> = None;
    let lts = python::lts_stack();
    let six = python::django6_stack();
    let stacks: Vec<(Stack, Vec<Theme>)> = std::iter::once((
        lts,
        themes(&[
            Theme::ShowcaseHtml,
            Theme::ShowcaseHtmx,
            Theme::ShowcaseReact,
        ]),
    ))
    .chain(six.map(|s| (s, themes(&[Theme::ShowcaseReact]))))
    .collect();
    for (stack, themes) in stacks {
        let mut shared = Shared {
            venv: None,
            first: first.clone(),
        };
        for theme in themes {
            billing_works_in(&env, &bare, theme, &stack, &mut shared);
        }
        if let Some(venv) = &shared.venv {
            module_suite_passes(venv, &stack.label());
        }
        first = shared.first;
    }
    timing("total", started);
}
