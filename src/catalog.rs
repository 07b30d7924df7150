//! The module catalog: `modules-index.toml`, bundled into the binary, plus
//! override files layered on top of it.
//!
//! Merge order (later wins, field by field): the bundled index, then each
//! `git config quickscale.index` value, then each path in `QUICKSCALE_INDEX`,
//! then each `--index FILE` in the order given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Diagnostic, Diagnostics, line_col};
use crate::identity::module_name_problem;
use crate::spec::{AccessSpec, NavEntry, UrlInclude, WiringHints};
use crate::value::Value;

/// The bundled catalog text.
pub const BUNDLED_INDEX: &str = include_str!("../modules-index.toml");
/// How the bundled catalog is named in messages.
pub const BUNDLED_NAME: &str = "<bundled modules-index.toml>";
/// Environment variable holding extra index files (a path list).
pub const INDEX_ENV: &str = "QUICKSCALE_INDEX";
/// Git config key holding extra index files (multi-valued).
pub const INDEX_GIT_CONFIG: &str = "quickscale.index";

/// One catalog entry after all overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    pub name: String,
    pub description: String,
    pub source: String,
    pub git_ref: String,
    pub ready: bool,
    pub wiring: WiringHints,
    /// How the source names its version tags (`tags` in the index), when
    /// not `v<semver>`/`<semver>`.
    pub tags: Option<TagScheme>,
    /// The index file that last changed this entry.
    pub origin: String,
}

impl CatalogEntry {
    /// The tag scheme of `url`: this entry's when `url` is its source (a
    /// `sources.<name>.url` override is another repository, with its own tags).
    pub fn scheme_for(&self, url: &str) -> TagScheme {
        match &self.tags {
            Some(t) if self.source == url => t.clone(),
            _ => TagScheme::default(),
        }
    }
}

/// Which tags of a source are versions of a module, and which version each
/// names. Upstream QuickScale tags every module of its one repository as
/// `splits/<name>-module/<version>`; plain `v1.2.3` tags there are releases
/// of the whole repository, not of a module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TagScheme {
    /// `v1.2.3` or `1.2.3`.
    #[default]
    Semver,
    /// A pattern with one `{version}`, e.g. `splits/crm-module/{version}`:
    /// only tags of that shape are versions.
    Pattern { prefix: String, suffix: String },
}

/// The placeholder of a tag pattern.
pub const VERSION_PLACEHOLDER: &str = "{version}";

impl TagScheme {
    /// Parses a `tags` pattern: exactly one `{version}`, the rest a valid ref name.
    pub fn parse(pattern: &str) -> Result<TagScheme, String> {
        let Some((prefix, suffix)) = pattern.split_once(VERSION_PLACEHOLDER) else {
            return Err(format!(
                "`{pattern}` has no `{VERSION_PLACEHOLDER}` (e.g. `splits/crm-module/{VERSION_PLACEHOLDER}`)"
            ));
        };
        if suffix.contains(VERSION_PLACEHOLDER) {
            return Err(format!(
                "`{pattern}` has more than one `{VERSION_PLACEHOLDER}`"
            ));
        }
        crate::identity::check_ref_name(&format!("{prefix}1.0.0{suffix}"))
            .map_err(|_| format!("`{pattern}` does not make valid tag names"))?;
        Ok(TagScheme::Pattern {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
        })
    }

    /// The version a tag (short name) names under this scheme.
    pub fn version_of(&self, tag: &str) -> Option<semver::Version> {
        let text = match self {
            TagScheme::Semver => tag,
            TagScheme::Pattern { prefix, suffix } => tag
                .strip_prefix(prefix.as_str())?
                .strip_suffix(suffix.as_str())?,
        };
        semver::Version::parse(text.strip_prefix('v').unwrap_or(text)).ok()
    }

    /// The tag for a version the user wrote bare (`0.88.0`, `v0.88.0`):
    /// `None` under the plain scheme or when `text` is no version.
    pub fn tag_for(&self, text: &str) -> Option<String> {
        let TagScheme::Pattern { prefix, suffix } = self else {
            return None;
        };
        let bare = text.strip_prefix('v').unwrap_or(text);
        semver::Version::parse(bare).ok()?;
        Some(format!("{prefix}{bare}{suffix}"))
    }

    /// The pattern as the index writes it (`None` for the plain scheme).
    pub fn pattern(&self) -> Option<String> {
        match self {
            TagScheme::Semver => None,
            TagScheme::Pattern { prefix, suffix } => {
                Some(format!("{prefix}{VERSION_PLACEHOLDER}{suffix}"))
            }
        }
    }
}

