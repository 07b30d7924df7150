//! All-or-nothing writing operations.
//!
//! Every writing command holds [`Lock`] (an OS file lock, released by the
//! kernel when the process dies) from before it reads anything until it
//! ends. An operation is prepared as objects only ([`Prepared`]); [`run`]
//! then writes a journal with the old *and* the planned new value of every
//! path, ref and the index before the first visible write, writes the
//! worktree, the index, and moves every ref in one transaction.
//!
//! After a kill, [`recover`] finishes the job from the journal: it completes
//! the operation when its branch already moved (the point of no return), and
//! rolls it back otherwise — but it only ever touches a path or ref that
//! still holds the old or the planned value. Anything else (a commit, an
//! edit, a file made after the kill) stops recovery with a list of what
//! differs; nothing is overwritten.

use std::path::{Path, PathBuf};

use crate::git::EntryKind;
use crate::git::ObjectId;
use serde::{Deserialize, Serialize};

use crate::git::tree::Leaf;
use crate::git::worktree::OnDisk;
use crate::git::{Git, GitError, RefUpdate};

mod settle;
use settle::settle;

const DIR: &str = "quickscale";
const LOCK: &str = "lock";
const JOURNAL: &str = "journal.json";
/// The index as it was before the operation.
const INDEX_BACKUP: &str = "index.backup";
/// The index the operation wrote, to recognise it during recovery.
const INDEX_NEW: &str = "index.new";
/// Files an operation set aside before it started, outside the object
/// database (adopt's originals of files holding raw credentials): put back
/// into the worktree when the operation is rolled back (or never started),
/// dropped when it completes.
const ASIDE: &str = "aside";
/// Journal format version.
const JOURNAL_VERSION: u32 = 2;
/// A paused operation (an update waiting for conflict resolution).
const PAUSED: &str = "paused.json";
/// The index as it was before the paused operation started (for `--abort`).
const PAUSED_INDEX: &str = "paused-index.before";
/// Paused-record format version.
pub const PAUSED_VERSION: u32 = 1;
/// git's files of a merge in progress (in the git dir).
const MERGE_FILES: &[&str] = &["MERGE_HEAD", "MERGE_MSG", "MERGE_MODE"];
/// Test-only: pause at a named point (see docs/architecture.md, "Crash testing").
pub const PAUSE_ENV: &str = "QUICKSCALE_TEST_PAUSE_AT";

#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    #[error("another git quickscale{} is changing this repository", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked { pid: Option<u32> },
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the journal `{}` is unreadable: {message}", path.display())]
    Journal { path: PathBuf, message: String },
    #[error(
        "an interrupted `git quickscale {operation}` cannot be {} automatically: these changed since it was interrupted, and recovery never overwrites them:\n{}",
        if *forward { "completed" } else { "rolled back" },
        crate::diag::indented(.differences)
    )]
    Diverged {
        operation: String,
        forward: bool,
        differences: Vec<String>,
    },
    #[error(
        "a `git quickscale {operation}` is paused with conflicts in:\n{}",
        crate::diag::indented(.conflicted)
    )]
    Paused {
        operation: String,
        conflicted: Vec<String>,
    },
    #[error("{original}\nrolling it back failed too: {rollback}")]
    RollbackFailed {
        original: Box<TxnError>,
        rollback: Box<TxnError>,
    },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl TxnError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TxnError::Locked { .. } => "wait for it to finish, then run the command again".into(),
            TxnError::Io { .. } => {
                "check permissions and free space, then run the command again".into()
            }
            TxnError::Journal { .. } => {
                "`git quickscale recover --forget` drops the journal and keeps everything as it is now"
                    .into()
            }
            TxnError::Diverged { .. } => "look at them with `git status` and `git log`; move your changes away (`git stash -u`, or undo the commit) and run `git quickscale recover` again to finish it cleanly; `git quickscale recover --forget` instead keeps everything as it is now, the interrupted operation half-done".into(),
            TxnError::Paused { operation, .. } => format!(
                "resolve the conflicts (edit the files, or `git mergetool`), then run `git quickscale {operation} --continue`; or give up with `git quickscale {operation} --abort`"
            ),
            TxnError::RollbackFailed { .. } => {
                "`git quickscale recover` finishes the rollback; `git status` shows the repository's state".into()
            }
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

