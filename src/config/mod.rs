//! `quickscale.yml`: the desired state of a project.
//!
//! Every file upstream QuickScale accepts is accepted with the same meaning
//! (reference §3.1), plus one extension: `sources.<module>: {url, ref}`.
//! Validation reports every problem as `file:line:column: message`.

pub mod edit;
pub mod emit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Diagnostics};
use crate::identity;
use crate::identity::module_name_problem;
pub use crate::identity::{Identity, Theme, check_ref_name};
use crate::spec::AccessSpec;
use crate::suggest;
use crate::value::Value;
use crate::wiring::rules;
use crate::yaml::{self, Checker, Node, NodeKind, Pos};

pub use crate::layout::CONFIG_FILE;

const ROOT_KEYS: &[&str] = &[
    "version", "project", "modules", "docker", "sources", "updates",
];
const UPDATES_KEYS: &[&str] = &["pull_requests"];
const PROJECT_KEYS: &[&str] = &["slug", "package", "theme", "name"];
const DOCKER_KEYS: &[&str] = &["start", "build", "create_superuser"];
const SOURCE_KEYS: &[&str] = &["url", "ref", "allow_settings", "access"];

/// `docker.*`, kept for compatibility with upstream files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Docker {
    pub start: bool,
    pub build: bool,
    pub create_superuser: bool,
}

impl Default for Docker {
    fn default() -> Self {
        Self {
            start: true,
            build: true,
            create_superuser: false,
        }
    }
}

/// `modules.<name>`: a module the project wants, with its options as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleRequest {
    pub name: String,
    pub options: BTreeMap<String, Value>,
    #[serde(skip)]
    pub pos: Pos,
    #[serde(skip)]
    pub option_pos: BTreeMap<String, Pos>,
}

/// `sources.<name>`: where a module comes from, overriding the catalog,
/// and what the project owner trusts it with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SourceOverride {
    pub url: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Protected Django settings this module may set anyway
    /// (see `wiring::rules`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_settings: Vec<String>,
    /// Who may open the module's pages, overriding its manifest and the
    /// catalog (see `spec::AccessSpec`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessSpec>,
}

/// A validated quickscale.yml.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectConfig {
    pub project: Identity,
    pub modules: Vec<ModuleRequest>,
    pub docker: Docker,
    pub sources: BTreeMap<String, SourceOverride>,
    pub updates: Updates,
}

/// `updates.*`: how module updates reach the project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Updates {
    /// The generated `quickscale-updates.yml` workflow opens pull requests
    /// (off unless set: the workflow then only says how to opt in).
    pub pull_requests: bool,
}

impl ProjectConfig {
    pub fn module(&self, name: &str) -> Option<&ModuleRequest> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// Protected settings the owner allows, by module (`sources.<m>.allow_settings`).
    pub fn allowed_settings(&self) -> BTreeMap<String, Vec<String>> {
        self.sources
            .iter()
            .filter(|(_, s)| !s.allow_settings.is_empty())
            .map(|(m, s)| (m.clone(), s.allow_settings.clone()))
            .collect()
    }

    /// The owner's access levels, by module (`sources.<m>.access`).
    pub fn access_overrides(&self) -> BTreeMap<String, AccessSpec> {
        self.sources
            .iter()
            .filter_map(|(m, s)| Some((m.clone(), s.access.clone()?)))
            .collect()
    }
}

