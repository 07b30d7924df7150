//! `git quickscale adopt`: take over a project made by upstream QuickScale.
//!
//! Upstream recorded what it applied in `.quickscale/state.yml` and
//! `.quickscale/config.yml` (often uncommitted, with known bugs) and
//! embedded modules with `git subtree add --squash`. Adopting reads all of
//! that as data ([`survey`]), proves every module by its git-subtree
//! trailers, and then runs the same resolve → prepare → transaction as
//! `apply`: one commit that records the state note and module refs,
//! regenerates the managed wiring and retires upstream's files (kept, as
//! found, in `refs/quickscale/adopted`). Nothing of upstream or of a
//! module is ever run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::git::EntryKind;
use crate::git::ObjectId;
use serde::Serialize;

mod access;
mod survey;

use survey::survey;

use crate::catalog::Catalog;
use crate::config::{CONFIG_FILE, ConfigFile};
use crate::engine::execute::{self, ExecOptions, Outcome, Resolved, Takeover};
use crate::engine::plan::{AddModule, Plan};
use crate::engine::{EngineError, Event, Workspace};
use crate::git::tree::TreeEdit;
use crate::git::{Git, GitError};
use crate::state::{self, AppliedState, Origin};
use crate::upstream::files::{self, FileError};

/// What replaces a raw credential in the copy of upstream's files kept in
/// `refs/quickscale/adopted`.
const REDACTED: &str = "REDACTED-by-git-quickscale-adopt";

/// Whether a file of upstream's is committed as it is in the worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Committed {
    Yes,
    /// Committed, then changed in the worktree.
    Changed,
    /// Only in the worktree (upstream never committed its final state).
    No,
    /// Committed, but deleted from the worktree.
    Deleted,
}

/// One of upstream's files, as found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    pub path: String,
    /// Which format (and upstream generation) it is in.
    pub format: String,
    pub committed: Committed,
}

/// One module to adopt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdoptedModule {
    pub name: String,
    pub prefix: String,
    /// The upstream commit, from the git-subtree trailers (hex).
    pub commit: String,
    /// The squash commit that carries the trailers (hex).
    pub squash: String,
    pub source: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Where the ref was taken from.
    pub ref_from: String,
    /// What upstream recorded as its version (`None`: nothing usable).
    pub recorded_version: Option<String>,
}

/// A managed wiring file the adoption rewrites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regenerated {
    pub path: String,
    /// A unified diff from the worktree's file to the new one.
    pub diff: String,
}

/// Everything `adopt` found and will do, shown before it acts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Survey {
    pub found: Vec<Found>,
    pub modules: Vec<AdoptedModule>,
    /// Facts taken without proof.
    pub unverified: Vec<String>,
    /// Upstream's known bugs met here, each with what was done about it.
    pub problems: Vec<String>,
    /// Changes made to quickscale.yml.
    pub config_changes: Vec<String>,
    /// Upstream's files the commit removes.
    pub retire: Vec<String>,
    /// The wiring rewritten, with the differences.
    pub regenerate: Vec<Regenerated>,
    /// quickscale.yml as it will be committed.
    #[serde(skip)]
    pub config_text: String,
    /// Module pages upstream served to everyone that stay public, each a
    /// warning recommending `login`.
    pub access_kept: Vec<String>,
    /// User-owned files adopt creates (the kept upstream wiring).
    creates: Vec<String>,
    /// Raw credentials found: (file, key, value), never shown.
    #[serde(skip)]
    credentials: Vec<(String, String, String)>,
}

