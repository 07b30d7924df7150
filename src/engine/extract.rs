//! `extract`: turn a Django app of the project into a module.
//!
//! 1. The app's history is split out ([`Git::split`] of its directory) and
//!    nested under its package directory, so the module keeps the import
//!    name (imports, app label, migrations and database tables stay what
//!    they were); one more commit adds `module.yml`, `pyproject.toml` and a
//!    README. That history goes to `--to URL` (branch `main`, never
//!    forced) or to the branch `splits/<name>-module` of the project.
//! 2. `module.yml` is a best effort from the project's code: the
//!    `INSTALLED_APPS` entry, the URL includes of `<app>.urls`, and the
//!    settings the app reads whose names start with its own prefix
//!    (`<APP>_…`) and have a literal value in the settings, as options.
//! 3. The project embeds the module as a squashed subtree at
//!    `modules/<name>/` and, in one more commit, drops the app directory,
//!    the `INSTALLED_APPS` line and the URL line (the managed wiring now
//!    provides both), regenerates the wiring and adds the module to
//!    quickscale.yml — all in one transaction.

use std::collections::BTreeMap;

use crate::git::EntryKind;
use crate::git::ObjectId;

use super::execute::{prefix_of, read_manifest, render_wiring};
use super::push::{self, PushError};
use super::session::{Transaction, WriteSession};
use super::{EngineError, Workspace};
use crate::config::{self, CONFIG_FILE, edit};
use crate::git::tree::TreeEdit;
use crate::git::{Git, GitError, Signature};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::source;
use crate::spec::UrlInclude;
use crate::state::refs;
use crate::state::{AppliedState, ModuleState, Operation};
use crate::txn;
use crate::value::Value;
use crate::yaml::yaml_string;

/// The version a new module starts at.
pub const FIRST_VERSION: &str = "0.1.0";

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Push(#[from] PushError),
    #[error("`{path}` cannot be extracted: {why}")]
    NotAnApp { path: String, why: String },
    #[error("`{path}` already exists in the tree")]
    Exists { path: String },
    #[error("module {name} is already in quickscale.yml")]
    InConfig { name: String },
    #[error(
        "`{package}` is not in INSTALLED_APPS in `{file}`, so it is not an installed Django app"
    )]
    NotInstalled { package: String, file: String },
    #[error("these paths have changes that are not committed:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Dirty(Vec<String>),
    #[error("the branch `{branch}` already exists")]
    BranchExists { branch: String },
    #[error("`{branch}` of `{url}` already has other commits; nothing was changed")]
    DestinationTaken { url: String, branch: String },
    #[error("the module.yml written for {name} does not parse (a bug): {why}")]
    BadManifest { name: String, why: String },
    #[error("quickscale.yml cannot be updated: {0}")]
    Config(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Txn(#[from] txn::TxnError),
    #[error(transparent)]
    Git(#[from] GitError),
}

impl ExtractError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ExtractError::Push(e) => e.hint(),
            ExtractError::NotAnApp { .. } => Some(
                "give the directory of a Django app at the project's root (a Python package, e.g. `blog`)".into(),
            ),
            ExtractError::Exists { path } => Some(format!(
                "pick another name with `--as`, or move `{path}` away first"
            )),
            ExtractError::InConfig { .. } => Some("pick another name with `--as`".into()),
            ExtractError::NotInstalled { package, file } => Some(format!(
                "add \"{package}\" to INSTALLED_APPS in {file} (one entry per line) and commit, or extract an installed app"
            )),
            ExtractError::Dirty(_) => {
                Some("commit or stash those changes, then run extract again".into())
            }
            ExtractError::BranchExists { branch } => Some(format!(
                "delete it (`git branch -D {branch}`) if it is an earlier attempt, or publish with `--to URL`"
            )),
            ExtractError::DestinationTaken { .. } => Some(
                "extract publishes a new module: give `--to` an empty repository, or leave `--to` out to keep it on a local branch".into(),
            ),
            ExtractError::BadManifest { .. } => {
                Some("please report it, with the app's settings and urls files".into())
            }
            ExtractError::Config(_) => Some(
                "fix quickscale.yml by hand (`git quickscale plan` checks it), then run extract again".into(),
            ),
            ExtractError::Engine(e) => e.hint(),
            ExtractError::Txn(e) => e.hint(),
            ExtractError::Git(e) => e.hint(),
        }
    }
}

/// A setting the app reads that becomes a module option.
#[derive(Debug, Clone, PartialEq)]
pub struct MovedSetting {
    pub setting: String,
    pub option: String,
    pub value: Value,
}

