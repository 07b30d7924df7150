//! What a module may not change in the project it is embedded in.
//!
//! A manifest is upstream's text, applied to someone else's project. It may
//! not set the Django settings that keep the project safe (unless the
//! project owner allows one in quickscale.yml), install an app whose label
//! another app already has (Django refuses to start), or mount URLs on the
//! project's own routes or another module's. Every problem names the
//! module, the field and the manifest line, and says how to proceed.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Diagnostics};
use crate::yaml::Pos;

use super::ModuleInput;
use super::spec::UrlInclude;

/// Settings a module may not set, by exact name. Grouped as the user guide
/// lists them ("What a module may not change").
pub const PROTECTED_SETTINGS: &[&str] = &[
    // Secrets and the mail server (password resets go through it).
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_SSL_CERTFILE",
    "EMAIL_SSL_KEYFILE",
    // Debugging, hosts and proxies.
    "DEBUG",
    "DEBUG_PROPAGATE_EXCEPTIONS",
    "ALLOWED_HOSTS",
    "INTERNAL_IPS",
    "USE_X_FORWARDED_HOST",
    "USE_X_FORWARDED_PORT",
    "SILENCED_SYSTEM_CHECKS",
    "ADMINS",
    "MANAGERS",
    // Data.
    "DATABASES",
    "DATABASE_ROUTERS",
    "CACHES",
    // The project's structure.
    "ROOT_URLCONF",
    "WSGI_APPLICATION",
    "ASGI_APPLICATION",
    "INSTALLED_APPS",
    "MIDDLEWARE",
    "TEMPLATES",
    // Sessions and cookies (SESSION_COOKIE_AGE is a lifetime, not a protection).
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_PATH",
    "SESSION_ENGINE",
    "SESSION_SERIALIZER",
    "SESSION_FILE_PATH",
    "X_FRAME_OPTIONS",
    // Accounts and passwords.
    "AUTHENTICATION_BACKENDS",
    "PASSWORD_HASHERS",
    "AUTH_PASSWORD_VALIDATORS",
    "PASSWORD_RESET_TIMEOUT",
];

/// Families of protected settings: HTTPS, HSTS, proxy headers, CSRF.
pub const PROTECTED_PREFIXES: &[&str] = &["SECURE_", "CSRF_"];

/// Protected settings the project owner cannot allow either: modules add
/// apps and middleware through `django_apps` and `middleware`, which the
/// project's settings append to its own lists.
pub const NEVER_ALLOWED: &[&str] = &["INSTALLED_APPS", "MIDDLEWARE"];

/// Whether a module may set `name` only with the project owner's permission.
pub fn is_protected(name: &str) -> bool {
    PROTECTED_SETTINGS.contains(&name) || PROTECTED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Apps every generated project installs, by theme (templates/skeleton's
/// settings/base.py.liquid); the project package comes on top.
fn project_apps(theme: &str) -> Vec<&'static str> {
    let mut apps = vec![
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "whitenoise.runserver_nostatic",
        "django.contrib.staticfiles",
    ];
    if theme == "showcase_htmx" {
        apps.push("django_htmx");
    }
    apps
}

/// URL prefixes every generated project serves before the modules' URLs
/// (the theme's urls.py, STATIC_URL and MEDIA_URL). The home page `""` is
/// an exact match, so a module may include its URLs at the root.
fn project_routes(theme: &str) -> Vec<&'static str> {
    let mut routes = vec!["healthz/", "admin/", "static/", "media/"];
    match theme {
        "showcase_react" => routes.push("api/hello/"),
        // The CRM app's client-side routes (its urls.py).
        "crm_react" => routes.extend(["contacts/", "deals/"]),
        _ => {}
    }
    routes
}

/// The project the modules are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Project<'a> {
    pub package: &'a str,
    /// The theme's name (`showcase_html`, …).
    pub theme: &'a str,
    /// Protected settings the project owner allows, by module
    /// (`sources.<module>.allow_settings` in quickscale.yml).
    pub allowed: &'a BTreeMap<String, Vec<String>>,
}

/// Where one wiring value comes from, for the message about it.
struct Origin {
    module: String,
    file: String,
    pos: Option<Pos>,
}