/// The merged catalog, in the order entries were first defined.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read module index `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl CatalogError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            CatalogError::Read { .. } => {
                "check the path given by --index, QUICKSCALE_INDEX or `git config quickscale.index`"
                    .into()
            }
            CatalogError::Invalid(_) => {
                "fix the index file; docs/user-guide.md describes the format".into()
            }
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    #[serde(default)]
    schema: Option<u32>,
    #[serde(default)]
    modules: BTreeMap<String, toml::Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    description: Option<String>,
    source: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    ready: Option<bool>,
    tags: Option<String>,
    wiring: Option<RawWiring>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWiring {
    django_apps: Option<Vec<String>>,
    middleware: Option<Vec<String>>,
    urls: Option<Vec<RawUrl>>,
    settings: Option<toml::Table>,
    dependencies: Option<Vec<String>>,
    access: Option<toml::Value>,
    nav: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUrl {
    route: String,
    include: String,
}

impl Catalog {
    /// Loads the bundled index and layers the given override files on it.
    pub fn load(overrides: &[PathBuf]) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        catalog.merge_text(BUNDLED_INDEX, BUNDLED_NAME)?;
        for path in overrides {
            let text = fs_err::read_to_string(path).map_err(|source| CatalogError::Read {
                path: path.clone(),
                source,
            })?;
            catalog.merge_text(&text, &path.display().to_string())?;
        }
        Ok(catalog)
    }

    /// Entries in catalog order.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    pub fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// Merges one index file; fields it sets replace earlier values.
    fn merge_text(&mut self, text: &str, file: &str) -> Result<(), CatalogError> {
        let raw = parse_index(text, file)?;
        let mut problems = Vec::new();
        if let Some(schema) = raw.schema
            && schema != 1
        {
            problems.push(Diagnostic::new(
                file,
                None,
                format!("unsupported schema {schema}; this version reads schema 1"),
            ));
        }
        let mut ordered: Vec<_> = raw.modules.into_iter().collect();
        ordered.sort_by_key(|(_, e)| e.span().start);
        for (name, spanned) in ordered {
            // The position is only worked out for a message (every command
            // loads the catalog; counting lines was a third of that).
            let start = spanned.span().start;
            let at = |message: String| {
                let pos = Some(line_col(text, start));
                Diagnostic::new(file, pos, format!("entry `{name}`: {message}"))
            };
            if let Some(problem) = module_name_problem(&name) {
                problems.push(at(format!("`{name}` {problem}")));
                continue;
            }
            let raw = spanned.into_inner();
            let existing = self.entries.iter().position(|e| e.name == name);
            let mut entry = match existing {
                Some(i) => self.entries[i].clone(),
                None => match new_entry(&name, &raw, file) {
                    Ok(entry) => entry,
                    Err(why) => {
                        problems.push(at(why));
                        continue;
                    }
                },
            };
            problems.extend(set_fields(&mut entry, raw).into_iter().map(&at));
            entry.origin = file.to_owned();
            match existing {
                Some(i) => self.entries[i] = entry,
                None => self.entries.push(entry),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CatalogError::Invalid(Diagnostics::sorted(problems)))
        }
    }
}

/// An index file's TOML; a syntax error names the entry it is in.
fn parse_index(text: &str, file: &str) -> Result<RawIndex, CatalogError> {
    toml::from_str(text).map_err(|e| {
        let pos = e.span().map(|s| line_col(text, s.start));
        let message = e.message().trim_end().to_owned();
        let message = match pos.and_then(|p| entry_at_line(text, p.line)) {
            Some(entry) => format!("entry `{entry}`: {message}"),
            None => message,
        };
        CatalogError::Invalid(Diagnostics(vec![Diagnostic::new(file, pos, message)]))
    })
}

/// An entry the catalog does not have yet: it must give a description, a
/// source and a ref (the fields themselves are set by [`set_fields`]).
fn new_entry(name: &str, raw: &RawEntry, file: &str) -> Result<CatalogEntry, String> {
    let missing: Vec<String> = [
        ("description", raw.description.is_none()),
        ("source", raw.source.is_none()),
        ("ref", raw.git_ref.is_none()),
    ]
    .into_iter()
    .filter(|(_, m)| *m)
    .map(|(f, _)| format!("`{f}`"))
    .collect();
    if !missing.is_empty() {
        return Err(format!("a new entry needs {}", missing.join(", ")));
    }
    Ok(CatalogEntry {
        name: name.to_owned(),
        description: String::new(),
        source: String::new(),
        git_ref: String::new(),
        ready: true,
        wiring: WiringHints::default(),
        tags: None,
        origin: file.to_owned(),
    })
}