/// A line taken out of a project file (the managed wiring replaces it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedLine {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub text: String,
}

/// Where the module's history goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A branch of the project's own repository.
    Branch(String),
    /// Branch `branch` of another repository.
    Remote {
        url: String,
        push_url: String,
        branch: String,
    },
}

/// Everything `extract` will do, with the module's commits already written.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractPlan {
    pub name: String,
    /// The app's directory (= its Python package).
    pub app: String,
    pub prefix: String,
    pub django_app: String,
    pub urls: Vec<UrlInclude>,
    pub settings: Vec<MovedSetting>,
    /// Settings the app reads that stay with the project.
    pub unowned: Vec<String>,
    pub removed: Vec<RemovedLine>,
    pub manifest: String,
    /// The module's last commit and how many commits its history has.
    pub module_commit: ObjectId,
    pub module_history: usize,
    pub destination: Destination,
    /// What quickscale.yml records as the module's source.
    pub source_url: String,
    pub source_ref: String,
    /// Project files rewritten (without the removed lines).
    edited: Vec<(String, String)>,
    config_text: String,
}

/// What `extract` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub head: ObjectId,
    pub commits: Vec<(ObjectId, String)>,
    /// Untracked files left in the app's old directory (kept; Python would
    /// import the package from there instead of the module).
    pub leftovers: Vec<String>,
}

/// Reads the app and the project, writes the module's commits (objects
/// only) and works out the project's changes. Nothing is visible yet.
pub fn plan_extract(
    ws: &Workspace,
    path: &str,
    name: &str,
    to: Option<&str>,
) -> Result<ExtractPlan, ExtractError> {
    push::check_name(name)?;
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| GitError::new("open the repository", "the project has none yet"))?;
    let head = ws.head.ok_or(PushError::NoCommit)?;
    let head_tree = git.tree_of(head)?;
    let project = match &ws.applied {
        Some(a) => a.project.clone(),
        None => ws.config.config.project.clone(),
    };
    let (app, app_tree) = check_app(git, head_tree, &project.package, path)?;
    let prefix = prefix_of(name);
    if git.entry_at(head_tree, &prefix)?.is_some() {
        return Err(ExtractError::Exists { path: prefix });
    }
    if ws.config.config.module(name).is_some() {
        return Err(ExtractError::InConfig {
            name: name.to_owned(),
        });
    }

    let wiring = find_wiring(git, head_tree, &project.package, &app)?;
    let (settings, unowned) = moved_settings(git, app_tree, &app, &wiring.settings_text)?;

    // The module: the app's history nested under its package, plus the module files.
    let manifest = manifest_text(
        name,
        &project.slug,
        &wiring.django_app,
        &wiring.urls,
        &settings,
    );
    Manifest::parse(&manifest, MANIFEST_FILE, name).map_err(|d| ExtractError::BadManifest {
        name: name.to_owned(),
        why: d.to_string(),
    })?;
    let (module_commit, module_history) =
        write_module_history(git, head, &app, name, &project.slug, &manifest)?;
    let (destination, source_url, source_ref) = destination_of(ws, git, name, to, module_commit)?;

    let edited = wiring.edited_files();
    let config_text = edit::add_module(&ws.config.text, name)
        .and_then(|t| edit::set_source(&t, name, Some(&source_url), Some(&source_ref)))
        .map_err(|e| ExtractError::Config(e.to_string()))?;
    config::parse(&config_text, &ws.config.display, &ws.catalog)
        .map_err(|d| ExtractError::Config(d.to_string()))?;
    Ok(ExtractPlan {
        name: name.to_owned(),
        app,
        prefix,
        django_app: wiring.django_app,
        urls: wiring.urls,
        settings,
        unowned,
        removed: wiring.removed,
        manifest,
        module_commit,
        module_history,
        destination,
        source_url,
        source_ref,
        edited,
        config_text,
    })
}

/// The app's directory name and tree, once it is shown to be a Python
/// package at the project's root that is not part of the project's own
/// structure.
fn check_app(
    git: &Git,
    head_tree: ObjectId,
    package: &str,
    path: &str,
) -> Result<(String, ObjectId), ExtractError> {
    let app = path
        .trim_end_matches('/')
        .trim_start_matches("./")
        .to_owned();
    let not_app = |why: &str| ExtractError::NotAnApp {
        path: app.clone(),
        why: why.to_owned(),
    };
    if app.contains('/') {
        return Err(not_app(
            "only an app at the project's root keeps its import name as a module (this one is imported through its parent package)",
        ));
    }
    if !is_identifier(&app) {
        return Err(not_app("its name is not a Python package name"));
    }
    let reserved = [package, "modules", "tests", "templates", "static"];
    if reserved.contains(&app.as_str()) {
        return Err(not_app("it is part of the project's own structure"));
    }
    let app_tree = git
        .subtree_at(head_tree, &app)?
        .ok_or_else(|| not_app("it is not a directory in HEAD (commit it first)"))?;
    if git.entry_at(app_tree, "__init__.py")?.is_none() {
        return Err(not_app(
            "it has no __init__.py, so it is not a Python package",
        ));
    }
    Ok((app, app_tree))
}