/// Why `adopt` stops before writing anything.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error(
        "no file of upstream QuickScale was found ({}, {}); this project was not made by upstream's `quickscale apply`",
        files::STATE_FILE,
        files::MODULES_FILE
    )]
    NotUpstream,
    #[error("`{0}` exists: an upstream command is running, or one failed half-way")]
    Busy(String),
    #[error(
        "`{prefix}` is listed by upstream ({listed_in}) but no git-subtree trailers for it are in the history, so nothing proves it was embedded rather than written by hand"
    )]
    Unproven { prefix: String, listed_in: String },
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{CONFIG_FILE}: {0}")]
    Edit(#[from] crate::config::edit::EditError),
    #[error("{CONFIG_FILE} is not valid after adoption:\n{0}")]
    Config(crate::diag::Diagnostics),
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the project has no commit yet; upstream commits every project it generates")]
    NoCommit,
    #[error(
        "`{path}` {why}; adopt reads upstream's files only as regular files inside the project"
    )]
    Untrusted { path: String, why: String },
    #[error(
        "`{path}{}`: the modules are wired into this file ({what}), as upstream's CLI did before 0.76; git quickscale writes the wiring to settings/modules.py and urls_modules.py, which this file does not import, so adopting would leave the modules' settings and URLs where it cannot keep them",
        line.map(|l| format!(":{l}")).unwrap_or_default()
    )]
    InlineWiring {
        path: String,
        line: Option<usize>,
        what: String,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Git(#[from] GitError),
}

impl From<crate::state::StateError> for AdoptError {
    fn from(e: crate::state::StateError) -> Self {
        AdoptError::Engine(e.into())
    }
}

impl AdoptError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            AdoptError::NotUpstream => "for a project made by git quickscale, `git quickscale status --repair-state` rebuilds a lost state note".into(),
            AdoptError::Busy(path) if path.ends_with("apply-recovery.yml") => format!(
                "finish upstream's apply with `quickscale apply` (or remove `{path}` if you gave up on it), then run adopt again"
            ),
            AdoptError::Busy(path) => format!("wait for the upstream command to end, or remove a stale `{path}`, then run adopt again"),
            AdoptError::Unproven { prefix, .. } => format!(
                "if `{prefix}` is your own code, take it out of upstream's lists (.quickscale/state.yml, .quickscale/config.yml, quickscale.yml); if it is a module, move it away and let `git quickscale apply` embed it again"
            ),
            AdoptError::File(_) => "fix the file (or move it away if it is not upstream's), then run adopt again; nothing was written".into(),
            AdoptError::Edit(e) => e.hint(),
            AdoptError::Config(_) => format!("fix {CONFIG_FILE} and run adopt again; nothing was written"),
            AdoptError::Read { .. } => "check the file's permissions".into(),
            AdoptError::NoCommit => "commit the project first (`git add -A && git commit`)".into(),
            AdoptError::Untrusted { path, .. } => format!(
                "replace `{path}` with the regular file upstream wrote (or remove it), commit, and run adopt again; nothing was read through it or written"
            ),
            AdoptError::InlineWiring { .. } => "take the module blocks out of settings/base.py and the module paths out of urls.py, and import the managed wiring instead, as a project of `git quickscale plan` does (settings/base.py: `from .modules import MODULE_INSTALLED_APPS, MODULE_MIDDLEWARE, MODULE_SETTINGS`, `INSTALLED_APPS += MODULE_INSTALLED_APPS`, `MIDDLEWARE += MODULE_MIDDLEWARE`, `globals().update(MODULE_SETTINGS)`; urls.py: `from .urls_modules import MODULE_URLPATTERNS`, `urlpatterns += MODULE_URLPATTERNS`), keep after them the values of those blocks you want to keep (they win), commit, and run adopt again. Nothing was written".into(),
            AdoptError::Engine(e) => return e.hint(),
            AdoptError::Git(_) => "run `git status` to see the repository's state".into(),
        })
    }
}

/// An adoption resolved and ready to run (or to show, for a dry run).
pub struct Adoption {
    pub survey: Survey,
    pub ws: Workspace,
    resolved: Resolved,
}

impl Adoption {
    pub fn plan(&self) -> &Plan {
        self.resolved.plan()
    }
}

/// What `prepare` found.
pub enum Prepared {
    /// The project is this tool's already (a state note is reachable).
    NothingToAdopt {
        leftovers: Vec<String>,
    },
    Ready(Box<Adoption>),
}

