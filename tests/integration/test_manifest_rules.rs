//! A module's manifest cannot weaken the project: protected Django settings,
//! app labels and URL routes are checked against the whole project before
//! anything is written, and the project owner can allow a setting.

use std::path::{Path, PathBuf};

use crate::common::fixtures::{commit_to, module_files, module_repo};
use crate::common::{TestEnv, assert_same_repo, describe, stderr};

/// Fixture module `name` whose module.yml has `edits` applied and `append` added.
fn module_with(env: &TestEnv, name: &str, edits: &[(&str, &str)], append: &str) -> PathBuf {
    let repo = module_repo(env, name);
    let mut manifest = module_files(name, "2.0.0")
        .into_iter()
        .find(|(p, _)| p == "module.yml")
        .map(|(_, t)| t)
        .expect("manifest");
    for (from, to) in edits {
        assert!(manifest.contains(from), "{from}");
        manifest = manifest.replace(from, to);
    }
    manifest.push_str(append);
    commit_to(
        env,
        repo.as_path(),
        &[("module.yml".into(), manifest)],
        "edit manifest",
    );
    repo
}

/// `plan --add` every module with its source, in project `dir`.
fn plan_add(env: &TestEnv, dir: &Path, modules: &[(&str, &Path)]) {
    let mut args: Vec<String> = vec!["plan".into()];
    for (name, repo) in modules {
        // A catalog module (crm) keeps the catalog's ref unless one is given.
        let bundled = git_quickscale::catalog::Catalog::load(&[]).expect("catalog");
        let add = if bundled.get(name).is_some() {
            format!("{name}@HEAD")
        } else {
            (*name).to_owned()
        };
        args.extend(["--add".into(), add]);
        args.extend(["--source".into(), format!("{name}={}", repo.display())]);
    }
    args.push("--yes".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.qs_ok(dir, &args);
}

/// Asserts apply fails with every text of `expect`, writing nothing.
fn assert_refused(env: &TestEnv, dir: &Path, expect: &[&str]) {
    let snap = env.repo_snapshot(dir);
    let out = env.qs(dir, &["apply", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    for e in expect {
        assert!(
            stderr(&out).contains(e),
            "expected `{e}`:\n{}",
            describe(&out)
        );
    }
    assert!(stderr(&out).contains("hint: "), "{}", describe(&out));
    assert_same_repo(&snap, &env.repo_snapshot(dir), expect[0]);
}

fn label(repo: &Path) -> String {
    format!("{}@HEAD:module.yml", repo.display())
}

#[test]
fn a_module_cannot_set_secret_key() {
    let env = TestEnv::new();
    let repo = module_with(
        &env,
        "evil",
        &[],
        "settings:\n  EVIL_COLOR: red\n  SECRET_KEY: stolen\n",
    );
    let dir = env.new_project(&[]);
    plan_add(&env, &dir, &[("evil", &repo)]);
    assert_refused(
        &env,
        &dir,
        &[
            &format!(
                "{}:32:3: module evil: settings: `SECRET_KEY` is a protected Django setting; a module cannot set it",
                label(&repo)
            ),
            "allow it in quickscale.yml only if you trust this module with it: `sources: {evil: {allow_settings: [SECRET_KEY]}}`",
        ],
    );
    assert!(!dir.join("modules/evil").exists());
}

#[test]
fn a_module_cannot_set_a_protected_setting_through_an_option() {
    let env = TestEnv::new();
    let repo = module_with(
        &env,
        "evil",
        &[(
            "django_setting: EVIL_GREETING",
            "django_setting: EMAIL_HOST_PASSWORD",
        )],
        "",
    );
    let dir = env.new_project(&[]);
    plan_add(&env, &dir, &[("evil", &repo)]);
    assert_refused(
        &env,
        &dir,
        &[&format!(
            "{}:9:23: module evil: option greeting: django_setting `EMAIL_HOST_PASSWORD` is a protected Django setting; a module cannot set it",
            label(&repo)
        )],
    );
}

#[test]
fn protected_families_are_refused() {
    for setting in [
        "DEBUG",
        "ALLOWED_HOSTS",
        "DATABASES",
        "SECURE_HSTS_SECONDS",
        "CSRF_TRUSTED_ORIGINS",
        "SESSION_COOKIE_SECURE",
        "PASSWORD_HASHERS",
        "AUTH_PASSWORD_VALIDATORS",
        "ROOT_URLCONF",
        "INSTALLED_APPS",
    ] {
        let env = TestEnv::new();
        let repo = module_with(&env, "evil", &[], &format!("settings:\n  {setting}: 1\n"));
        let dir = env.new_project(&[]);
        plan_add(&env, &dir, &[("evil", &repo)]);
        assert_refused(
            &env,
            &dir,
            &[&format!(
                "module evil: settings: `{setting}` is a protected Django setting; a module cannot set it"
            )],
        );
    }
}

#[test]
fn the_project_owner_can_allow_a_protected_setting() {
    let env = TestEnv::new();
    let repo = module_with(
        &env,
        "evil",
        &[],
        "settings:\n  SESSION_COOKIE_SECURE: false\n",
    );
    let dir = env.new_project(&[]);
    plan_add(&env, &dir, &[("evil", &repo)]);
    let yml = std::fs::read_to_string(dir.join("quickscale.yml")).expect("yml");
    let yml = yml.replacen(
        &format!("    url: {}\n", repo.display()),
        &format!(
            "    url: {}\n    allow_settings: [SESSION_COOKIE_SECURE]\n",
            repo.display()
        ),
        1,
    );
    assert!(yml.contains("allow_settings"), "{yml}");
    std::fs::write(dir.join("quickscale.yml"), &yml).expect("write");
    env.git(&dir, &["commit", "-qam", "allow"]);
    env.qs_ok(&dir, &["apply", "--yes"]);
    let settings =
        std::fs::read_to_string(dir.join("shop/settings/modules.py")).expect("modules.py");
    assert!(
        settings.contains("\"SESSION_COOKIE_SECURE\": False,  # evil"),
        "{settings}"
    );
}

#[test]
fn a_project_package_with_a_module_s_app_label() {
    let env = TestEnv::new();
    let repo = module_repo(&env, "crm");
    env.qs_ok(
        env.root(),
        &[
            "plan",
            "shop",
            "--package",
            "quickscale_modules_crm",
            "--theme",
            "showcase_html",
            "--yes",
        ],
    );
    let dir = env.root().join("shop");
    env.qs_ok(&dir, &["apply", "--yes"]);
    plan_add(&env, &dir, &[("crm", &repo)]);
    assert_refused(
        &env,
        &dir,
        &[&format!(
            "{}:24:15: module crm: django_apps: `quickscale_modules_crm` has the app label `quickscale_modules_crm`, which the project package `quickscale_modules_crm` already uses",
            label(&repo)
        )],
    );
}

#[test]
fn an_app_the_project_already_installs() {
    let env = TestEnv::new();
    let repo = module_with(
        &env,
        "evil",
        &[(
            "django_apps: [quickscale_modules_evil]",
            "django_apps: [quickscale_modules_evil, django.contrib.auth]",
        )],
        "",
    );
    let dir = env.new_project(&[]);
    plan_add(&env, &dir, &[("evil", &repo)]);
    assert_refused(
        &env,
        &dir,
        &[&format!(
            "{}:24:40: module evil: django_apps: `django.contrib.auth` is already installed by the project",
            label(&repo)
        )],
    );
}

#[test]
fn two_modules_with_one_app_label() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let b = module_with(
        &env,
        "b",
        &[(
            "django_apps: [quickscale_modules_b]",
            "django_apps: [vendor.quickscale_modules_a]",
        )],
        "",
    );
    let dir = env.new_project(&[]);
    plan_add(&env, &dir, &[("a", &a), ("b", &b)]);
    assert_refused(
        &env,
        &dir,
        &[&format!(
            "{}:24:15: module b: django_apps: `vendor.quickscale_modules_a` has the app label `quickscale_modules_a`, which module a's `quickscale_modules_a` already uses",
            label(&b)
        )],
    );
}

#[test]
fn routes_that_shadow_the_project() {
    for route in ["admin/", "admin/evil/", "healthz/", "static/"] {
        let env = TestEnv::new();
        let repo = module_with(
            &env,
            "evil",
            &[("route: \"evil/\"", &format!("route: \"{route}\""))],
            "",
        );
        let dir = env.new_project(&[]);
        plan_add(&env, &dir, &[("evil", &repo)]);
        let project_route = format!("{}/", route.split('/').next().expect("segment"));
        let relation = if project_route == route {
            "is"
        } else {
            "is under"
        };
        assert_refused(
            &env,
            &dir,
            &[&format!(
                "{}:26:12: module evil: urls: route `{route}` {relation} the project's own route `{project_route}`",
                label(&repo)
            )],
        );
    }
}

#[test]
fn a_route_of_another_module() {
    let env = TestEnv::new();
    let a = module_repo(&env, "a");
    let b = module_with(&env, "b", &[("route: \"b/\"", "route: \"a/\"")], "");
    let dir = env.new_project(&[]);
    plan_add(&env, &dir, &[("a", &a), ("b", &b)]);
    assert_refused(
        &env,
        &dir,
        &[&format!(
            "{}:26:12: module b: urls: route `a/` is already module a's route (for `quickscale_modules_a.urls`)",
            label(&b)
        )],
    );
}
