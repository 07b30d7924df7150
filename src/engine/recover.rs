//! `recover`: finish (or, with `forget`, drop the record of) an interrupted
//! operation under the write session's lock.

use std::path::Path;

use super::EngineError;
use super::session::{self, Mode};
use crate::git::Git;
use crate::txn;

/// What a recovery did (the CLI renders it).
pub use crate::txn::Recovered;

/// What `recover` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoverOutcome {
    /// There is no repository yet (leftovers of a failed first apply removed).
    NoRepository,
    /// The interrupted operation was completed or rolled back; `None`: there
    /// was none.
    Recovered(Option<Recovered>),
    /// `--forget`: the record of this operation was dropped; `None`: there was none.
    Forgot(Option<String>),
}

/// What `recover` found and did, and the paused operation it leaves alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    pub outcome: RecoverOutcome,
    /// A paused update (not interrupted: it waits for the user).
    pub paused: Option<String>,
}

/// An operation waiting for the user, as reads report it (they never repair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// An update paused with conflicts in `conflicted` file(s).
    Paused {
        operation: String,
        conflicted: usize,
    },
    /// An interrupted (killed) operation that `recover` finishes.
    Interrupted { operation: String },
}

/// What waits in `git`'s repository: a paused operation, then an
/// interrupted one. Read only; an unreadable pause record is not reported
/// here (the writing commands say what is wrong with it).
pub fn pending(git: &Git) -> Vec<Pending> {
    let mut pending = Vec::new();
    if let Ok(Some(p)) = txn::paused(git) {
        pending.push(Pending::Paused {
            operation: p.operation,
            conflicted: p.conflicted.len(),
        });
    }
    if let Some(i) = txn::interrupted(git.git_dir()) {
        pending.push(Pending::Interrupted {
            operation: i.operation,
        });
    }
    pending
}

/// Recovers the repository at the project root `root`.
pub fn recover(root: &Path, forget: bool) -> Result<Recovery, EngineError> {
    let Some(git) = Git::open_at_root(root)? else {
        txn::remove_leftovers(root)?;
        return Ok(Recovery {
            outcome: RecoverOutcome::NoRepository,
            paused: None,
        });
    };
    let opened = session::open_for_write(&git, Mode::LockOnly)?;
    let lock = opened.session.lock();
    if forget {
        return Ok(Recovery {
            outcome: RecoverOutcome::Forgot(txn::forget(&git, lock)?),
            paused: None,
        });
    }
    let recovered = txn::recover(&git, lock)?;
    let paused = txn::paused(&git)?.map(|p| p.operation);
    Ok(Recovery {
        outcome: RecoverOutcome::Recovered(recovered),
        paused,
    })
}