/// Reads everything, decides everything and resolves the operation as
/// `apply` would; writes nothing.
pub fn prepare(
    root: PathBuf,
    git: Git,
    lock: Option<crate::engine::session::WriteSession>,
    catalog: Catalog,
    events: &mut dyn FnMut(Event),
) -> Result<Prepared, AdoptError> {
    let head = git.head()?.commit.ok_or(AdoptError::NoCommit)?;
    let head_tree = git.tree_of(head)?;
    refuse_untrusted(&root, &git, head_tree)?;
    let present: Vec<String> = files::RETIRED
        .iter()
        .filter(|p| {
            std::fs::symlink_metadata(root.join(p)).is_ok()
                || matches!(git.entry_at(head_tree, p), Ok(Some(_)))
        })
        .map(|p| (*p).to_owned())
        .collect();
    if let Ok(Some(_)) = state::notes::nearest(&git, head) {
        return Ok(Prepared::NothingToAdopt { leftovers: present });
    }
    for busy in [files::RECOVERY_FILE, files::LOCK_FILE] {
        if std::fs::symlink_metadata(root.join(busy)).is_ok() {
            return Err(AdoptError::Busy(busy.to_owned()));
        }
    }
    if present.is_empty() {
        return Err(AdoptError::NotUpstream);
    }
    let mut survey = survey(&root, &git, head, head_tree, &present, &catalog)?;
    let config = config_file(&root, &survey.config_text, &catalog)?;
    refuse_inline_wiring(&root, &config.config.project.package)?;
    let applied = AppliedState::new(config.config.project.clone());
    let mut ws = Workspace {
        root,
        config,
        catalog,
        git: Some(git),
        head: Some(head),
        applied: Some(applied),
        origin: Origin::Derived(Default::default()),
        lock,
    };
    let mut plan = Plan::for_adopt(
        survey
            .modules
            .iter()
            .map(|m| AddModule {
                name: m.name.clone(),
                source: m.source.clone(),
                git_ref: m.git_ref.clone(),
            })
            .collect(),
        "adopt: the state upstream QuickScale recorded becomes a note".into(),
    );
    let mut resolved = execute::resolve(
        &ws,
        &plan,
        "adopt",
        &survey.config_text.clone(),
        ExecOptions::default(),
        events,
    )?;
    if keep_open_access(&ws, &resolved, &mut survey)? {
        // quickscale.yml now records the levels upstream's project had.
        ws.config = config_file(&ws.root, &survey.config_text, &ws.catalog)?;
        resolved = execute::resolve(
            &ws,
            &plan,
            "adopt",
            &survey.config_text.clone(),
            ExecOptions::default(),
            &mut |_| {},
        )?;
    }
    for w in &survey.access_kept {
        events(Event::Warning(w.clone()));
    }
    let package = ws
        .applied
        .as_ref()
        .map(|a| a.project.package.clone())
        .unwrap_or_default();
    let mut managed_paths = crate::wiring::managed_paths(&package).to_vec();
    managed_paths.extend(keep_upstream_wiring(&ws, &mut resolved, &mut survey));
    note_mounted_once(&ws.root, &resolved, &package, &mut survey);
    for path in managed_paths {
        if let Some(regenerated) = regenerated_diff(&ws.root, &resolved, &path) {
            survey.regenerate.push(regenerated);
            plan.rewire.push(path);
        }
    }
    let resolved = resolved.with_plan(plan);
    Ok(Prepared::Ready(Box::new(Adoption {
        survey,
        ws,
        resolved,
    })))
}

/// Upstream's CLI before 0.76 wrote each module's settings into
/// settings/base.py (`# QuickScale <M> Module - Added by quickscale embed`
/// blocks) and its URLs into urls.py; the files that do not import the
/// managed wiring would run on without it, so adopt refuses them.
fn refuse_inline_wiring(root: &Path, package: &str) -> Result<(), AdoptError> {
    for (rel, import, marker) in [
        (
            "settings/base.py",
            "MODULE_INSTALLED_APPS",
            "Added by quickscale embed",
        ),
        ("urls.py", "MODULE_URLPATTERNS", "quickscale_modules_"),
    ] {
        let path = format!("{package}/{rel}");
        let full = root.join(&path);
        // Only a regular file is read (never a FIFO or a link's target).
        if !std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let text = std::fs::read_to_string(&full).map_err(|source| AdoptError::Read {
            path: path.clone(),
            source,
        })?;
        if text.contains(import) {
            continue;
        }
        let found = text.lines().enumerate().find(|(_, l)| l.contains(marker));
        return Err(AdoptError::InlineWiring {
            path,
            line: found.map(|(i, _)| i + 1),
            what: found.map_or_else(
                || format!("it has no `{import}`"),
                |(_, l)| format!("`{}`", l.trim()),
            ),
        });
    }
    Ok(())
}

