//! Managed wiring: the files the tool regenerates from the embedded modules.
//!
//! From each module's manifest (or the catalog's hints when the manifest
//! lacks a field) and its resolved options, this computes INSTALLED_APPS,
//! middleware, settings, URL includes and Python requirements, and renders
//! them as the managed files. Output is sorted and stable; every value is
//! written as an inert literal.

pub mod python;
pub mod rules;
pub mod spec;

use std::collections::BTreeMap;

use crate::diag::Diagnostics;
use crate::manifest::Manifest;
use crate::render::{FileMap, GeneratedFile};
use crate::value::Value;
use spec::{UrlInclude, WiringHints};

/// The first line of every managed file says so.
pub const MANAGED_MARKER: &str = "Managed by git-quickscale";

/// Paths of the managed files for a package, relative to the project root.
pub fn managed_paths(package: &str) -> [String; 3] {
    [
        format!("{package}/settings/modules.py"),
        format!("{package}/urls_modules.py"),
        REQUIREMENTS_FILE.to_owned(),
    ]
}

/// The managed requirements file, included by the user-owned requirements.txt.
pub const REQUIREMENTS_FILE: &str = "requirements-modules.txt";

/// What one embedded module contributes.
#[derive(Debug, Clone)]
pub struct ModuleInput {
    pub name: String,
    pub manifest: Option<Manifest>,
    pub hints: WiringHints,
    /// Resolved options (defaults filled in).
    pub options: BTreeMap<String, Value>,
    /// The module directory holds an installable Python package
    /// (pyproject.toml or setup.py), so pip installs it from `modules/<name>`.
    pub installable: bool,
}

/// One Django setting and the module (and option) it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingValue {
    pub value: Value,
    pub module: String,
    pub option: Option<String>,
}

/// The merged wiring of every module.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wiring {
    pub apps: Vec<String>,
    pub middleware: Vec<String>,
    pub settings: BTreeMap<String, SettingValue>,
    pub urls: Vec<UrlInclude>,
    pub requirements: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WiringError {
    #[error(
        "modules {first} and {second} both set the Django setting {setting}, to different values ({first_value} and {second_value})"
    )]
    Conflict {
        setting: String,
        first: String,
        first_value: String,
        second: String,
        second_value: String,
    },
    #[error("module {module}: {message}")]
    Invalid { module: String, message: String },
    /// A module would weaken or break the project (see `rules`).
    #[error("{0}")]
    Refused(Diagnostics),
}

impl WiringError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            WiringError::Conflict { .. } => {
                "change one module's option so both agree, or remove one of the modules".into()
            }
            WiringError::Invalid { .. } => "fix the module's manifest or the catalog entry".into(),
            WiringError::Refused(_) => {
                "docs/user-guide.md, \"What a module may not change\", explains each rule".into()
            }
        })
    }
}

/// Merges the modules' wiring after checking it against the project's
/// rules (protected settings, app labels, routes; see `rules`).
pub fn compute_for(
    project: &rules::Project<'_>,
    inputs: &[ModuleInput],
) -> Result<Wiring, WiringError> {
    let wiring = compute(inputs)?;
    rules::check(project, inputs).map_err(WiringError::Refused)?;
    Ok(wiring)
}

