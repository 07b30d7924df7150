//! `undo`: step back over the last writing operation, when HEAD is still
//! the commit it made. Each operation's note says where it started, so undo
//! can step back through several; quickscale.yml gets the user's text back
//! as it was before the operation (an uncommitted change where it differs).

use crate::git::ObjectId;

use super::{EngineError, Workspace};
use crate::config::CONFIG_FILE;
use crate::git::{Git, GitError};
use crate::ownership;
use crate::state::refs;
use crate::state::{AppliedState, Operation, notes};
use crate::txn;

/// Records the quickscale.yml an undo wrote, so a following undo may replace it.
const UNDONE_CONFIG: &str = "quickscale/undone-config";

/// Why undo cannot run.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("there is nothing to undo: no git quickscale operation made HEAD")]
    Nothing,
    #[error(
        "HEAD ({head}) is not the result of a git quickscale operation; commits were made on top of the last one"
    )]
    Moved {
        head: String,
        before: Option<String>,
    },
    #[error("{CONFIG_FILE} has changes that are not committed; undo would overwrite them")]
    ConfigEdited,
    #[error(
        "HEAD holds changes of yours besides the {operation} (an amended commit?): undo would take {} out of the worktree",
        paths.join(", ")
    )]
    UserChanges {
        operation: String,
        paths: Vec<String>,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl UndoError {
    pub fn hint(&self) -> Option<String> {
        match self {
            UndoError::Nothing => Some(
                "undo steps back over `apply`, `remove` and `update` of an existing project; the project's generation is not undone"
                    .into(),
            ),
            UndoError::Moved { before, .. } => Some(match before {
                Some(b) => format!(
                    "undo only reverts an operation nothing was committed on top of; use `git revert` for the later commits, or `git reset --keep {}` if you are sure",
                    &b[..b.len().min(12)]
                ),
                None => "use `git revert` for the later commits".into(),
            }),
            UndoError::UserChanges { .. } => Some(
                "move your changes into a commit of their own (`git reset --soft HEAD~1`, then commit the tool's and your files separately), or revert the whole commit with `git revert HEAD`"
                    .into(),
            ),
            UndoError::ConfigEdited => Some(format!(
                "commit or stash your {CONFIG_FILE} changes (`git stash push {CONFIG_FILE}`), then run undo again"
            )),
            UndoError::Engine(e) => e.hint(),
        }
    }
}

/// What undo did.
#[derive(Debug, Clone)]
pub struct Undone {
    pub head: ObjectId,
    /// The operation undone (`apply`, `remove`, …) and its commit's title.
    pub operation: String,
    pub summary: String,
}

/// Reverts the operation that made HEAD; returns what was undone.
pub fn undo(ws: &Workspace) -> Result<Undone, UndoError> {
    let (Some(git), Some(head), Some(session)) = (&ws.git, ws.head, &ws.lock) else {
        return Err(UndoError::Nothing);
    };
    let (operation, target) = operation_of(git, head)?;
    let head_tree = git.tree_of(head).map_err(EngineError::from)?;
    let target_tree = git.tree_of(target).map_err(EngineError::from)?;
    let changes = git
        .diff_trees(head_tree, target_tree)
        .map_err(EngineError::from)?;
    let blocked = git
        .check_clean(&changes, &[CONFIG_FILE.to_owned()])
        .map_err(EngineError::from)?;
    if !blocked.is_empty() {
        return Err(EngineError::Dirty(blocked.iter().map(ToString::to_string).collect()).into());
    }
    let target_state = notes::nearest(git, target).ok().flatten().map(|(_, s)| s);
    refuse_user_changes(ws, &operation, &changes, target_state.as_ref())?;
    let marker = git.git_dir().join(UNDONE_CONFIG);
    let config_after = config_after_undo(git, head_tree, target_tree, &operation, &marker)?;

    let mut tx = session.transaction(git, "undo");
    for path in txn::worktree_paths(&changes, CONFIG_FILE) {
        tx.write_path(path);
    }
    tx.write_config(config_after).map_err(EngineError::from)?;
    tx.set_index(changes.iter().map(|c| (c.path.clone(), c.new)));
    tx.move_branch(Some(head), target);
    tx.set_undo(undo_next(target_state.as_ref()))
        .map_err(EngineError::from)?;
    tx.set_module_refs(&wanted_module_refs(git, target_state.as_ref()))
        .map_err(EngineError::from)?;
    let summary = git.commit_summary(head).map_err(EngineError::from)?;
    tx.run()
        .map_err(|e| EngineError::RolledBack(Box::new(e.into())))?;
    match config_after {
        Some(id) => fs_err::write(&marker, id.to_string()).map_err(|e| {
            EngineError::from(GitError::new(format!("write `{}`", marker.display()), e))
        })?,
        None => {
            let _ = std::fs::remove_file(&marker);
        }
    }
    Ok(Undone {
        head: target,
        operation: operation.kind,
        summary,
    })
}

/// Operations that write only module-owned, tool-managed and desired-state
/// paths; extract and adopt also move the user's own files.
const WRITES_NO_USER_PATHS: &[&str] = &["apply", "remove", "update", "continue"];

/// Refuses when stepping back would change user-owned paths that an
/// operation of this kind never writes: they came into HEAD some other way
/// (`git commit --amend` copies the note), and undo would drop them.
fn refuse_user_changes(
    ws: &Workspace,
    operation: &Operation,
    changes: &[crate::git::tree::TreeChange],
    target_state: Option<&AppliedState>,
) -> Result<(), UndoError> {
    if !WRITES_NO_USER_PATHS.contains(&operation.kind.as_str()) {
        return Ok(());
    }
    let mut embedded: Vec<String> = ws
        .applied
        .iter()
        .chain(target_state)
        .flat_map(|s| s.modules.keys().cloned())
        .collect();
    embedded.sort();
    embedded.dedup();
    let package = &ws.config.config.project.package;
    let paths: Vec<String> = changes
        .iter()
        .filter(|c| ownership::classify(&c.path, package, &embedded) == ownership::Class::UserOwned)
        .map(|c| c.path.clone())
        .collect();
    if paths.is_empty() {
        return Ok(());
    }
    Err(UndoError::UserChanges {
        operation: operation.kind.clone(),
        paths,
    })
}

/// The operation whose commit HEAD is, and the commit it started from.
fn operation_of(git: &Git, head: ObjectId) -> Result<(Operation, ObjectId), UndoError> {
    let own = notes::read(git, head)
        .map_err(EngineError::from)?
        .and_then(|t| AppliedState::from_note(&t).ok());
    let Some(operation) = own.and_then(|s| s.operation) else {
        // A note further back means commits were made on top of an operation.
        return match notes::nearest(git, head) {
            Ok(Some((commit, _))) => Err(UndoError::Moved {
                head: head.to_hex_with_len(12).to_string(),
                before: Some(commit.to_string()),
            }),
            _ => Err(UndoError::Nothing),
        };
    };
    let Some(target) = operation
        .before
        .as_deref()
        .and_then(|b| ObjectId::from_hex(b.as_bytes()).ok())
    else {
        return Err(UndoError::Nothing);
    };
    Ok((operation, target))
}

/// quickscale.yml after the undo: the user's text from before the
/// operation (else the target's). Refused when the file on disk is neither
/// as committed nor as a previous undo (`marker`) left it.
fn config_after_undo(
    git: &Git,
    head_tree: ObjectId,
    target_tree: ObjectId,
    operation: &Operation,
    marker: &std::path::Path,
) -> Result<Option<ObjectId>, UndoError> {
    let on_disk = git.journal_entry(CONFIG_FILE).map_err(EngineError::from)?;
    let committed = git
        .entry_at(head_tree, CONFIG_FILE)
        .map_err(EngineError::from)?
        .map(|(_, id)| id);
    let left_by_undo = std::fs::read_to_string(marker)
        .ok()
        .and_then(|t| ObjectId::from_hex(t.trim().as_bytes()).ok());
    let disk_id = on_disk.map(|e| e.id);
    if disk_id.is_some() && disk_id != committed && disk_id != left_by_undo {
        return Err(UndoError::ConfigEdited);
    }
    Ok(match &operation.config_before {
        Some(text) => Some(git.write_blob(text.as_bytes()).map_err(EngineError::from)?),
        None => git
            .entry_at(target_tree, CONFIG_FILE)
            .map_err(EngineError::from)?
            .map(|(_, id)| id),
    })
}

/// Where the next undo goes: the start of the operation before.
fn undo_next(target_state: Option<&AppliedState>) -> Option<ObjectId> {
    target_state
        .and_then(|s| s.operation.as_ref())
        .and_then(|o| o.before.as_deref())
        .and_then(|b| ObjectId::from_hex(b.as_bytes()).ok())
}

/// The module refs as the target's state has them (those whose commits
/// this repository has).
fn wanted_module_refs(git: &Git, target_state: Option<&AppliedState>) -> Vec<(String, ObjectId)> {
    target_state
        .iter()
        .flat_map(|s| s.modules.iter())
        .filter_map(|(n, m)| {
            ObjectId::from_hex(m.commit.as_bytes())
                .ok()
                .map(|id| (refs::module_ref(n), id))
        })
        .filter(|(_, id)| git.has_object(*id))
        .collect()
}