/// The one change of the URL patterns adopt makes, named in the plan: the
/// wiring mounts each URLconf once, so what a module's URLconf includes
/// again of another mounted one (upstream auth's urls.py re-includes
/// allauth.urls) goes; Django never reached those copies.
fn note_mounted_once(root: &Path, resolved: &execute::Resolved, package: &str, s: &mut Survey) {
    let path = format!("{package}/urls_modules.py");
    let running = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
    let regenerated = resolved
        .managed()
        .get(&path)
        .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
        .unwrap_or_default();
    if regenerated.contains("mounted_once(") && !running.contains("mounted_once(") {
        s.problems.push(format!(
            "{path}: each URLconf is mounted once now; URL patterns a module's URLconf includes again of another mounted one (upstream auth's urls.py re-includes allauth.urls) are left out: duplicates of patterns that stay, which Django never reached (the first match wins), so no response changes"
        ));
    }
}

/// quickscale.yml as adopt commits it, parsed.
fn config_file(root: &Path, text: &str, catalog: &Catalog) -> Result<ConfigFile, AdoptError> {
    let config = crate::config::parse(text, CONFIG_FILE, catalog).map_err(AdoptError::Config)?;
    Ok(ConfigFile {
        path: root.join(CONFIG_FILE),
        display: CONFIG_FILE.to_owned(),
        text: text.to_owned(),
        config,
    })
}

/// Records in quickscale.yml `public` for the module pages upstream served
/// to everyone that the wiring would guard (see [`access`]), and names each
/// in the plan. True when quickscale.yml changed.
fn keep_open_access(
    ws: &Workspace,
    resolved: &execute::Resolved,
    survey: &mut Survey,
) -> Result<bool, AdoptError> {
    let package = ws
        .applied
        .as_ref()
        .map(|a| a.project.package.clone())
        .unwrap_or_default();
    let running = std::fs::read_to_string(ws.root.join(format!("{package}/urls_modules.py")))
        .unwrap_or_default();
    let owned = ws.config.config.access_overrides();
    let modules: Vec<String> = survey
        .modules
        .iter()
        .map(|m| m.name.clone())
        .filter(|m| !owned.contains_key(m))
        .collect();
    let opened = access::opened_by_upstream(&running, resolved.access(), &modules);
    for (m, opened) in &opened {
        let value = access::recorded(&resolved.access()[m], opened);
        survey.config_text =
            crate::config::edit::set_source_access(&survey.config_text, m, value.clone())?;
        survey.config_changes.push(format!(
            "sources.{m}.access: {} (the access upstream's project gave these pages)",
            value.to_yaml().trim_end()
        ));
        survey.access_kept.push(access::warning(m, opened, &value));
    }
    Ok(!opened.is_empty())
}

/// What upstream's CLI wired from its own code, that the manifests do not
/// give: kept as it was, in a user-owned file (src/engine/kept.rs), and
/// named in the plan. Returns the path of that file when there is one.
fn keep_upstream_wiring(
    ws: &Workspace,
    resolved: &mut execute::Resolved,
    survey: &mut Survey,
) -> Option<String> {
    let package = ws
        .applied
        .as_ref()
        .map(|a| a.project.package.clone())
        .unwrap_or_default();
    let settings_path = format!("{package}/settings/modules.py");
    let running = std::fs::read_to_string(ws.root.join(&settings_path)).unwrap_or_default();
    let regenerated = resolved
        .managed()
        .get(&settings_path)
        .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
        .unwrap_or_default();
    let kept = crate::engine::kept::compute(&running, &regenerated);
    survey.problems.extend(kept.lines(&package));
    if kept.is_empty() {
        return None;
    }
    let files = resolved.managed_mut();
    crate::engine::kept::with_kept(files, &package);
    let path = crate::engine::kept::kept_path(&package);
    files.insert(
        path.clone(),
        crate::render::GeneratedFile {
            contents: crate::engine::kept::render(&kept).into_bytes(),
            executable: false,
        },
    );
    survey.creates.push(path.clone());
    Some(path)
}

/// The diff of a managed file adopt rewrites; `None` when it stays as is.
fn regenerated_diff(root: &Path, resolved: &execute::Resolved, path: &str) -> Option<Regenerated> {
    let new = resolved
        .managed()
        .get(path)
        .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
        .unwrap_or_default();
    let old = std::fs::read_to_string(root.join(path)).unwrap_or_default();
    if old == new {
        return None;
    }
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(1)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    Some(Regenerated {
        path: path.to_owned(),
        diff,
    })
}

