//! `recover`: finish (or, with `forget`, drop the record of) an interrupted
//! operation under the write session's lock.

use std::path::Path;

use super::EngineError;
use super::session::{self, Mode};
use crate::git::Git;
use crate::txn::{self, Recovered};

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