/// A loaded file: the text (for edits), its tree and the validated config.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// How the path is shown in messages.
    pub display: String,
    pub text: String,
    pub config: ProjectConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{display}` is not UTF-8: invalid byte 0x{byte:02x} at byte {offset} (line {line}, column {column})"
    )]
    NotUtf8 {
        display: String,
        byte: u8,
        offset: usize,
        line: usize,
        column: usize,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Some(
                "run `git quickscale plan <slug>` to create a quickscale.yml, or run the command inside a project".into(),
            ),
            ConfigError::Read { path, .. } => Some(format!(
                "check that `{}` is a file you can read",
                path.display()
            )),
            ConfigError::NotUtf8 { display, .. } => Some(format!(
                "open {display} in an editor and save it as UTF-8 (a Latin-1 file converts with `iconv -f latin1 -t utf-8`)"
            )),
            ConfigError::Invalid(d) => {
                let unknown_module = d.0.iter().any(|x| x.message.starts_with("unknown module"));
                Some(if unknown_module {
                    "run `git quickscale list-modules` to see the catalog, or give a private module's `url` under `sources:`".into()
                } else {
                    format!("fix {CONFIG_FILE} and run the command again; docs/user-guide.md describes every key")
                })
            }
        }
    }
}

impl ConfigFile {
    /// Reads and validates a quickscale.yml.
    pub fn load(path: &Path, display: &str, catalog: &Catalog) -> Result<ConfigFile, ConfigError> {
        let bytes = fs_err::read(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|e| not_utf8(display, e.as_bytes(), e.utf8_error()))?;
        let config = parse(&text, display, catalog).map_err(ConfigError::Invalid)?;
        Ok(ConfigFile {
            path: path.to_owned(),
            display: display.to_owned(),
            text,
            config,
        })
    }
}

/// Locates the first byte that is not UTF-8, for a message that names it.
fn not_utf8(display: &str, bytes: &[u8], e: std::str::Utf8Error) -> ConfigError {
    let offset = e.valid_up_to();
    let valid = bytes.get(..offset).unwrap_or_default();
    let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = std::str::from_utf8(valid.get(line_start..).unwrap_or_default())
        .map_or(0, |l| l.chars().count())
        + 1;
    ConfigError::NotUtf8 {
        display: display.to_owned(),
        byte: bytes.get(offset).copied().unwrap_or_default(),
        offset,
        line: valid.iter().filter(|b| **b == b'\n').count() + 1,
        column,
    }
}

/// Parses and validates quickscale.yml text.
pub fn parse(text: &str, file: &str, catalog: &Catalog) -> Result<ProjectConfig, Diagnostics> {
    let root = match yaml::parse(text) {
        Ok(Some(root)) => root,
        Ok(None) => {
            return Err(Diagnostics(vec![
                Diagnostic::new(file, Some(Pos { offset: 0, line: 1, column: 1 }), "the file is empty")
                    .with_help("expected a mapping with `version: \"1\"` and `project:`; run `git quickscale plan <slug>` to create one"),
            ]));
        }
        Err(e) => return Err(Diagnostics(vec![Diagnostic::new(file, e.pos, e.message)])),
    };
    let mut c = Checker::new(file);
    let config = validate(&mut c, &root, catalog);
    let problems = c.finish();
    match config {
        Some(config) if problems.is_empty() => Ok(config),
        _ => Err(Diagnostics::sorted(problems)),
    }
}

fn validate(c: &mut Checker, root: &Node, catalog: &Catalog) -> Option<ProjectConfig> {
    let entries = c.map(root, "the top level", false)?;
    c.known_keys(entries, ROOT_KEYS, "the top level");

    match root.get("version") {
        None => c.error_help(
            root,
            "missing required key `version`",
            "add `version: \"1\"` at the top".into(),
        ),
        Some(v) => match Value::from_node(v) {
            Value::Str(s) if s == "1" => {}
            Value::Int(1) => {}
            other => c.error_help(
                v,
                format!("unsupported version `{other}`"),
                "use `version: \"1\"`".into(),
            ),
        },
    }

    let project = match root.get("project") {
        None => {
            c.error(root, "missing required key `project`");
            None
        }
        Some(p) => validate_project(c, p),
    };

    let docker = validate_docker(c, root);
    let updates = validate_updates(c, root);

    let sources = root
        .get("sources")
        .map(|s| validate_sources(c, s))
        .unwrap_or_default();

    let modules = validate_modules(c, root, catalog, &sources);
    if let Some(s) = root.get("sources").and_then(Node::as_map) {
        for (k, _) in s {
            let name = k.key_str().unwrap_or_default();
            let listed = root.get("modules").is_some_and(|m| m.get(name).is_some());
            if !listed {
                c.error_help(
                    k,
                    format!("`sources.{name}` names a module that is not under `modules`"),
                    format!("add `{name}` under `modules`, or remove `sources.{name}`"),
                );
            }
        }
    }

    Some(ProjectConfig {
        project: project?,
        modules,
        docker,
        sources,
        updates,
    })
}

/// `docker:` (accepted for compatibility; the tool runs no containers).
fn validate_docker(c: &mut Checker, root: &Node) -> Docker {
    let mut docker = Docker::default();
    if let Some(d) = root.get("docker")
        && let Some(entries) = c.map(d, "`docker`", true)
    {
        c.known_keys(entries, DOCKER_KEYS, "`docker`");
        for (k, v) in entries {
            let key = k.key_str().unwrap_or_default();
            let target = match key {
                "start" => &mut docker.start,
                "build" => &mut docker.build,
                "create_superuser" => &mut docker.create_superuser,
                _ => continue,
            };
            if let Some(b) = c.boolean(v, &format!("`docker.{key}`")) {
                *target = b;
            }
        }
    }
    docker
}