/// Runs a prepared adoption: keeps upstream's files as found in a snapshot
/// commit, then one transaction as `apply`'s. On failure nothing changed.
pub fn run(adoption: Adoption, events: &mut dyn FnMut(Event)) -> Result<Outcome, AdoptError> {
    let Adoption {
        survey,
        mut ws,
        resolved,
    } = adoption;
    set_credentials_aside(&ws, &survey)?;
    let result = takeover(&ws, &survey).and_then(|takeover| {
        let resolved = resolved.with_takeover(takeover);
        Ok(execute::execute_resolved(&mut ws, resolved, events)?)
    });
    if result.is_err()
        && let Some(git) = ws.git.as_ref()
    {
        // Failed before the transaction began: the originals go back.
        let _ = crate::txn::recover_aside(git);
    }
    result
}

/// Before the transaction, the worktree copy of each file holding raw
/// credentials becomes its redacted text, so that the transaction's
/// journal, its blobs and refs/quickscale/adopted only ever hold the
/// redacted one. The original waits outside the object database
/// (`txn::set_aside`) and is put back if adopt fails or is rolled back.
fn set_credentials_aside(ws: &Workspace, survey: &Survey) -> Result<(), AdoptError> {
    let Some(git) = ws.git.as_ref() else {
        return Ok(());
    };
    let mut files: Vec<&str> = survey
        .credentials
        .iter()
        .map(|(f, _, _)| f.as_str())
        .collect();
    files.sort();
    files.dedup();
    for path in files {
        let full = ws.root.join(path);
        if std::fs::symlink_metadata(&full).is_err() {
            continue;
        }
        let bytes = read_regular(&full, path)?;
        let kept = redact(&bytes, path, &survey.credentials);
        if kept == bytes {
            continue;
        }
        crate::txn::set_aside(git, path, &bytes).map_err(EngineError::from)?;
        crate::fsutil::write_atomic(&full, &kept).map_err(|source| AdoptError::Read {
            path: path.to_owned(),
            source,
        })?;
    }
    Ok(())
}

/// Upstream's files and the wiring, as found, in a commit on top of HEAD.
fn takeover(ws: &Workspace, survey: &Survey) -> Result<Takeover, AdoptError> {
    let git = ws
        .git
        .as_ref()
        .ok_or_else(|| GitError::new("adopt", "the repository is missing"))?;
    let head = ws.head.ok_or(AdoptError::NoCommit)?;
    let head_tree = git.tree_of(head)?;
    let mut paths: Vec<String> = survey.retire.clone();
    paths.extend(survey.regenerate.iter().map(|r| r.path.clone()));
    let mut edits = Vec::new();
    let mut retired = BTreeMap::new();
    for path in &paths {
        let full = ws.root.join(path);
        let blob = if std::fs::symlink_metadata(&full).is_ok() {
            // Redacted already in the worktree (see `stash_credentials`);
            // redacting again is for files read before that.
            let bytes = read_regular(&full, path)?;
            Some(git.write_blob(&redact(&bytes, path, &survey.credentials))?)
        } else {
            match git.entry_at(head_tree, path)? {
                Some((_, id)) if survey.credentials.iter().all(|(f, _, _)| f != path) => Some(id),
                Some((_, id)) => {
                    let bytes = git.read_blob(id)?;
                    Some(git.write_blob(&redact(&bytes, path, &survey.credentials))?)
                }
                None => None,
            }
        };
        if let Some(id) = blob {
            if survey.retire.contains(path) {
                retired.insert(path.clone(), id.to_string());
            }
            edits.push(TreeEdit {
                path: path.clone(),
                target: Some((EntryKind::Blob, id)),
            });
        }
    }
    let tree = git.edit_tree(git.empty_tree(), &edits)?;
    let (author, committer) = git.identity().map_err(|_| EngineError::NoIdentity)?;
    let snapshot = git.write_commit(
        "Upstream QuickScale's files as git quickscale adopt found them\n",
        tree,
        &[head],
        &author,
        &committer,
    )?;
    let names: Vec<&str> = survey.modules.iter().map(|m| m.name.as_str()).collect();
    Ok(Takeover {
        retire: survey.retire.clone(),
        paths,
        snapshot: Some(snapshot),
        record: Some(state::Adopted {
            found: survey
                .found
                .iter()
                .map(|f| (f.path.clone(), f.format.clone()))
                .collect(),
            retired,
            unverified: survey.unverified.clone(),
        }),
        creates: survey.creates.clone(),
        summary: Some(if names.is_empty() {
            "Adopt the project from upstream QuickScale".to_owned()
        } else {
            format!(
                "Adopt the project from upstream QuickScale ({})",
                names.join(", ")
            )
        }),
    })
}

