//! All-or-nothing writing operations.
//!
//! A writing command takes a lock and writes a journal (in
//! `.git/quickscale/`) before its first write: HEAD, every quickscale ref,
//! and a copy of the index. Until the journal is removed, any failure — or a
//! kill — is undone by rolling back to exactly that: the next command finds
//! the journal of a dead process and finishes the rollback.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use crate::git::{Git, GitContext, GitError, RefUpdate};
use crate::state::refs::{NAMESPACE, NOTES_REF};

const DIR: &str = "quickscale";
const LOCK: &str = "lock";
const JOURNAL: &str = "journal.json";
const INDEX_BACKUP: &str = "index.backup";
/// Copies of the files in `WorktreeMove::keep`, restored byte-for-byte on rollback.
const KEEP_DIR: &str = "keep";
/// Test-only: pause at a named point (see docs/architecture.md, "Crash testing").
pub const PAUSE_ENV: &str = "QUICKSCALE_TEST_PAUSE_AT";

#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    #[error("another git quickscale (pid {pid}) is changing this repository")]
    Locked { pid: u32 },
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the journal `{}` is unreadable", path.display())]
    Journal { path: PathBuf, message: String },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl TxnError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TxnError::Locked { .. } => {
                "wait for it to finish; if no such process runs, delete .git/quickscale/lock".into()
            }
            TxnError::Io { .. } => {
                "check permissions and free space, then run the command again".into()
            }
            TxnError::Journal { path, .. } => format!(
                "inspect `{}`; deleting it gives up the automatic rollback",
                path.display()
            ),
            TxnError::Git(_) => {
                "run the command again; `git status` shows the repository's state".into()
            }
        })
    }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> TxnError + 'a {
    move |source| TxnError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// A planned move of the worktree between two trees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorktreeMove {
    pub from_tree: String,
    pub to_tree: String,
    /// Paths whose current content the new tree takes as is (quickscale.yml);
    /// a copy is kept and restored on rollback.
    pub keep: Vec<String>,
    /// Those of `keep` that did not exist before (rollback deletes them).
    #[serde(default)]
    pub keep_missing: Vec<String>,
}

/// What is needed to undo an operation, written before its first change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub operation: String,
    pub pid: u32,
    /// The repository did not exist before; rollback removes it.
    pub created_repo: bool,
    /// The branch HEAD points to (`HEAD` when detached).
    pub branch: String,
    pub head_before: Option<String>,
    /// Every ref under refs/quickscale/ and the notes ref, before.
    pub refs_before: BTreeMap<String, String>,
    pub index_existed: bool,
    pub worktree: Option<WorktreeMove>,
}

/// An operation in progress.
pub struct Txn<'g> {
    git: &'g Git,
    dir: PathBuf,
    journal: Journal,
}

/// What a recovery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub operation: String,
    pub pid: u32,
    pub head: Option<String>,
}

fn dir_of(git_dir: &Path) -> PathBuf {
    git_dir.join(DIR)
}

fn pid_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(true)
}

