//! Upstream QuickScale's project files under `.quickscale/`, in every
//! format it wrote (reference §3.2–3.4 and upstream-0.88.md):
//!
//! - `state.yml`: v0.69–0.7x had `project.name`; later `project.slug` and
//!   `project.package`; 0.88 adds per-module `prefix`, `branch`,
//!   `installed_at` and a `managed_files` list. `version` and `commit_sha`
//!   were always `null` before 0.88;
//! - `config.yml` (v0.62 on): `default_remote` and per-module `prefix`,
//!   `branch`, `installed_version` (hard-coded `v0.72.0`, `v0.62.0` after an
//!   update) and `installed_at`;
//! - `file_hashes.yml` (0.8x): sha256s of the managed wiring files.
//!
//! Upstream read them without validation; here they are read leniently
//! (unknown keys ignored) but a file that is not the shape upstream wrote
//! is an error naming its line.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::value::Value;
use crate::yaml::{self, Node};

pub const STATE_FILE: &str = ".quickscale/state.yml";
pub const MODULES_FILE: &str = ".quickscale/config.yml";
pub const HASHES_FILE: &str = ".quickscale/file_hashes.yml";
/// Left behind when upstream's atomic save was interrupted.
pub const STATE_TMP: &str = ".quickscale/state.tmp";
/// 0.88's ledger of an apply that failed half-way (the next apply resumes it).
pub const RECOVERY_FILE: &str = ".quickscale/apply-recovery.yml";
/// 0.88's advisory lock, held while an upstream command runs.
pub const LOCK_FILE: &str = ".quickscale/state.lock";

/// The files `adopt` retires: upstream's record of the applied state.
pub const RETIRED: &[&str] = &[STATE_FILE, MODULES_FILE, HASHES_FILE, STATE_TMP];

/// Which upstream release wrote a state.yml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Generation {
    /// v0.69 to early v0.7x: `project.name` (slug and package in one).
    ProjectName,
    /// v0.7x to 0.8x: `project.slug` and `project.package`.
    SlugPackage,
    /// 0.88: modules carry `prefix`/`branch`/`installed_at`, managed-file hashes.
    Consolidated,
}

impl Generation {
    pub fn describe(self) -> &'static str {
        match self {
            Generation::ProjectName => "upstream v0.69–v0.7x state (`project.name`)",
            Generation::SlugPackage => "upstream v0.7x–v0.8x state (`project.slug`/`package`)",
            Generation::Consolidated => {
                "upstream 0.88 state (modules with prefix and branch, managed-file hashes)"
            }
        }
    }
}

/// `state.yml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub generation: Generation,
    pub slug: Option<String>,
    pub package: Option<String>,
    /// `project.name` of the oldest format (slug and package at once).
    pub name: Option<String>,
    pub theme: Option<String>,
    pub modules: BTreeMap<String, StateModule>,
    /// `managed_files`: (path, sha256) as recorded.
    pub managed_files: Vec<(String, String)>,
}

/// One module of `state.yml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StateModule {
    /// Always null before 0.88; normalized without a leading `v` by 0.88.
    pub version: Option<String>,
    /// Always null before 0.88.
    pub commit_sha: Option<String>,
    pub options: BTreeMap<String, Value>,
    pub prefix: Option<String>,
    pub branch: Option<String>,
}

/// `config.yml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Modules {
    pub default_remote: Option<String>,
    pub modules: BTreeMap<String, TrackedModule>,
}

/// One module of `config.yml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrackedModule {
    pub prefix: Option<String>,
    pub branch: Option<String>,
    pub installed_version: Option<String>,
    pub installed_at: Option<String>,
}

/// `file_hashes.yml`: (path, sha256).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hashes {
    pub files: Vec<(String, String)>,
}

/// A file that is not what upstream wrote.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct FileError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl FileError {
    fn at(file: &str, node: Option<&Node>, message: impl Into<String>) -> Self {
        FileError {
            file: file.to_owned(),
            line: node.map(|n| n.start.line),
            message: message.into(),
        }
    }
}

