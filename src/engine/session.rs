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
    /// Set when the repository itself is being removed (a failed first apply).
    skip_cleanup: bool,
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
            skip_cleanup: false,
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

    /// Ends the session without cleaning up: for a repository this command
    /// created and now removes whole.
    pub fn release_without_cleanup(mut self) {
        self.skip_cleanup = true;
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
        if !self.skip_cleanup {
            let _ = end_session(&self.git, &self.lock);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::RefUpdate;

    #[test]
    fn a_detached_head_writes_through_head_itself() {
        assert_eq!(branch_ref(Some("main")), "main");
        assert_eq!(branch_ref(None), "HEAD");
    }

    #[test]
    fn one_session_at_a_time_and_its_scratch_refs_go_when_it_ends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = Git::init(dir.path()).expect("init");
        let opened = open_for_write(&git, Mode::Write).expect("open");
        assert!(opened.recovered.is_none());
        // A second writer is refused while the first holds the lock.
        assert!(matches!(
            open_for_write(&git, Mode::LockOnly),
            Err(EngineError::Txn(_))
        ));
        let blob = git.write_blob(b"fetched").expect("blob");
        let scratch = crate::refs::tmp_ref("crm/full");
        git.update_refs(
            &[RefUpdate {
                name: scratch.clone(),
                expected: None,
                new: Some(blob),
            }],
            "test: a fetch's scratch ref",
        )
        .expect("scratch ref");
        drop(opened);
        assert_eq!(git.ref_target(&scratch).expect("read ref"), None);
        // The lock went with the session.
        assert!(open_for_write(&git, Mode::LockOnly).is_ok());
    }
}