/// `updates:`: how module updates reach the project.
fn validate_updates(c: &mut Checker, root: &Node) -> Updates {
    let mut updates = Updates::default();
    if let Some(u) = root.get("updates")
        && let Some(entries) = c.map(u, "`updates`", true)
    {
        c.known_keys(entries, UPDATES_KEYS, "`updates`");
        if let Some((_, v)) = entries
            .iter()
            .find(|(k, _)| k.key_str() == Some("pull_requests"))
            && let Some(b) = c.boolean(v, "`updates.pull_requests`")
        {
            updates.pull_requests = b;
        }
    }
    updates
}

/// `modules:`: each a catalog module (or one with a private source) with
/// its options as given.
fn validate_modules(
    c: &mut Checker,
    root: &Node,
    catalog: &Catalog,
    sources: &BTreeMap<String, SourceOverride>,
) -> Vec<ModuleRequest> {
    let mut modules = Vec::new();
    if let Some(m) = root.get("modules")
        && let Some(entries) = c.map(m, "`modules`", true)
    {
        for (k, v) in entries {
            let name = k.key_str().unwrap_or_default();
            let private = sources.get(name).is_some_and(|s| s.url.is_some());
            if catalog.get(name).is_none() && !private {
                let help = suggest::help_line(name, catalog.names(), "modules");
                c.error_help(k, format!("unknown module `{name}`"), help);
                continue;
            }
            if let Some(problem) = module_name_problem(name) {
                c.error(k, format!("invalid module name: `{name}` {problem}"));
                continue;
            }
            let Some(opts) = c.map(v, &format!("the options of module `{name}`"), true) else {
                continue;
            };
            let mut options = BTreeMap::new();
            let mut option_pos = BTreeMap::new();
            for (ok, ov) in opts {
                let key = ok.key_str().unwrap_or_default().to_owned();
                option_pos.insert(key.clone(), ok.start);
                options.insert(key, Value::from_node(ov));
            }
            modules.push(ModuleRequest {
                name: name.to_owned(),
                options,
                pos: k.start,
                option_pos,
            });
        }
    }
    modules
}

fn validate_project(c: &mut Checker, node: &Node) -> Option<Identity> {
    let entries = c.map(node, "`project`", false)?;
    c.known_keys(entries, PROJECT_KEYS, "`project`");
    let slug = match node.get("slug") {
        None => {
            c.error(node, "missing required key `project.slug`");
            None
        }
        Some(s) => {
            c.string(s, "`project.slug`")
                .and_then(|slug| match identity::validate_slug(&slug) {
                    Ok(()) => Some(slug),
                    Err(p) => {
                        let msg = format!(
                            "invalid project slug `{}`: {}",
                            slug.escape_debug(),
                            p.reason
                        );
                        match p.suggestion {
                            Some(sug) => c.error_help(s, msg, format!("try `{sug}`")),
                            None => c.error(s, msg),
                        }
                        None
                    }
                })
        }
    };
    let package =
        match node.get("package") {
            None => {
                let help = slug
                    .as_deref()
                    .map(|s| format!("add `package: {}`", identity::package_from_slug(s)))
                    .unwrap_or_else(|| "add `package: <python_package>`".into());
                c.error_help(node, "missing required key `project.package`", help);
                None
            }
            Some(p) => c.string(p, "`project.package`").and_then(|pkg| {
                match identity::validate_package(&pkg) {
                    Ok(()) => Some(pkg),
                    Err(prob) => {
                        let msg = format!(
                            "invalid package name `{}`: {}",
                            pkg.escape_debug(),
                            prob.reason
                        );
                        match prob.suggestion {
                            Some(sug) => c.error_help(p, msg, format!("try `{sug}`")),
                            None => c.error(p, msg),
                        }
                        None
                    }
                }
            }),
        };
    let theme = match node.get("theme") {
        None => Some(Theme::DEFAULT),
        Some(t) => c.string(t, "`project.theme`").and_then(|name| {
            let theme = Theme::from_name(&name);
            if theme.is_none() {
                let help = match suggest::did_you_mean(&name, Theme::names()) {
                    Some(s) => format!(
                        "did you mean `{s}`? valid themes: {}",
                        Theme::names().collect::<Vec<_>>().join(", ")
                    ),
                    None => format!(
                        "valid themes: {}",
                        Theme::names().collect::<Vec<_>>().join(", ")
                    ),
                };
                c.error_help(t, format!("unknown theme `{name}`"), help);
            }
            theme
        }),
    };
    let name = node.get("name").filter(|n| !n.is_null()).and_then(|n| {
        let text = c.string(n, "`project.name`")?;
        match identity::validate_display_name(&text) {
            Ok(()) => Some(text),
            Err(why) => {
                c.error(n, format!("`project.name`: {why}"));
                None
            }
        }
    });
    Some(Identity {
        slug: slug?,
        package: package?,
        theme: theme?,
        name,
    })
}