fn dir_of(git_dir: &Path) -> PathBuf {
    git_dir.join(DIR)
}

/// The one write lock of a repository: in the git dir its linked
/// worktrees share (`git rev-parse --git-common-dir`), because refs, notes
/// and objects are shared too. Every writer takes it through here.
pub fn lock_path(git: &Git) -> PathBuf {
    dir_of(git.common_dir()).join(LOCK)
}

/// The repository's write lock, held for a whole command.
#[derive(Debug)]
pub struct Lock {
    file: std::fs::File,
    /// Remove the lock file on release (a read command leaves no trace).
    transient: Option<PathBuf>,
}

impl Lock {
    /// Takes the lock of the repository (shared by its linked worktrees),
    /// or says who holds it. Held, it clears ref lock files a killed
    /// command of this tool left in its own namespace, and the
    /// `index.lock` it left (only the file it created).
    pub fn acquire(git: &Git) -> Result<Lock, TxnError> {
        let lock = Self::take(git)?;
        clear_stale_ref_locks(git)?;
        git.clear_stale_index_lock()?;
        Ok(lock)
    }

    /// The lock for a command that only reads but must fetch (scratch
    /// refs): released, its file and directory are removed again.
    pub fn acquire_transient(git: &Git) -> Result<Lock, TxnError> {
        let mut lock = Self::take(git)?;
        lock.transient = Some(lock_path(git));
        Ok(lock)
    }

    fn take(git: &Git) -> Result<Lock, TxnError> {
        let path = lock_path(git);
        // A transient lock's file may be removed between our open and our
        // lock: the lock then holds a file nobody else can find; retry.
        for _ in 0..10 {
            if let Some(dir) = path.parent() {
                fs_err::create_dir_all(dir).map_err(io("create", dir))?;
            }
            let mut file = match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("open", &path)(e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let pid = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse().ok());
                    return Err(TxnError::Locked { pid });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io("lock", &path)(e)),
            }
            if !same_file(&file, &path) {
                continue;
            }
            // The pid is only for the message another process shows.
            use std::io::{Seek, Write};
            let _ = file.set_len(0);
            let _ = file.seek(std::io::SeekFrom::Start(0));
            let _ = file.write_all(std::process::id().to_string().as_bytes());
            return Ok(Lock {
                file,
                transient: None,
            });
        }
        Err(TxnError::Locked { pid: None })
    }
}

/// Whether `path` still names the open `file`.
#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &std::fs::File, path: &Path) -> bool {
    path.exists()
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(path) = self.transient.take() {
            // Removed while still locked: whoever opened it meanwhile finds
            // it gone after locking and starts again.
            let _ = std::fs::remove_file(&path);
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
        let _ = self.file.unlock();
    }
}

/// Removes `*.lock` files under `refs/quickscale/`: only this tool writes
/// there, and only under [`Lock`], so with the lock held any such file was
/// left by a killed command (git would refuse to move the ref forever).
fn clear_stale_ref_locks(git: &Git) -> Result<(), TxnError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(&path, out),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "lock") => {
                    out.push(path)
                }
                _ => {}
            }
        }
    }
    let mut stale = Vec::new();
    walk(
        &git.common_dir()
            .join(crate::state::refs::NAMESPACE.trim_end_matches('/')),
        &mut stale,
    );
    for path in stale {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove the stale lock", &path)(e)),
        }
    }
    Ok(())
}

/// One worktree path the operation writes: as it is now, and as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathChange {
    pub path: String,
    pub old: Option<Entry>,
    pub new: Option<Entry>,
}