/// A module input's manifest file and the position of one of its values;
/// values from the catalog have no position.
fn origin(m: &ModuleInput, from_manifest: bool, pos: impl FnOnce() -> Option<Pos>) -> Origin {
    match (&m.manifest, from_manifest) {
        (Some(manifest), true) => Origin {
            module: m.name.clone(),
            file: manifest.spans.file.clone(),
            pos: pos(),
        },
        _ => Origin {
            module: m.name.clone(),
            file: format!("the catalog's wiring for {}", m.name),
            pos: None,
        },
    }
}

/// Checks every module against the project and each other; all problems
/// at once, in module-name order.
pub fn check(project: &Project<'_>, inputs: &[ModuleInput]) -> Result<(), Diagnostics> {
    let mut sorted: Vec<&ModuleInput> = inputs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut problems = Vec::new();
    for m in &sorted {
        check_settings(project, m, &mut problems);
    }
    check_apps(project, &sorted, &mut problems);
    check_routes(project, &sorted, &mut problems);
    if problems.is_empty() {
        return Ok(());
    }
    // By module, then by position in its manifest.
    problems.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.sort_key().cmp(&y.sort_key())));
    Err(Diagnostics(problems.into_iter().map(|(_, d)| d).collect()))
}

/// Problems found so far, with the module each is about.
type Problems = Vec<(String, Diagnostic)>;

fn push(problems: &mut Problems, at: Origin, message: String, help: String) {
    problems.push((
        at.module,
        Diagnostic::new(at.file, at.pos, message).with_help(help),
    ));
}

fn check_settings(project: &Project<'_>, m: &ModuleInput, problems: &mut Problems) {
    let Some(manifest) = &m.manifest else {
        return;
    };
    let allowed = project.allowed.get(&m.name);
    let refused =
        |name: &str| is_protected(name) && !allowed.is_some_and(|a| a.iter().any(|x| x == name));
    let help = |name: &str| {
        if NEVER_ALLOWED.contains(&name) {
            format!(
                "modules add {} through the manifest's `{}` field; ask upstream to use it",
                if name == "MIDDLEWARE" {
                    "middleware"
                } else {
                    "apps"
                },
                if name == "MIDDLEWARE" {
                    "middleware"
                } else {
                    "django_apps"
                },
            )
        } else {
            format!(
                "allow it in quickscale.yml only if you trust this module with it: `sources: {{{}: {{allow_settings: [{name}]}}}}`",
                m.name
            )
        }
    };
    let message = |what: String| {
        format!(
            "module {}: {what} is a protected Django setting; a module cannot set it",
            m.name
        )
    };
    for name in manifest.wiring.settings.iter().flat_map(|s| s.keys()) {
        if refused(name) {
            let at = origin(m, true, || manifest.spans.settings.get(name).copied());
            push(
                problems,
                at,
                message(format!("settings: `{name}`")),
                help(name),
            );
        }
    }
    for (name, pos) in manifest.derivation.setting_names() {
        if refused(name) {
            push(
                problems,
                origin(m, true, || Some(pos)),
                message(format!("derivation: setting_key `{name}`")),
                help(name),
            );
        }
    }
    for spec in &manifest.options {
        let Some(name) = &spec.django_setting else {
            continue;
        };
        if refused(name) {
            let at = origin(m, true, || {
                manifest.spans.django_settings.get(&spec.name).copied()
            });
            push(
                problems,
                at,
                message(format!("option {}: django_setting `{name}`", spec.name)),
                help(name),
            );
        }
    }
}

/// Django's default app label: the last component of the app's module path.
fn app_label(app: &str) -> &str {
    app.rsplit('.').next().unwrap_or(app)
}

