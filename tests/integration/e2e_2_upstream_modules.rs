//! Acceptance: the real upstream QuickScale modules in a generated project.
//!
//! auth, crm and notifications, embedded from their `splits/<name>-module`
//! branches into a project of every theme, installed on a Python >= 3.12
//! with the newest Django 6.x, pass `check`, `migrate`, the project's own
//! tests, and answer at their main URLs.
//!
//! Gated twice: `QUICKSCALE_PYTHON_TESTS=1` and `QUICKSCALE_UPSTREAM_REPO`
//! set to a local clone of github.com/Experto-AI/quickscale that has the
//! split branches (a bare clone will do). Without either it prints a
//! `SKIPPED` line; CI runs without the clone. The upstream modules declare
//! `python = "^3.14"` in their pyproject, which no Python of the test
//! machines satisfies, so pip runs with `--ignore-requires-python`.

use std::io::Write;
use std::path::{Path, PathBuf};

use git_quickscale::config::Theme;

use crate::common::python::{self, Venv};
use crate::common::{TestEnv, describe, stdout};

/// A local clone of github.com/Experto-AI/quickscale.
const UPSTREAM_VAR: &str = "QUICKSCALE_UPSTREAM_REPO";
const MODULES: [&str; 3] = ["auth", "crm", "notifications"];
const PACKAGE: &str = "demo";

/// The clone named by `QUICKSCALE_UPSTREAM_REPO`, or None with a `SKIPPED` line.
fn upstream_repo() -> Option<PathBuf> {
    match std::env::var_os(UPSTREAM_VAR).filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            python::skipped(&format!(
                "set {UPSTREAM_VAR} to a local clone of github.com/Experto-AI/quickscale to run the upstream-module acceptance test"
            ));
            None
        }
    }
}

/// Requests to each module's main URLs, as a visitor and signed up, through
/// Django's test client. The webhook secret comes from the environment, as
/// the notifications module expects.
const PROBE: &str = r#"
import json
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import Resolver404, resolve, reverse
from quickscale_modules_notifications.services import build_webhook_signature_headers

setup_test_environment()
from quickscale_modules_crm.models import Company, Contact, Deal, Stage
stage = Stage.objects.order_by("order").first() or Stage.objects.create(name="Lead", order=0)
company = Company.objects.create(name="Leak Industries")
contact = Contact.objects.create(first_name="Carol", last_name="Leak", email="carol@leak.example", company=company)
Deal.objects.create(title="QS-LEAK-DEAL", contact=contact, amount=4321, stage=stage)
walk = anonymous_walk(["carol@leak.example", "QS-LEAK-DEAL"])
client = Client()
out = {"walk": walk, "reverse": {
    "login": reverse("account_login"),
    "crm": reverse("quickscale_crm:dashboard"),
    "webhook": reverse("quickscale_notifications:resend-webhook"),
}}

def page(url):
    response = client.get(url)
    return {"status": response.status_code, "html": response.content.decode()}

out["login"] = page("/accounts/login/")
out["signup"] = page("/accounts/signup/")
out["anonymous_api"] = client.get("/crm/api/").status_code
password = "correct horse battery staple"
response = client.post("/accounts/signup/", {
    "username": "alice", "email": "alice@example.com",
    "password1": password, "password2": password,
})
out["signup_post"] = {"status": response.status_code, "location": response.get("Location", "")}
out["profile"] = page("/accounts/profile/")
out["crm"] = page("/crm/")
response = client.get("/crm/api/")
out["api"] = {"status": response.status_code, "json": response.json() if response.status_code == 200 else None}
response = client.get("/crm/api/contacts/")
out["contacts"] = {"status": response.status_code, "json": response.json() if response.status_code == 200 else None}

body = json.dumps({"event_type": "email.delivered", "provider_message_id": "qs-test", "recipient": "alice@example.com"}).encode()
def webhook(url, headers):
    response = client.post(url, data=body, content_type="application/json", headers=headers)
    return {"status": response.status_code, "body": response.content.decode()}

signed = build_webhook_signature_headers(body, secret="qs-test-secret")
out["webhook_unsigned"] = webhook("/notifications/webhooks/resend/", {})
out["webhook_signed"] = webhook("/notifications/webhooks/resend/", signed)
try:
    out["doubled_view"] = resolve("/notifications/notifications/webhooks/resend/").view_name
except Resolver404:
    out["doubled_view"] = None
print("QS-PROBE " + json.dumps(out))
"#;

fn run_probe(venv: &Venv<'_>) -> serde_json::Value {
    let out = venv.shell(
        &format!("{}{PROBE}", python::ANONYMOUS_WALK),
        &[("QUICKSCALE_NOTIFICATIONS_WEBHOOK_SECRET", "qs-test-secret")],
    );
    let text = stdout(&out);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("QS-PROBE "))
        .unwrap_or_else(|| panic!("the probe printed no result:\n{}", describe(&out)));
    serde_json::from_str(line).expect("probe JSON")
}

/// `git rev-parse <branch>` in the upstream clone.
fn upstream_commit(env: &TestEnv, repo: &Path, branch: &str) -> String {
    env.git(
        repo,
        &["rev-parse", "--verify", &format!("{branch}^{{commit}}")],
    )
    .trim()
    .to_owned()
}