fn validate_sources(c: &mut Checker, node: &Node) -> BTreeMap<String, SourceOverride> {
    let mut out = BTreeMap::new();
    let Some(entries) = c.map(node, "`sources`", true) else {
        return out;
    };
    for (k, v) in entries {
        let name = k.key_str().unwrap_or_default().to_owned();
        let what = format!("`sources.{name}`");
        let Some(fields) = c.map(v, &what, false) else {
            continue;
        };
        c.known_keys(fields, SOURCE_KEYS, &what);
        let mut src = SourceOverride::default();
        if let Some(u) = v.get("url") {
            src.url = c.string(u, &format!("`sources.{name}.url`"));
        }
        if let Some(r) = v.get("ref")
            && let Some(r_text) = c.string(r, &format!("`sources.{name}.ref`"))
        {
            match check_ref_name(&r_text) {
                Ok(()) => src.git_ref = Some(r_text),
                Err(why) => c.error(r, format!("`sources.{name}.ref`: {why}")),
            }
        }
        if let Some(a) = v.get("allow_settings") {
            src.allow_settings = validate_allowed_settings(c, &name, a);
        }
        if let Some(a) = v.get("access") {
            match AccessSpec::from_value(&Value::from_node(a)) {
                Ok(spec) => src.access = Some(spec),
                Err(why) => c.error_help(
                    a,
                    format!("`sources.{name}.access`: {why}"),
                    "docs/user-guide.md, \"Protected module pages\", lists the levels".into(),
                ),
            }
        }
        if src.url.is_none() && src.git_ref.is_none() && fields.is_empty() {
            c.error(
                v,
                format!("{what} needs `url`, `ref`, `allow_settings` or `access`"),
            );
        }
        out.insert(name, src);
    }
    out
}

