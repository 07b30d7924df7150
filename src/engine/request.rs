//! What `plan` was asked to do, checked against the catalog and manifests.

use std::collections::BTreeMap;
use std::path::Path;

use super::EngineError;
use super::recover::{self, Pending};
use super::session::{self, Mode, Opened};
use crate::catalog::Catalog;
use crate::config::edit::{self, EditError};
use crate::config::emit::NewConfig;
use crate::config::{Identity, ProjectConfig, SourceOverride, check_ref_name};
use crate::git::Git;
use crate::identity::{Theme, is_module_name, module_name_problem};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::source::{self, Location, ModuleSource, SourceError};
use crate::suggest;
use crate::value::Value;
use crate::yaml::{self, parse_scalar_text};

/// `--module NAME[@REF]` / `--add NAME[@REF]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleArg {
    pub name: String,
    pub git_ref: Option<String>,
}

/// `--source NAME=URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceArg {
    pub module: String,
    pub url: String,
}

/// `--set MODULE.OPTION=VALUE`, with the value parsed as YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct SetArg {
    pub module: String,
    pub option: String,
    pub raw: String,
    pub value: Value,
}

impl std::str::FromStr for ModuleArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, git_ref) = match s.split_once('@') {
            Some((n, r)) => (n, Some(r.to_owned())),
            None => (s, None),
        };
        if let Some(problem) = module_name_problem(name) {
            return Err(format!("`{name}` {problem}"));
        }
        if let Some(r) = &git_ref {
            check_ref_name(r)?;
        }
        Ok(ModuleArg {
            name: name.to_owned(),
            git_ref,
        })
    }
}

impl std::str::FromStr for SourceArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (module, url) = s
            .split_once('=')
            .ok_or_else(|| "expected NAME=URL, e.g. crm=../crm-module".to_owned())?;
        if let Some(problem) = module_name_problem(module) {
            return Err(format!("`{module}` {problem}"));
        }
        if url.trim().is_empty() || url.starts_with('-') || url.chars().any(char::is_control) {
            return Err(format!("`{url}` is not a usable URL or path"));
        }
        Ok(SourceArg {
            module: module.to_owned(),
            url: url.to_owned(),
        })
    }
}

impl std::str::FromStr for SetArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (key, raw) = s
            .split_once('=')
            .ok_or_else(|| "expected MODULE.OPTION=VALUE, e.g. crm.deals_per_page=50".to_owned())?;
        let (module, option) = key
            .split_once('.')
            .ok_or_else(|| format!("`{key}` must be MODULE.OPTION, e.g. crm.deals_per_page"))?;
        if let Some(problem) = module_name_problem(module) {
            return Err(format!("`{module}` {problem}"));
        }
        if !is_module_name(option) {
            return Err(format!("`{option}` is not an option name"));
        }
        Ok(SetArg {
            module: module.to_owned(),
            option: option.to_owned(),
            raw: raw.to_owned(),
            value: parse_cli_value(raw)?,
        })
    }
}

/// Parses a value given on the command line: YAML flow for `[..]`/`{..}`,
/// scalar rules otherwise.
pub fn parse_cli_value(raw: &str) -> Result<Value, String> {
    if raw.starts_with(['[', '{']) {
        match yaml::parse(&format!("v: {raw}")) {
            Ok(Some(node)) => Ok(node.get("v").map(Value::from_node).unwrap_or(Value::Null)),
            _ => Err(format!("`{raw}` is not a valid YAML list or mapping")),
        }
    } else {
        Ok(parse_scalar_text(raw))
    }
}

/// Appends the modules `theme` is built on that `modules` lacks (see
/// [`Theme::required_modules`]); returns their names, for the message
/// that says so.
pub fn add_theme_modules(theme: Theme, modules: &mut Vec<ModuleArg>) -> Vec<&'static str> {
    let mut added = Vec::new();
    for name in theme.required_modules() {
        if !modules.iter().any(|m| m.name == *name) {
            modules.push(ModuleArg {
                name: (*name).to_owned(),
                git_ref: None,
            });
            added.push(*name);
        }
    }
    added
}

/// Whether a module's manifest could be read, and if not, why.
#[derive(Debug, Clone)]
pub enum ManifestStatus {
    Found(Box<Manifest>),
    /// The module is known to have no module.yml.
    Missing,
    /// Not readable now (remote source, or `--offline`); checked at apply.
    Deferred(String),
}