fn check_apps(project: &Project<'_>, sorted: &[&ModuleInput], problems: &mut Problems) {
    // label -> (who, dotted name)
    let mut owners: BTreeMap<String, (String, String)> = BTreeMap::new();
    let project_apps = project_apps(project.theme);
    for app in &project_apps {
        owners.insert(
            app_label(app).to_owned(),
            ("the project".into(), (*app).to_owned()),
        );
    }
    owners.insert(
        project.package.to_owned(),
        ("the project package".into(), project.package.to_owned()),
    );
    for m in sorted {
        let (apps, from_manifest) = effective_apps(m);
        for (i, app) in apps.iter().enumerate() {
            let at = || {
                origin(m, from_manifest, || {
                    m.manifest
                        .as_ref()
                        .and_then(|x| x.spans.django_apps.get(i).copied())
                })
            };
            if project_apps.contains(&app.as_str()) {
                push(
                    problems,
                    at(),
                    format!(
                        "module {}: django_apps: `{app}` is already installed by the project",
                        m.name
                    ),
                    "the project's settings/base.py installs it; ask upstream to drop it from `django_apps`".into(),
                );
                continue;
            }
            let label = app_label(app);
            match owners.get(label) {
                Some((who, other)) if other != app || who == "the project package" => {
                    let whose = if who == "the project package" {
                        format!("the project package `{other}`")
                    } else {
                        format!("{who}'s `{other}`")
                    };
                    let help = if who == "the project package" {
                        format!(
                            "Django would refuse to start (duplicate app labels); the package cannot change once generated, so leave module {} out of this project",
                            m.name
                        )
                    } else {
                        "Django would refuse to start (duplicate app labels); keep only one of the two modules".into()
                    };
                    push(
                        problems,
                        at(),
                        format!(
                            "module {}: django_apps: `{app}` has the app label `{label}`, which {whose} already uses",
                            m.name
                        ),
                        help,
                    );
                }
                Some(_) => {}
                None => {
                    owners.insert(
                        label.to_owned(),
                        (format!("module {}", m.name), app.clone()),
                    );
                }
            }
        }
    }
}

/// The apps a module brings (as `wiring::effective` picks them) and
/// whether they come from its manifest.
fn effective_apps(m: &ModuleInput) -> (Vec<String>, bool) {
    super::module_apps(m)
}

fn effective_urls(m: &ModuleInput) -> (Vec<UrlInclude>, bool) {
    super::module_urls(m)
}