/// How the project wires the app in: its `INSTALLED_APPS` line and URL
/// includes, and the lines that go once the managed wiring provides them.
struct AppWiring {
    settings_path: String,
    settings_text: String,
    urls_text: Option<String>,
    django_app: String,
    urls: Vec<UrlInclude>,
    removed: Vec<RemovedLine>,
}

impl AppWiring {
    /// The settings and urls files without the removed lines.
    fn edited_files(&self) -> Vec<(String, String)> {
        let mut by_file: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for r in &self.removed {
            by_file.entry(r.file.as_str()).or_default().push(r.line - 1);
        }
        by_file
            .into_iter()
            .map(|(file, lines)| {
                let text = if file == self.settings_path {
                    self.settings_text.as_str()
                } else {
                    self.urls_text.as_deref().unwrap_or_default()
                };
                (file.to_owned(), without_lines(text, &lines))
            })
            .collect()
    }
}

/// The project's wiring of the app, read from HEAD.
fn find_wiring(
    git: &Git,
    head_tree: ObjectId,
    package: &str,
    app: &str,
) -> Result<AppWiring, ExtractError> {
    let (settings_path, settings_text) =
        settings_file(git, head_tree, package)?.ok_or_else(|| ExtractError::NotInstalled {
            package: app.to_owned(),
            file: format!("{package}/settings/base.py"),
        })?;
    let (django_app, installed_line) =
        find_installed(&settings_text, app).ok_or_else(|| ExtractError::NotInstalled {
            package: app.to_owned(),
            file: settings_path.clone(),
        })?;
    let mut removed = vec![RemovedLine {
        file: settings_path.clone(),
        line: installed_line + 1,
        text: line_at(&settings_text, installed_line),
    }];
    let urls_path = format!("{package}/urls.py");
    let urls_text = read_text(git, head_tree, &urls_path)?;
    let mut urls = Vec::new();
    if let Some(text) = &urls_text {
        for (i, route) in find_url_includes(text, app) {
            urls.push(UrlInclude {
                route,
                include: format!("{app}.urls"),
            });
            removed.push(RemovedLine {
                file: urls_path.clone(),
                line: i + 1,
                text: line_at(text, i),
            });
        }
    }
    Ok(AppWiring {
        settings_path,
        settings_text,
        urls_text,
        django_app,
        urls,
        removed,
    })
}

/// Writes the module's history (objects only): the app's split history
/// nested under its package, plus one commit adding the module files.
/// Returns that commit and how many commits the history has.
fn write_module_history(
    git: &Git,
    head: ObjectId,
    app: &str,
    name: &str,
    project_slug: &str,
    manifest: &str,
) -> Result<(ObjectId, usize), ExtractError> {
    let split = git.split(head, app, None).map_err(PushError::from)?;
    let nested = git.nest_history(split.tip, app)?;
    let module_history = count_commits(git, nested)? + 1;
    let (author, committer) = git.identity().map_err(|_| EngineError::NoIdentity)?;
    let when = git.commit_time(head).unwrap_or(committer.time);
    let stamp = |s: &Signature| Signature {
        name: s.name.clone(),
        email: s.email.clone(),
        time: when,
    };
    let module_tree = git.edit_tree(
        git.tree_of(nested)?,
        &[
            blob_edit(git, MANIFEST_FILE, manifest)?,
            blob_edit(git, "pyproject.toml", &pyproject_text(name, app))?,
            blob_edit(git, "README.md", &readme_text(name, app, project_slug))?,
        ],
    )?;
    let module_commit = git.write_commit(
        &format!(
            "Make {app} the module {name}\n\nExtracted from the project {project_slug} by `git quickscale extract`: module.yml is a best effort to review.\n",
        ),
        module_tree,
        &[nested],
        &stamp(&author),
        &stamp(&committer),
    )?;
    Ok((module_commit, module_history))
}

