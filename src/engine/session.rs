//! The one way a command opens the project for writing.
//!
//! [`open_for_write`] takes the repository's lock before anything is read,
//! refuses while git itself is in the middle of a merge, rebase, … (unless
//! that merge state is a paused update of ours), finishes an interrupted
//! operation, refuses while an update is paused (unless resuming it) and
//! notes a detached HEAD. The [`WriteSession`] it returns holds the lock for
//! the whole command and knows the branch; when it ends — success, error,
//! early return — the scratch refs of its fetches are removed
//! ([`end_session`], the one place that does it). Nothing here prints: the caller renders
//! [`Opened::recovered`] and [`Opened::warnings`].

use std::ops::Deref;

use super::EngineError;
use crate::git::{Git, ObjectId};
use crate::txn::{self, Lock, Recovered};

/// What opening for write does besides taking the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every writing command: refuse git's own work and a paused update,
    /// finish an interrupted operation first.
    Write,
    /// `update --continue/--abort`: the paused update is what they work on.
    Resume,
    /// Only the lock (`recover` decides itself what to do with a journal;
    /// the split cache and a new repository need nothing else).
    LockOnly,
}

/// The lock, the branch and the clean-up of one writing command.
pub struct WriteSession {
    git: Git,
    lock: Lock,
    branch: Option<String>,
    head: Option<ObjectId>,
}

/// A session just opened, with what the caller should tell the user.
pub struct Opened {
    pub session: WriteSession,
    /// What finishing an interrupted operation did.
    pub recovered: Option<Recovered>,
    /// One line each (a detached HEAD).
    pub warnings: Vec<String>,
}

/// Opens `git` for writing (see the module's doc).
pub fn open_for_write(git: &Git, mode: Mode) -> Result<Opened, EngineError> {
    // Where the lock lives is `txn::lock_path`'s to say (the common git dir).
    let lock = Lock::acquire(git)?;
    let mut recovered = None;
    if mode != Mode::LockOnly {
        // The merge state of a paused update is ours, not git's own work.
        if !txn::owns_merge_state(git.git_dir()) {
            super::check_git_idle(git)?;
        }
        recovered = txn::recover(git, &lock)?;
        if mode == Mode::Write {
            txn::refuse_if_paused(git)?;
        }
    }
    let head = git.head()?;
    let mut warnings = Vec::new();
    if mode != Mode::LockOnly && head.branch.is_none() {
        warnings.push(
            "HEAD is detached: the commits will not be on any branch (`git switch -c <name>` keeps them)"
                .to_owned(),
        );
    }
    Ok(Opened {
        session: WriteSession {
            git: git.handle(),
            lock,
            branch: head.branch,
            head: head.commit,
        },
        recovered,
        warnings,
    })
}

impl WriteSession {
    /// The lock this session holds.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// The branch HEAD was on when the session opened (`None`: detached).
    pub fn branch(&self) -> Option<&str> {
        self.branch.as_deref()
    }

    /// The ref whose move is an operation's point of no return: the branch,
    /// or `HEAD` itself when detached.
    pub fn branch_ref(&self) -> String {
        branch_ref(self.branch.as_deref())
    }

    /// HEAD's commit when the session opened.
    pub fn head(&self) -> Option<ObjectId> {
        self.head
    }
}

/// `branch`, or `HEAD` when detached.
pub fn branch_ref(branch: Option<&str>) -> String {
    branch.unwrap_or("HEAD").to_owned()
}

impl Deref for WriteSession {
    type Target = Lock;

    fn deref(&self) -> &Lock {
        &self.lock
    }
}

impl Drop for WriteSession {
    fn drop(&mut self) {
        // Best effort: what is left behind is cleaned by the next writing
        // command (it recovers first).
        let _ = end_session(&self.git, &self.lock);
    }
}

/// What ending a session cleans, on every path: the scratch refs of its
/// fetches (`txn::remove_scratch_refs`), and a journal an in-process
/// rollback could not finish is settled as `recover` would.
pub fn end_session(git: &Git, lock: &Lock) -> Result<(), EngineError> {
    if !git.git_dir().exists() {
        // A new repository this command created and removed again.
        return Ok(());
    }
    txn::recover(git, lock)?;
    Ok(())
}