/// Sets the fields an index entry gives; returns what is wrong with them.
fn set_fields(entry: &mut CatalogEntry, raw: RawEntry) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(d) = raw.description {
        entry.description = d;
    }
    if let Some(s) = raw.source {
        if s.trim().is_empty() {
            problems.push("`source` cannot be empty".into());
        }
        entry.source = s;
    }
    if let Some(r) = raw.git_ref {
        if let Err(why) = crate::identity::check_ref_name(&r) {
            problems.push(format!("`ref`: {why}"));
        }
        entry.git_ref = r;
    }
    if let Some(ready) = raw.ready {
        entry.ready = ready;
    }
    if let Some(pattern) = raw.tags {
        match TagScheme::parse(&pattern) {
            Ok(scheme) => entry.tags = Some(scheme),
            Err(why) => problems.push(format!("`tags`: {why}")),
        }
    }
    if let Some(w) = raw.wiring {
        match convert_wiring(w) {
            Ok(hints) => entry.wiring.merge_from(hints),
            Err(why) => problems.push(format!("wiring: {why}")),
        }
        if let Err(why) = entry.wiring.validate() {
            problems.push(format!("wiring: {why}"));
        }
    }
    problems
}

/// Index files named by git config, `QUICKSCALE_INDEX` and `--index`, in merge order.
pub fn override_paths(git_config_values: &[PathBuf], cli: &[PathBuf]) -> Vec<PathBuf> {
    let mut paths = git_config_values.to_vec();
    if let Some(list) = std::env::var_os(INDEX_ENV) {
        paths.extend(std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()));
    }
    paths.extend(cli.iter().cloned());
    paths
}

fn convert_wiring(raw: RawWiring) -> Result<WiringHints, String> {
    let mut settings = BTreeMap::new();
    for (k, v) in raw.settings.unwrap_or_default() {
        settings.insert(
            k.clone(),
            toml_to_value(&v).map_err(|e| format!("setting `{k}`: {e}"))?,
        );
    }
    Ok(WiringHints {
        django_apps: raw.django_apps,
        middleware: raw.middleware,
        urls: raw.urls.map(|u| {
            u.into_iter()
                .map(|r| UrlInclude {
                    route: r.route,
                    include: r.include,
                })
                .collect()
        }),
        settings: if settings.is_empty() {
            None
        } else {
            Some(settings)
        },
        dependencies: raw.dependencies,
        access: raw
            .access
            .map(|a| {
                toml_to_value(&a)
                    .and_then(|v| AccessSpec::from_value(&v))
                    .map_err(|e| format!("access: {e}"))
            })
            .transpose()?,
        nav: raw
            .nav
            .map(|n| {
                toml_to_value(&n)
                    .and_then(|v| NavEntry::list_from_value(&v))
                    .map_err(|e| format!("nav: {e}"))
            })
            .transpose()?,
    })
}