/// Where the module's history goes (`--to URL`, else the branch
/// `splits/<name>-module`) and the source quickscale.yml records for it.
fn destination_of(
    ws: &Workspace,
    git: &Git,
    name: &str,
    to: Option<&str>,
    module_commit: ObjectId,
) -> Result<(Destination, String, String), ExtractError> {
    Ok(match to {
        Some(url) => {
            let push_url = match source::location(url, &ws.root) {
                source::Location::Local(p) => p.to_string_lossy().into_owned(),
                source::Location::Remote(u) => u,
            };
            let branch = "main".to_owned();
            (
                Destination::Remote {
                    url: url.to_owned(),
                    push_url,
                    branch: branch.clone(),
                },
                url.to_owned(),
                branch,
            )
        }
        None => {
            let branch = format!("splits/{name}-module");
            let full = push::branch_ref(&branch)?;
            if let Some(existing) = git.ref_target(&full)?
                && existing != module_commit
            {
                return Err(ExtractError::BranchExists { branch });
            }
            (Destination::Branch(branch.clone()), ".".to_owned(), branch)
        }
    })
}

/// Publishes the module (to `--to`), then embeds it and drops the app from
/// the project in one transaction.
pub fn extract(
    ws: &Workspace,
    plan: &ExtractPlan,
    prompt: bool,
) -> Result<Extracted, ExtractError> {
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| GitError::new("open the repository", "the project has none yet"))?;
    let session = ws
        .lock
        .as_ref()
        .ok_or_else(|| GitError::new("extract", "the repository is not locked"))?;
    let (tx, outcome) = prepare(ws, session, git, plan)?;
    if let Destination::Remote {
        url,
        push_url,
        branch,
    } = &plan.destination
        && let Err(refused) = push::git_push(git, push_url, plan.module_commit, branch, prompt)?
    {
        return Err(if refused.moved {
            ExtractError::DestinationTaken {
                url: url.clone(),
                branch: branch.clone(),
            }
        } else {
            refused.into_error(&plan.name, url, branch).into()
        });
    }
    tx.run()?;
    let leftovers = clear_bytecode(&ws.root.join(&plan.app))
        .map_err(|e| GitError::new(format!("clean up `{}/`", plan.app), e))?;
    Ok(Extracted {
        leftovers: leftovers
            .into_iter()
            .map(|p| format!("{}/{p}", plan.app))
            .collect(),
        ..outcome
    })
}