/// The worktree writes of a tree move, `except` one path handled apart
/// (quickscale.yml, whose worktree content differs from the trees').
pub fn worktree_paths(changes: &[crate::git::tree::TreeChange], except: &str) -> Vec<PathChange> {
    changes
        .iter()
        .filter(|c| c.path != except)
        .map(|c| PathChange {
            path: c.path.clone(),
            old: c.old.map(Into::into),
            new: c.new.map(Into::into),
        })
        .collect()
}

/// A file or symlink as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(with = "hex_id")]
    pub id: ObjectId,
    pub kind: EntryKindName,
}

/// Serializable entry kinds (git's own are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKindName {
    Blob,
    Executable,
    Link,
    Commit,
}

impl From<Leaf> for Entry {
    fn from(l: Leaf) -> Self {
        let kind = match l.kind {
            EntryKind::BlobExecutable => EntryKindName::Executable,
            EntryKind::Link => EntryKindName::Link,
            EntryKind::Commit => EntryKindName::Commit,
            EntryKind::Blob | EntryKind::Tree => EntryKindName::Blob,
        };
        Entry { id: l.id, kind }
    }
}

impl From<Entry> for Leaf {
    fn from(e: Entry) -> Self {
        let kind = match e.kind {
            EntryKindName::Blob => EntryKind::Blob,
            EntryKindName::Executable => EntryKind::BlobExecutable,
            EntryKindName::Link => EntryKind::Link,
            EntryKindName::Commit => EntryKind::Commit,
        };
        Leaf { id: e.id, kind }
    }
}

/// One ref the operation moves, with its old and planned value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefChange {
    pub name: String,
    #[serde(with = "hex_opt")]
    pub old: Option<ObjectId>,
    #[serde(with = "hex_opt")]
    pub new: Option<ObjectId>,
}

/// Everything an operation will make visible, built as objects first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub operation: String,
    /// The repository was created by this operation (a new project).
    pub created_repo: bool,
    /// The ref HEAD names (`HEAD` itself when detached): its move is the
    /// point of no return.
    pub branch: String,
    /// Worktree paths to write, with what is on disk now.
    pub paths: Vec<PathChange>,
    /// Index entries to set or remove (every path whose committed content changes).
    pub index: Vec<(String, Option<Leaf>)>,
    /// Ref moves, each stating the value it replaces.
    pub refs: Vec<RefChange>,
}

/// What is needed to finish or undo an operation, written before its first change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub operation: String,
    pub pid: u32,
    pub created_repo: bool,
    pub branch: String,
    pub paths: Vec<PathChange>,
    pub refs: Vec<RefChange>,
    pub index_existed: bool,
    /// What the operation does to a paused operation.
    #[serde(default)]
    pub pause: PauseEffect,
}

/// What an operation does to a paused operation (`update --conflicts=merge`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseEffect {
    #[default]
    None,
    /// It ends paused: the record written last is its point of no return.
    Pause,
    /// It ends a paused operation (`--continue` moves the branch, `--abort`
    /// removes the record: either is its point of no return).
    Resume,
}

/// A paused operation: what it wrote (to undo it exactly on `--abort`),
/// git's merge state, and the engine's own record to go on with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paused {
    pub version: u32,
    pub operation: String,
    /// HEAD when it paused (it does not move until `--continue`).
    #[serde(with = "hex_opt")]
    pub head: Option<ObjectId>,
    pub branch: String,
    /// The worktree paths it wrote: `old` as before the operation, `new`
    /// as merged (conflicted files with markers).
    pub paths: Vec<PathChange>,
    /// Paths left with conflicts.
    pub conflicted: Vec<String>,
    /// `MERGE_HEAD` (one line per commit merged) and `MERGE_MSG`, as git has them.
    pub merge_heads: Vec<String>,
    pub merge_msg: String,
    /// There was an index before the operation.
    pub index_existed: bool,
    /// The engine's data to go on with (opaque here).
    pub record: serde_json::Value,
}

