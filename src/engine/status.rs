//! `status`: each module's provenance and drift, as data (docs/user-guide.md
//! documents the JSON form, which is stable).

use std::collections::BTreeSet;

use crate::git::ObjectId;
use serde::{Deserialize, Serialize};

use super::execute::prefix_of;
use super::plan::{self, Plan};
use super::{EngineError, Workspace};
use crate::git::Git;
use crate::ownership::{self, Class};
use crate::state::Origin;
use crate::state::refs;
use crate::wiring;

/// The JSON schema version of `status --json`.
pub const STATUS_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusReport {
    pub schema: u32,
    pub project: ProjectInfo,
    pub state: StateInfo,
    pub modules: Vec<ModuleStatus>,
    pub managed: Vec<ManagedStatus>,
    pub pending: Plan,
    /// Nothing pending, nothing refused, no local edits of managed files.
    pub in_sync: bool,
    /// The Python the embedded modules need, and project files naming an
    /// older one.
    pub python: PythonStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PythonStatus {
    #[serde(flatten)]
    pub python: crate::compat::ProjectPython,
    pub stale: Vec<crate::compat::StalePython>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectInfo {
    pub slug: String,
    pub package: String,
    pub theme: String,
    pub head: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateInfo {
    /// `note`, `derived` or `none`.
    pub origin: String,
    /// The commit carrying the note, when the state came from one.
    pub note_commit: Option<String>,
    /// Facts that could not be verified (derived state).
    pub unverified: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleStatus {
    pub name: String,
    pub source: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The upstream commit embedded.
    pub commit: String,
    pub version: Option<String>,
    pub prefix: String,
    /// Paths changed and committed inside the prefix since the embed.
    pub committed_changes: Vec<String>,
    /// Paths changed but not committed inside the prefix.
    pub uncommitted_changes: Vec<String>,
    /// `in_sync`, `to_remove` or `changes_pending`.
    pub desired: String,
    /// Newer versions upstream, as the last `update`/`update --check` saw
    /// them (`null` when it never looked, or looked at another ref).
    pub available: Option<super::upstream_cache::Cached>,
    /// Branches `git quickscale push` sent this module to, with the split
    /// commit last pushed to each.
    pub pushed: Vec<PushedBranch>,
    /// Local module commits (split commits) not pushed anywhere yet;
    /// `null` when it could not be worked out.
    pub unpushed_commits: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushedBranch {
    pub branch: String,
    pub commit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedStatus {
    pub path: String,
    /// `ok`, `edited` (committed by hand), `modified` (uncommitted) or `missing`.
    pub status: String,
}

/// The part of the workspace's status that follows from committed inputs
/// alone (HEAD, the notes and module refs, quickscale.yml, the catalog, the
/// upstream cache): what [`super::status_cache`] keeps. Worktree and index changes,
/// the `modified` managed files, `in_sync` and the project files naming an
/// older Python are left for [`complete`], which makes the whole report.
pub fn committed_report(ws: &Workspace) -> Result<StatusReport, EngineError> {
    let pending = plan::build(ws)?;
    let desired = &ws.config.config;
    let (origin, note_commit, unverified) = match &ws.origin {
        Origin::Note(c) => ("note", Some(c.to_string()), Vec::new()),
        Origin::Derived(d) => ("derived", None, d.unverified.clone()),
        Origin::None => ("none", None, Vec::new()),
    };
    let mut modules = Vec::new();
    let mut managed = Vec::new();
    if let (Some(git), Some(head), Some(applied)) = (&ws.git, ws.head, &ws.applied) {
        let head_tree = git.tree_of(head)?;
        let cache = super::upstream_cache::load_cache(git);
        for (name, m) in &applied.modules {
            let prefix = prefix_of(name);
            let current = git.subtree_at(head_tree, &prefix)?;
            let committed = match (ObjectId::from_hex(m.tree.as_bytes()).ok(), current) {
                (Some(recorded), Some(now)) if git.has_object(recorded) => git
                    .diff_trees(recorded, now)?
                    .into_iter()
                    .map(|c| format!("{prefix}/{}", c.path))
                    .collect(),
                (_, None) => vec![format!("{prefix} (missing)")],
                _ => Vec::new(),
            };
            let state = if pending.remove.contains(name) {
                "to_remove"
            } else if pending.reconfigure.iter().any(|c| &c.module == name)
                || pending.refused.iter().any(|r| {
                    r.subject.starts_with(&format!("{name}:"))
                        || r.subject.starts_with(&format!("{name}."))
                })
            {
                "changes_pending"
            } else {
                "in_sync"
            };
            let (pushed, unpushed_commits) = push_status(git, head, name, &m.commit, &committed);
            modules.push(ModuleStatus {
                name: name.clone(),
                source: m.source.clone(),
                git_ref: m.git_ref.clone(),
                commit: m.commit.clone(),
                version: m.version.clone(),
                prefix,
                committed_changes: committed,
                uncommitted_changes: Vec::new(),
                desired: state.to_owned(),
                available: cache
                    .get(name)
                    .filter(|c| c.source == m.source && c.git_ref == m.git_ref)
                    .cloned(),
                pushed,
                unpushed_commits,
            });
        }
        managed = managed_status(git, head_tree, applied, &desired.project.package)?;
    }
    Ok(StatusReport {
        schema: STATUS_SCHEMA,
        project: ProjectInfo {
            slug: desired.project.slug.clone(),
            package: desired.project.package.clone(),
            theme: desired.project.theme.name().to_owned(),
            head: ws.head.map(|h| h.to_string()),
        },
        state: StateInfo {
            origin: origin.to_owned(),
            note_commit,
            unverified,
        },
        modules,
        managed,
        pending,
        in_sync: false,
        python: PythonStatus {
            python: super::python::of_head(ws)?,
            stale: Vec::new(),
        },
    })
}

/// Adds to a [`committed_report`] what the worktree and the index say,
/// read afresh on every run: the uncommitted changes under each module's
/// prefix, the managed files modified in the worktree, whether everything
/// is in sync, and the project files naming an older Python.
pub fn complete(
    git: &Git,
    root: &std::path::Path,
    mut report: StatusReport,
) -> Result<StatusReport, EngineError> {
    // As before the split: the worktree is only read when there is an
    // applied state (its managed files are then always listed).
    if !report.managed.is_empty() || !report.modules.is_empty() {
        let worktree = uncommitted(git)?;
        for m in &mut report.modules {
            let inside = format!("{}/", m.prefix);
            m.uncommitted_changes = worktree
                .iter()
                .filter(|p| p.starts_with(&inside))
                .cloned()
                .collect();
        }
        for m in &mut report.managed {
            if m.status == "ok" && worktree.contains(&m.path) {
                m.status = "modified".to_owned();
            }
        }
    }
    report.in_sync = !report.pending.has_changes()
        && report.pending.refused.is_empty()
        && report.managed.iter().all(|m| m.status == "ok")
        && report.state.origin != "none";
    report.python.stale = super::python::stale_files(root, &report.python.python);
    Ok(report)
}

/// Each managed file against the applied state: missing from HEAD, edited
/// in a commit, or as recorded (`modified` in the worktree is for
/// [`complete`] to say).
fn managed_status(
    git: &Git,
    head_tree: ObjectId,
    applied: &crate::state::AppliedState,
    package: &str,
) -> Result<Vec<ManagedStatus>, EngineError> {
    let mut managed = Vec::new();
    for path in wiring::managed_paths(package) {
        let recorded = applied.managed.get(&path);
        let in_head = git
            .entry_at(head_tree, &path)?
            .map(|(_, id)| id.to_string());
        let status = if in_head.is_none() {
            "missing"
        } else if recorded.is_some() && recorded != in_head.as_ref() {
            "edited"
        } else {
            "ok"
        };
        managed.push(ManagedStatus {
            path,
            status: status.to_owned(),
        });
    }
    Ok(managed)
}

/// The module's pushes and its unpushed split commits (counted only when
/// the prefix has committed local changes: otherwise there is nothing).
fn push_status(
    git: &Git,
    head: ObjectId,
    name: &str,
    commit: &str,
    committed: &[String],
) -> (Vec<PushedBranch>, Option<usize>) {
    let pushed = git
        .refs_with_prefix(&refs::pushed_prefix(name))
        .unwrap_or_default()
        .into_iter()
        .map(|(r, id)| PushedBranch {
            branch: r[refs::pushed_prefix(name).len()..].to_owned(),
            commit: id.to_string(),
        })
        .collect();
    if committed.is_empty() {
        return (pushed, Some(0));
    }
    let unpushed = ObjectId::from_hex(commit.as_bytes())
        .ok()
        .filter(|base| git.has_object(*base))
        .and_then(|base| super::push::push_state(git, head, name, base).ok())
        .map(|s| s.unpushed);
    (pushed, unpushed)
}

/// Paths whose worktree or index content differs from HEAD, limited to
/// module prefixes and managed files (the paths status reports on), so a
/// large project's own files are never hashed.
fn uncommitted(git: &Git) -> Result<BTreeSet<String>, EngineError> {
    let Some(head) = git.head()?.commit else {
        return Ok(BTreeSet::new());
    };
    let head_tree = git.tree_of(head)?;
    let mut out = BTreeSet::new();
    let interesting = |p: &str| p.starts_with("modules/") || ownership::is_managed_candidate(p);
    let Some(index) = git.index_if_any()? else {
        return Ok(out);
    };
    // Staged under modules/: only directories whose ids differ from HEAD's are read.
    out.extend(git.staged_paths_under(head_tree, &index, crate::state::derive::MODULES_DIR)?);
    let mut seen = BTreeSet::new();
    let workdir = git.workdir();
    // One walk of modules/ gives the stat data of its tracked files and
    // whether anything there is untracked.
    let scanned = git.scan_tracked_under(crate::state::derive::MODULES_DIR, &index);
    for e in git.index_entries(&index, interesting, scanned.as_ref()) {
        let path = e.path;
        seen.insert(path.clone());
        if out.contains(&path) {
            continue;
        }
        if !path.starts_with("modules/")
            && git.entry_at(head_tree, &path)?.map(|(_, id)| id) != Some(e.id)
        {
            out.insert(path.clone());
            continue;
        }
        if e.stat_clean {
            continue;
        }
        let full = workdir.join(&path);
        let same = match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => {
                std::fs::read_link(&full)
                    .ok()
                    .map(|t| t.into_os_string().into_encoded_bytes())
                    .and_then(|d| git.hash_blob(&d))
                    == Some(e.id)
            }
            Ok(meta) if meta.is_file() => {
                fs_err::read(&full).ok().and_then(|d| git.hash_blob(&d)) == Some(e.id)
            }
            _ => false,
        };
        if !same {
            out.insert(path);
        }
    }
    // Untracked files inside module prefixes, as git sees them (ignore rules honoured).
    for path in
        git.untracked_paths_under(crate::state::derive::MODULES_DIR, &index, scanned.as_ref())?
    {
        if !seen.contains(&path) {
            out.insert(path);
        }
    }
    Ok(out)
}

/// Rewrites the state note on HEAD from the derived state (`status --repair-state`).
pub fn repair_state(ws: &Workspace) -> Result<Option<ObjectId>, EngineError> {
    let (Some(git), Some(head), Some(applied), Some(session)) =
        (&ws.git, ws.head, &ws.applied, &ws.lock)
    else {
        return Ok(None);
    };
    let committer = super::execute::committer(git)?;
    let mut state = applied.clone();
    state.operation = None;
    let mut tx = session.transaction(git, "repair-state");
    tx.write_notes(
        &[(head, state.to_note())],
        &committer,
        "status --repair-state",
    )?;
    tx.move_module_refs(super::execute::recorded_upstreams(git, &state))?;
    tx.run()?;
    Ok(Some(head))
}

/// The ownership class of each path, for `status --class`.
pub fn classes(ws: &Workspace, paths: &[String]) -> Vec<(String, Class)> {
    let modules = ws.embedded();
    paths
        .iter()
        .map(|p| {
            (
                p.clone(),
                ownership::classify(p, &ws.config.config.project.package, &modules),
            )
        })
        .collect()
}