/// What is left of the app's directory once git removed its files: only
/// Python bytecode (`__pycache__/`) is removed with it, since it would make
/// Python import the old directory as a namespace package. Anything else
/// is kept and returned (relative paths).
fn clear_bytecode(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut others = Vec::new();
    let mut stack = vec![std::path::PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs_err::read_dir(dir.join(&rel))? {
            let entry = entry?;
            let child = rel.join(entry.file_name());
            let in_cache = child.components().any(|c| c.as_os_str() == "__pycache__");
            if entry.file_type()?.is_dir() {
                stack.push(child);
            } else if !in_cache {
                others.push(child.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    if others.is_empty() {
        fs_err::remove_dir_all(dir)?;
    }
    others.sort();
    Ok(others)
}

fn prepare<'s>(
    ws: &Workspace,
    session: &'s WriteSession,
    git: &'s Git,
    plan: &ExtractPlan,
) -> Result<(Transaction<'s>, Extracted), ExtractError> {
    let (author, committer) = git.identity().map_err(|_| EngineError::NoIdentity)?;
    let head_state = git.head()?;
    let head = head_state.commit.ok_or(PushError::NoCommit)?;
    let base_tree = git.tree_of(head)?;
    let sa = git.squash_add(
        head,
        base_tree,
        &plan.prefix,
        plan.module_commit,
        &author,
        &committer,
    )?;
    let mut state = state_with_module(ws, git, plan, head, sa.tree)?;
    let package = state.project.package.clone();
    let (final_tree, config_blob) = write_final_tree(ws, git, plan, &state, sa.tree)?;
    state.managed = BTreeMap::new();
    for path in crate::wiring::managed_paths(&package) {
        if let Some((_, id)) = git.entry_at(final_tree, &path)? {
            state.managed.insert(path, id.to_string());
        }
    }
    // The merge commit's note still records the managed files as they were.
    let mut merge_state = state.clone();
    merge_state.managed = ws
        .applied
        .as_ref()
        .map(|a| a.managed.clone())
        .unwrap_or_default();
    let summary = format!("Extract {} into module {}", plan.app, plan.name);
    let final_commit = git.write_commit(
        &format!(
            "{summary}\n\nThe app now lives in {}/ (its history is on {}); the managed wiring installs it.\n",
            plan.prefix,
            match &plan.destination {
                Destination::Branch(b) => format!("branch {b}"),
                Destination::Remote { url, branch, .. } => format!("{url} {branch}"),
            }
        ),
        final_tree,
        &[sa.merge],
        &author,
        &committer,
    )?;
    let commits = vec![
        (sa.merge, git.commit_summary(sa.merge)?),
        (final_commit, summary),
    ];

    let changes = git.diff_trees(base_tree, final_tree)?;
    let blocked = git.check_clean(&changes, &[CONFIG_FILE.to_owned()])?;
    if !blocked.is_empty() {
        return Err(ExtractError::Dirty(
            blocked.iter().map(ToString::to_string).collect(),
        ));
    }
    let mut tx = session.transaction(git, "extract");
    for path in txn::worktree_paths(&changes, CONFIG_FILE) {
        tx.write_path(path);
    }
    tx.write_config(config_blob)?;
    tx.set_index(changes.iter().map(|c| (c.path.clone(), c.new)));
    tx.move_branch(Some(head), final_commit);
    tx.set_undo(Some(head))?;
    tx.write_notes(
        &[
            (sa.merge, merge_state.to_note()),
            (final_commit, state.to_note()),
        ],
        &committer,
        "extract",
    )?;
    // The module's ref and (without `--to`) its split branch.
    tx.move_ref(&refs::module_ref(&plan.name), Some(plan.module_commit))?;
    if let Destination::Branch(b) = &plan.destination {
        tx.move_ref(&push::branch_ref(b)?, Some(plan.module_commit))?;
    }
    Ok((
        tx,
        Extracted {
            head: final_commit,
            commits,
            leftovers: Vec::new(),
        },
    ))
}

/// The applied state after the extract: the project's state (or a new one)
/// with the module recorded at its embedded commit and default options.
fn state_with_module(
    ws: &Workspace,
    git: &Git,
    plan: &ExtractPlan,
    head: ObjectId,
    embedded_tree: ObjectId,
) -> Result<AppliedState, ExtractError> {
    let manifest = read_manifest(git, embedded_tree, &plan.name)?.ok_or_else(|| {
        ExtractError::BadManifest {
            name: plan.name.clone(),
            why: "it is missing from the embedded tree".into(),
        }
    })?;
    let options = manifest
        .resolve_options(&plan.name, &BTreeMap::new())
        .map_err(|why| ExtractError::BadManifest {
            name: plan.name.clone(),
            why: why.join("; "),
        })?;
    let mut state = ws
        .applied
        .clone()
        .unwrap_or_else(|| AppliedState::new(ws.config.config.project.clone()));
    state.schema = crate::state::SCHEMA;
    state.tool = format!("git-quickscale {}", env!("CARGO_PKG_VERSION"));
    state.operation = Some(Operation {
        kind: "extract".into(),
        before: Some(head.to_string()),
        config_before: std::fs::read_to_string(ws.root.join(CONFIG_FILE)).ok(),
    });
    state.modules.insert(
        plan.name.clone(),
        ModuleState {
            source: plan.source_url.clone(),
            git_ref: plan.source_ref.clone(),
            commit: plan.module_commit.to_string(),
            prefix: plan.prefix.clone(),
            tree: git.tree_of(plan.module_commit)?.to_string(),
            version: Some(manifest.version.clone()),
            options,
        },
    );
    Ok(state)
}

/// The project's tree once the app is gone: the app directory removed, the
/// project files without the removed lines, the wiring regenerated for
/// `state`'s modules and the new quickscale.yml. Returns the tree and
/// quickscale.yml's blob.
fn write_final_tree(
    ws: &Workspace,
    git: &Git,
    plan: &ExtractPlan,
    state: &AppliedState,
    embedded_tree: ObjectId,
) -> Result<(ObjectId, ObjectId), ExtractError> {
    let all_options: BTreeMap<String, BTreeMap<String, Value>> = state
        .modules
        .iter()
        .map(|(n, m)| (n.clone(), m.options.clone()))
        .collect();
    let managed = render_wiring(
        git,
        embedded_tree,
        &all_options,
        &ws.catalog,
        &ws.config.config.access_overrides(),
        &state.project.package,
    )?;
    let mut edits = vec![TreeEdit {
        path: plan.app.clone(),
        target: None,
    }];
    for (path, text) in &plan.edited {
        edits.push(blob_edit(git, path, text)?);
    }
    for (path, file) in &managed {
        let blob = git.write_blob(&file.contents)?;
        let kind = if file.executable {
            EntryKind::BlobExecutable
        } else {
            EntryKind::Blob
        };
        edits.push(TreeEdit {
            path: path.clone(),
            target: Some((kind, blob)),
        });
    }
    let config_blob = git.write_blob(plan.config_text.as_bytes())?;
    edits.push(TreeEdit {
        path: CONFIG_FILE.to_owned(),
        target: Some((EntryKind::Blob, config_blob)),
    });
    Ok((git.edit_tree(embedded_tree, &edits)?, config_blob))
}

fn count_commits(git: &Git, tip: ObjectId) -> Result<usize, GitError> {
    Ok(git.walk(tip, &[])?.len())
}

fn blob_edit(git: &Git, path: &str, text: &str) -> Result<TreeEdit, GitError> {
    Ok(TreeEdit {
        path: path.to_owned(),
        target: Some((EntryKind::Blob, git.write_blob(text.as_bytes())?)),
    })
}

fn read_text(git: &Git, tree: ObjectId, path: &str) -> Result<Option<String>, GitError> {
    Ok(match git.entry_at(tree, path)? {
        Some((EntryKind::Blob | EntryKind::BlobExecutable, id)) => {
            Some(String::from_utf8_lossy(&git.read_blob(id)?).into_owned())
        }
        _ => None,
    })
}

/// The project's settings module: `<package>/settings/base.py` (generated
/// projects), else `<package>/settings.py`.
fn settings_file(
    git: &Git,
    tree: ObjectId,
    package: &str,
) -> Result<Option<(String, String)>, GitError> {
    for path in [
        format!("{package}/settings/base.py"),
        format!("{package}/settings.py"),
    ] {
        if let Some(text) = read_text(git, tree, &path)? {
            return Ok(Some((path, text)));
        }
    }
    Ok(None)
}

fn line_at(text: &str, index: usize) -> String {
    text.lines().nth(index).unwrap_or_default().to_owned()
}

/// `text` without the lines at `indexes` (0-based), line endings kept.
fn without_lines(text: &str, indexes: &[usize]) -> String {
    text.split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| !indexes.contains(i))
        .map(|(_, l)| l)
        .collect()
}

fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A Python string literal on its own (`"x"` or `'x'`, no escapes).
fn string_literal(s: &str) -> Option<&str> {
    let s = s.trim();
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = s.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote) && !inner.contains('\\')).then_some(inner)
}