/// `bytes` with every raw credential of `path` replaced: on the lines
/// that name its key (block or flow style); a value found on no such line
/// (a list item under a secret key) is replaced wherever it occurs.
fn redact(bytes: &[u8], path: &str, credentials: &[(String, String, String)]) -> Vec<u8> {
    let mine: Vec<(&str, &str)> = credentials
        .iter()
        .filter(|(file, _, value)| file == path && !value.is_empty())
        .map(|(_, key, value)| (key.as_str(), value.as_str()))
        .collect();
    if mine.is_empty() {
        return bytes.to_vec();
    }
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut done = vec![false; mine.len()];
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    for line in lines.iter_mut() {
        for (i, (key, value)) in mine.iter().enumerate() {
            // The value after its own key (`key: value`, also in flow style).
            let Some(at) = find_token(line, &format!("{key}:"), 0) else {
                continue;
            };
            if let Some(start) = find_token(line, value, at + key.len() + 1) {
                line.replace_range(start..start + value.len(), REDACTED);
                done[i] = true;
            }
        }
    }
    let mut text = lines.concat();
    for (i, (_, value)) in mine.iter().enumerate() {
        while !done[i]
            && let Some(start) = find_token(&text, value, 0)
        {
            text.replace_range(start..start + value.len(), REDACTED);
        }
    }
    text.into_bytes()
}

/// The first occurrence of `needle` in `hay` from `from` that is a whole
/// token (no letter, digit or `_` right before or after it).
fn find_token(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut pos = from;
    while let Some(i) = hay.get(pos..)?.find(needle) {
        let start = pos + i;
        let end = start + needle.len();
        let before = hay[..start].chars().next_back();
        let after = hay[end..].chars().next();
        let edge_ok = |c: Option<char>, n: Option<char>| !(word(c) && word(n));
        if edge_ok(before, needle.chars().next()) && edge_ok(after, needle.chars().next_back()) {
            return Some(start);
        }
        pos = start + needle.len().max(1);
    }
    None
}

/// The commit `tag` names at `url` (annotated tags peeled): `None` when
/// the source cannot be reached, `Some(None)` when it has no such tag.
fn tag_commit(git: &Git, root: &Path, url: &str, tag: &str) -> Option<Option<ObjectId>> {
    let fetch_url = match crate::source::location(url, root) {
        crate::source::Location::Local(path) => path.to_string_lossy().into_owned(),
        crate::source::Location::Remote(url) => url,
    };
    let refs = git.list_remote(&fetch_url).ok()?;
    let full = format!("refs/tags/{tag}");
    Some(refs.iter().find(|r| r.name == full).map(|r| r.commit))
}

/// The text of `path` in the worktree, else in HEAD, with how it is committed.
fn read_upstream(
    root: &Path,
    git: &Git,
    tree: ObjectId,
    path: &str,
) -> Result<Option<(String, Committed)>, AdoptError> {
    let committed = match git.entry_at(tree, path)? {
        Some((_, id)) => Some(git.read_blob(id)?),
        None => None,
    };
    let full = root.join(path);
    let on_disk = if std::fs::symlink_metadata(&full).is_ok() {
        Some(read_regular(&full, path)?)
    } else {
        None
    };
    Ok(match (on_disk, committed) {
        (Some(d), Some(c)) if d == c => Some((lossy(d), Committed::Yes)),
        (Some(d), Some(_)) => Some((lossy(d), Committed::Changed)),
        (Some(d), None) => Some((lossy(d), Committed::No)),
        (None, Some(c)) => Some((lossy(c), Committed::Deleted)),
        (None, None) => None,
    })
}

/// The largest file of upstream's that adopt reads (upstream's own are a
/// few KiB); checked before reading.
pub const MAX_UPSTREAM_FILE: u64 = 1 << 20;