/// Finds a module's manifest without touching the network: the embedded
/// copy in `modules/<name>/`, or a local source repository.
pub fn lookup_manifest(
    project_root: &Path,
    name: &str,
    src: &ModuleSource,
) -> Result<ManifestStatus, SourceError> {
    let embedded = project_root.join("modules").join(name).join(MANIFEST_FILE);
    if embedded.is_file() {
        let text = fs_err::read_to_string(&embedded).map_err(|e| SourceError::Git {
            module: name.to_owned(),
            what: embedded.display().to_string(),
            source: Box::new(e),
        })?;
        let label = format!("modules/{name}/{MANIFEST_FILE}");
        return Manifest::parse(&text, &label, name)
            .map(|m| ManifestStatus::Found(Box::new(m)))
            .map_err(SourceError::Manifest);
    }
    match source::location(&src.url, project_root) {
        Location::Local(path) => Ok(
            match source::read_local_manifest(&path, &src.url, &src.git_ref, name)? {
                Some(m) => ManifestStatus::Found(Box::new(m)),
                None => ManifestStatus::Missing,
            },
        ),
        Location::Remote(url) => Ok(ManifestStatus::Deferred(format!(
            "module {name}: its source `{url}` is remote; option values are checked when `apply` fetches it"
        ))),
    }
}

/// Like [`lookup_manifest`], but a remote source under `--offline` is
/// deferred without looking.
pub fn manifest_status(
    project_root: &Path,
    name: &str,
    src: &ModuleSource,
    offline: bool,
) -> Result<ManifestStatus, SourceError> {
    if offline
        && matches!(
            source::location(&src.url, project_root),
            Location::Remote(_)
        )
    {
        return Ok(ManifestStatus::Deferred(format!(
            "module {name}: --offline; option values are checked at apply"
        )));
    }
    lookup_manifest(project_root, name, src)
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("cannot edit quickscale.yml: {0}")]
    Edit(#[from] EditError),
}

impl RequestError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RequestError::Invalid(lines) if lines.iter().any(|l| l.contains("unknown module")) => {
                Some("run `git quickscale list-modules`, or give a private module's URL with --source NAME=URL".into())
            }
            RequestError::Invalid(lines) if lines.iter().any(|l| l.contains("immutable")) => Some(
                "immutable options are fixed once a module is embedded: `git quickscale plan --remove NAME`, `apply`, then `plan --add NAME --set …` and `apply`".into(),
            ),
            RequestError::Invalid(_) => Some("see `git quickscale plan --help`".into()),
            RequestError::Source(e) => e.hint(),
            RequestError::Edit(e) => Some(e.hint()),
        }
    }
}

/// Checks and converts `--set` values of one module against its manifest.
/// Returns notes about checks that had to be deferred.
pub fn check_sets(
    module: &str,
    sets: &[&SetArg],
    status: &ManifestStatus,
    refuse_immutable: bool,
    problems: &mut Vec<String>,
) -> (Vec<(String, Value)>, Option<String>) {
    let mut out = Vec::new();
    let note = match status {
        ManifestStatus::Deferred(why) => Some(why.clone()),
        _ => None,
    };
    for s in sets {
        let value = match status {
            ManifestStatus::Found(m) => match m.option(&s.option) {
                None => {
                    let names: Vec<&str> = m.options.iter().map(|o| o.name.as_str()).collect();
                    let help = if names.is_empty() {
                        "it declares no options".to_owned()
                    } else {
                        suggest::help_line(&s.option, names.iter().copied(), "options")
                    };
                    problems.push(format!(
                        "module {module}: option {}: unknown option; {help}",
                        s.option
                    ));
                    continue;
                }
                Some(spec) => {
                    let v = spec.coerce_cli_value(&s.raw, s.value.clone());
                    if let Err(why) = spec.check(&v) {
                        problems.push(format!("module {module}: option {}: {why}", s.option));
                        continue;
                    }
                    if refuse_immutable && !spec.mutable {
                        problems.push(format!(
                            "module {module}: option {} is immutable and the module is already embedded",
                            s.option
                        ));
                        continue;
                    }
                    v
                }
            },
            ManifestStatus::Missing => {
                problems.push(format!(
                    "module {module}: option {}: the module has no module.yml, so it takes no options",
                    s.option
                ));
                continue;
            }
            ManifestStatus::Deferred(_) => s.value.clone(),
        };
        out.push((s.option.clone(), value));
    }
    (out, note)
}

/// Everything `plan <slug>` needs to write a new file.
pub struct NewRequest<'a> {
    pub project: Identity,
    pub modules: &'a [ModuleArg],
    pub sources: &'a [SourceArg],
    pub sets: &'a [SetArg],
    /// The directory the new project will live in (for relative sources).
    pub project_root: &'a Path,
    pub offline: bool,
}

/// The outcome: the file content plus notes to show (deferred checks, warnings).
pub struct Planned<T> {
    pub value: T,
    pub notes: Vec<String>,
}