fn toml_to_value(v: &toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::Str(s.clone()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(_) => return Err("dates are not supported as setting values".into()),
        toml::Value::Array(items) => {
            Value::List(items.iter().map(toml_to_value).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => Value::Map(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_value(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Finds the `[modules.<name>…]` table a line belongs to, for messages.
fn entry_at_line(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let l = l.trim();
            let inner = l.strip_prefix('[')?.trim_start_matches('[');
            let inner = inner.strip_prefix("modules.")?;
            let name: String = inner
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .last()
}

/// Reads index paths from git config (relative paths are relative to `base`).
pub fn git_config_index_paths(values: &[String], base: &Path) -> Vec<PathBuf> {
    values
        .iter()
        .map(|v| {
            let p = PathBuf::from(v);
            if p.is_absolute() { p } else { base.join(p) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_say_what_is_wrong() {
        assert_eq!(module_name_problem("crm"), None);
        assert_eq!(module_name_problem(&"a".repeat(64)), None);
        assert_eq!(
            module_name_problem(&"a".repeat(65)).as_deref(),
            Some("is too long (65 characters; at most 64)")
        );
        for bad in ["", "Crm", "1crm", "_crm", "crm-x", "crm.x"] {
            assert!(
                module_name_problem(bad).is_some_and(|p| p.starts_with("is not a module name")),
                "{bad}"
            );
        }
        assert!(!crate::identity::is_module_name(&"a".repeat(65)));
    }

    #[test]
    fn bundled_catalog_has_upstream_modules() {
        let c = Catalog::load(&[]).expect("bundled index is valid");
        let ready: Vec<&str> = c
            .entries()
            .iter()
            .filter(|e| e.ready)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            ready,
            [
                "auth",
                "blog",
                "listings",
                "crm",
                "forms",
                "storage",
                "backups",
                "notifications",
                "social",
                "billing",
                "teams",
                "orgs",
                "analytics"
            ]
        );
        // First-party: this repository's split branch (modules/billing).
        let billing = c.get("billing").expect("billing");
        assert_eq!(
            billing.source,
            "https://github.com/Experto-AI/git-quickscale.git"
        );
        assert_eq!(billing.git_ref, "splits/billing-module");
        let teams = c.get("teams").expect("teams");
        assert_eq!(teams.source, billing.source);
        assert_eq!(teams.git_ref, "splits/teams-module");
        // Every upstream module says how its version tags are named.
        for e in c.entries() {
            assert_eq!(
                e.tags.as_ref().and_then(TagScheme::pattern),
                Some(format!("splits/{}-module/{{version}}", e.name)),
                "{}",
                e.name
            );
        }
    }

    #[test]
    fn tag_schemes_name_versions() {
        let splits = TagScheme::parse("splits/crm-module/{version}").expect("valid");
        let v = |s: &str| semver::Version::parse(s).expect("version");
        assert_eq!(
            splits.version_of("splits/crm-module/0.88.0"),
            Some(v("0.88.0"))
        );
        // The repository's own release tags and other modules' tags are not crm's.
        assert_eq!(splits.version_of("v0.88.0"), None);
        assert_eq!(splits.version_of("0.88.0"), None);
        assert_eq!(splits.version_of("splits/auth-module/0.88.0"), None);
        assert_eq!(splits.version_of("splits/crm-module/latest"), None);
        assert_eq!(
            splits.tag_for("0.88.1").as_deref(),
            Some("splits/crm-module/0.88.1")
        );
        assert_eq!(
            splits.tag_for("v0.88.1").as_deref(),
            Some("splits/crm-module/0.88.1")
        );
        assert_eq!(splits.tag_for("main"), None);
        let plain = TagScheme::default();
        assert_eq!(plain.version_of("v1.2.3"), Some(v("1.2.3")));
        assert_eq!(plain.version_of("1.2.3"), Some(v("1.2.3")));
        assert_eq!(plain.tag_for("1.2.3"), None);
        let suffixed = TagScheme::parse("release-{version}-crm").expect("valid");
        assert_eq!(suffixed.version_of("release-2.0.0-crm"), Some(v("2.0.0")));
        for bad in [
            "splits/crm-module",
            "a/{version}/{version}",
            "a..b/{version}",
        ] {
            assert!(TagScheme::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_scheme_applies_to_the_catalog_source_only() {
        let c = Catalog::load(&[]).expect("bundled");
        let crm = c.get("crm").expect("crm");
        assert!(matches!(
            crm.scheme_for("https://github.com/Experto-AI/quickscale.git"),
            TagScheme::Pattern { .. }
        ));
        assert_eq!(crm.scheme_for("/srv/my-crm"), TagScheme::Semver);
        let mut c = c;
        let err = c
            .merge_text("[modules.crm]\ntags = \"splits/crm-module\"\n", "o.toml")
            .expect_err("no placeholder");
        assert!(
            err.to_string()
                .contains("entry `crm`: `tags`: `splits/crm-module` has no `{version}`"),
            "{err}"
        );
    }

    #[test]
    fn overrides_merge_field_by_field() {
        let mut c = Catalog::load(&[]).expect("bundled");
        c.merge_text("[modules.crm]\nsource = \"/srv/crm.git\"\n", "o.toml")
            .expect("valid override");
        let crm = c.get("crm").expect("crm");
        assert_eq!(crm.source, "/srv/crm.git");
        assert_eq!(crm.git_ref, "splits/crm-module");
        assert_eq!(crm.origin, "o.toml");
    }

    #[test]
    fn errors_name_file_line_and_entry() {
        let mut c = Catalog::load(&[]).expect("bundled");
        let err = c
            .merge_text(
                "[modules.x]\ndescription = \"d\"\nsorce = \"s\"\n",
                "o.toml",
            )
            .expect_err("typo");
        let text = err.to_string();
        assert!(
            text.starts_with("o.toml:3:1: entry `x`: unknown field `sorce`"),
            "{text}"
        );
        let err = c
            .merge_text("[modules.y]\ndescription = \"d\"\n", "o.toml")
            .expect_err("incomplete");
        assert!(
            err.to_string()
                .contains("entry `y`: a new entry needs `source`, `ref`")
        );
    }
}