/// `sources.<module>.allow_settings`: protected Django settings (and only
/// those) that the owner lets this module set.
fn validate_allowed_settings(c: &mut Checker, module: &str, node: &Node) -> Vec<String> {
    let what = format!("`sources.{module}.allow_settings`");
    let NodeKind::Seq(items, _) = &node.kind else {
        if !node.is_null() {
            c.error_help(
                node,
                format!("{what} must be a list, found {}", node.type_name()),
                "write it as `allow_settings: [SETTING_NAME]`".into(),
            );
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(name) = c.string(item, &format!("each entry of {what}")) else {
            continue;
        };
        if rules::NEVER_ALLOWED.contains(&name.as_str()) {
            c.error_help(
                item,
                format!("{what}: `{name}` cannot be allowed"),
                "modules add apps and middleware through their manifest's `django_apps` and `middleware`".into(),
            );
        } else if !rules::is_protected(&name) {
            let help = match suggest::did_you_mean(&name, rules::PROTECTED_SETTINGS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "modules may set any other setting without permission; docs/user-guide.md lists the protected ones".into(),
            };
            c.error_help(
                item,
                format!(
                    "{what}: `{name}` is not a protected setting, so there is nothing to allow"
                ),
                help,
            );
        } else if out.contains(&name) {
            c.error(item, format!("{what}: `{name}` is listed twice"));
        } else {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::load(&[]).expect("bundled")
    }

    fn parse_ok(text: &str) -> ProjectConfig {
        parse(text, "quickscale.yml", &catalog()).expect("valid")
    }

    fn parse_err(text: &str) -> String {
        parse(text, "quickscale.yml", &catalog())
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn accepts_upstream_files() {
        let c = parse_ok(
            "version: \"1\"\nproject:\n  slug: demo\n  package: demo\nmodules:\n  crm:\n    deals_per_page: 50\n  auth: null\ndocker:\n  start: yes\n",
        );
        assert_eq!(c.project.theme, Theme::ShowcaseReact);
        assert_eq!(c.modules.len(), 2);
        assert_eq!(c.modules[0].options["deals_per_page"], Value::Int(50));
        assert!(c.docker.start);
        let c = parse_ok(
            "version: 1\nproject: {slug: a-b, package: a_b, theme: showcase_htmx}\nmodules:\n",
        );
        assert!(c.modules.is_empty());
    }

    #[test]
    fn project_name_and_module_access_are_read_and_checked() {
        let c = parse_ok(
            "version: \"1\"\nproject: {slug: a, package: a, name: \"Acme HQ\"}\nmodules:\n  crm: {}\nsources:\n  crm:\n    access: {\"*\": staff, quickscale_modules_crm.api: login}\n",
        );
        assert_eq!(c.project.display_name(), "Acme HQ");
        let access = &c.access_overrides()["crm"];
        assert_eq!(access.all, Some(crate::wiring::spec::Access::Staff));
        let bad = parse(
            "version: \"1\"\nproject: {slug: a, package: a, name: \"a\\tb\"}\nmodules:\n  crm: {}\nsources:\n  crm: {access: everyone}\n",
            "quickscale.yml",
            &catalog(),
        )
        .expect_err("refused")
        .to_string();
        assert!(
            bad.contains("`project.name`: must be 1 to 80 characters"),
            "{bad}"
        );
        assert!(
            bad.contains(
                "quickscale.yml:6:17: `sources.crm.access`: `everyone` is not an access level"
            ),
            "{bad}"
        );
    }

    #[test]
    fn private_modules_need_a_source_url() {
        let text = "version: \"1\"\nproject: {slug: a, package: a}\nmodules:\n  mymod: {}\nsources:\n  mymod: {url: ../mymod}\n";
        assert_eq!(
            parse_ok(text).sources["mymod"].url.as_deref(),
            Some("../mymod")
        );
        let e = parse_err("version: \"1\"\nproject: {slug: a, package: a}\nmodules:\n  crmm: {}\n");
        assert!(
            e.contains("quickscale.yml:4:3: unknown module `crmm`\n  did you mean `crm`?"),
            "{e}"
        );
    }

    #[test]
    fn allow_settings_lives_with_the_module_s_source() {
        let c = parse_ok(
            "version: \"1\"\nproject: {slug: a, package: a}\nmodules:\n  crm: {}\nsources:\n  crm:\n    allow_settings: [SECURE_SSL_REDIRECT, DEBUG]\n",
        );
        assert_eq!(c.sources["crm"].url, None);
        assert_eq!(
            c.allowed_settings()["crm"],
            ["SECURE_SSL_REDIRECT".to_owned(), "DEBUG".to_owned()]
        );
        // (source::tests checks that the source still resolves from the catalog.)
        let e = parse_err(
            "version: \"1\"\nproject: {slug: a, package: a}\nmodules:\n  crm: {}\nsources:\n  crm: {allow_settings: [MIDDLEWARE, CRM_X]}\n",
        );
        assert!(
            e.contains(
                "quickscale.yml:6:26: `sources.crm.allow_settings`: `MIDDLEWARE` cannot be allowed"
            ),
            "{e}"
        );
        assert!(e.contains("quickscale.yml:6:38: `sources.crm.allow_settings`: `CRM_X` is not a protected setting"), "{e}");
    }

    #[test]
    fn reports_every_problem_with_positions() {
        let e = parse_err(
            "version: \"2\"\nproject:\n  slug: Demo\n  package: django\n  theme: showcase_htm\nextra: 1\n",
        );
        let lines: Vec<&str> = e.lines().filter(|l| !l.starts_with("  ")).collect();
        assert_eq!(lines.len(), 5, "{e}");
        assert!(lines[0].starts_with("quickscale.yml:1:10: unsupported version `\"2\"`"));
        assert!(lines[1].starts_with("quickscale.yml:3:9: invalid project slug `Demo`"));
        assert!(lines[2].starts_with("quickscale.yml:4:12: invalid package name `django`"));
        assert!(lines[3].starts_with("quickscale.yml:5:10: unknown theme `showcase_htm`"));
        assert!(lines[4].starts_with("quickscale.yml:6:1: unknown key `extra`"));
    }

    #[test]
    fn not_utf8_names_line_column_and_byte() {
        let bytes = b"a: 1\nb: \xc3\xa9\xc3\xa9 \xff\n".to_vec();
        let e = String::from_utf8(bytes).expect_err("latin-1");
        let err = not_utf8("quickscale.yml", e.as_bytes(), e.utf8_error());
        assert_eq!(
            err.to_string(),
            "`quickscale.yml` is not UTF-8: invalid byte 0xff at byte 13 (line 2, column 7)"
        );
        assert!(err.hint().is_some_and(|h| h.contains("save it as UTF-8")));
    }

    #[test]
    fn ref_names() {
        assert!(check_ref_name("v0.63.0").is_ok());
        assert!(check_ref_name("splits/auth-module").is_ok());
        assert!(check_ref_name("--upload-pack=x").is_err());
        assert!(check_ref_name("a..b").is_err());
        assert!(check_ref_name("a b").is_err());
    }
}