/// The `INSTALLED_APPS` entry of `package` (its line, 0-based): a line of
/// its own inside a list assigned to `INSTALLED_APPS`, naming the package
/// or one of its AppConfigs.
fn find_installed(settings: &str, package: &str) -> Option<(String, usize)> {
    let mut inside = false;
    let mut found = None;
    for (i, line) in settings.lines().enumerate() {
        let code = line.split('#').next().unwrap_or_default().trim();
        if !inside {
            if code.starts_with("INSTALLED_APPS") && code.contains('[') && !code.contains(']') {
                inside = true;
            }
            continue;
        }
        if code.starts_with(']') {
            inside = false;
            continue;
        }
        let entry = string_literal(code.trim_end_matches(','));
        if let Some(entry) = entry
            && (entry == package || entry.starts_with(&format!("{package}.apps.")))
        {
            if found.is_some() {
                return None;
            }
            found = Some((entry.to_owned(), i));
        }
    }
    found
}

/// Lines of the URL configuration that mount `<package>.urls` on one line:
/// `path("<route>", include("<package>.urls")),` → (line, route).
fn find_url_includes(urls: &str, package: &str) -> Vec<(usize, String)> {
    let target = format!("{package}.urls");
    let mut out = Vec::new();
    for (i, line) in urls.lines().enumerate() {
        let code = line.split('#').next().unwrap_or_default().trim();
        let Some(args) = code
            .strip_prefix("path(")
            .and_then(|r| r.trim_end_matches(',').strip_suffix(')'))
        else {
            continue;
        };
        let Some((route, rest)) = args.split_once(',') else {
            continue;
        };
        let Some(route) = string_literal(route) else {
            continue;
        };
        let rest = rest.trim();
        let Some(inner) = rest
            .strip_prefix("include(")
            .and_then(|r| r.strip_suffix(')'))
        else {
            continue;
        };
        if string_literal(inner) == Some(target.as_str()) {
            out.push((i, route.to_owned()));
        }
    }
    out
}