/// Parses a whole file into its root mapping (`None` for an empty file).
fn root(file: &str, text: &str) -> Result<Option<Node>, FileError> {
    let root = yaml::parse(text).map_err(|e| FileError {
        file: file.to_owned(),
        line: e.pos.map(|p| p.line),
        message: e.message,
    })?;
    match root {
        Some(n) if n.is_null() => Ok(None),
        Some(n) if n.as_map().is_some() => Ok(Some(n)),
        Some(n) => Err(FileError::at(
            file,
            Some(&n),
            format!("expected a mapping, found {}", n.type_name()),
        )),
        None => Ok(None),
    }
}

/// A scalar as text (`null` and empty are `None`).
fn scalar(file: &str, node: Option<&Node>, what: &str) -> Result<Option<String>, FileError> {
    let Some(n) = node else { return Ok(None) };
    match Value::from_node(n) {
        Value::Null => Ok(None),
        Value::Str(s) if s.trim().is_empty() => Ok(None),
        Value::Str(s) => Ok(Some(s)),
        Value::Int(i) => Ok(Some(i.to_string())),
        Value::Float(f) => Ok(Some(f.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(FileError::at(
            file,
            Some(n),
            format!("{what} must be a string, found {}", other.type_name()),
        )),
    }
}

/// The entries of a mapping that may be absent or null.
fn entries<'n>(
    file: &str,
    node: Option<&'n Node>,
    what: &str,
) -> Result<&'n [(Node, Node)], FileError> {
    match node {
        None => Ok(&[]),
        Some(n) if n.is_null() => Ok(&[]),
        Some(n) => n.as_map().ok_or_else(|| {
            FileError::at(
                file,
                Some(n),
                format!("{what} must be a mapping, found {}", n.type_name()),
            )
        }),
    }
}

fn options(
    file: &str,
    node: Option<&Node>,
    what: &str,
) -> Result<BTreeMap<String, Value>, FileError> {
    Ok(entries(file, node, what)?
        .iter()
        .map(|(k, v)| {
            (
                k.key_str().unwrap_or_default().to_owned(),
                Value::from_node(v),
            )
        })
        .collect())
}

/// Parses `.quickscale/state.yml` text; `None` for an empty file.
pub fn parse_state(text: &str) -> Result<Option<State>, FileError> {
    let file = STATE_FILE;
    let Some(root) = root(file, text)? else {
        return Ok(None);
    };
    let project = root.get("project");
    let project_entries = entries(file, project, "`project`")?;
    let get = |key: &str| {
        project_entries
            .iter()
            .find(|(k, _)| k.key_str() == Some(key))
            .map(|(_, v)| v)
    };
    let slug = scalar(file, get("slug"), "`project.slug`")?;
    let package = scalar(file, get("package"), "`project.package`")?;
    let name = scalar(file, get("name"), "`project.name`")?;
    let theme = scalar(file, get("theme"), "`project.theme`")?;
    if slug.is_none() && package.is_none() && name.is_none() {
        return Err(FileError::at(
            file,
            project.or(Some(&root)),
            "`project` names no project (no `slug`/`package`, nor the older `name`)",
        ));
    }
    let mut modules = BTreeMap::new();
    let mut consolidated = get("project_contract").is_some();
    for (k, v) in entries(file, root.get("modules"), "`modules`")? {
        let name = k.key_str().unwrap_or_default().to_owned();
        let what = format!("`modules.{name}`");
        let fields = entries(file, Some(v), &what)?;
        let field = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k.key_str() == Some(key))
                .map(|(_, v)| v)
        };
        let m = StateModule {
            version: scalar(file, field("version"), &format!("{what}.version"))?
                .map(|v| v.trim_start_matches(['v', 'V']).to_owned()),
            commit_sha: scalar(file, field("commit_sha"), &format!("{what}.commit_sha"))?,
            options: options(file, field("options"), &format!("{what}.options"))?,
            prefix: scalar(file, field("prefix"), &format!("{what}.prefix"))?,
            branch: scalar(file, field("branch"), &format!("{what}.branch"))?,
        };
        consolidated |= m.prefix.is_some() || m.branch.is_some() || field("installed_at").is_some();
        modules.insert(name, m);
    }
    let mut managed_files = Vec::new();
    if let Some(list) = root.get("managed_files") {
        consolidated = true;
        managed_files = hash_list(file, list)?;
    }
    let generation = if slug.is_none() && package.is_none() {
        Generation::ProjectName
    } else if consolidated {
        Generation::Consolidated
    } else {
        Generation::SlugPackage
    };
    Ok(Some(State {
        generation,
        slug,
        package,
        name,
        theme,
        modules,
        managed_files,
    }))
}