fn read_lock(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(dir.join(LOCK))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Finishes the rollback of an operation whose process died. Returns what
/// was recovered, or `None` when nothing was interrupted.
pub fn recover(git: &Git) -> Result<Option<Recovered>, TxnError> {
    let dir = dir_of(git.git_dir());
    let journal_path = dir.join(JOURNAL);
    if let Some(pid) = read_lock(&dir)
        && pid_alive(pid)
    {
        return Err(TxnError::Locked { pid });
    }
    if !journal_path.exists() {
        // A lock without a journal: the process died before its first write.
        let _ = std::fs::remove_file(dir.join(LOCK));
        return Ok(None);
    }
    let text = fs_err::read_to_string(&journal_path).map_err(io("read", &journal_path))?;
    let journal: Journal = serde_json::from_str(&text).map_err(|e| TxnError::Journal {
        path: journal_path.clone(),
        message: e.to_string(),
    })?;
    let recovered = Recovered {
        operation: journal.operation.clone(),
        pid: journal.pid,
        head: journal.head_before.clone(),
    };
    Txn { git, dir, journal }.rollback()?;
    Ok(Some(recovered))
}

/// Test hook: pauses (until killed) when `QUICKSCALE_TEST_PAUSE_AT` names `point`.
pub fn test_pause(git_dir: &Path, point: &str) {
    if std::env::var(PAUSE_ENV).ok().as_deref() == Some(point) {
        let marker = dir_of(git_dir).join(format!("paused-at-{point}"));
        let _ = std::fs::write(&marker, std::process::id().to_string());
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
}

impl<'g> Txn<'g> {
    /// Takes the lock and writes the journal; nothing else is changed yet.
    pub fn begin(git: &'g Git, operation: &str, created_repo: bool) -> Result<Txn<'g>, TxnError> {
        let dir = dir_of(git.git_dir());
        fs_err::create_dir_all(&dir).map_err(io("create", &dir))?;
        let lock = dir.join(LOCK);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(std::process::id().to_string().as_bytes())
                    .map_err(io("write", &lock))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(TxnError::Locked {
                    pid: read_lock(&dir).unwrap_or(0),
                });
            }
            Err(e) => return Err(io("create", &lock)(e)),
        }
        let head = git.head()?;
        let mut refs_before = BTreeMap::new();
        for (name, id) in git.refs_with_prefix(NAMESPACE)? {
            refs_before.insert(name, id.to_string());
        }
        if let Some(id) = git.ref_target(NOTES_REF)? {
            refs_before.insert(NOTES_REF.to_owned(), id.to_string());
        }
        let index = git.repo.index_path();
        let index_existed = index.exists();
        if index_existed {
            let backup = dir.join(INDEX_BACKUP);
            fs_err::copy(&index, &backup).map_err(io("back up the index to", &backup))?;
        }
        let journal = Journal {
            operation: operation.to_owned(),
            pid: std::process::id(),
            created_repo,
            branch: head.branch.unwrap_or_else(|| "HEAD".into()),
            head_before: head.commit.map(|c| c.to_string()),
            refs_before,
            index_existed,
            worktree: None,
        };
        let txn = Txn { git, dir, journal };
        txn.save()?;
        Ok(txn)
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn save(&self) -> Result<(), TxnError> {
        let path = self.dir.join(JOURNAL);
        let text = serde_json::to_string_pretty(&self.journal).map_err(|e| TxnError::Journal {
            path: path.clone(),
            message: e.to_string(),
        })?;
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(io("write", &path))
    }

    /// Records the worktree move before it starts, so a kill can undo it.
    /// The `keep` files are copied first (a missing one is recorded as absent).
    pub fn record_worktree_move(
        &mut self,
        from: ObjectId,
        to: ObjectId,
        keep: Vec<String>,
    ) -> Result<(), TxnError> {
        let workdir = self.git.workdir();
        let mut keep_missing = Vec::new();
        for path in &keep {
            let source = workdir.join(path);
            let backup = self.dir.join(KEEP_DIR).join(path);
            if let Some(parent) = backup.parent() {
                fs_err::create_dir_all(parent).map_err(io("create", parent))?;
            }
            if source.exists() {
                fs_err::copy(&source, &backup).map_err(io("back up", &source))?;
            } else {
                keep_missing.push(path.clone());
            }
        }
        self.journal.worktree = Some(WorktreeMove {
            from_tree: from.to_string(),
            to_tree: to.to_string(),
            keep,
            keep_missing,
        });
        self.save()
    }

    /// The operation succeeded: drop the journal and the lock.
    pub fn commit(self) -> Result<(), TxnError> {
        let _ = std::fs::remove_file(self.dir.join(INDEX_BACKUP));
        let _ = std::fs::remove_dir_all(self.dir.join(KEEP_DIR));
        let journal = self.dir.join(JOURNAL);
        fs_err::remove_file(&journal).map_err(io("remove", &journal))?;
        let _ = std::fs::remove_file(self.dir.join(LOCK));
        Ok(())
    }

    /// Puts HEAD, index, worktree and refs back as the journal recorded them.
    pub fn rollback(self) -> Result<(), TxnError> {
        let git = self.git;
        let j = &self.journal;
        if let Some(mv) = &j.worktree {
            let from = parse_id(&mv.from_tree)?;
            let to = parse_id(&mv.to_tree)?;
            let changes = git.diff_trees(from, to)?;
            git.restore_changes(&changes, &mv.keep)?;
            let workdir = git.workdir();
            for path in &mv.keep {
                let backup = self.dir.join(KEEP_DIR).join(path);
                let target = workdir.join(path);
                if backup.exists() {
                    fs_err::copy(&backup, &target).map_err(io("restore", &target))?;
                } else if mv.keep_missing.contains(path) {
                    let _ = std::fs::remove_file(&target);
                }
            }
        }
        if j.created_repo {
            let git_dir = git.git_dir().to_owned();
            fs_err::remove_dir_all(&git_dir).map_err(io("remove", &git_dir))?;
            return Ok(());
        }
        let index = git.repo.index_path();
        let backup = self.dir.join(INDEX_BACKUP);
        if j.index_existed {
            if backup.exists() {
                fs_err::copy(&backup, &index).map_err(io("restore the index from", &backup))?;
            }
        } else {
            let _ = std::fs::remove_file(&index);
        }
        let mut updates = Vec::new();
        let mut current: BTreeMap<String, ObjectId> =
            git.refs_with_prefix(NAMESPACE)?.into_iter().collect();
        if let Some(id) = git.ref_target(NOTES_REF)? {
            current.insert(NOTES_REF.to_owned(), id);
        }
        {
            // `HEAD` itself when it was detached, else the branch it names.
            let now = git.ref_target(&j.branch)?;
            let before = j.head_before.as_deref().map(parse_id).transpose()?;
            if now != before {
                updates.push(RefUpdate {
                    name: j.branch.clone(),
                    expected: now,
                    new: before,
                });
            }
        }
        for (name, id) in &current {
            let before = j.refs_before.get(name).map(|s| parse_id(s)).transpose()?;
            if before != Some(*id) {
                updates.push(RefUpdate {
                    name: name.clone(),
                    expected: Some(*id),
                    new: before,
                });
            }
        }
        for (name, before) in &j.refs_before {
            if !current.contains_key(name) {
                updates.push(RefUpdate {
                    name: name.clone(),
                    expected: None,
                    new: Some(parse_id(before)?),
                });
            }
        }
        git.update_refs(&updates, "git quickscale: roll back")?;
        let _ = std::fs::remove_file(&backup);
        let _ = std::fs::remove_dir_all(self.dir.join(KEEP_DIR));
        let _ = std::fs::remove_file(self.dir.join(JOURNAL));
        let _ = std::fs::remove_file(self.dir.join(LOCK));
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("paused-at-")
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }
}

fn parse_id(hex: &str) -> Result<ObjectId, TxnError> {
    ObjectId::from_hex(hex.as_bytes())
        .ctx(|| format!("parse object id `{hex}` from the journal"))
        .map_err(TxnError::Git)
}
