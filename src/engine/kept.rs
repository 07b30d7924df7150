//! What `adopt` keeps of upstream's wiring so that nothing Django runs
//! changes: settings, apps and middleware upstream's CLI wrote into
//! `settings/modules.py` from its own Python code (e-mail, allauth, DRF
//! defaults) that no module manifest declares, or declares differently.
//!
//! They go, as upstream wrote them, into a user-owned file
//! `<package>/settings/upstream_settings.py`; while that file exists, the
//! managed `settings/modules.py` ends by importing it, its values winning
//! (see [`with_kept`]). The user edits or deletes it when ready.

use crate::render::FileMap;
use crate::upstream::pyliteral::{self, assignment, dict_entries, items, normalized};

/// The user-owned file, relative to the project package.
pub const KEPT_FILE: &str = "settings/upstream_settings.py";

/// `<package>/settings/upstream_settings.py`.
pub fn kept_path(package: &str) -> String {
    format!("{package}/{KEPT_FILE}")
}

/// What the managed settings file gains while [`KEPT_FILE`] exists.
pub const IMPORT_SUFFIX: &str = "\n# Upstream QuickScale's values that no manifest declares, kept by `git quickscale\n# adopt` in the user-owned settings/upstream_settings.py (they win over the above).\nfrom .upstream_settings import (  # noqa: E402\n    UPSTREAM_INSTALLED_APPS,\n    UPSTREAM_MIDDLEWARE,\n    UPSTREAM_SETTINGS,\n)\n\nMODULE_INSTALLED_APPS = UPSTREAM_INSTALLED_APPS + [\n    a for a in MODULE_INSTALLED_APPS if a not in UPSTREAM_INSTALLED_APPS\n]\nMODULE_MIDDLEWARE = UPSTREAM_MIDDLEWARE + [\n    m for m in MODULE_MIDDLEWARE if m not in UPSTREAM_MIDDLEWARE\n]\nMODULE_SETTINGS = {**MODULE_SETTINGS, **UPSTREAM_SETTINGS}\n";

/// Appends [`IMPORT_SUFFIX`] to the managed settings file of `files`.
pub fn with_kept(files: &mut FileMap, package: &str) {
    if let Some(f) = files.get_mut(&format!("{package}/settings/modules.py"))
        && !String::from_utf8_lossy(&f.contents).contains("from .upstream_settings import")
    {
        f.contents.extend_from_slice(IMPORT_SUFFIX.as_bytes());
    }
}

/// The lines (1-based) of `text` that name one of `entries` as a string
/// literal (`"app"` or `'app'`), with the entry.
pub fn lines_naming(text: &str, entries: &[String]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for e in entries {
            if line.contains(&format!("\"{e}\"")) || line.contains(&format!("'{e}'")) {
                out.push((i + 1, e.clone()));
            }
        }
    }
    out
}

/// One kept setting: upstream's value, and why it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptSetting {
    pub name: String,
    /// The value's Python source as upstream wrote it.
    pub value: String,
    /// What the manifests give instead (`None`: nothing).
    pub ours: Option<String>,
}

/// Everything of upstream's wiring the regenerated one lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    /// Upstream's whole app list, in its order, when the regenerated one
    /// lacks an app of it or orders them otherwise (else empty); the
    /// managed file puts it first.
    pub apps: Vec<String>,
    /// The same for middleware.
    pub middleware: Vec<String>,
    /// The apps and middleware of those lists no manifest declares.
    pub missing: Vec<String>,
    /// Settings the regenerated wiring sets that upstream did not: named.
    pub added: Vec<KeptSetting>,
    /// Settings no manifest declares: kept.
    pub settings: Vec<KeptSetting>,
    /// Settings a manifest declares with another value (from quickscale.yml's
    /// options): not kept, named in the plan.
    pub changed: Vec<KeptSetting>,
}