/// `[{path, hash, applied_at}]`, or 0.88's `{path: {hash, applied_at}}`.
fn hash_list(file: &str, node: &Node) -> Result<Vec<(String, String)>, FileError> {
    let mut out = Vec::new();
    match &node.kind {
        crate::yaml::NodeKind::Seq(items, _) => {
            for item in items {
                let fields = entries(file, Some(item), "each managed file")?;
                let f = |key: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k.key_str() == Some(key))
                        .map(|(_, v)| v)
                };
                if let (Some(p), Some(h)) = (
                    scalar(file, f("path"), "`path`")?,
                    scalar(file, f("hash"), "`hash`")?,
                ) {
                    out.push((p, h));
                }
            }
        }
        crate::yaml::NodeKind::Map(entries_, _) => {
            for (k, v) in entries_ {
                let fields = entries(file, Some(v), "each managed file")?;
                let f = |key: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k.key_str() == Some(key))
                        .map(|(_, v)| v)
                };
                if let Some(h) = scalar(file, f("hash"), "`hash`")? {
                    out.push((k.key_str().unwrap_or_default().to_owned(), h));
                }
            }
        }
        _ if node.is_null() => {}
        _ => {
            return Err(FileError::at(
                file,
                Some(node),
                "`managed_files` must be a list or a mapping",
            ));
        }
    }
    Ok(out)
}

/// Parses `.quickscale/config.yml` text; `None` for an empty file.
pub fn parse_modules(text: &str) -> Result<Option<Modules>, FileError> {
    let file = MODULES_FILE;
    let Some(root) = root(file, text)? else {
        return Ok(None);
    };
    let default_remote = scalar(file, root.get("default_remote"), "`default_remote`")?;
    let mut modules = BTreeMap::new();
    for (k, v) in entries(file, root.get("modules"), "`modules`")? {
        let name = k.key_str().unwrap_or_default().to_owned();
        let what = format!("`modules.{name}`");
        let fields = entries(file, Some(v), &what)?;
        let field = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k.key_str() == Some(key))
                .map(|(_, v)| v)
        };
        modules.insert(
            name,
            TrackedModule {
                prefix: scalar(file, field("prefix"), &format!("{what}.prefix"))?,
                branch: scalar(file, field("branch"), &format!("{what}.branch"))?,
                installed_version: scalar(
                    file,
                    field("installed_version"),
                    &format!("{what}.installed_version"),
                )?,
                installed_at: scalar(file, field("installed_at"), &format!("{what}.installed_at"))?,
            },
        );
    }
    Ok(Some(Modules {
        default_remote,
        modules,
    }))
}

/// Parses `.quickscale/file_hashes.yml` text.
pub fn parse_hashes(text: &str) -> Result<Option<Hashes>, FileError> {
    let file = HASHES_FILE;
    let Some(root) = root(file, text)? else {
        return Ok(None);
    };
    let files = match root.get("files") {
        Some(list) => hash_list(file, list)?,
        None => Vec::new(),
    };
    Ok(Some(Hashes { files }))
}

/// The versions upstream wrote into `config.yml` for every module whatever
/// it embedded (`installed_version`): they say nothing.
pub fn is_placeholder_version(v: &str) -> bool {
    matches!(v.trim_start_matches(['v', 'V']), "0.72.0" | "0.62.0")
}

/// Key names that hold credentials (matched case-insensitively as a part
/// of the key): documented in docs/user-guide.md ("adopt").
pub const SECRET_KEY_PARTS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "access_key",
    "token",
    "private_key",
    "credential",
    "dsn",
];

/// Whether a key names a credential (and not the name of an environment
/// variable holding one: `*_env_var`, `*_env`).
pub fn is_secret_key(key: &str) -> bool {
    let name = key.to_ascii_lowercase();
    if name.ends_with("_env_var") || name.ends_with("_env") {
        return false;
    }
    SECRET_KEY_PARTS.iter().any(|s| name.contains(s))
}

