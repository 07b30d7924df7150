//! Upstream 0.88 computes part of a module's wiring by importing the
//! module's own Python (`src/<package>/adapter.py`, and renderers named in
//! `managed_files`). This tool never imports or runs module code, so it
//! says what it could not derive and how to declare it in the catalog.

use crate::git::EntryKind;
use crate::git::ObjectId;

use crate::git::{Git, GitError};
use crate::wiring::{Declared, ModuleInput, declared};

/// The file upstream imports for a module's wiring.
pub const ADAPTER_FILE: &str = "adapter.py";

/// Paths (relative to the module's root) of `adapter.py` files in the
/// module's package directories: `<package>/adapter.py` or
/// `src/<package>/adapter.py`.
pub fn adapters(git: &Git, module_tree: ObjectId) -> Result<Vec<String>, GitError> {
    let mut out = Vec::new();
    let mut dirs = vec![(String::new(), module_tree, 0)];
    while let Some((path, tree, depth)) = dirs.pop() {
        for (name, (kind, id)) in git.tree_entries(tree)? {
            let rel = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}/{name}")
            };
            match kind {
                EntryKind::Tree if depth < 2 && !name.starts_with('.') && name != "tests" => {
                    dirs.push((rel, id, depth + 1));
                }
                EntryKind::Blob | EntryKind::BlobExecutable
                    if name == ADAPTER_FILE && depth > 0 =>
                {
                    out.push(rel);
                }
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What to tell the user about a module whose wiring upstream computes in
/// Python; `None` when there is nothing it could not derive. `prefix` names
/// the module's directory in messages.
pub fn notice(m: &ModuleInput, prefix: &str, adapters: &[String]) -> Option<String> {
    let python_files = m
        .manifest
        .as_ref()
        .map(|x| x.python_files.as_slice())
        .unwrap_or_default();
    let fields = declared(m);
    let missing: Vec<&str> = fields
        .iter()
        .filter(|(_, d)| *d == Declared::Nowhere)
        .map(|(f, _)| label(f))
        .collect();
    if adapters.is_empty() && python_files.is_empty() {
        return None;
    }
    if !adapters.is_empty() && missing.is_empty() && python_files.is_empty() {
        return None;
    }
    let name = &m.name;
    let mut out = String::new();
    if !adapters.is_empty() {
        let files: Vec<String> = adapters.iter().map(|a| format!("{prefix}/{a}")).collect();
        out.push_str(&format!(
            "module {name}: upstream QuickScale computes part of its wiring by importing {}, which git quickscale never runs",
            files.join(", ")
        ));
        let from = |which: Declared| -> Vec<&str> {
            fields
                .iter()
                .filter(|(_, d)| *d == which)
                .map(|(f, _)| label(f))
                .collect()
        };
        let (manifest, catalog) = (from(Declared::Manifest), from(Declared::Catalog));
        if !manifest.is_empty() {
            out.push_str(&format!("; from module.yml: {}", manifest.join(", ")));
        }
        if !catalog.is_empty() {
            out.push_str(&format!("; from the catalog: {}", catalog.join(", ")));
        }
        if !missing.is_empty() {
            out.push_str(&format!(
                ".\n  Not derived (module.yml and the catalog declare none): {}",
                missing.join(", ")
            ));
        }
        out.push('.');
    } else {
        out.push_str(&format!("module {name}:"));
    }
    if !python_files.is_empty() {
        let files: Vec<String> = python_files
            .iter()
            .map(|f| format!("{} (renderer {})", f.output_path, f.renderer))
            .collect();
        out.push_str(&format!(
            "\n  Not generated (upstream renders them with the module's Python): {}.",
            files.join(", ")
        ));
    }
    if !missing.is_empty() {
        out.push_str(&format!(
            "\n  If the module needs them, declare them in a module index (`--index FILE`, QUICKSCALE_INDEX or `git config quickscale.index`; docs/user-guide.md, \"The module catalog\"):\n    [modules.{name}.wiring]"
        ));
        for f in &missing {
            out.push_str("\n    ");
            out.push_str(match *f {
                "apps" => "django_apps = [\"<app>\"]",
                "middleware" => "middleware = [\"<dotted.path.Middleware>\"]",
                "URL includes" => {
                    "urls = [{ route = \"<prefix>/\", include = \"<package>.urls\" }]"
                }
                _ => "settings = { SETTING_NAME = \"value\" }",
            });
        }
    }
    Some(out)
}

fn label(field: &str) -> &str {
    match field {
        "urls" => "URL includes",
        other => other,
    }
}

/// Upstream's `contract_vintage` steps for existing projects, as a note.
pub fn vintage_note(m: &ModuleInput) -> Option<String> {
    let v = m.manifest.as_ref()?.contract_vintage.as_ref()?;
    if v.manual_adoption_steps.is_empty() {
        return None;
    }
    Some(format!(
        "module {}: upstream QuickScale says projects made before {} adopt this by hand:\n{}",
        m.name,
        v.minimum,
        v.manual_adoption_steps
            .iter()
            .map(|s| format!("  - {s}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use crate::spec::WiringHints;

    fn input(manifest: &str, hints: WiringHints) -> ModuleInput {
        let m = Manifest::parse(manifest, "module.yml", "legacy").expect("manifest");
        let options = m
            .resolve_options("legacy", &Default::default())
            .expect("options");
        ModuleInput {
            name: "legacy".into(),
            manifest: Some(m),
            hints,
            options,
            installable: true,
            access: None,
        }
    }

    const BARE: &str = "name: legacy\nversion: \"0.88.0\"\nconfig:\n  mutable:\n    title: {default: x, django_setting: LEGACY_TITLE}\n";

    #[test]
    fn names_what_python_would_have_wired() {
        let adapters = vec!["src/quickscale_modules_legacy/adapter.py".to_owned()];
        let text = notice(
            &input(BARE, WiringHints::default()),
            "modules/legacy",
            &adapters,
        )
        .expect("a notice");
        assert!(
            text.contains("importing modules/legacy/src/quickscale_modules_legacy/adapter.py, which git quickscale never runs"),
            "{text}"
        );
        assert!(text.contains("from module.yml: settings"), "{text}");
        assert!(
            text.contains("Not derived (module.yml and the catalog declare none): apps, middleware, URL includes"),
            "{text}"
        );
        assert!(text.contains("[modules.legacy.wiring]"), "{text}");
        assert!(text.contains("django_apps = ["), "{text}");
        // The catalog fills the gaps: nothing left to say.
        let hints = WiringHints {
            django_apps: Some(vec!["quickscale_modules_legacy".into()]),
            middleware: Some(Vec::new()),
            urls: Some(Vec::new()),
            ..Default::default()
        };
        assert_eq!(
            notice(&input(BARE, hints), "modules/legacy", &adapters),
            None
        );
        // Without an adapter.py nothing is computed in Python.
        assert_eq!(
            notice(&input(BARE, WiringHints::default()), "modules/legacy", &[]),
            None
        );
    }

    #[test]
    fn python_rendered_files_are_named() {
        let m = format!(
            "{BARE}django_apps: [quickscale_modules_legacy]\nmanaged_files:\n  views:\n    renderer: legacy.managed_views\n    output_path: quickscale_managed/legacy_views.py\n"
        );
        let text =
            notice(&input(&m, WiringHints::default()), "modules/legacy", &[]).expect("notice");
        assert!(
            text.contains("quickscale_managed/legacy_views.py (renderer legacy.managed_views)"),
            "{text}"
        );
    }
}