/// The settings the app's Python files read (`settings.NAME`): those named
/// with the app's prefix and set to a literal in the settings file become
/// options; the others are reported and stay.
fn moved_settings(
    git: &Git,
    app_tree: ObjectId,
    package: &str,
    settings_text: &str,
) -> Result<(Vec<MovedSetting>, Vec<String>), GitError> {
    let mut read = std::collections::BTreeSet::new();
    for (path, leaf) in git.list_leaves(app_tree)? {
        if !path.ends_with(".py") || leaf.kind == EntryKind::Commit {
            continue;
        }
        let text = String::from_utf8_lossy(&git.read_blob(leaf.id)?).into_owned();
        for (at, _) in text.match_indices("settings.") {
            let name: String = text[at + "settings.".len()..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                read.insert(name);
            }
        }
    }
    let own = format!("{}_", package.to_uppercase());
    let mut moved = Vec::new();
    let mut unowned = Vec::new();
    for name in read {
        let value = name
            .strip_prefix(&own)
            .filter(|rest| !rest.is_empty())
            .and_then(|_| literal_setting(settings_text, &name));
        match value {
            Some(value) => moved.push(MovedSetting {
                option: name[own.len()..].to_lowercase(),
                setting: name,
                value,
            }),
            None => unowned.push(name),
        }
    }
    Ok((moved, unowned))
}

/// `NAME = <literal>` on one line at the top level of `settings`: a string,
/// an integer, a boolean or a list of strings.
fn literal_setting(settings: &str, name: &str) -> Option<Value> {
    let mut found = None;
    for line in settings.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        if value.starts_with('=') {
            continue;
        }
        found = python_literal(value.split(" #").next().unwrap_or_default().trim());
    }
    found
}

fn python_literal(s: &str) -> Option<Value> {
    match s {
        "True" => return Some(Value::Bool(true)),
        "False" => return Some(Value::Bool(false)),
        _ => {}
    }
    if let Some(text) = string_literal(s) {
        return Some(Value::Str(text.to_owned()));
    }
    if let Ok(i) = s.replace('_', "").parse::<i64>() {
        return Some(Value::Int(i));
    }
    let inner = s.strip_prefix('[')?.strip_suffix(']')?.trim();
    if inner.is_empty() {
        return Some(Value::List(Vec::new()));
    }
    let items: Option<Vec<Value>> = inner
        .trim_end_matches(',')
        .split(',')
        .map(|item| string_literal(item).map(|t| Value::Str(t.to_owned())))
        .collect();
    items.map(Value::List)
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::List(_) => "list",
        _ => "string",
    }
}

fn manifest_text(
    name: &str,
    project: &str,
    django_app: &str,
    urls: &[UrlInclude],
    settings: &[MovedSetting],
) -> String {
    let mut out = format!(
        "# Written by `git quickscale extract` from the project {project}: a best\n\
         # effort. Review django_apps, urls and config (and add dependencies)\n\
         # before publishing; see docs/user-guide.md, \"Extracting a module\".\n\
         name: {name}\n\
         version: \"{FIRST_VERSION}\"\n\
         description: {}\n\
         django_apps:\n  - {}\n",
        yaml_string(&format!("Extracted from the {project} project")),
        yaml_string(django_app),
    );
    if !urls.is_empty() {
        out.push_str("urls:\n");
        for u in urls {
            out.push_str(&format!(
                "  - route: {}\n    include: {}\n",
                yaml_string(&u.route),
                yaml_string(&u.include)
            ));
        }
        // The project's urls.py served these pages to anyone: extracting
        // the app keeps that (a module that says nothing gets `login`).
        out.push_str("access: public\n");
    }
    if !settings.is_empty() {
        out.push_str("config:\n  mutable:\n");
        for s in settings {
            out.push_str(&format!(
                "    {}:\n      type: {}\n      default: {}\n      django_setting: {}\n",
                s.option,
                type_of(&s.value),
                s.value.to_yaml(),
                s.setting
            ));
        }
    }
    out.push_str("dependencies: []\n");
    out
}

fn pyproject_text(name: &str, package: &str) -> String {
    format!(
        r#"[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "quickscale-modules-{dist}"
version = "{FIRST_VERSION}"
requires-python = ">=3.11"
dependencies = []

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.setuptools.package-data]
"*" = ["templates/**/*", "static/**/*", "locale/**/*"]
"#,
        dist = name.replace('_', "-")
    )
}