/// Refuses what upstream never wrote and what would make adopt read or
/// delete outside the project: `.quickscale` or one of its files as a
/// symbolic link (in the worktree or committed), anything but a regular
/// file (a FIFO would hang, a device never end), a file over
/// [`MAX_UPSTREAM_FILE`].
fn refuse_untrusted(root: &Path, git: &Git, head_tree: ObjectId) -> Result<(), AdoptError> {
    let refuse = |path: &str, why: &str| AdoptError::Untrusted {
        path: path.to_owned(),
        why: why.to_owned(),
    };
    let dir = files::STATE_FILE
        .rsplit_once('/')
        .map_or(files::STATE_FILE, |(d, _)| d);
    if let Ok(meta) = std::fs::symlink_metadata(root.join(dir)) {
        if meta.file_type().is_symlink() {
            return Err(refuse(dir, "is a symbolic link"));
        }
        if !meta.is_dir() {
            return Err(refuse(dir, "is not a directory"));
        }
    }
    if let Some((EntryKind::Link, _)) = git.entry_at(head_tree, dir)? {
        return Err(refuse(dir, "is committed as a symbolic link"));
    }
    let mut paths: Vec<&str> = files::RETIRED.to_vec();
    paths.extend([files::RECOVERY_FILE, files::LOCK_FILE]);
    for path in paths {
        if let Ok(meta) = std::fs::symlink_metadata(root.join(path)) {
            if meta.file_type().is_symlink() {
                return Err(refuse(path, "is a symbolic link"));
            }
            if !meta.is_file() {
                return Err(refuse(
                    path,
                    "is not a regular file (a FIFO, device or directory)",
                ));
            }
            if meta.len() > MAX_UPSTREAM_FILE {
                return Err(refuse(
                    path,
                    &format!(
                        "is {} bytes, more than upstream ever wrote ({MAX_UPSTREAM_FILE} at most)",
                        meta.len()
                    ),
                ));
            }
        }
        match git.entry_at(head_tree, path)? {
            Some((EntryKind::Link, _)) => {
                return Err(refuse(path, "is committed as a symbolic link"));
            }
            Some((EntryKind::Tree | EntryKind::Commit, _)) => {
                return Err(refuse(path, "is committed as a directory or submodule"));
            }
            Some((_, id)) => {
                let size = git.blob_size(id)?;
                if size > MAX_UPSTREAM_FILE {
                    return Err(refuse(
                        path,
                        &format!(
                            "is committed with {size} bytes, more than upstream ever wrote ({MAX_UPSTREAM_FILE} at most)"
                        ),
                    ));
                }
            }
            None => {}
        }
    }
    Ok(())
}

