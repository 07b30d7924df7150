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
//!
//! Every writer builds what it makes visible through the session
//! ([`WriteSession::transaction`]): the branch, the state notes, the module
//! refs, quickscale.yml and the notes-rewrite config are said once, here,
//! and every ref move states the value it expects to replace.

use std::ops::Deref;

use super::EngineError;
use crate::git::tree::Leaf;
use crate::git::{EntryKind, Git, GitError, NOTES_REWRITE_KEY, ObjectId, Signature};
use crate::layout::CONFIG_FILE;
use crate::refs::{self, NOTES_REF, UNDO_REF};
use crate::txn::{self, Extra, Lock, PathChange, Prepared, Recovered, RefChange};

/// What opening for write does besides taking the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every writing command: refuse git's own work and a paused update,
    /// finish an interrupted operation first.
    Write,
    /// `update --continue/--abort`: the paused update is what they work on.
    Resume,
    /// Only the lock (`recover` decides itself what to do with a journal;
    /// the split cache, `plan`'s edit of quickscale.yml, `sync` and a new
    /// repository need nothing else). An interrupted operation found at the
    /// start is left as it is at the end too: the session settles only its own.
    LockOnly,
    /// A reading command that fetches (`update --check/--dry-run`): a
    /// transient lock (its file goes with it), nothing refused or
    /// recovered; at the end only the scratch refs go.
    Fetch,
}