/// Merges the modules' wiring, in module-name order.
pub fn compute(inputs: &[ModuleInput]) -> Result<Wiring, WiringError> {
    let mut sorted: Vec<&ModuleInput> = inputs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut w = Wiring::default();
    for m in sorted {
        if let Some(problem) = crate::identity::module_name_problem(&m.name) {
            return Err(WiringError::Invalid {
                module: m.name.escape_debug().to_string(),
                message: format!("the name {problem}"),
            });
        }
        let (apps, middleware, urls, static_settings, deps) = effective(m);
        let invalid = |message: String| WiringError::Invalid {
            module: m.name.clone(),
            message,
        };
        let check = WiringHints {
            django_apps: Some(apps.clone()),
            middleware: Some(middleware.clone()),
            urls: Some(urls.clone()),
            settings: Some(static_settings.clone()),
            dependencies: Some(deps.clone()),
        };
        check.validate().map_err(invalid)?;
        push_unique(&mut w.apps, apps);
        push_unique(&mut w.middleware, middleware);
        for u in urls {
            if !w.urls.contains(&u) {
                w.urls.push(u);
            }
        }
        let mut own: BTreeMap<String, SettingValue> = static_settings
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    SettingValue {
                        value: v,
                        module: m.name.clone(),
                        option: None,
                    },
                )
            })
            .collect();
        if let Some(manifest) = &m.manifest {
            for spec in &manifest.options {
                if let Some(setting) = &spec.django_setting {
                    let value = m.options.get(&spec.name).cloned().unwrap_or(Value::Null);
                    // Within one module, an option overrides its static default.
                    own.insert(
                        setting.clone(),
                        SettingValue {
                            value,
                            module: m.name.clone(),
                            option: Some(spec.name.clone()),
                        },
                    );
                }
            }
        }
        for (name, sv) in own {
            match w.settings.get(&name) {
                Some(existing) if existing.value != sv.value => {
                    return Err(WiringError::Conflict {
                        setting: name,
                        first: existing.module.clone(),
                        first_value: existing.value.to_yaml(),
                        second: sv.module,
                        second_value: sv.value.to_yaml(),
                    });
                }
                Some(_) => {}
                None => {
                    w.settings.insert(name, sv);
                }
            }
        }
        push_unique(&mut w.requirements, deps);
        if m.installable {
            push_unique(
                &mut w.requirements,
                vec![format!("-e ./modules/{}", m.name)],
            );
        }
    }
    Ok(w)
}

type Effective = (
    Vec<String>,
    Vec<String>,
    Vec<UrlInclude>,
    BTreeMap<String, Value>,
    Vec<String>,
);

/// The manifest's fields where present, the catalog's hints otherwise.
fn effective(m: &ModuleInput) -> Effective {
    let manifest = m.manifest.as_ref();
    let apps = manifest
        .map(|x| x.django_apps.clone())
        .filter(|a| !a.is_empty())
        .or_else(|| m.hints.django_apps.clone())
        .unwrap_or_default();
    let middleware = manifest
        .and_then(|x| x.wiring.middleware.clone())
        .or_else(|| m.hints.middleware.clone())
        .unwrap_or_default();
    let urls = manifest
        .and_then(|x| x.wiring.urls.clone())
        .or_else(|| m.hints.urls.clone())
        .unwrap_or_default();
    let settings = manifest
        .and_then(|x| x.wiring.settings.clone())
        .or_else(|| m.hints.settings.clone())
        .unwrap_or_default();
    let deps = manifest
        .map(|x| x.dependencies.clone())
        .filter(|d| !d.is_empty())
        .or_else(|| m.hints.dependencies.clone())
        .unwrap_or_default();
    (apps, middleware, urls, settings, deps)
}