/// Reads a regular file checked by [`refuse_untrusted`]; it must still be
/// the same regular file when opened (never a link, FIFO or device), and no
/// more than [`MAX_UPSTREAM_FILE`] bytes are read.
fn read_regular(full: &Path, path: &str) -> Result<Vec<u8>, AdoptError> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let read_err = |source| AdoptError::Read {
        path: path.to_owned(),
        source,
    };
    let before = std::fs::symlink_metadata(full).map_err(read_err)?;
    if !before.is_file() {
        return Err(AdoptError::Untrusted {
            path: path.to_owned(),
            why: "is not a regular file".into(),
        });
    }
    let file = std::fs::File::open(full).map_err(read_err)?;
    let now = file.metadata().map_err(read_err)?;
    if !now.is_file() || now.ino() != before.ino() || now.dev() != before.dev() {
        return Err(AdoptError::Untrusted {
            path: path.to_owned(),
            why: "changed while adopt read it".into(),
        });
    }
    let mut out = Vec::new();
    file.take(MAX_UPSTREAM_FILE + 1)
        .read_to_end(&mut out)
        .map_err(read_err)?;
    if out.len() as u64 > MAX_UPSTREAM_FILE {
        return Err(AdoptError::Untrusted {
            path: path.to_owned(),
            why: format!("is more than {MAX_UPSTREAM_FILE} bytes"),
        });
    }
    Ok(out)
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The plan as lines for people (the CLI prints them).
pub fn lines(s: &Survey) -> Vec<String> {
    let mut out = vec!["Upstream QuickScale files found:".to_owned()];
    for f in &s.found {
        let note = match f.committed {
            Committed::Yes => "",
            Committed::Changed => ", changed since the last commit",
            Committed::No => ", not committed",
            Committed::Deleted => ", deleted from the worktree",
        };
        out.push(format!("  {}: {}{note}", f.path, f.format));
    }
    out.push("Modules (proved by their git-subtree trailers):".to_owned());
    if s.modules.is_empty() {
        out.push("  (none)".into());
    }
    for m in &s.modules {
        out.push(format!(
            "  {} at {} from {} ({}; ref from {})",
            m.name,
            &m.commit[..m.commit.len().min(12)],
            m.git_ref,
            m.source,
            m.ref_from
        ));
    }
    if !s.config_changes.is_empty() {
        out.push(format!("{CONFIG_FILE}:"));
        out.extend(s.config_changes.iter().map(|c| format!("  {c}")));
    }
    if !s.access_kept.is_empty() {
        out.push("Access kept as upstream served it (a risk: see each warning):".to_owned());
        out.extend(s.access_kept.iter().map(|a| format!("  warning: {a}")));
    }
    if !s.unverified.is_empty() {
        out.push("Unverified:".to_owned());
        out.extend(s.unverified.iter().map(|u| format!("  {u}")));
    }
    if !s.problems.is_empty() {
        out.push("Upstream's known problems, and what adopt does:".to_owned());
        out.extend(s.problems.iter().map(|p| format!("  {p}")));
    }
    out.push("adopt will:".to_owned());
    out.push("  record the state in a note and refs/quickscale/modules/*".into());
    for r in &s.retire {
        out.push(format!("  retire {r} (kept in refs/quickscale/adopted)"));
    }
    for r in &s.regenerate {
        if s.creates.contains(&r.path) {
            out.push(format!(
                "  create {} (yours: upstream's wiring kept as it was):",
                r.path
            ));
        } else {
            out.push(format!("  regenerate {}:", r.path));
        }
        out.extend(r.diff.lines().map(|l| format!("    {l}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_only_the_credentials_of_that_file() {
        let creds = vec![
            (
                files::STATE_FILE.to_owned(),
                "secret_access_key".to_owned(),
                "s3cr3t".to_owned(),
            ),
            (
                files::MODULES_FILE.to_owned(),
                "token".to_owned(),
                "hello".to_owned(),
            ),
        ];
        let text = b"options:\n  secret_access_key: s3cr3t\n  greeting: hello\n";
        // Any depth, any scalar: only the value on its key's line.
        let nested = vec![
            (
                files::STATE_FILE.to_owned(),
                "db_password".to_owned(),
                "123456789".to_owned(),
            ),
            (
                files::STATE_FILE.to_owned(),
                "api_token".to_owned(),
                "tok".to_owned(),
            ),
        ];
        let deep = b"m:\n  options:\n    db_password: 123456789\n    port: 123456789\n    nested: {api_token: tok, tokenizer: x}\n";
        let out = String::from_utf8(redact(deep, files::STATE_FILE, &nested)).expect("utf8");
        assert_eq!(
            out,
            format!(
                "m:\n  options:\n    db_password: {REDACTED}\n    port: 123456789\n    nested: {{api_token: {REDACTED}, tokenizer: x}}\n"
            )
        );
        let out = String::from_utf8(redact(text, files::STATE_FILE, &creds)).expect("utf8");
        assert_eq!(
            out,
            format!("options:\n  secret_access_key: {REDACTED}\n  greeting: hello\n")
        );
        assert_eq!(redact(text, files::HASHES_FILE, &creds), text.to_vec());
    }

    #[test]
    fn lines_name_every_part_of_the_plan() {
        let survey = Survey {
            found: vec![Found {
                path: files::STATE_FILE.into(),
                format: "fmt".into(),
                committed: Committed::No,
            }],
            modules: vec![AdoptedModule {
                name: "crm".into(),
                prefix: "modules/crm".into(),
                commit: "0123456789abcdef0123".into(),
                squash: "f".repeat(40),
                source: "https://example.com/q.git".into(),
                git_ref: "splits/crm-module".into(),
                ref_from: "the catalog".into(),
                recorded_version: None,
            }],
            unverified: vec!["u1".into()],
            problems: vec!["p1".into()],
            config_changes: vec!["c1".into()],
            retire: vec![files::STATE_FILE.into()],
            regenerate: vec![Regenerated {
                path: "shop/urls_modules.py".into(),
                diff: "-a\n+b\n".into(),
            }],
            config_text: String::new(),
            access_kept: vec!["crm: upstream served /crm/".into()],
            creates: Vec::new(),
            credentials: Vec::new(),
        };
        let text = lines(&survey).join("\n");
        for expected in [
            ".quickscale/state.yml: fmt, not committed",
            "crm at 0123456789ab from splits/crm-module (https://example.com/q.git; ref from the catalog)",
            "  c1",
            "  warning: crm: upstream served /crm/",
            "  u1",
            "  p1",
            "retire .quickscale/state.yml",
            "regenerate shop/urls_modules.py:\n    -a\n    +b",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
        }
    }
}