/// The extras of an operation that pauses or resumes (see [`run_with`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extra {
    pub pause: PauseEffect,
    /// For [`PauseEffect::Pause`]: the record to write last.
    pub paused: Option<Paused>,
    /// Conflict stages to put into the index (path, stage 1–3, entry);
    /// their stage-0 entries are removed.
    pub stages: Vec<(String, u8, Leaf)>,
    /// Replace the index with these bytes instead of updating it.
    pub restore_index: Option<Vec<u8>>,
}

/// What a recovery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    RolledBack { operation: String },
    Completed { operation: String },
}

/// An interrupted operation, as reads report it (they never repair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    pub operation: String,
}

/// Whether an interrupted operation waits for `recover` (read-only check).
pub fn interrupted(git_dir: &Path) -> Option<Interrupted> {
    let path = dir_of(git_dir).join(JOURNAL);
    if !path.exists() {
        return None;
    }
    let operation = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("operation")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "operation".into());
    Some(Interrupted { operation })
}

/// The paused operation, if any (read-only).
pub fn paused(git: &Git) -> Result<Option<Paused>, TxnError> {
    let path = dir_of(git.git_dir()).join(PAUSED);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", &path)(e)),
    };
    let paused: Paused = serde_json::from_str(&text).map_err(|e| TxnError::Journal {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if paused.version != PAUSED_VERSION {
        return Err(TxnError::Journal {
            path,
            message: format!(
                "it has version {}; this git-quickscale reads version {PAUSED_VERSION}",
                paused.version
            ),
        });
    }
    Ok(Some(paused))
}

/// Whether git's merge state (MERGE_HEAD) belongs to a paused operation of
/// this tool, or to one being paused or resumed (read-only).
pub fn owns_merge_state(git_dir: &Path) -> bool {
    let dir = dir_of(git_dir);
    if dir.join(PAUSED).exists() {
        return true;
    }
    std::fs::read_to_string(dir.join(JOURNAL))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("pause")?.as_str().map(|p| p != "none"))
        .unwrap_or(false)
}

/// Refuses to go on while an operation is paused (every writing command
/// but the paused one's `--continue` and `--abort`).
pub fn refuse_if_paused(git: &Git) -> Result<(), TxnError> {
    match paused(git)? {
        Some(p) => Err(TxnError::Paused {
            operation: p.operation,
            conflicted: p.conflicted,
        }),
        None => Ok(()),
    }
}

/// The index as it was before the paused operation (`None`: there was none).
pub fn paused_index_before(git: &Git) -> Result<Option<Vec<u8>>, TxnError> {
    let path = dir_of(git.git_dir()).join(PAUSED_INDEX);
    match std::fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", &path)(e)),
    }
}

/// Writes git's merge state of a paused operation.
fn write_merge_state(git: &Git, paused: &Paused) -> Result<(), TxnError> {
    let mut heads = paused.merge_heads.join("\n");
    heads.push('\n');
    for (name, text) in [
        ("MERGE_HEAD", heads.as_str()),
        ("MERGE_MSG", paused.merge_msg.as_str()),
        ("MERGE_MODE", "no-ff"),
    ] {
        let path = git.git_dir().join(name);
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(io("write", &path))?;
    }
    Ok(())
}

fn remove_merge_state(git: &Git) -> Result<(), TxnError> {
    for name in MERGE_FILES {
        let path = git.git_dir().join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove", &path)(e)),
        }
    }
    Ok(())
}

/// Removes the record of a paused operation (and git's merge state).
fn clear_paused(git: &Git) -> Result<(), TxnError> {
    remove_merge_state(git)?;
    let dir = dir_of(git.git_dir());
    let record = dir.join(PAUSED);
    match std::fs::remove_file(&record) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove", &record)(e)),
    }
    let _ = std::fs::remove_file(dir.join(PAUSED_INDEX));
    Ok(())
}