fn check_routes(project: &Project<'_>, sorted: &[&ModuleInput], problems: &mut Problems) {
    let routes = project_routes(project.theme);
    // route -> (module, include) of the first module that mounts it
    let mut taken: BTreeMap<String, (String, String)> = BTreeMap::new();
    for m in sorted {
        let (urls, from_manifest) = effective_urls(m);
        let mut own: BTreeSet<&str> = BTreeSet::new();
        for (i, u) in urls.iter().enumerate() {
            let at = || {
                origin(m, from_manifest, || {
                    m.manifest
                        .as_ref()
                        .and_then(|x| x.spans.urls.get(i).copied())
                })
            };
            if let Some(p) = routes.iter().find(|p| u.route.starts_with(**p)) {
                let relation = if u.route == *p { "is" } else { "is under" };
                push(
                    problems,
                    at(),
                    format!(
                        "module {}: urls: route `{}` {relation} the project's own route `{p}`",
                        m.name, u.route
                    ),
                    format!(
                        "the project's URLs come first, so the module's would be unreachable there; {}",
                        move_route_help(from_manifest)
                    ),
                );
                continue;
            }
            if u.route.is_empty() {
                continue;
            }
            match taken.get(&u.route) {
                Some((other, include)) if other != &m.name && include != &u.include => {
                    push(
                        problems,
                        at(),
                        format!(
                            "module {}: urls: route `{}` is already module {other}'s route (for `{include}`)",
                            m.name, u.route
                        ),
                        format!(
                            "the first module's URLs would hide the second's; {}, or keep only one of the two modules",
                            move_route_help(from_manifest)
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    own.insert(u.route.as_str());
                }
            }
        }
        for route in own {
            if let Some(u) = urls.iter().find(|u| u.route == route) {
                taken.insert(route.to_owned(), (m.name.clone(), u.include.clone()));
            }
        }
    }
}

/// How to move a route: a manifest's routes win over the catalog's, so only
/// upstream can move those; catalog routes can be overridden with `--index`.
fn move_route_help(from_manifest: bool) -> &'static str {
    if from_manifest {
        "ask upstream to mount it elsewhere (or pin a ref whose manifest does so)"
    } else {
        "change the route in an index override (`--index`, see \"The module catalog\")"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use crate::spec::WiringHints;

    fn module(name: &str, extra: &str) -> ModuleInput {
        let text = format!("name: {name}\nversion: \"1\"\n{extra}");
        let manifest = Manifest::parse(&text, "module.yml", name).expect("manifest");
        ModuleInput {
            name: name.into(),
            options: manifest
                .resolve_options(name, &BTreeMap::new())
                .expect("options"),
            manifest: Some(manifest),
            hints: WiringHints::default(),
            installable: false,
            access: None,
        }
    }

    fn catalog_module(name: &str, hints: WiringHints) -> ModuleInput {
        ModuleInput {
            name: name.into(),
            manifest: None,
            hints,
            options: BTreeMap::new(),
            installable: false,
            access: None,
        }
    }

    fn run(theme: &str, allowed: &[(&str, &str)], inputs: &[ModuleInput]) -> Vec<String> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (m, s) in allowed {
            map.entry((*m).into()).or_default().push((*s).into());
        }
        let project = Project {
            package: "shop",
            theme,
            allowed: &map,
        };
        match check(&project, inputs) {
            Ok(()) => Vec::new(),
            Err(d) => d.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn protected_names() {
        for name in [
            "SECRET_KEY",
            "DEBUG",
            "SECURE_HSTS_SECONDS",
            "SECURE_PROXY_SSL_HEADER",
            "CSRF_COOKIE_SECURE",
            "SESSION_COOKIE_SECURE",
            "EMAIL_HOST_PASSWORD",
            "INSTALLED_APPS",
        ] {
            assert!(is_protected(name), "{name}");
        }
        for name in [
            "SESSION_COOKIE_AGE",
            "CRM_PAGE_SIZE",
            "SITE_ID",
            "MEDIA_URL",
            "AUTH_USER_MODEL",
            "LOGIN_REDIRECT_URL",
            "EMAIL_BACKEND",
            "SECUREX",
        ] {
            assert!(!is_protected(name), "{name}");
        }
        for name in NEVER_ALLOWED {
            assert!(is_protected(name));
        }
    }

    #[test]
    fn settings_need_the_owner_s_permission() {
        let m = module(
            "evil",
            "config:\n  mutable:\n    debug: {type: boolean, default: true, django_setting: DEBUG}\nsettings:\n  SECRET_KEY: x\n  EVIL_OK: 1\n",
        );
        let out = run("showcase_html", &[], std::slice::from_ref(&m));
        assert_eq!(out.len(), 2, "{out:?}");
        // In manifest order.
        assert!(
            out[0]
                .starts_with("module.yml:5:59: module evil: option debug: django_setting `DEBUG`"),
            "{out:?}"
        );
        assert!(
            out[1]
                .starts_with("module.yml:7:3: module evil: settings: `SECRET_KEY` is a protected"),
            "{out:?}"
        );
        assert!(
            out[1].contains("`sources: {evil: {allow_settings: [SECRET_KEY]}}`"),
            "{out:?}"
        );
        assert!(
            run(
                "showcase_html",
                &[("evil", "SECRET_KEY"), ("evil", "DEBUG")],
                std::slice::from_ref(&m)
            )
            .is_empty()
        );
        // Permission is per module.
        assert_eq!(
            run(
                "showcase_html",
                &[("other", "SECRET_KEY"), ("evil", "DEBUG")],
                &[m]
            )
            .len(),
            1
        );
        // The catalog is the project's own choice: its settings are trusted.
        let hints = WiringHints {
            settings: Some(BTreeMap::from([(
                "AUTHENTICATION_BACKENDS".to_owned(),
                crate::value::Value::Int(1),
            )])),
            ..WiringHints::default()
        };
        assert!(run("showcase_html", &[], &[catalog_module("auth", hints)]).is_empty());
    }

    #[test]
    fn derivation_rules_follow_the_same_rules() {
        let m = module(
            "evil",
            "derivation:\n  derived_settings:\n    - setting_key: SECRET_KEY\n      derivation_type: static\n      expression: {value: x}\n  wiring_projections:\n    - wiring_field: url_includes\n      expression: {value: [[\"admin/\", evil.urls]]}\n    - wiring_field: apps\n      expression: {value: [django.contrib.admin]}\n",
        );
        let out = run("showcase_html", &[], std::slice::from_ref(&m));
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(
            out.iter().any(|o| o.starts_with(
                "module.yml:5:20: module evil: derivation: setting_key `SECRET_KEY` is a protected"
            )),
            "{out:?}"
        );
        assert!(
            out.iter()
                .any(|o| o.contains("route `admin/` is the project's own route")),
            "{out:?}"
        );
        assert!(
            out.iter()
                .any(|o| o.contains("`django.contrib.admin` is already installed")),
            "{out:?}"
        );
    }

    #[test]
    fn app_labels_are_unique() {
        let a = module("a", "django_apps: [rest_framework, vendor.core]\n");
        let b = module("b", "django_apps: [rest_framework, other.core]\n");
        let out = run("showcase_html", &[], &[b, a]);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].contains("module b: django_apps: `other.core` has the app label `core`, which module a's `vendor.core` already uses"), "{out:?}");
        let clash = module(
            "c",
            "django_apps: [pkg.shop, django.contrib.sessions, x.admin]\n",
        );
        let out = run("showcase_html", &[], &[clash]);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(out[0].contains("which the project package `shop` already uses"));
        assert!(out[1].contains("`django.contrib.sessions` is already installed by the project"));
        assert!(out[2].contains("which the project's `django.contrib.admin` already uses"));
        // django_htmx is the htmx theme's only.
        let htmx = module("d", "django_apps: [django_htmx]\n");
        assert!(run("showcase_html", &[], std::slice::from_ref(&htmx)).is_empty());
        assert_eq!(run("showcase_htmx", &[], &[htmx]).len(), 1);
    }

    #[test]
    fn routes_may_not_shadow() {
        let m = |name: &str, urls: &str| module(name, &format!("urls: {urls}\n"));
        // Root includes and a module's own repeated route are fine; so is
        // one include shared by two modules (markdownx in blog and listings).
        let ok = [
            m(
                "a",
                "[{route: '', include: a.urls}, {route: a/, include: a.urls}, {route: a/, include: a.more}]",
            ),
            m(
                "b",
                "[{route: '', include: b.urls}, {route: md/, include: markdownx.urls}]",
            ),
            m(
                "c",
                "[{route: md/, include: markdownx.urls}, {route: api/, include: c.api}]",
            ),
        ];
        assert!(run("showcase_react", &[], &ok).is_empty());
        let out = run(
            "showcase_react",
            &[],
            &[m(
                "x",
                "[{route: api/hello/, include: x.urls}, {route: admin/, include: x.urls}]",
            )],
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].contains("route `api/hello/` is the project's own route `api/hello/`"));
        assert!(
            run(
                "showcase_html",
                &[],
                &[m("x", "[{route: api/hello/, include: x.urls}]")]
            )
            .is_empty()
        );
        let out = run(
            "showcase_html",
            &[],
            &[
                m("a", "[{route: a/, include: a.urls}]"),
                m("b", "[{route: a/, include: b.urls}]"),
            ],
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .contains("module b: urls: route `a/` is already module a's route (for `a.urls`)")
        );
    }

    #[test]
    fn the_project_lists_match_the_templates() {
        let root = env!("CARGO_MANIFEST_DIR");
        let read = |p: &str| std::fs::read_to_string(format!("{root}/templates/{p}")).expect(p);
        for theme in ["showcase_react", "crm_react"] {
            let urls = read("skeleton/__package__/urls.py")
                + &read(&format!("themes/{theme}/__package__/urls.py"));
            let mut prefixes: BTreeSet<String> = BTreeSet::new();
            for part in urls.split("path(\"").skip(1) {
                let route = part.split('"').next().unwrap_or_default();
                if !route.is_empty() {
                    prefixes.insert(route.to_owned());
                }
            }
            let known: BTreeSet<String> = project_routes(theme)
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            assert!(
                prefixes.is_subset(&known),
                "{theme}: urls.py routes {prefixes:?} missing from project_routes {known:?}"
            );
        }
        let base = read("skeleton/__package__/settings/base.py.liquid");
        let start = base.find("INSTALLED_APPS = [").expect("INSTALLED_APPS");
        let block = &base[start..start + base[start..].find(']').expect("end")];
        for line in block.lines().skip(1) {
            let app = line.trim().trim_matches(|c| c == '"' || c == ',');
            if app.is_empty() || app.contains("{{") || app.starts_with("{%") {
                continue;
            }
            let app = app.split('"').next().unwrap_or(app);
            assert!(
                project_apps("showcase_htmx").contains(&app),
                "{app} missing from project_apps"
            );
        }
    }
}