/// Builds a new quickscale.yml from flags and answers.
pub fn build_new(
    req: &NewRequest<'_>,
    catalog: &Catalog,
) -> Result<Planned<NewConfig>, RequestError> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut sources: BTreeMap<String, SourceOverride> = BTreeMap::new();
    let mut seen = Vec::new();
    for m in req.modules {
        if seen.contains(&m.name) {
            problems.push(format!("module {} is given twice", m.name));
            continue;
        }
        seen.push(m.name.clone());
        if let Some(r) = &m.git_ref {
            sources.entry(m.name.clone()).or_default().git_ref = Some(r.clone());
        }
    }
    for s in req.sources {
        if !seen.contains(&s.module) {
            problems.push(format!(
                "--source {}: module {} is not selected (add --module {})",
                s.module, s.module, s.module
            ));
            continue;
        }
        sources.entry(s.module.clone()).or_default().url = Some(s.url.clone());
    }
    for s in req.sets {
        if !seen.contains(&s.module) {
            problems.push(format!(
                "--set {}.{}: module {} is not selected",
                s.module, s.option, s.module
            ));
        }
    }
    let draft = ProjectConfig {
        project: req.project.clone(),
        modules: Vec::new(),
        docker: Default::default(),
        sources: sources.clone(),
        updates: Default::default(),
    };
    let mut modules = Vec::new();
    for name in &seen {
        let private = sources.get(name).is_some_and(|s| s.url.is_some());
        match catalog.get(name) {
            None if !private => {
                let help = suggest::help_line(name, catalog.names(), "modules");
                problems.push(format!("unknown module `{name}`; {help}"));
                continue;
            }
            Some(e) if !e.ready => {
                notes.push(format!("module {name} is not ready: {}", e.description))
            }
            _ => {}
        }
        let sets: Vec<&SetArg> = req.sets.iter().filter(|s| &s.module == name).collect();
        let mut options = BTreeMap::new();
        if !sets.is_empty() {
            let src = source::resolve(name, &draft, catalog).ok_or_else(|| {
                RequestError::Invalid(vec![format!("module {name} has no source")])
            })?;
            let status = manifest_status(req.project_root, name, &src, req.offline)?;
            let (values, note) = check_sets(name, &sets, &status, false, &mut problems);
            notes.extend(note);
            options.extend(values);
        }
        modules.push((name.clone(), options));
    }
    if !problems.is_empty() {
        return Err(RequestError::Invalid(problems));
    }
    Ok(Planned {
        value: NewConfig {
            project: req.project.clone(),
            modules,
            sources,
        },
        notes,
    })
}

/// Edits of an existing quickscale.yml, applied in this order:
/// removals, additions, sources, option values.
pub struct EditRequest<'a> {
    pub add: &'a [ModuleArg],
    pub remove: &'a [String],
    /// `--pin NAME@REF`: set the ref of a module already listed.
    pub pin: &'a [ModuleArg],
    pub sources: &'a [SourceArg],
    pub sets: &'a [SetArg],
    /// `--reconfigure`: options of modules already listed may change.
    pub reconfigure: bool,
    pub project_root: &'a Path,
    pub offline: bool,
}

/// What is wrong with an edit request against the current quickscale.yml
/// (problems refuse it), and what the user should know (notes).
fn check_edit(current: &ProjectConfig, req: &EditRequest<'_>) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let theme = current.project.theme;
    for name in req.remove {
        if current.module(name).is_none() {
            problems.push(format!(
                "module {name} is not in quickscale.yml, so it cannot be removed"
            ));
        } else if theme.required_modules().contains(&name.as_str())
            && !req.add.iter().any(|m| &m.name == name)
        {
            notes.push(format!(
                "the {theme} theme needs the {name} module: its pages stop working without it"
            ));
        }
    }
    for m in req.add {
        if current.module(&m.name).is_some() && !req.remove.contains(&m.name) {
            problems.push(format!(
                "module {} is already in quickscale.yml; use --reconfigure --set to change its options",
                m.name
            ));
        }
    }
    let added: Vec<&str> = req.add.iter().map(|m| m.name.as_str()).collect();
    for p in req.pin {
        if p.git_ref.is_none() {
            problems.push(format!(
                "--pin {}: name the ref to pin to, e.g. --pin {}@v1.2.0",
                p.name, p.name
            ));
        } else if current.module(&p.name).is_none() && !added.contains(&p.name.as_str()) {
            problems.push(format!(
                "--pin {}: module {} is not in quickscale.yml (add it with --add {}@REF)",
                p.name, p.name, p.name
            ));
        }
    }
    for s in req.sources {
        if current.module(&s.module).is_none() && !added.contains(&s.module.as_str()) {
            problems.push(format!(
                "--source {}: module {} is not in quickscale.yml",
                s.module, s.module
            ));
        }
    }
    for s in req.sets {
        let is_new = added.contains(&s.module.as_str());
        let exists = current.module(&s.module).is_some();
        if !is_new && !exists {
            problems.push(format!(
                "--set {}.{}: module {} is not in quickscale.yml",
                s.module, s.option, s.module
            ));
        } else if !is_new && !req.reconfigure {
            problems.push(format!(
                "--set {}.{}: module {} is already listed; add --reconfigure to change its options",
                s.module, s.option, s.module
            ));
        }
    }
    (problems, notes)
}