/// Test hook: pauses (until killed) when `QUICKSCALE_TEST_PAUSE_AT` names
/// `point`. Compiled into debug builds only.
#[cfg(debug_assertions)]
pub fn test_pause(git_dir: &Path, point: &str) {
    if std::env::var(PAUSE_ENV).ok().as_deref() == Some(point) {
        let marker = dir_of(git_dir).join(format!("paused-at-{point}"));
        let _ = std::fs::write(&marker, std::process::id().to_string());
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn test_pause(_git_dir: &Path, _point: &str) {}

fn journal_path(git: &Git) -> PathBuf {
    dir_of(git.git_dir()).join(JOURNAL)
}

fn save(git: &Git, journal: &Journal) -> Result<(), TxnError> {
    let path = journal_path(git);
    let text = serde_json::to_string_pretty(journal).map_err(|e| TxnError::Journal {
        path: path.clone(),
        message: e.to_string(),
    })?;
    crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(io("write", &path))
}

fn load(git: &Git) -> Result<Option<Journal>, TxnError> {
    let path = journal_path(git);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", &path)(e)),
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|e| TxnError::Journal {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if journal.version != JOURNAL_VERSION {
        return Err(TxnError::Journal {
            path,
            message: format!(
                "it has version {}; this git-quickscale reads version {JOURNAL_VERSION}",
                journal.version
            ),
        });
    }
    Ok(Some(journal))
}

/// Removes the journal and everything that belongs to it.
/// Keeps the worktree file `rel` as `bytes` outside the object database
/// until the next operation ends (see [`ASIDE`]); owner-only permissions.
pub fn set_aside(git: &Git, rel: &str, bytes: &[u8]) -> Result<(), TxnError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = dir_of(git.git_dir()).join(ASIDE);
    fs_err::create_dir_all(&dir).map_err(io("create", &dir))?;
    let path = dir.join(rel.replace('%', "%25").replace('/', "%2F"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(io("create", &path))?;
    f.write_all(bytes).map_err(io("write", &path))?;
    f.sync_all().map_err(io("sync", &path))?;
    Ok(())
}

/// For an operation that failed before its transaction began.
pub fn recover_aside(git: &Git) -> Result<(), TxnError> {
    restore_aside(git)
}

/// Puts every file set aside back into the worktree, then forgets them.
fn restore_aside(git: &Git) -> Result<(), TxnError> {
    let dir = dir_of(git.git_dir()).join(ASIDE);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let root = git.workdir().to_owned();
    for e in entries.flatten() {
        let rel = e
            .file_name()
            .to_string_lossy()
            .replace("%2F", "/")
            .replace("%25", "%");
        let bytes = fs_err::read(e.path()).map_err(io("read", &e.path()))?;
        let target = root.join(&rel);
        crate::fsutil::write_atomic(&target, &bytes).map_err(io("restore", &target))?;
        fs_err::remove_file(e.path()).map_err(io("remove", &e.path()))?;
    }
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}

fn finish(git: &Git) -> Result<(), TxnError> {
    let dir = dir_of(git.git_dir());
    // Completed (or restored already): what was set aside is done with.
    let _ = std::fs::remove_dir_all(dir.join(ASIDE));
    let _ = std::fs::remove_file(dir.join(INDEX_BACKUP));
    let _ = std::fs::remove_file(dir.join(INDEX_NEW));
    let journal = dir.join(JOURNAL);
    match std::fs::remove_file(&journal) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove", &journal)(e)),
    }
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
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

/// Makes `prepared` visible: journal, worktree, index, refs. On an error
/// before the refs moved, everything is rolled back (the caller's error is
/// returned); a kill is finished by the next [`recover`].
pub fn run(git: &Git, lock: &Lock, prepared: &Prepared) -> Result<(), TxnError> {
    run_with(git, lock, prepared, &Extra::default())
}

/// [`run`] for an operation that pauses or resumes a paused one.
pub fn run_with(
    git: &Git,
    _lock: &Lock,
    prepared: &Prepared,
    extra: &Extra,
) -> Result<(), TxnError> {
    let dir = dir_of(git.git_dir());
    fs_err::create_dir_all(&dir).map_err(io("create", &dir))?;
    let index_path = git.index_path();
    let index_existed = index_path.exists();
    if index_existed {
        let backup = dir.join(INDEX_BACKUP);
        fs_err::copy(&index_path, &backup).map_err(io("back up the index to", &backup))?;
    }
    let journal = Journal {
        version: JOURNAL_VERSION,
        operation: prepared.operation.clone(),
        pid: std::process::id(),
        created_repo: prepared.created_repo,
        branch: prepared.branch.clone(),
        paths: prepared.paths.clone(),
        refs: prepared.refs.clone(),
        index_existed,
        pause: extra.pause,
    };
    save(git, &journal)?;
    test_pause(git.git_dir(), "journal-written");
    match write_all(git, prepared, extra) {
        Ok(()) => {}
        Err(e) => {
            // Roll back what was written; the journal stays if that fails.
            // The error that stopped the operation is the one reported.
            let rolled_back = settle(git, &journal, Direction::Back).and_then(|()| {
                restore_aside(git)?;
                if journal.created_repo {
                    Ok(())
                } else {
                    finish(git)
                }
            });
            return Err(match rolled_back {
                Ok(()) => e,
                Err(rollback) => TxnError::RollbackFailed {
                    original: Box::new(e),
                    rollback: Box::new(rollback),
                },
            });
        }
    }
    test_pause(git.git_dir(), "refs-moved");
    match extra.pause {
        PauseEffect::None => {}
        PauseEffect::Pause => {
            let paused = extra.paused.as_ref().ok_or_else(|| {
                GitError::new("pause the operation", "there is no record to write")
            })?;
            write_merge_state(git, paused)?;
            let before = dir.join(PAUSED_INDEX);
            let _ = std::fs::remove_file(&before);
            if index_existed {
                fs_err::copy(dir.join(INDEX_BACKUP), &before)
                    .map_err(io("keep the index of before the operation in", &before))?;
            }
            let text = serde_json::to_string_pretty(paused).map_err(|e| TxnError::Journal {
                path: dir.join(PAUSED),
                message: e.to_string(),
            })?;
            let record = dir.join(PAUSED);
            // The point of no return of a pause.
            crate::fsutil::write_atomic(&record, text.as_bytes()).map_err(io("write", &record))?;
            test_pause(git.git_dir(), "paused");
        }
        PauseEffect::Resume => {
            // `--continue` passed its point of no return with the refs;
            // `--abort` passes it here.
            clear_paused(git)?;
            test_pause(git.git_dir(), "resumed");
        }
    }
    finish(git)
}

fn write_all(git: &Git, prepared: &Prepared, extra: &Extra) -> Result<(), TxnError> {
    let dir = dir_of(git.git_dir());
    let writes: Vec<(&str, Leaf)> = prepared
        .paths
        .iter()
        .filter_map(|p| p.new.map(|e| (p.path.as_str(), Leaf::from(e))))
        .collect();
    git.write_leaves(writes.iter().map(|(p, l)| (*p, *l)))?;
    test_pause(git.git_dir(), "files-written");
    let mut deleted = 0;
    for p in prepared.paths.iter().filter(|p| p.new.is_none()) {
        git.remove_path(&p.path)?;
        deleted += 1;
        if deleted == 1 {
            test_pause(git.git_dir(), "files-deleted");
        }
    }
    if extra.restore_index.is_none() && prepared.index.is_empty() && extra.stages.is_empty() {
        return update_refs(git, prepared);
    }
    // Read, modify and write the index under git's index.lock; what it
    // holds now (a `git add` since the operation started included) is what
    // a rollback puts back.
    let index_lock = git.lock_index()?;
    if let Some(current) = index_lock.current()? {
        let backup = dir.join(INDEX_BACKUP);
        crate::fsutil::write_atomic(&backup, &current).map_err(io("write", &backup))?;
    }
    test_pause(git.git_dir(), "index-locked");
    if let Some(bytes) = &extra.restore_index {
        let staged = dir.join(INDEX_NEW);
        crate::fsutil::write_atomic(&staged, bytes).map_err(io("write", &staged))?;
        index_lock.commit(bytes)?;
        test_pause(git.git_dir(), "index-written");
        return update_refs(git, prepared);
    }
    let planned: std::collections::BTreeMap<&str, Option<Leaf>> = prepared
        .paths
        .iter()
        .map(|p| (p.path.as_str(), p.new.map(Leaf::from)))
        .collect();
    let written: std::collections::BTreeSet<&str> = prepared
        .index
        .iter()
        .filter(|(path, leaf)| planned.get(path.as_str()) == Some(leaf))
        .map(|(path, _)| path.as_str())
        .collect();
    let bytes = if extra.stages.is_empty() {
        git.index_bytes_with(&prepared.index, &written)?
    } else {
        git.index_bytes_with_stages(&prepared.index, &written, &extra.stages)?
    };
    let staged = dir.join(INDEX_NEW);
    crate::fsutil::write_atomic(&staged, &bytes).map_err(io("write", &staged))?;
    index_lock.commit(&bytes)?;
    test_pause(git.git_dir(), "index-written");
    update_refs(git, prepared)
}

fn update_refs(git: &Git, prepared: &Prepared) -> Result<(), TxnError> {
    let updates: Vec<RefUpdate> = prepared
        .refs
        .iter()
        .filter(|r| r.old != r.new)
        .map(|r| RefUpdate {
            name: r.name.clone(),
            expected: r.old,
            new: r.new,
        })
        .collect();
    git.update_refs(&updates, &format!("git quickscale {}", prepared.operation))?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Back,
    Forward,
}

/// Finishes an interrupted operation, if there is one: completes it when
/// its branch already moved, rolls it back otherwise. Scratch refs of
/// unfinished fetches are removed either way.
pub fn recover(git: &Git, _lock: &Lock) -> Result<Option<Recovered>, TxnError> {
    let recovered = match load(git)? {
        None => None,
        Some(journal) => {
            let branch = journal.refs.iter().find(|r| r.name == journal.branch);
            let now = git.ref_target(&journal.branch)?;
            let moved = branch.is_some_and(|b| b.new != b.old && now == b.new);
            let moves = branch.is_some_and(|b| b.new != b.old);
            let record = dir_of(git.git_dir()).join(PAUSED).exists();
            let forward = match journal.pause {
                PauseEffect::None => moved,
                PauseEffect::Pause => record,
                PauseEffect::Resume if moves => moved,
                PauseEffect::Resume => !record,
            };
            let direction = if forward {
                Direction::Forward
            } else {
                Direction::Back
            };
            settle(git, &journal, direction)?;
            if direction == Direction::Back {
                restore_aside(git)?;
            }
            match (journal.pause, direction) {
                (PauseEffect::Pause, Direction::Back) => {
                    remove_merge_state(git)?;
                    let _ = std::fs::remove_file(dir_of(git.git_dir()).join(PAUSED_INDEX));
                }
                (PauseEffect::Resume, Direction::Back) => {
                    // Back to the paused state, the user's resolution included.
                    if let Some(p) = paused(git)? {
                        write_merge_state(git, &p)?;
                    }
                }
                (PauseEffect::Resume, Direction::Forward) => clear_paused(git)?,
                _ => {}
            }
            if journal.created_repo && direction == Direction::Back {
                // `settle` removed the repository, journal included.
            } else {
                finish(git)?;
            }
            Some(if forward {
                Recovered::Completed {
                    operation: journal.operation,
                }
            } else {
                Recovered::RolledBack {
                    operation: journal.operation,
                }
            })
        }
    };
    if recovered.is_none() || git.git_dir().exists() {
        remove_scratch_refs(git)?;
    }
    // Set aside by an operation killed before its journal existed.
    if recovered.is_none() {
        restore_aside(git)?;
    }
    Ok(recovered)
}

/// Drops the journal of an interrupted operation, keeping everything as it is.
pub fn forget(git: &Git, _lock: &Lock) -> Result<Option<String>, TxnError> {
    let Some(journal) = load(git).or_else(|e| match e {
        TxnError::Journal { .. } => Ok(Some(Journal {
            version: JOURNAL_VERSION,
            operation: "operation".into(),
            pid: 0,
            created_repo: false,
            branch: String::new(),
            paths: Vec::new(),
            refs: Vec::new(),
            index_existed: true,
            pause: PauseEffect::None,
        })),
        e => Err(e),
    })?
    else {
        // A paused operation is forgotten too; git's merge state stays.
        let dir = dir_of(git.git_dir());
        if dir.join(PAUSED).exists() {
            let operation = paused(git)
                .ok()
                .flatten()
                .map(|p| p.operation)
                .unwrap_or_else(|| "operation".into());
            let _ = std::fs::remove_file(dir.join(PAUSED_INDEX));
            let record = dir.join(PAUSED);
            fs_err::remove_file(&record).map_err(io("remove", &record))?;
            return Ok(Some(operation));
        }
        remove_scratch_refs(git)?;
        return Ok(None);
    };
    finish(git)?;
    remove_scratch_refs(git)?;
    Ok(Some(journal.operation))
}

/// Removes the scratch refs of unfinished fetches (under the lock).
pub fn remove_scratch_refs_locked(git: &Git, _lock: &Lock) -> Result<(), TxnError> {
    remove_scratch_refs(git)
}

/// Scratch refs (and their stale locks) of a killed older command: the
/// one cleanup lives in src/git/fetch.rs.
fn remove_scratch_refs(git: &Git) -> Result<(), TxnError> {
    git.remove_scratch_refs()?;
    Ok(())
}

/// Removes a repository this tool created (verified by `settle`): renamed
/// first, so a kill half-way never leaves a broken `.git` behind.
fn remove_created_repo(git: &Git) -> Result<(), TxnError> {
    let git_dir = git.git_dir().to_owned();
    let trash = git_dir.with_file_name(".git-quickscale-removing");
    if trash.exists() {
        fs_err::remove_dir_all(&trash).map_err(io("remove", &trash))?;
    }
    fs_err::rename(&git_dir, &trash).map_err(io("move away", &git_dir))?;
    fs_err::remove_dir_all(&trash).map_err(io("remove", &trash))?;
    Ok(())
}

/// Makes sure the directory of a half-removed repository is gone.
pub fn remove_leftovers(root: &Path) -> Result<(), TxnError> {
    let trash = root.join(".git-quickscale-removing");
    if trash.exists() {
        fs_err::remove_dir_all(&trash).map_err(io("remove", &trash))?;
    }
    Ok(())
}

impl Git {
    /// The current worktree content of `rel`, as a journal entry would say it.
    pub fn journal_entry(&self, rel: &str) -> Result<Option<Entry>, GitError> {
        Ok(match self.on_disk(rel)? {
            OnDisk::Leaf(l) => Some(l.into()),
            OnDisk::Absent | OnDisk::Other => None,
        })
    }
}

mod hex_id {
    use crate::git::ObjectId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &ObjectId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectId, D::Error> {
        let text = String::deserialize(d)?;
        ObjectId::from_hex(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

mod hex_opt {
    use crate::git::ObjectId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &Option<ObjectId>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.serialize_some(&id.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ObjectId>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| ObjectId::from_hex(t.as_bytes()).map_err(serde::de::Error::custom))
            .transpose()
    }
}