fn push_unique(into: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

const PY_HEADER: &str = "Managed by git-quickscale. DO NOT EDIT: `git quickscale apply` rewrites\nthis file from quickscale.yml and the embedded modules' manifests.\nChange module options in quickscale.yml instead.";

/// Renders the managed files.
pub fn render(package: &str, w: &Wiring) -> FileMap {
    let [settings_path, urls_path, req_path] = managed_paths(package);
    let mut files = FileMap::new();
    let file = |s: String| GeneratedFile {
        contents: s.into_bytes(),
        executable: false,
    };
    files.insert(settings_path, file(render_settings(w)));
    files.insert(urls_path, file(render_urls(w)));
    files.insert(req_path, file(render_requirements(w)));
    files
}

fn render_settings(w: &Wiring) -> String {
    let mut out = format!("\"\"\"{PY_HEADER}\n\"\"\"\n\n");
    let list = |items: &[String]| -> String {
        if items.is_empty() {
            "[]".into()
        } else {
            let mut s = "[\n".to_owned();
            for i in items {
                s.push_str(&format!("    {},\n", python::string(i)));
            }
            s.push(']');
            s
        }
    };
    out.push_str(&format!(
        "MODULE_INSTALLED_APPS: list[str] = {}\n\n",
        list(&w.apps)
    ));
    out.push_str(&format!(
        "MODULE_MIDDLEWARE: list[str] = {}\n\n",
        list(&w.middleware)
    ));
    if w.settings.is_empty() {
        out.push_str("MODULE_SETTINGS: dict[str, object] = {}\n");
    } else {
        out.push_str("MODULE_SETTINGS: dict[str, object] = {\n");
        for (name, sv) in &w.settings {
            let origin = match &sv.option {
                Some(o) => format!("{}.{o}", sv.module),
                None => sv.module.clone(),
            };
            out.push_str(&format!(
                "    {}: {},  # {origin}\n",
                python::string(name),
                python::literal(&sv.value)
            ));
        }
        out.push_str("}\n");
    }
    out
}

fn render_urls(w: &Wiring) -> String {
    let mut out = format!("\"\"\"{PY_HEADER}\n\"\"\"\n\n");
    if w.urls.is_empty() {
        out.push_str("MODULE_URLPATTERNS: list = []\n");
        return out;
    }
    out.push_str("from django.urls import include, path\n\nMODULE_URLPATTERNS: list = [\n");
    for u in &w.urls {
        out.push_str(&format!(
            "    path({}, include({})),\n",
            python::string(&u.route),
            python::string(&u.include)
        ));
    }
    out.push_str("]\n");
    out
}

fn render_requirements(w: &Wiring) -> String {
    let mut out = String::new();
    for line in PY_HEADER.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    for r in &w.requirements {
        out.push_str(r);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn module(name: &str, manifest: &str, options: &[(&str, Value)]) -> ModuleInput {
        let manifest = Manifest::parse(manifest, "module.yml", name).expect("manifest");
        let given = options
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let options = manifest.resolve_options(name, &given).expect("options");
        ModuleInput {
            name: name.into(),
            manifest: Some(manifest),
            hints: WiringHints::default(),
            options,
            installable: true,
        }
    }

    const A: &str = "name: a\nversion: \"1\"\nconfig:\n  mutable:\n    size: {type: integer, default: 5, django_setting: SHARED_SIZE}\ndjango_apps: [mod_a, rest_framework]\nurls: [{route: a/, include: mod_a.urls}]\ndependencies: [\"djangorestframework>=3.15\"]\n";
    const B: &str = "name: b\nversion: \"1\"\nconfig:\n  mutable:\n    size: {type: integer, default: 5, django_setting: SHARED_SIZE}\ndjango_apps: [rest_framework, mod_b]\n";

    #[test]
    fn merges_deterministically() {
        let w = compute(&[module("b", B, &[]), module("a", A, &[])]).expect("wiring");
        assert_eq!(w.apps, ["mod_a", "rest_framework", "mod_b"]);
        assert_eq!(
            w.requirements,
            [
                "djangorestframework>=3.15",
                "-e ./modules/a",
                "-e ./modules/b"
            ]
        );
        let files = render("shop", &w);
        let settings =
            String::from_utf8(files["shop/settings/modules.py"].contents.clone()).expect("utf8");
        assert!(
            settings.contains("    \"SHARED_SIZE\": 5,  # a.size\n"),
            "{settings}"
        );
        assert!(settings.starts_with("\"\"\"Managed by git-quickscale"));
    }

    #[test]
    fn conflicting_settings_name_both_modules() {
        let err = compute(&[
            module("a", A, &[("size", Value::Int(1))]),
            module("b", B, &[("size", Value::Int(2))]),
        ])
        .expect_err("conflict");
        assert_eq!(
            err.to_string(),
            "modules a and b both set the Django setting SHARED_SIZE, to different values (1 and 2)"
        );
    }

    #[test]
    fn empty_wiring_is_valid() {
        let files = render("shop", &Wiring::default());
        let urls = String::from_utf8(files["shop/urls_modules.py"].contents.clone()).expect("utf8");
        assert!(urls.ends_with("MODULE_URLPATTERNS: list = []\n"));
    }
}