fn readme_text(name: &str, package: &str, project: &str) -> String {
    format!(
        "# Module {name}\n\nThe Django app `{package}`, extracted from the {project} project by\n`git quickscale extract`. Its history is the app's history in that project.\n\n`module.yml` was written from the project's code as a best effort: review\nits `django_apps`, `urls` and `config`, and list the app's Python\ndependencies, before publishing a version.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: &str = "import os\n\nINSTALLED_APPS = [\n    \"django.contrib.admin\",\n    \"shop\",\n    \"journal\",  # ours\n]\n\nJOURNAL_GREETING = \"hi\"\nJOURNAL_PAGE_SIZE = 5\nJOURNAL_TAGS = [\"a\", 'b']\nJOURNAL_FLAG = True\nJOURNAL_COMPUTED = os.environ.get(\"X\")\n";

    #[test]
    fn finds_the_installed_apps_entry() {
        assert_eq!(
            find_installed(SETTINGS, "journal"),
            Some(("journal".to_owned(), 5))
        );
        let config = SETTINGS.replace("\"journal\",", "'journal.apps.JournalConfig',");
        assert_eq!(
            find_installed(&config, "journal"),
            Some(("journal.apps.JournalConfig".to_owned(), 5))
        );
        assert_eq!(find_installed(SETTINGS, "jour"), None);
        assert_eq!(find_installed("journal = 1\n", "journal"), None);
    }

    #[test]
    fn finds_one_line_url_includes() {
        let urls = "urlpatterns = [\n    path(\"\", views.home),\n    path(\"journal/\", include(\"journal.urls\")),\n    path('j2/', include('journal.urls')),\n    path(\"x/\", include(\"journalx.urls\")),\n]\n";
        assert_eq!(
            find_url_includes(urls, "journal"),
            vec![(2, "journal/".to_owned()), (3, "j2/".to_owned())]
        );
    }

    #[test]
    fn literal_settings_become_values() {
        assert_eq!(
            literal_setting(SETTINGS, "JOURNAL_GREETING"),
            Some(Value::Str("hi".into()))
        );
        assert_eq!(
            literal_setting(SETTINGS, "JOURNAL_PAGE_SIZE"),
            Some(Value::Int(5))
        );
        assert_eq!(
            literal_setting(SETTINGS, "JOURNAL_TAGS"),
            Some(Value::List(vec![
                Value::Str("a".into()),
                Value::Str("b".into())
            ]))
        );
        assert_eq!(
            literal_setting(SETTINGS, "JOURNAL_FLAG"),
            Some(Value::Bool(true))
        );
        assert_eq!(literal_setting(SETTINGS, "JOURNAL_COMPUTED"), None);
        assert_eq!(literal_setting(SETTINGS, "JOURNAL_MISSING"), None);
    }

    #[test]
    fn removed_lines_keep_the_rest_byte_for_byte() {
        assert_eq!(without_lines("a\nb\r\nc", &[1]), "a\nc");
        assert_eq!(without_lines("a\nb\n", &[]), "a\nb\n");
    }

    #[test]
    fn the_app_s_wiring_lines_leave_the_project_files() {
        let urls = "urlpatterns = [\n    path(\"\", views.home),\n    path(\"journal/\", include(\"journal.urls\")),\n]\n";
        let line = |file: &str, line: usize| RemovedLine {
            file: file.into(),
            line,
            text: String::new(),
        };
        let wiring = AppWiring {
            settings_path: "shop/settings/base.py".into(),
            settings_text: SETTINGS.into(),
            urls_text: Some(urls.into()),
            django_app: "journal".into(),
            urls: Vec::new(),
            removed: vec![line("shop/settings/base.py", 6), line("shop/urls.py", 3)],
        };
        let edited = wiring.edited_files();
        assert_eq!(edited.len(), 2, "{edited:?}");
        assert_eq!(edited[0].0, "shop/settings/base.py");
        assert_eq!(
            edited[0].1,
            SETTINGS.replace("    \"journal\",  # ours\n", "")
        );
        assert_eq!(
            edited[1],
            (
                "shop/urls.py".to_owned(),
                "urlpatterns = [\n    path(\"\", views.home),\n]\n".to_owned()
            )
        );
        // Without URL includes, only the settings file changes.
        let settings_only = AppWiring {
            removed: vec![line("shop/settings/base.py", 6)],
            urls_text: None,
            ..wiring
        };
        assert_eq!(settings_only.edited_files().len(), 1);
    }

    #[test]
    fn the_manifest_parses() {
        let text = manifest_text(
            "journal",
            "shop",
            "journal",
            &[UrlInclude {
                route: "journal/".into(),
                include: "journal.urls".into(),
            }],
            &[MovedSetting {
                setting: "JOURNAL_GREETING".into(),
                option: "greeting".into(),
                value: Value::Str("hi there".into()),
            }],
        );
        let m = Manifest::parse(&text, MANIFEST_FILE, "journal").expect("parses");
        assert_eq!(m.django_apps, vec!["journal".to_owned()]);
        assert_eq!(m.version, FIRST_VERSION);
        assert_eq!(
            m.option("greeting").map(|o| o.default.clone()),
            Some(Value::Str("hi there".into()))
        );
    }
}