/// Applies the edits to the file text; returns the new text.
pub fn build_edit(
    text: &str,
    current: &ProjectConfig,
    req: &EditRequest<'_>,
    catalog: &Catalog,
) -> Result<Planned<String>, RequestError> {
    let (mut problems, mut notes) = check_edit(current, req);
    let added: Vec<&str> = req.add.iter().map(|m| m.name.as_str()).collect();
    if !problems.is_empty() {
        return Err(RequestError::Invalid(problems));
    }

    let mut out = text.to_owned();
    for name in req.remove {
        out = edit::remove_module(&out, name)?;
    }
    for m in req.add {
        out = edit::add_module(&out, &m.name)?;
        if let Some(r) = &m.git_ref {
            out = edit::set_source(&out, &m.name, None, Some(r))?;
        }
    }
    for s in req.sources {
        out = edit::set_source(&out, &s.module, Some(&s.url), None)?;
    }
    for p in req.pin {
        out = edit::set_source(&out, &p.name, None, p.git_ref.as_deref())?;
    }
    // Option values are checked against a config that already has the new sources.
    let draft = crate::config::parse(&out, "quickscale.yml", catalog)
        .map_err(|d| RequestError::Invalid(vec![d.to_string()]))?;
    let mut by_module: BTreeMap<&str, Vec<&SetArg>> = BTreeMap::new();
    for s in req.sets {
        by_module.entry(s.module.as_str()).or_default().push(s);
    }
    for (name, sets) in by_module {
        let src = source::resolve(name, &draft, catalog)
            .ok_or_else(|| RequestError::Invalid(vec![format!("module {name} has no source")]))?;
        let status = manifest_status(req.project_root, name, &src, req.offline)?;
        let embedded =
            req.project_root.join("modules").join(name).is_dir() && !added.contains(&name);
        let (values, note) = check_sets(name, &sets, &status, embedded, &mut problems);
        notes.extend(note);
        for (option, value) in values {
            out = edit::set_option(&out, name, &option, &value)?;
        }
    }
    if !problems.is_empty() {
        return Err(RequestError::Invalid(problems));
    }
    Ok(Planned { value: out, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(name: &str) -> ModuleArg {
        ModuleArg {
            name: name.into(),
            git_ref: None,
        }
    }

    #[test]
    fn theme_modules_are_appended_once() {
        let mut modules = vec![
            arg("blog"),
            ModuleArg {
                name: "crm".into(),
                git_ref: Some("v1".into()),
            },
        ];
        assert_eq!(add_theme_modules(Theme::CrmReact, &mut modules), ["auth"]);
        let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["blog", "crm", "auth"]);
        assert_eq!(modules[1].git_ref.as_deref(), Some("v1"));
        assert!(add_theme_modules(Theme::CrmReact, &mut modules).is_empty());
        let mut none = Vec::new();
        assert!(add_theme_modules(Theme::ShowcaseReact, &mut none).is_empty());
        assert!(none.is_empty());
    }
}

/// `plan`'s edit of an existing quickscale.yml, as far as the repository goes.
#[derive(Default)]
pub struct EditSession {
    /// The lock writers hold (none for a dry run, or without a repository).
    pub opened: Option<Opened>,
    /// Operations waiting for the user (never repaired here).
    pub pending: Vec<Pending>,
}

/// Opens the repository of the project at `root`, if any: quickscale.yml is
/// read and written under the lock writers hold, so that an `apply` running
/// meanwhile neither loses the edit nor reads half of it. `write: false` (a
/// dry run) writes nothing and takes no lock.
pub fn open_for_edit(root: &Path, write: bool) -> Result<EditSession, EngineError> {
    let Ok(Some(git)) = Git::open_at_root(root) else {
        return Ok(EditSession::default());
    };
    let opened = match write {
        true => Some(session::open_for_write(&git, Mode::LockOnly)?),
        false => None,
    };
    Ok(EditSession {
        opened,
        pending: recover::pending(&git),
    })
}

/// Writes a new project's quickscale.yml at `path` (whole or not at all),
/// creating the project directory `root` first.
pub fn save_new(root: &Path, path: &Path, text: &str) -> std::io::Result<()> {
    fs_err::create_dir_all(root)?;
    crate::fsutil::write_atomic(path, text.as_bytes())
}

/// Writes an edited quickscale.yml at `path` (whole or not at all).
pub fn save(path: &Path, text: &str) -> std::io::Result<()> {
    crate::fsutil::write_atomic(path, text.as_bytes())
}