/// One raw credential inside an option's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Where it is, e.g. `storage.nested.api_token` (module first).
    pub path: String,
    /// The key that named it (the innermost secret key).
    pub key: String,
    /// The value as YAML wrote the scalar (a string, an integer, a float).
    pub text: String,
}

/// Every raw credential in `value` (option `option`), at any depth: a
/// non-empty scalar of any type under a secret-named key, or any scalar
/// inside a mapping or list under one. Environment placeholders
/// (`__QS_ENV__:`) and booleans are not credentials.
pub fn credentials_in(path: &str, option: &str, value: &Value) -> Vec<Credential> {
    let mut out = Vec::new();
    walk(path, option, value, None, &mut out);
    out
}

fn walk(path: &str, key: &str, value: &Value, secret: Option<&str>, out: &mut Vec<Credential>) {
    let secret = if is_secret_key(key) {
        Some(key)
    } else {
        secret
    };
    let here = format!("{path}.{key}");
    let text = match value {
        Value::Str(s) if !s.trim().is_empty() && !s.starts_with("__QS_ENV__:") => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Map(m) => {
            for (k, v) in m {
                walk(&here, k, v, secret, out);
            }
            None
        }
        Value::List(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(&here, &format!("[{i}]"), v, secret, out);
            }
            None
        }
        _ => None,
    };
    if let (Some(text), Some(secret)) = (text, secret) {
        out.push(Credential {
            path: here,
            key: secret.to_owned(),
            text,
        });
    }
}