/// The lock, the branch and the clean-up of one writing command.
pub struct WriteSession {
    git: Git,
    lock: Lock,
    mode: Mode,
    /// An interrupted operation's journal was there when the session opened
    /// (and, with [`Mode::LockOnly`], left there).
    journal_at_open: bool,
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
    let lock = if mode == Mode::Fetch {
        Lock::acquire_transient(git)?
    } else {
        Lock::acquire(git)?
    };
    let journal_at_open = txn::interrupted(git.git_dir()).is_some();
    let mut recovered = None;
    if matches!(mode, Mode::Write | Mode::Resume) {
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
    if matches!(mode, Mode::Write | Mode::Resume) && head.branch.is_none() {
        warnings.push(
            "HEAD is detached: the commits will not be on any branch (`git switch -c <name>` keeps them)"
                .to_owned(),
        );
    }
    Ok(Opened {
        session: WriteSession {
            git: git.handle(),
            lock,
            mode,
            journal_at_open,
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

impl WriteSession {
    /// Starts building `operation`'s transaction, written through `git`
    /// (the caller's handle, which wrote the objects) under this session's
    /// lock. Its point of no return is the session's branch.
    pub fn transaction<'s>(&'s self, git: &'s Git, operation: &str) -> Transaction<'s> {
        Transaction {
            git,
            session: self,
            prepared: Prepared {
                operation: operation.to_owned(),
                created_repo: false,
                branch: self.branch_ref(),
                paths: Vec::new(),
                index: Vec::new(),
                refs: Vec::new(),
            },
            extra: Extra::default(),
            notes_moved: false,
        }
    }
}

/// One operation's transaction as it is built: the worktree paths, index
/// entries and ref moves [`txn::run_with`] makes visible. Each ref move reads
/// the ref's current value here, as the value the move expects to replace.
pub struct Transaction<'s> {
    git: &'s Git,
    session: &'s WriteSession,
    prepared: Prepared,
    extra: Extra,
    notes_moved: bool,
}

impl Transaction<'_> {
    /// The repository is this operation's own (a new project): a rollback
    /// removes it.
    pub fn created_repo(&mut self) {
        self.prepared.created_repo = true;
    }

    /// The ref whose move decides, after a kill, whether the operation
    /// completes or rolls back, when it is not the branch (`push`'s record,
    /// `sync`'s notes, a paused update's branch).
    pub fn point_of_no_return(&mut self, name: &str) {
        self.prepared.branch = name.to_owned();
    }

    /// The branch (or HEAD, detached) moves from `old` to `new`.
    pub fn move_branch(&mut self, old: Option<ObjectId>, new: ObjectId) {
        self.prepared.refs.push(RefChange {
            name: self.session.branch_ref(),
            old,
            new: Some(new),
        });
    }

    /// Moves (or with `None` deletes) `name`, expecting its current value.
    pub fn move_ref(&mut self, name: &str, new: Option<ObjectId>) -> Result<(), GitError> {
        self.prepared.refs.push(RefChange {
            name: name.to_owned(),
            old: self.git.ref_target(name)?,
            new,
        });
        Ok(())
    }

    /// Moves (or with `None` deletes) `name`, expecting `expected`: the
    /// value the caller read before computing `new` (sync's merged notes).
    pub fn move_ref_expecting(
        &mut self,
        name: &str,
        expected: Option<ObjectId>,
        new: Option<ObjectId>,
    ) {
        self.prepared.refs.push(RefChange {
            name: name.to_owned(),
            old: expected,
            new,
        });
    }

    /// What `git quickscale undo` goes back to next.
    pub fn set_undo(&mut self, to: Option<ObjectId>) -> Result<(), GitError> {
        self.move_ref(UNDO_REF, to)
    }

    /// Writes a notes commit adding `notes` (commit → text) on the current
    /// notes ref and moves the ref to it; the repository is then configured
    /// so that git's rebase and amend carry the notes along.
    pub fn write_notes(
        &mut self,
        notes: &[(ObjectId, String)],
        committer: &Signature,
        command: &str,
    ) -> Result<ObjectId, GitError> {
        let parent = self.git.ref_target(NOTES_REF)?;
        let commit = crate::state::notes::write_commit(
            self.git,
            parent,
            notes,
            committer,
            &format!("Notes added by 'git quickscale {command}'\n"),
        )?;
        self.prepared.refs.push(RefChange {
            name: NOTES_REF.to_owned(),
            old: parent,
            new: Some(commit),
        });
        self.notes_moved = true;
        Ok(commit)
    }

    /// Moves `refs/quickscale/modules/<name>` to each given commit where it
    /// differs.
    pub fn move_module_refs(
        &mut self,
        targets: impl IntoIterator<Item = (String, ObjectId)>,
    ) -> Result<(), GitError> {
        for (name, id) in targets {
            let r = refs::module_ref(&name);
            let current = self.git.ref_target(&r)?;
            if current != Some(id) {
                self.prepared.refs.push(RefChange {
                    name: r,
                    old: current,
                    new: Some(id),
                });
            }
        }
        Ok(())
    }

    /// Deletes a module's ref, if it has one.
    pub fn remove_module_ref(&mut self, name: &str) -> Result<(), GitError> {
        let r = refs::module_ref(name);
        if let Some(current) = self.git.ref_target(&r)? {
            self.prepared.refs.push(RefChange {
                name: r,
                old: Some(current),
                new: None,
            });
        }
        Ok(())
    }

    /// Sets the module refs to exactly `wanted` (full ref name → commit):
    /// every module ref there is moves to its wanted commit or goes.
    pub fn set_module_refs(&mut self, wanted: &[(String, ObjectId)]) -> Result<(), GitError> {
        let current = self.git.refs_with_prefix(refs::MODULES_PREFIX)?;
        for (name, id) in &current {
            let new = wanted.iter().find(|(n, _)| n == name).map(|(_, w)| *w);
            self.prepared.refs.push(RefChange {
                name: name.clone(),
                old: Some(*id),
                new,
            });
        }
        for (name, id) in wanted {
            if !current.iter().any(|(n, _)| n == name) {
                self.prepared.refs.push(RefChange {
                    name: name.clone(),
                    old: None,
                    new: Some(*id),
                });
            }
        }
        Ok(())
    }

    /// quickscale.yml in the worktree becomes `blob` (`None`: goes), unless
    /// it is already.
    pub fn write_config(&mut self, blob: impl Into<Option<ObjectId>>) -> Result<(), GitError> {
        let on_disk = self.git.journal_entry(CONFIG_FILE)?;
        let new = blob.into().map(|id| Leaf {
            id,
            kind: EntryKind::Blob,
        });
        if on_disk.map(Leaf::from) != new {
            self.prepared.paths.push(PathChange {
                path: CONFIG_FILE.to_owned(),
                old: on_disk,
                new: new.map(Into::into),
            });
        }
        Ok(())
    }

    /// A worktree path to write, with what is on disk now.
    pub fn write_path(&mut self, change: PathChange) {
        self.prepared.paths.push(change);
    }

    /// The worktree paths planned so far.
    pub fn paths(&self) -> &[PathChange] {
        &self.prepared.paths
    }

    /// Index entries to set (or with `None` remove).
    pub fn set_index(&mut self, entries: impl IntoIterator<Item = (String, Option<Leaf>)>) {
        self.prepared.index.extend(entries);
    }

    /// What the operation does to a paused one, and the index work of a
    /// pause (conflict stages) or an abort (the index put back).
    pub fn with_extra(&mut self, extra: Extra) {
        self.extra = extra;
    }

    /// The transaction as built (for tests and previews).
    pub fn prepared(&self) -> &Prepared {
        &self.prepared
    }

    /// Journal, worktree, index and one ref transaction ([`txn::run_with`]).
    /// The notes-rewrite config is set first when the notes move, so no
    /// kill after the point of no return leaves notes git would drop.
    pub fn run(self) -> Result<(), txn::TxnError> {
        // A journal here is a killed operation's (the lock is ours): it is
        // what recovery needs, never overwritten (`sync` and the other
        // lock-only sessions leave it to `recover`).
        if let Some(i) = txn::interrupted(self.git.git_dir()) {
            return Err(GitError::new(
                format!("start `git quickscale {}`", self.prepared.operation),
                format!(
                    "an interrupted `git quickscale {}` was found; run `git quickscale recover` first",
                    i.operation
                ),
            )
            .into());
        }
        if self.notes_moved {
            self.git.ensure_local_config(NOTES_REWRITE_KEY, NOTES_REF)?;
        }
        txn::run_with(self.git, self.session.lock(), &self.prepared, &self.extra)
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
        if self.skip_cleanup {
            return;
        }
        // Another operation's journal the session did not settle at the
        // start is not settled at the end either.
        let others =
            self.mode == Mode::Fetch || (self.mode == Mode::LockOnly && self.journal_at_open);
        let _ = if others {
            txn::remove_scratch_refs_locked(&self.git, &self.lock).map_err(EngineError::from)
        } else {
            end_session(&self.git, &self.lock)
        };
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
    use crate::txn::RefChange;

    #[test]
    fn a_detached_head_writes_through_head_itself() {
        assert_eq!(branch_ref(Some("main")), "main");
        assert_eq!(branch_ref(None), "HEAD");
    }

    fn signature() -> Signature {
        Signature {
            name: "T".into(),
            email: "t@example.com".into(),
            time: Default::default(),
        }
    }

    /// A repository with one commit on `main`.
    fn repo_with_commit() -> (tempfile::TempDir, Git, ObjectId) {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = Git::init(dir.path()).expect("init");
        let sig = signature();
        let commit = git
            .write_commit("first\n", git.empty_tree(), &[], &sig, &sig)
            .expect("commit");
        git.update_refs(
            &[RefUpdate {
                name: "refs/heads/main".into(),
                expected: None,
                new: Some(commit),
            }],
            "test",
        )
        .expect("main");
        (dir, git, commit)
    }

    #[test]
    fn every_ref_move_states_what_the_ref_held() {
        let (dir, git, first) = repo_with_commit();
        let sig = signature();
        let second = git
            .write_commit("second\n", git.empty_tree(), &[first], &sig, &sig)
            .expect("commit");
        let crm = refs::module_ref("crm");
        let blog = refs::module_ref("blog");
        git.update_refs(
            &[
                RefUpdate {
                    name: crm.clone(),
                    expected: None,
                    new: Some(first),
                },
                RefUpdate {
                    name: blog.clone(),
                    expected: None,
                    new: Some(first),
                },
            ],
            "test",
        )
        .expect("module refs");
        let opened = open_for_write(&git, Mode::Write).expect("open");
        let mut tx = opened.session.transaction(&git, "apply");
        tx.move_branch(Some(first), second);
        tx.set_undo(Some(first)).expect("undo");
        // crm already there: no move; shop is new; blog goes.
        tx.move_module_refs([("crm".to_owned(), first), ("shop".to_owned(), second)])
            .expect("module refs");
        tx.remove_module_ref("blog").expect("remove");
        tx.remove_module_ref("absent").expect("nothing to remove");
        let notes = tx
            .write_notes(&[(second, "state".into())], &sig, "apply")
            .expect("notes");
        let moves: Vec<(&str, Option<ObjectId>, Option<ObjectId>)> = tx
            .prepared()
            .refs
            .iter()
            .map(|r| (r.name.as_str(), r.old, r.new))
            .collect();
        assert_eq!(
            moves,
            [
                ("refs/heads/main", Some(first), Some(second)),
                (UNDO_REF, None, Some(first)),
                (refs::module_ref("shop").as_str(), None, Some(second)),
                (blog.as_str(), Some(first), None),
                (NOTES_REF, None, Some(notes)),
            ]
        );
        assert_eq!(tx.prepared().branch, "refs/heads/main");
        tx.run().expect("run");
        assert_eq!(
            git.ref_target("refs/heads/main").expect("main"),
            Some(second)
        );
        assert_eq!(git.ref_target(&blog).expect("blog"), None);
        assert_eq!(git.ref_target(NOTES_REF).expect("notes"), Some(notes));
        let reopened = Git::open_at_root(dir.path()).expect("open").expect("repo");
        assert_eq!(
            reopened.config_string(NOTES_REWRITE_KEY).as_deref(),
            Some(NOTES_REF),
            "moving the notes configures git to carry them on rebase"
        );
    }

    #[test]
    fn another_operations_journal_is_never_overwritten_nor_settled_by_a_lock_only_session() {
        let (_dir, git, first) = repo_with_commit();
        let journal = txn::Journal {
            version: 2,
            operation: "apply".into(),
            pid: 1,
            created_repo: false,
            branch: "refs/heads/main".into(),
            paths: Vec::new(),
            refs: vec![RefChange {
                name: "refs/heads/main".into(),
                old: Some(first),
                new: Some(first),
            }],
            index_existed: false,
            pause: Default::default(),
        };
        let path = txn::lock_path(&git).with_file_name("journal.json");
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        let text = serde_json::to_string(&journal).expect("json");
        std::fs::write(&path, &text).expect("journal");
        let opened = open_for_write(&git, Mode::LockOnly).expect("open");
        let mut tx = opened.session.transaction(&git, "sync");
        tx.move_ref(UNDO_REF, Some(first)).expect("move");
        let err = tx.run().expect_err("refused");
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            chain.push_str(&format!(": {s}"));
            source = s.source();
        }
        assert!(
            chain.contains("run `git quickscale recover` first"),
            "{chain}"
        );
        assert_eq!(git.ref_target(UNDO_REF).expect("undo"), None);
        drop(opened);
        assert_eq!(
            std::fs::read_to_string(&path).expect("journal kept"),
            text,
            "the session leaves the journal it found to `recover`"
        );
    }

    #[test]
    fn a_fetching_session_leaves_no_lock_file_and_no_scratch_ref() {
        let (_dir, git, first) = repo_with_commit();
        let opened = open_for_write(&git, Mode::Fetch).expect("open");
        assert!(opened.warnings.is_empty());
        let scratch = crate::refs::tmp_ref("crm/full");
        git.update_refs(
            &[RefUpdate {
                name: scratch.clone(),
                expected: None,
                new: Some(first),
            }],
            "test: a fetch's scratch ref",
        )
        .expect("scratch ref");
        drop(opened);
        assert_eq!(git.ref_target(&scratch).expect("read ref"), None);
        assert!(!txn::lock_path(&git).exists());
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