fn upstream_modules_work_in(theme: Theme) {
    if !python::python_enabled() {
        return;
    }
    let Some(repo) = upstream_repo() else { return };
    let Some(stack) = python::django6_stack() else {
        return;
    };
    let env = TestEnv::new();
    env.qs_ok(
        env.root(),
        &["plan", PACKAGE, "--theme", theme.name(), "--yes"],
    );
    let project = env.root().join(PACKAGE);
    env.qs_ok(&project, &["apply", "--yes"]);
    let mut args = vec!["plan".to_owned()];
    for name in MODULES {
        args.extend([
            "--add".to_owned(),
            format!("{name}@splits/{name}-module"),
            "--source".to_owned(),
            format!("{name}={}", repo.display()),
        ]);
    }
    args.push("--yes".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.qs_ok(&project, &args);
    env.qs_ok(&project, &["apply", "--yes"]);

    // Each module is the split branch's tip, as a squashed subtree.
    let mut commits = Vec::new();
    for name in MODULES {
        let commit = upstream_commit(&env, &repo, &format!("splits/{name}-module"));
        let log = env.git(
            &project,
            &[
                "log",
                "--format=%B",
                "--grep",
                &format!("git-subtree-dir: modules/{name}"),
            ],
        );
        assert!(
            log.contains(&format!("git-subtree-split: {commit}")),
            "modules/{name} is not splits/{name}-module at {commit}:\n{log}"
        );
        commits.push(format!("{name}@{}", &commit[..12]));
    }

    let venv = Venv::create_on(&env, &project, &stack, &["--ignore-requires-python"]);
    let django = stdout(&venv.python(&["-m", "django", "--version"], &[]))
        .trim()
        .to_owned();
    let check = venv.manage(&["check"], &[]);
    assert!(
        stdout(&check).contains("System check identified no issues"),
        "{}",
        describe(&check)
    );
    venv.manage(&["migrate", "--noinput"], &[]);
    let tests = venv.pytest(&["-q"], &[]);
    let summary = stdout(&tests);
    assert!(
        summary.contains(" passed") && !summary.contains(" failed"),
        "{}",
        describe(&tests)
    );

    let seen = run_probe(&venv);
    // The URLs each module's own urls.py and documentation promise.
    assert_eq!(seen["reverse"]["login"], "/accounts/login/", "{seen}");
    assert_eq!(seen["reverse"]["crm"], "/crm/", "{seen}");
    assert_eq!(
        seen["reverse"]["webhook"], "/notifications/webhooks/resend/",
        "{seen}"
    );
    for page in ["login", "signup", "profile"] {
        let html = seen[page]["html"].as_str().unwrap_or_default();
        assert_eq!(seen[page]["status"], 200, "{page}:\n{html}");
        for marker in [
            "<header class=\"site-header\">",
            "<footer class=\"site-footer\">",
            "href=\"/static/css/style.css\"",
        ] {
            assert!(
                html.contains(marker),
                "{page}: the theme's `{marker}` is missing:\n{html}"
            );
        }
    }
    assert_eq!(
        seen["anonymous_api"], 403,
        "the CRM API answers anonymous requests: {seen}"
    );
    assert_eq!(seen["signup_post"]["status"], 302, "{seen}");
    assert_eq!(seen["crm"]["status"], 200, "{seen}");
    // The dashboard lists the records to the signed-in user, never to a visitor.
    let crm = seen["crm"]["html"].as_str().unwrap_or_default();
    assert!(crm.contains("QS-LEAK-DEAL"), "{crm}");
    let walk = &seen["walk"];
    assert_eq!(
        walk["leaks"],
        serde_json::json!([]),
        "pages list CRM records to visitors: {walk:#}"
    );
    assert_eq!(walk["statuses"]["/crm/"], 302, "{walk:#}");
    assert_eq!(seen["api"]["status"], 200, "{seen}");
    assert!(
        seen["api"]["json"]["contacts"]
            .as_str()
            .is_some_and(|u| u.ends_with("/crm/api/contacts/")),
        "{seen}"
    );
    assert_eq!(seen["contacts"]["status"], 200, "{seen}");
    // Unsigned: refused by the module's signature check. Signed: accepted
    // as authentic, then refused because no such delivery was sent.
    assert_eq!(seen["webhook_unsigned"]["status"], 403, "{seen}");
    assert_eq!(seen["webhook_signed"]["status"], 400, "{seen}");
    assert!(
        seen["webhook_signed"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("does not match a known notification delivery")),
        "{seen}"
    );
    // Nothing is mounted twice (the React theme's catch-all may still match).
    assert_ne!(
        seen["doubled_view"], "quickscale_notifications:resend-webhook",
        "{seen}"
    );

    let _ = writeln!(
        std::io::stderr(),
        "note: upstream modules {} on {} with Django {django}, theme {}: ok",
        commits.join(", "),
        stack.label(),
        theme.name()
    );
}

#[test]
fn upstream_modules_work_in_showcase_html() {
    upstream_modules_work_in(Theme::ShowcaseHtml);
}

#[test]
fn upstream_modules_work_in_showcase_htmx() {
    upstream_modules_work_in(Theme::ShowcaseHtmx);
}

#[test]
fn upstream_modules_work_in_showcase_react() {
    upstream_modules_work_in(Theme::ShowcaseReact);
}