/// Whether an option holds a raw credential anywhere in its value
/// (upstream's storage module kept `access_key_id`/`secret_access_key` in
/// plain text).
pub fn is_raw_credential(option: &str, value: &Value) -> bool {
    !credentials_in("", option, value).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// v0.69: `project.name`, null versions.
    const STATE_069: &str = "version: '1'\nproject:\n  name: myshop\n  theme: showcase_html\n  created_at: '2025-12-03T22:07:01.123456'\n  last_applied: '2025-12-03T22:09:13.001122'\nmodules:\n  auth:\n    version: null\n    commit_sha: null\n    embedded_at: '2025-12-03T22:08:00.000001'\n    options:\n      registration_enabled: true\n";
    /// v0.79: slug/package, options null when empty.
    const STATE_079: &str = "version: '1'\nproject:\n  slug: my-shop\n  package: my_shop\n  theme: showcase_react\n  created_at: '2026-03-01T10:00:00.000000'\n  last_applied: '2026-03-02T10:00:00.000000'\nmodules:\n  crm:\n    version: null\n    commit_sha: null\n    embedded_at: '2026-03-01T10:01:00.000000'\n    options: null\n  storage:\n    version: null\n    commit_sha: null\n    embedded_at: '2026-03-01T10:02:00.000000'\n    options:\n      backend: s3\n      access_key_id: AKIAEXAMPLE\n      secret_access_key: wJalrXUtnFEMI\n";
    /// 0.88: consolidated tracking and managed-file hashes.
    const STATE_088: &str = "version: '1'\nproject:\n  slug: my-shop\n  package: my_shop\n  theme: showcase_react\n  project_contract: 0.88.0\n  created_at: '2026-09-01T10:00:00.000000'\n  last_applied: '2026-09-01T10:05:00.000000'\nmodules:\n  crm:\n    version: 0.88.0\n    commit_sha: 0123456789abcdef0123456789abcdef01234567\n    embedded_at: '2026-09-01T10:01:00.000000'\n    options:\n      deals_per_page: 40\n    prefix: modules/crm\n    branch: splits/crm-module\n    installed_at: '2026-09-01'\nmanaged_files:\n- path: my_shop/settings/modules.py\n  hash: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n  applied_at: '2026-09-01T10:05:00.000000'\n";
    const CONFIG: &str = "default_remote: https://github.com/Experto-AI/quickscale.git\nmodules:\n  crm:\n    prefix: modules/crm\n    branch: splits/crm-module\n    installed_version: v0.72.0\n    installed_at: '2026-03-01'\n  blog:\n    prefix: modules/blog\n    branch: splits/blog-module\n    installed_version: v0.62.0\n    installed_at: '2026-03-01'\n";

    #[test]
    fn reads_every_state_generation() {
        let s = parse_state(STATE_069).expect("valid").expect("state");
        assert_eq!(s.generation, Generation::ProjectName);
        assert_eq!(s.name.as_deref(), Some("myshop"));
        assert_eq!(s.modules["auth"].version, None);
        assert_eq!(
            s.modules["auth"].options["registration_enabled"],
            Value::Bool(true)
        );
        let s = parse_state(STATE_079).expect("valid").expect("state");
        assert_eq!(s.generation, Generation::SlugPackage);
        assert_eq!(
            (s.slug.as_deref(), s.package.as_deref(), s.theme.as_deref()),
            (Some("my-shop"), Some("my_shop"), Some("showcase_react"))
        );
        assert!(s.modules["crm"].options.is_empty());
        let s = parse_state(STATE_088).expect("valid").expect("state");
        assert_eq!(s.generation, Generation::Consolidated);
        let crm = &s.modules["crm"];
        assert_eq!(crm.version.as_deref(), Some("0.88.0"));
        assert_eq!(crm.branch.as_deref(), Some("splits/crm-module"));
        assert_eq!(crm.options["deals_per_page"], Value::Int(40));
        assert_eq!(s.managed_files[0].0, "my_shop/settings/modules.py");
        assert_eq!(parse_state("").expect("empty"), None);
    }

    #[test]
    fn reads_the_module_tracking_file_and_its_placeholders() {
        let m = parse_modules(CONFIG).expect("valid").expect("config");
        assert_eq!(
            m.default_remote.as_deref(),
            Some("https://github.com/Experto-AI/quickscale.git")
        );
        assert_eq!(
            m.modules["crm"].installed_version.as_deref(),
            Some("v0.72.0")
        );
        assert!(is_placeholder_version("v0.72.0") && is_placeholder_version("0.62.0"));
        assert!(!is_placeholder_version("0.73.0"));
        let h = parse_hashes(
            "version: '1'\nfiles:\n- path: a/settings/modules.py\n  hash: abc\n  applied_at: x\n",
        )
        .expect("valid")
        .expect("hashes");
        assert_eq!(
            h.files,
            vec![("a/settings/modules.py".to_owned(), "abc".to_owned())]
        );
    }

    #[test]
    fn files_upstream_never_wrote_are_errors_with_lines() {
        let err = parse_state("project: [a]\n").expect_err("not a mapping");
        assert_eq!(
            err.to_string(),
            ".quickscale/state.yml:1: `project` must be a mapping, found a list"
        );
        let err = parse_state("project:\n  theme: x\n").expect_err("no name");
        assert!(err.to_string().contains("names no project"), "{err}");
        let err = parse_modules("modules:\n  crm: 3\n").expect_err("bad module");
        assert_eq!(
            err.to_string(),
            ".quickscale/config.yml:2: `modules.crm` must be a mapping, found an integer"
        );
        assert!(parse_state("- a\n").is_err());
    }

    #[test]
    fn raw_credentials_are_recognised() {
        let s = parse_state(STATE_079).expect("valid").expect("state");
        let storage = &s.modules["storage"].options;
        let raw: Vec<&String> = storage
            .iter()
            .filter(|(k, v)| is_raw_credential(k, v))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(raw, ["access_key_id", "secret_access_key"]);
        assert!(!is_raw_credential(
            "secret_access_key_env_var",
            &Value::Str("AWS_SECRET".into())
        ));
        assert!(!is_raw_credential(
            "secret_access_key",
            &Value::Str(String::new())
        ));
        assert!(!is_raw_credential(
            "bucket_name",
            &Value::Str("media".into())
        ));
        // Any scalar type, at any depth, named by the innermost secret key.
        assert!(is_raw_credential("db_password", &Value::Int(123456789)));
        let nested = Value::Map(
            [
                ("api_token".to_owned(), Value::Str("t0k".into())),
                ("region".to_owned(), Value::Str("eu".into())),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            credentials_in("m", "nested", &nested),
            vec![Credential {
                path: "m.nested.api_token".into(),
                key: "api_token".into(),
                text: "t0k".into()
            }]
        );
        let list = Value::List(vec![Value::Str("a1b2c3".into())]);
        assert_eq!(credentials_in("m", "tokens", &list)[0].key, "tokens");
        assert!(!is_raw_credential("password_enabled", &Value::Bool(true)));
    }
}