impl Kept {
    /// Nothing to keep (changed values are only named).
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty() && self.middleware.is_empty() && self.settings.is_empty()
    }

    /// One line per kept value, for the plan.
    pub fn lines(&self, package: &str) -> Vec<String> {
        let file = kept_path(package);
        let mut out = Vec::new();
        for s in &self.settings {
            out.push(format!(
                "{}: upstream's CLI set it and no manifest declares it: kept as it was ({}) in {file}",
                s.name,
                short(&s.value)
            ));
        }
        for s in &self.changed {
            out.push(format!(
                "{}: upstream's running value {} becomes {} (the manifest's setting, from the options in quickscale.yml)",
                s.name,
                short(&s.value),
                short(s.ours.as_deref().unwrap_or_default())
            ));
        }
        for a in &self.missing {
            out.push(format!(
                "`{a}` (upstream's CLI added it to the apps or middleware; no manifest declares it) is kept in {file}"
            ));
        }
        if !self.apps.is_empty() || !self.middleware.is_empty() {
            out.push(format!(
                "upstream's order of the module apps and middleware is kept in {file}"
            ));
        }
        for s in &self.added {
            out.push(format!(
                "{}: upstream did not set it; the manifests and the catalog set it to {}",
                s.name,
                short(s.ours.as_deref().unwrap_or_default())
            ));
        }
        out
    }
}

fn short(src: &str) -> String {
    let one: String = src.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(59).collect::<String>())
    } else {
        one
    }
}

