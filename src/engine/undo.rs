//! `undo`: move back to the HEAD before the last writing operation, when
//! nothing was committed on top of it.

use gix::ObjectId;

use super::{EngineError, Workspace};
use crate::git::RefUpdate;
use crate::state::notes;
use crate::state::refs::{self, MODULES_PREFIX, UNDO_REF};
use crate::txn::{self, Txn};

/// Why undo cannot run.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("there is nothing to undo: no git quickscale operation is recorded")]
    Nothing,
    #[error(
        "HEAD ({head}) is not the result of the last git quickscale operation; commits were made on top of it"
    )]
    Moved { head: String, before: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl UndoError {
    pub fn hint(&self) -> Option<String> {
        match self {
            UndoError::Nothing => {
                Some("undo works after `apply` or `remove` changed an existing project".into())
            }
            UndoError::Moved { before, .. } => Some(format!(
                "undo only reverts an operation nothing was committed on top of; use `git revert` for the later commits, or `git reset --keep {}` if you are sure",
                &before[..before.len().min(12)]
            )),
            UndoError::Engine(e) => e.hint(),
        }
    }
}

/// Reverts the last operation; returns the new HEAD.
pub fn undo(ws: &Workspace) -> Result<ObjectId, UndoError> {
    let (Some(git), Some(head)) = (&ws.git, ws.head) else {
        return Err(UndoError::Nothing);
    };
    let Some(target) = git.ref_target(UNDO_REF).map_err(EngineError::from)? else {
        return Err(UndoError::Nothing);
    };
    let own = notes::read(git, head).map_err(EngineError::from)?;
    let before = own
        .as_deref()
        .and_then(|t| crate::state::AppliedState::from_note(t).ok())
        .and_then(|s| s.operation)
        .and_then(|o| o.before);
    if before.as_deref() != Some(target.to_string().as_str()) {
        return Err(UndoError::Moved {
            head: head.to_string()[..12].to_owned(),
            before: target.to_string(),
        });
    }
    let from = git.tree_of(head).map_err(EngineError::from)?;
    let to = git.tree_of(target).map_err(EngineError::from)?;
    let changes = git.diff_trees(from, to).map_err(EngineError::from)?;
    let blocked = git.check_clean(&changes, &[]).map_err(EngineError::from)?;
    if !blocked.is_empty() {
        return Err(EngineError::Dirty(blocked.iter().map(ToString::to_string).collect()).into());
    }
    let target_state = notes::nearest(git, target)
        .map_err(EngineError::from)?
        .map(|(_, s)| s);
    let mut tx = Txn::begin(git, "undo", false).map_err(EngineError::from)?;
    let result = (|| -> Result<(), EngineError> {
        tx.record_worktree_move(from, to, Vec::new())?;
        git.apply_changes(&changes, &mut |_| {
            txn::test_pause(git.git_dir(), "files-written")
        })?;
        let mut updates = vec![
            RefUpdate {
                name: tx.journal().branch.clone(),
                expected: Some(head),
                new: Some(target),
            },
            RefUpdate {
                name: UNDO_REF.to_owned(),
                expected: Some(target),
                new: None,
            },
        ];
        let wanted: Vec<(String, ObjectId)> = target_state
            .iter()
            .flat_map(|s| s.modules.iter())
            .filter_map(|(n, m)| {
                ObjectId::from_hex(m.commit.as_bytes())
                    .ok()
                    .map(|id| (refs::module_ref(n), id))
            })
            .filter(|(_, id)| git.repo.has_object(*id))
            .collect();
        for (name, id) in git.refs_with_prefix(MODULES_PREFIX)? {
            match wanted.iter().find(|(n, _)| *n == name) {
                Some((_, w)) if *w == id => {}
                Some((_, w)) => updates.push(RefUpdate {
                    name,
                    expected: Some(id),
                    new: Some(*w),
                }),
                None => updates.push(RefUpdate {
                    name,
                    expected: Some(id),
                    new: None,
                }),
            }
        }
        for (name, id) in &wanted {
            if git.ref_target(name)?.is_none() {
                updates.push(RefUpdate {
                    name: name.clone(),
                    expected: None,
                    new: Some(*id),
                });
            }
        }
        git.update_refs(&updates, "git quickscale undo")?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            tx.commit().map_err(EngineError::from)?;
            Ok(target)
        }
        Err(e) => {
            tx.rollback().map_err(EngineError::from)?;
            Err(EngineError::RolledBack(Box::new(e)).into())
        }
    }
}