fn strings(text: &str, name: &str) -> Vec<String> {
    assignment(text, name)
        .map(|l| {
            items(l)
                .iter()
                .filter_map(|i| pyliteral::string(i))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares upstream's `settings/modules.py` (what Django runs now) with
/// the regenerated one.
pub fn compute(upstream: &str, regenerated: &str) -> Kept {
    let ours_apps = strings(regenerated, "MODULE_INSTALLED_APPS");
    let ours_mw = strings(regenerated, "MODULE_MIDDLEWARE");
    let ours: Vec<(String, String)> = assignment(regenerated, "MODULE_SETTINGS")
        .map(dict_entries)
        .unwrap_or_default();
    let theirs_apps = strings(upstream, "MODULE_INSTALLED_APPS");
    let theirs_mw = strings(upstream, "MODULE_MIDDLEWARE");
    let mut missing: Vec<String> = theirs_apps
        .iter()
        .chain(&theirs_mw)
        .filter(|a| !ours_apps.contains(a) && !ours_mw.contains(a))
        .cloned()
        .collect();
    missing.dedup();
    let mut kept = Kept {
        apps: if differs(&theirs_apps, &ours_apps) {
            theirs_apps
        } else {
            Vec::new()
        },
        middleware: if differs(&theirs_mw, &ours_mw) {
            theirs_mw
        } else {
            Vec::new()
        },
        missing,
        added: Vec::new(),
        settings: Vec::new(),
        changed: Vec::new(),
    };
    let theirs: Vec<(String, String)> = assignment(upstream, "MODULE_SETTINGS")
        .map(dict_entries)
        .unwrap_or_default();
    for (name, value) in &ours {
        if !theirs.iter().any(|(k, _)| k == name) {
            kept.added.push(KeptSetting {
                name: name.clone(),
                value: String::new(),
                ours: Some(value.clone()),
            });
        }
    }
    for (name, value) in assignment(upstream, "MODULE_SETTINGS")
        .map(dict_entries)
        .unwrap_or_default()
    {
        match ours.iter().find(|(k, _)| *k == name).map(|(_, v)| v) {
            Some(v) if normalized(v) == normalized(&value) => {}
            // Declared by a manifest: quickscale.yml's options decide (a
            // value upstream never applied is the user's wish); named only.
            Some(v) => kept.changed.push(KeptSetting {
                name,
                value,
                ours: Some(v.clone()),
            }),
            None => kept.settings.push(KeptSetting {
                name,
                value,
                ours: None,
            }),
        }
    }
    kept
}

/// Whether putting `theirs` first changes the list Django gets: an entry
/// of it is missing from `ours`, or the entries both have come in another order.
fn differs(theirs: &[String], ours: &[String]) -> bool {
    let common: Vec<&String> = ours.iter().filter(|o| theirs.contains(o)).collect();
    let theirs_common: Vec<&String> = theirs.iter().filter(|t| ours.contains(t)).collect();
    theirs.iter().any(|t| !ours.contains(t)) || common != theirs_common
}

/// The user-owned file holding what is kept.
pub fn render(kept: &Kept) -> String {
    let mut out = String::from(
        "\"\"\"Upstream QuickScale's wiring that no module manifest declares (or declares\ndifferently), kept as upstream's CLI wrote it by `git quickscale adopt`, so that\nthe project runs as it did. This file is yours: `settings/modules.py` imports\nit while it exists. Move what you need into your settings (or a manifest) and\ndelete the rest.\n\"\"\"\n\n",
    );
    let list = crate::pyliteral::string_list;
    out.push_str(&format!(
        "UPSTREAM_INSTALLED_APPS: list[str] = {}\n\n",
        list(&kept.apps)
    ));
    out.push_str(&format!(
        "UPSTREAM_MIDDLEWARE: list[str] = {}\n\n",
        list(&kept.middleware)
    ));
    out.push_str("UPSTREAM_SETTINGS: dict[str, object] = {\n");
    for s in &kept.settings {
        out.push_str(&format!(
            "    {}: {},\n",
            crate::pyliteral::string(&s.name),
            s.value
        ));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_naming_matches_whole_string_literals_only() {
        let text = "APPS = [\n    \"quickscale_modules_crm\",\n    'allauth',\n]\nX = \"quickscale_modules_crm.adapters.A\"\n";
        let entries = vec!["quickscale_modules_crm".to_owned(), "allauth".to_owned()];
        assert_eq!(
            lines_naming(text, &entries),
            vec![
                (2, "quickscale_modules_crm".to_owned()),
                (3, "allauth".to_owned())
            ]
        );
    }

    #[test]
    fn keeps_what_the_manifests_lack_or_give_differently() {
        let upstream = "MODULE_INSTALLED_APPS: list[str] = ['anymail', 'crm']\n\nMODULE_MIDDLEWARE: list[str] = []\n\nMODULE_SETTINGS: dict[str, object] = {'CRM_PAGE': 25,\n 'EMAIL_BACKEND': 'x.Backend',\n 'SITE_ID': 1}\n";
        let ours = "MODULE_INSTALLED_APPS: list[str] = [\n    \"crm\",\n]\n\nMODULE_MIDDLEWARE: list[str] = []\n\nMODULE_SETTINGS: dict[str, object] = {\n    \"CRM_PAGE\": 25,  # crm.page\n    \"SITE_ID\": 2,  # auth\n}\n";
        let kept = compute(upstream, ours);
        // Upstream's whole list, in its order, goes first.
        assert_eq!(kept.apps, ["anymail", "crm"]);
        assert_eq!(kept.missing, ["anymail"]);
        assert!(kept.middleware.is_empty());
        let names: Vec<&str> = kept.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["EMAIL_BACKEND"]);
        // Declared by a manifest with another value: named, not kept.
        assert_eq!(kept.changed.len(), 1);
        assert_eq!(kept.changed[0].name, "SITE_ID");
        assert_eq!(kept.changed[0].ours.as_deref(), Some("2"));
        let text = render(&kept);
        assert!(
            text.contains("    \"EMAIL_BACKEND\": 'x.Backend',\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "UPSTREAM_INSTALLED_APPS: list[str] = [\n    \"anymail\",\n    \"crm\",\n]"
            ),
            "{text}"
        );
        // Only the order differs: upstream's is kept.
        let swapped = "MODULE_INSTALLED_APPS: list[str] = ['b', 'a']\n";
        let ours2 = "MODULE_INSTALLED_APPS: list[str] = [\n    \"a\",\n    \"b\",\n]\n";
        assert_eq!(compute(swapped, ours2).apps, ["b", "a"]);
        assert!(compute(ours2, ours2).is_empty());
        // Nothing differs: nothing kept.
        assert!(compute(ours, ours).is_empty());
    }
}
